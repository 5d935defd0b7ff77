"""Delivery that loses nothing: every AWS write of a scan fails in turn, then a clean run follows.

The fault-injection matrix: a scan that resolves one problem, finds a new one and cannot read a
second cluster makes a handful of writes (a transaction per claimed change or scan error, the
SNS publish, the outbox clean-up). Each of them fails in turn, in each way AWS fails (throttled,
5xx, validation error, timeout), on the real handler's composition (bootstrap, the state table
in moto, SNS read back through SQS). Then the next runs, without faults, must publish every
problem and every scan error; twice only when the fault hit the clean-up after a publish.
Faults are raised by botocore's own event hook, before the request leaves: AWS's answer as the
client sees it after its retries.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError, ReadTimeoutError
from test_alert_lifecycle import FORBIDDEN, NOT_FOUND, RATE_LIMITED, pod, replicaset

from pullmedic.announcing.announce import DeliveryIncomplete
from pullmedic.announcing.outbox import LEASE
from pullmedic.app.bootstrap import bootstrap
from pullmedic.app.event import ScanOrder
from pullmedic.app.service import run_scan
from pullmedic.core.settings import load

WRITES = {"dynamodb": {"PutItem", "DeleteItem", "UpdateItem", "BatchWriteItem", "TransactWriteItems"},
          "sns": {"Publish"}}
KINDS = ("throttled", "server-error", "validation", "timeout")
# The writes of the faulty run when nothing fails: worker's record (its cause now proven twice),
# api's resolution, cache's and edge's claims (each with its outbox entries), the publish, the
# outbox clean-up.
CLEAN_RUN_WRITES = ["dynamodb:PutItem"] + ["dynamodb:TransactWriteItems"] * 3 + [
    "sns:Publish", "dynamodb:BatchWriteItem"]
SCHEDULED = ScanOrder("schedule", None, None, False)
# What the faulty run must get out, each exactly once: (event, what).
EXPECTED = Counter({("resolved", "Deployment/api"): 1, ("new", "Deployment/cache"): 1,
                    ("scan_error", "edge"): 1})


class Faults:
    """Counts a scan's AWS writes; fails the one numbered `fail_at` (1-based) as `kind`."""

    def __init__(self, fail_at: int = 0, kind: str = "throttled") -> None:
        self.fail_at, self.kind, self.writes, self.failed = fail_at, kind, [], ""

    def __call__(self, model: Any, **_: Any) -> None:
        service, operation = model.service_model.endpoint_prefix, model.name
        if operation not in WRITES.get(service, ()):
            return
        self.writes.append(f"{service}:{operation}")
        if len(self.writes) == self.fail_at:
            self.failed = self.writes[-1]
            raise _fault(self.kind, operation)


def _fault(kind: str, operation: str) -> Exception:
    if kind == "timeout":
        return ReadTimeoutError(endpoint_url=f"https://aws.invalid/{operation}")
    code, status = {"throttled": ("ThrottlingException", 400), "server-error": ("InternalServerError", 500),
                    "validation": ("ValidationException", 400)}[kind]
    return ClientError({"Error": {"Code": code, "Message": f"injected {kind}"},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


def scan(faults: Faults, at: datetime) -> dict[str, Any] | None:
    """One scheduled scan with the handler's composition, its writes watched by `faults`."""
    session = boto3.session.Session()
    session._session.register("before-call", faults)  # every client the run creates sees it
    app = bootstrap(load(), session=session)
    app = replace(app, deps=replace(app.deps, now=lambda: at))
    try:
        return run_scan(SCHEDULED, load(), app).doc()
    except DeliveryIncomplete:
        return None


def told(sandbox: Any) -> Counter[tuple[str, str]]:
    """(event, workload) per finding and ("scan_error", cluster) per error, over every message."""
    seen: Counter[tuple[str, str]] = Counter()
    for message in sandbox.messages():
        doc = json.loads(message["Message"])
        seen.update((f["event"], f["workload"]) for f in doc["findings"])
        seen.update(("scan_error", e["cluster"]) for e in doc["errors"])
    return seen


API_IMAGE = "docker.io/substratusai/controller-manager:v0.0.2-alpha"
PROD = [pod("api", "shop", API_IMAGE, NOT_FOUND), replicaset("api", "shop"),
        pod("worker", "ops", "ghcr.io/nloui/paperless-mcp:latest", FORBIDDEN), replicaset("worker", "ops"),
        pod("cache", "shop", "docker.io/library/kong:3.6", None), replicaset("cache", "shop")]


@pytest.fixture
def two_clusters(tmp_path: Path) -> Path:
    """prod: api cannot find its tag, worker is refused, cache runs; edge: nothing yet."""
    path = tmp_path / "faults.yaml"
    path.write_text(yaml.safe_dump({"name": "faults", "region": "us-east-2", "clusters": [
        {"name": "prod", "objects": PROD}, {"name": "edge", "objects": []}]}))
    return path


def _fresh_state(sandbox: Any, state_table: Callable[[], str]) -> datetime:
    """A new state table and the first scan of the starting world; then api is fixed, cache
    starts failing and edge cannot be read. Returns when the next scan runs."""
    prod, edge = sandbox.clusters["prod"], sandbox.clusters["edge"]
    prod.clear()
    prod.load(PROD)
    edge.clear_faults()
    state_table()
    start = datetime.now(UTC)
    assert scan(Faults(), start) is not None
    sandbox.messages()  # what the first scan announced is not what this test is about
    prod.load([pod("api", "shop", API_IMAGE, None),
               pod("cache", "shop", "docker.io/library/kong:3.6", RATE_LIMITED)])
    edge.inject(401)
    return start + timedelta(minutes=10)


def test_a_clean_run_makes_the_writes_the_matrix_fails(world, sandbox, state_table, two_clusters) -> None:
    world(two_clusters)
    at = _fresh_state(sandbox, state_table)
    faults = Faults()
    summary = scan(faults, at)
    assert summary is not None and summary["delivery"] == {"waiting": 0, "failures": []}
    assert faults.writes == CLEAN_RUN_WRITES
    assert told(sandbox) == EXPECTED


def test_every_write_fails_in_turn_and_nothing_is_lost(world, sandbox, state_table, two_clusters) -> None:
    world(two_clusters)
    covered = []
    for fail_at in range(1, len(CLEAN_RUN_WRITES) + 1):
        for kind in KINDS:
            at = _fresh_state(sandbox, state_table)
            faults = Faults(fail_at, kind)
            assert scan(faults, at) is None, f"a failed {faults.failed} must fail the run loudly"
            assert scan(Faults(), at + timedelta(minutes=5)) is not None  # the next scheduled run
            cleared = faults.failed == "dynamodb:BatchWriteItem"
            if cleared:  # published but not cleared: the entries are taken once their lease ran out
                assert scan(Faults(), at + timedelta(minutes=5) + LEASE) is not None
            seen = told(sandbox)
            assert set(seen) == set(EXPECTED), (faults.failed, kind, seen)
            if not cleared:  # the one case the outbox allows a duplicate
                assert seen == EXPECTED, (faults.failed, kind, seen)
            covered.append(f"{faults.failed}/{kind}")
    print(f"\nfault points covered: {len(covered)} ({len(CLEAN_RUN_WRITES)} writes x {len(KINDS)} kinds)")
    assert len(covered) == len(CLEAN_RUN_WRITES) * len(KINDS)
