"""A throttled, failing or unreachable Kubernetes API degrades into a clear error, quickly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pullmedic_sandbox.handler import invoke, load_handler

SCHEDULED = json.loads((Path(__file__).resolve().parents[2] / "events" / "scheduled.json").read_text())


@pytest.fixture(scope="module")
def handler():
    return load_handler()


def test_throttled_list_is_retried_and_succeeds(world, sandbox, handler) -> None:
    world("reference-cases")
    cluster = sandbox.clusters["demo"]
    cluster.inject(429, path_contains="/pods", times=1, retry_after=1)
    summary = invoke(handler, SCHEDULED)
    assert summary["errors"] == [] and summary["finding_count"] == 5
    pod_lists = [r.status for r in cluster.requests if r.path == "/api/v1/pods"]
    assert pod_lists == [429, 200]


def test_long_retry_after_is_capped(world, sandbox, handler) -> None:
    world("reference-cases")
    cluster = sandbox.clusters["demo"]
    cluster.inject(503, path_contains="/events", times=1, retry_after=3600)
    summary = invoke(handler, SCHEDULED)
    assert summary["finding_count"] == 5
    refused, retried = [r for r in cluster.requests if r.path == "/api/v1/events"]
    assert (refused.status, retried.status) == (503, 200)
    # Retry-After is capped at 5 s: the retry follows within seconds, not an hour (the gap is
    # measured at the server, so a slow machine running the rest of the scan does not count).
    assert 4.5 < retried.at - refused.at < 30


def test_persistent_server_error_is_a_scan_error_not_a_crash(world, sandbox, handler) -> None:
    world("reference-cases")
    sandbox.clusters["demo"].inject(500, path_contains="/pods")
    summary = invoke(handler, SCHEDULED)
    (error,) = summary["errors"]
    assert error["cluster"] == "demo" and "HTTP 500" in error["message"]
    assert summary["findings"] == []


def test_forbidden_names_the_access_policy(world, sandbox, handler) -> None:
    world("reference-cases")
    sandbox.clusters["demo"].inject(403)
    (error,) = invoke(handler, SCHEDULED)["errors"]
    assert "AmazonEKSViewPolicy" in error["message"]


def test_unreachable_endpoint(world, sandbox, handler) -> None:
    world("reference-cases")
    sandbox.clusters["demo"].stop()
    (error,) = invoke(handler, SCHEDULED)["errors"]
    assert "cannot reach the API server" in error["message"]


def test_requests_are_pages_not_per_pod(world, sandbox, handler, monkeypatch) -> None:
    world("reference-cases")
    monkeypatch.setenv("PULLMEDIC_PAGE_SIZE", "2")
    summary = invoke(handler, SCHEDULED)
    assert summary["finding_count"] == 5
    paths = [r.path for r in sandbox.clusters["demo"].requests]
    cluster = sandbox.clusters["demo"]
    pods = len([o for o in cluster.objects("Pod") if o["status"]["phase"] not in ("Succeeded", "Failed")])
    events = len(cluster.objects("Event"))
    assert paths.count("/api/v1/pods") == -(-pods // 2)
    assert paths.count("/api/v1/events") == -(-events // 2)
    replicasets = len(cluster.objects("ReplicaSet"))
    assert paths.count("/apis/apps/v1/replicasets") == -(-replicasets // 2)
    assert paths.count("/api/v1/nodes") == 1  # one page: the scenario has no Node objects
    # No request per pod; the only single-object reads are service accounts (one per account).
    singles = [p for p in paths if "/namespaces/" in p]
    assert singles == ["/api/v1/namespaces/default/serviceaccounts/default"]
