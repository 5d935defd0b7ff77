"""Lambda entry point: parse the event, scan, publish, return a summary. Logic lives in the layer."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from pullmedic.bootstrap import bootstrap
from pullmedic.event import parse_event
from pullmedic.service import run_scan
from pullmedic.settings import load

logger = Logger(service="pullmedic")
metrics = Metrics(namespace="pullmedic", service="pullmedic")
tracer = Tracer(service="pullmedic")


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    """Scan the clusters the event (or the deployment) names and report what cannot pull."""
    order = parse_event(event)
    settings = load()
    result, summary = run_scan(order, settings, bootstrap(settings))
    metrics.add_metric(name="FailingWorkloads", unit=MetricUnit.Count, value=len(result.findings))
    metrics.add_metric(name="FailingPods", unit=MetricUnit.Count, value=summary["failing_pods"])
    metrics.add_metric(name="ScanErrors", unit=MetricUnit.Count, value=len(result.errors))
    for error in summary["errors"]:
        logger.warning("cluster not scanned", extra={"scan_error": error})
    logger.info("scan finished", extra={k: summary[k] for k in
                                        ("clusters_scanned", "finding_count", "by_cause")})
    return summary
