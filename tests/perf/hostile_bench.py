"""Scan pods built to hurt: a 1 MB failure message, a 200 KB image reference, 60 KB of `a-`.

Part of `make bench`: seeds the sandbox with one cluster of such pods, runs the real handler's
scan (state table and topic included, as deployed) and records the wall time of each case in
bench/hostile.json. Budget: each scan under HOSTILE_BUDGET_S seconds on this 2-core machine
(before the bounds and the linear-time patterns, 60 KB of `a-` in an image passed the 300 s
Lambda timeout). Exit status 1 when a budget fails.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pullmedic_sandbox.handler import LambdaContext, load_handler
from pullmedic_sandbox.sandbox import Sandbox
from pullmedic_sandbox.scenario import load

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "bench" / "hostile.json"
HOSTILE_BUDGET_S = 10.0
SCHEDULED = {"source": "aws.events", "detail-type": "Scheduled Event"}
# containerd's NotFound wording (tests/fixtures/messages/public.yaml), around the hostile part.
NOT_FOUND = ('Failed to pull image "{image}": rpc error: code = NotFound desc = failed to pull and unpack '
             'image "{image}": failed to resolve reference "{image}": {image}: not found')
CASES = {
    "1 MB message": ("docker.io/library/nginx:1.99", "x" * 1_000_000),
    "200 KB image reference": ("docker.io/library/" + "b" * 200_000 + ":1", ""),
    "60 KB of a- in an image": ("docker.io/library/" + "a-" * 30_000 + "a:1", ""),
    "1 MB of repeated 'failed to copy: '": ("docker.io/library/nginx:1.99", "failed to copy: " * 65_536),
}


def pod(name: str, image: str, extra: str) -> dict[str, Any]:
    """A Pending pod of a bare Pod whose container waits on `image`, with `extra` in its message."""
    message = NOT_FOUND.format(image=image) + extra
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "bench", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"nodeName": "ip-10-0-1-10.us-east-2.compute.internal",
                     "containers": [{"name": "app", "image": image}]},
            "status": {"phase": "Pending", "hostIP": "10.0.1.10", "containerStatuses": [
                {"name": "app", "image": image, "ready": False, "restartCount": 0,
                 "state": {"waiting": {"reason": "ErrImagePull", "message": message}}}]}}


def table(box: Sandbox) -> str:
    """A state table with the template's key schema."""
    name = f"pullmedic-bench-{uuid.uuid4().hex[:8]}"
    box.client("dynamodb").create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in ("pk", "sk")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
    return name


def main() -> int:
    box = Sandbox()
    box.start()
    results: dict[str, Any] = {}
    try:
        for case, (image, extra) in CASES.items():
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "hostile.json"  # JSON is YAML: the scenario loader reads it
                path.write_text(json.dumps({"name": "hostile", "region": "us-east-2", "clusters": [
                    {"name": "hostile", "objects": [pod("victim", image, extra)]}]}))
                box.load(load(path))
            with box.activated():
                os.environ["PULLMEDIC_TABLE"] = table(box)
                handler = load_handler()
                started = time.monotonic()
                summary = handler.lambda_handler(SCHEDULED, LambdaContext())
                took = time.monotonic() - started
            (finding,) = summary["findings"]
            results[case] = {"seconds": round(took, 2), "message_chars": len(finding["message"]),
                             "image_chars": len(finding["image"]), "cause": finding["cause"],
                             "pass": took < HOSTILE_BUDGET_S}
    finally:
        box.stop()
    print(f"{'case':40} {'seconds':>8}  kept (message/image chars)  cause")
    for case, row in results.items():
        print(f"{case:40} {row['seconds']:8.2f}  {row['message_chars']:>6}/{row['image_chars']:<6}"
              f"               {row['cause']}  {'PASS' if row['pass'] else 'FAIL'}")
    RESULTS.write_text(json.dumps({"timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
                                   "budget_s": HOSTILE_BUDGET_S, "cases": results}, indent=2) + "\n")
    return 0 if all(row["pass"] for row in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
