"""The Step Functions fan-out: list the clusters, scan each apart, aggregate and announce once.

Each cluster's findings and errors wait in the state table under the execution's key
(pk ``fanout#<execution>``, sk ``result#<target>#<chunk>``: zlib-compressed JSON (codec.py,
with its `format`), redacted, in chunks below DynamoDB's item size limit, kept for a day).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import replace
from datetime import timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from pullmedic.announcing.dynamo import attributes, query
from pullmedic.app.bootstrap import App, target_deps
from pullmedic.app.event import FanoutOrder, ScanOrder
from pullmedic.app.responses import STATE_BYTES, size
from pullmedic.app.scan import ScanRequest, ScanResult, scan_error
from pullmedic.app.service import run_scan, scan_targets
from pullmedic.app.summary import ScanSummary
from pullmedic.core.codec import VERSION, decode, dumps
from pullmedic.core.limits import NAME_MAX, clean
from pullmedic.core.model import Finding, ScanError
from pullmedic.core.redact import redact
from pullmedic.core.settings import Settings
from pullmedic.core.targets import ScanTarget
from pullmedic.core.vocab import OrderSource
from pullmedic.reading.aws.eks import list_clusters

CHUNK = 300_000  # bytes of compressed JSON per item (DynamoDB's limit is 400 KB)
KEEP = timedelta(days=1)


def list_targets(settings: Settings, app: App) -> dict[str, Any]:
    """The deployment's targets with one cluster each ("all" expanded by eks:ListClusters).

    A target whose clusters cannot be listed stays whole: its scan step reports why.
    """
    expanded: list[dict[str, Any]] = []
    for target in settings.targets or (ScanTarget(clusters=settings.clusters),):
        names = target.clusters
        if names is None:
            try:
                names = tuple(list_clusters(target_deps(settings, app.deps, target).eks))
            except (ClientError, BotoCoreError):
                expanded.append(target.doc())
                continue
        expanded += [replace(target, clusters=(name,)).doc() for name in names]
    listed = {"targets": expanded, "count": len(expanded)}
    if size(listed) > STATE_BYTES:
        raise ValueError(f"{len(expanded)} clusters are too many for one state machine input "
                         f"({size(listed)} bytes of Step Functions' 256 KB): split the deployment's "
                         "targets over two stacks")
    return listed


def start_if_large(settings: Settings, app: App) -> dict[str, Any] | None:
    """Hand a scheduled scan to the state machine when it has more clusters than the threshold
    (None: scan here, in one invocation)."""
    if not settings.state_machine_arn or not settings.fanout_threshold:
        return None
    count = list_targets(settings, app)["count"]
    if count <= settings.fanout_threshold:
        return None
    started = app.deps.client_for("stepfunctions", None).start_execution(
        stateMachineArn=settings.state_machine_arn, input="{}")
    return {"fanout": "started", "targets": count, "execution_arn": started["executionArn"]}


def scan_cluster(order: FanoutOrder, settings: Settings, app: App) -> dict[str, Any]:
    """Scan one target and keep its findings and errors for the aggregation step."""
    target = order.target
    if target is None:
        raise ValueError("a fan-out cluster step needs its target")
    result = scan_targets(ScanOrder(OrderSource.FANOUT, None, None, False, (target,)), settings, app,
                          ScanRequest(target.clusters, settings.namespaces), None)
    _store(settings, app, order.execution, _key(target), result)
    return {"target": target.doc(), "clusters": result.clusters,
            "findings": len(result.findings), "errors": len(result.errors)}


def aggregate(order: FanoutOrder, settings: Settings, app: App) -> ScanSummary:
    """Merge the stored results of every cluster, add the failed steps, announce once."""
    result = _stored(settings, app, order.execution)
    for item in order.results:
        if isinstance(item, dict) and item.get("error"):
            target = item.get("target")
            listed = target.get("clusters") if isinstance(target, dict) else None
            names: list[Any] = listed if isinstance(listed, list) else ["*"]
            why = f"the scan step failed: {item['error']}: {item.get('cause', '')}"
            result.errors += [scan_error(clean(str(name), NAME_MAX), "fanout", why) for name in names]
    return run_scan(ScanOrder(OrderSource.FANOUT, None, None, False), settings, app, gathered=result)


def _key(target: ScanTarget) -> str:
    return f"{target.account}/{target.region or '-'}/{','.join(target.clusters or ('*',))}"


def _table(settings: Settings) -> str:
    if not settings.table:
        raise ValueError("the fan-out keeps results in the state table: set PULLMEDIC_TABLE")
    return settings.table


def _store(settings: Settings, app: App, execution: str, key: str, result: ScanResult) -> None:
    # Redacting JSON text keeps it valid JSON: no pattern consumes a quote or a backslash.
    body = zlib.compress(redact(dumps({"format": VERSION, "clusters": result.clusters,
                                       "findings": result.findings, "errors": result.errors})).encode())
    expires = int((app.deps.now() + KEEP).timestamp())
    dynamodb, table = app.deps.client_for("dynamodb", None), _table(settings)
    for i in range(0, max(len(body), 1), CHUNK):
        dynamodb.put_item(TableName=table, Item=attributes({
            "pk": f"fanout#{execution}", "sk": f"result#{key}#{i // CHUNK:04d}",
            "data": body[i:i + CHUNK], "expires_at": expires}))


def _stored(settings: Settings, app: App, execution: str) -> ScanResult:
    parts: dict[str, bytes] = {}
    for item in query(app.deps.client_for("dynamodb", None), _table(settings), "pk = :pk",
                      {":pk": f"fanout#{execution}"}, consistent=True):
        key = item["sk"].rsplit("#", 1)[0]
        parts[key] = parts.get(key, b"") + item["data"]
    result = ScanResult()
    for body in parts.values():
        doc = json.loads(zlib.decompress(body))
        result.clusters += doc["clusters"]
        result.findings += [decode(Finding, f) for f in doc["findings"]]
        result.errors += [decode(ScanError, e) for e in doc["errors"]]
    return result
