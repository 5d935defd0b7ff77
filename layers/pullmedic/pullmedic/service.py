"""The use case shared by the Lambda handler and the CLI: scan, publish, summarise."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pullmedic.bootstrap import App
from pullmedic.event import ScanOrder
from pullmedic.notify import publish
from pullmedic.render import error_doc, finding_doc
from pullmedic.scan import ScanRequest, ScanResult, scan
from pullmedic.settings import Settings


def run_scan(order: ScanOrder, settings: Settings, app: App) -> tuple[ScanResult, dict[str, Any]]:
    """Scan what `order` asks (or the deployer's defaults), publish unless dry run."""
    request = ScanRequest(clusters=order.clusters or settings.clusters,
                          namespaces=order.namespaces or settings.namespaces)
    result = scan(request, app.deps)
    message_id = None
    if not order.dry_run and settings.topic_arn:
        message_id = publish(app.sns, settings.topic_arn, result.findings, result.errors,
                             result.clusters)
    return result, summary(result, order, message_id)


def summary(result: ScanResult, order: ScanOrder, message_id: str | None) -> dict[str, Any]:
    """The JSON the handler returns: short counts first, then the findings and errors."""
    return {
        "clusters_scanned": result.clusters,
        "finding_count": len(result.findings),
        "failing_pods": sum(f.pod_count for f in result.findings),
        "by_cause": dict(sorted(Counter(f.cause.value for f in result.findings).items())),
        "errors": [error_doc(e) for e in result.errors],
        "published_message_id": message_id,
        "dry_run": order.dry_run,
        "findings": [finding_doc(f) for f in result.findings],
    }
