"""Alerts people keep on: the real handler, the state table and SNS read back through SQS.

Messages are verbatim from tests/fixtures/messages/public.yaml (ids beside each).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from pullmedic.announcing.lifecycle import Silence
from pullmedic.announcing.state import StateStore
from pullmedic_sandbox.handler import invoke, load_handler
from pullmedic_sandbox.sandbox import Sandbox

EVENTS = Path(__file__).resolve().parents[2] / "events"
CLUSTER = "prod"
API_IMAGE = "docker.io/substratusai/controller-manager:v0.0.2-alpha"
WORKER_IMAGE = "ghcr.io/nloui/paperless-mcp:latest"
# dockerhub-substratus-controller-tag-not-found
NOT_FOUND = ('Failed to pull image "docker.io/substratusai/controller-manager:v0.0.2-alpha": rpc error: '
             'code = NotFound desc = failed to pull and unpack image "docker.io/substratusai/'
             'controller-manager:v0.0.2-alpha": failed to resolve reference "docker.io/substratusai/'
             'controller-manager:v0.0.2-alpha": docker.io/substratusai/controller-manager:v0.0.2-alpha: '
             'not found')
# dockerhub-rate-limit-containerd-eks
RATE_LIMITED = ('Failed to pull image "kong:3.6": rpc error: code = Unknown desc = failed to pull and '
                'unpack image "docker.io/library/kong:3.6": failed to copy: httpReadSeeker: failed open: '
                'unexpected status code https://registry-1.docker.io/v2/library/kong/manifests/sha256:'
                '611e2c550ad4e97c14c3ff781cb69aff95d89673ccf6b9b3c8b2ca5eafca3f38: 429 Too Many Requests '
                '- Server message: toomanyrequests: You have reached your pull rate limit. You may '
                'increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit')
# ghcr-anonymous-token-403-private-package
FORBIDDEN = ('Failed to pull image "ghcr.io/nloui/paperless-mcp:latest": failed to pull and unpack image '
             '"ghcr.io/nloui/paperless-mcp:latest": failed to resolve reference "ghcr.io/nloui/'
             'paperless-mcp:latest": failed to authorize: failed to fetch anonymous token: unexpected '
             'status from GET request to https://ghcr.io/token?scope=repository%3Anloui%2Fpaperless-mcp'
             '%3Apull&service=ghcr.io: 403 Forbidden')


def _stamp(age: timedelta) -> str:
    return (datetime.now(UTC) - age).strftime("%Y-%m-%dT%H:%M:%SZ")


def pod(app: str, namespace: str, image: str, message: str | None) -> dict[str, Any]:
    """A Deployment's pod, failing with `message` (None: running)."""
    state = ({"waiting": {"reason": "ErrImagePull", "message": message}} if message
             else {"running": {"startedAt": _stamp(timedelta(minutes=1))}})
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": f"{app}-7f9c5d-x2x4p", "namespace": namespace,
                     "creationTimestamp": _stamp(timedelta(minutes=30)),
                     "labels": {"app": app, "pod-template-hash": "7f9c5d"},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                          "name": f"{app}-7f9c5d", "controller": True,
                                          "uid": f"rs-{app}"}]},
        "spec": {"nodeName": "ip-10-0-1-10.us-east-2.compute.internal",
                 "containers": [{"name": app, "image": image}]},
        "status": {"phase": "Pending" if message else "Running", "hostIP": "10.0.1.10",
                   "containerStatuses": [{"name": app, "image": image, "ready": not message,
                                          "restartCount": 0, "state": state}]},
    }


def replicaset(app: str, namespace: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": f"{app}-7f9c5d", "namespace": namespace,
                         "labels": {"app": app, "pod-template-hash": "7f9c5d"},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                              "name": app, "controller": True, "uid": f"d-{app}"}]}}


@pytest.fixture
def two_problems(tmp_path: Path) -> Path:
    """Cluster prod: Deployment api (shop) cannot find its tag, Deployment worker (ops) is refused."""
    objects = [pod("api", "shop", API_IMAGE, NOT_FOUND), replicaset("api", "shop"),
               pod("worker", "ops", WORKER_IMAGE, FORBIDDEN), replicaset("worker", "ops")]
    path = tmp_path / "lifecycle.yaml"
    path.write_text(yaml.safe_dump({"name": "lifecycle", "region": "us-east-2",
                                    "clusters": [{"name": CLUSTER, "objects": objects}]}))
    return path


@pytest.fixture(scope="module")
def handler() -> Any:
    return load_handler()


def scan(handler: Any) -> dict[str, Any]:
    return invoke(handler, json.loads((EVENTS / "scheduled.json").read_text()))


def announced(sandbox: Sandbox) -> list[list[tuple[str, str, str]]]:
    """Per SNS message read back through SQS: (event, workload, cause) of each finding."""
    return [[(f["event"], f["workload"], f["cause"]) for f in json.loads(m["Message"])["findings"]]
            for m in sandbox.messages()]


def records(sandbox: Sandbox, table: str) -> dict[str, dict[str, Any]]:
    """The table's problem items by workload."""
    items = sandbox.client("dynamodb").scan(TableName=table)["Items"]
    return {i["workload"]["S"]: i for i in items if i["pk"]["S"].startswith("cluster#")}


def test_same_broken_state_is_announced_once(world, sandbox, handler, state_table, two_problems) -> None:
    world(two_problems)
    table = state_table()
    first = scan(handler)
    assert first["state"] == "dynamodb" and first["announced"] == {"new": 2}
    assert announced(sandbox) == [[("new", "Deployment/worker", "auth_failed"),
                                   ("new", "Deployment/api", "image_not_found")]]
    second = scan(handler)
    assert second["announced"] == {} and second["published_message_ids"] == []
    assert [f["event"] for f in second["findings"]] == [None, None]
    assert announced(sandbox) == []
    stored = records(sandbox, table)
    assert set(stored) == {"Deployment/api", "Deployment/worker"}
    api = stored["Deployment/api"]
    assert (api["pk"]["S"], api["announced_event"]["S"], api["version"]["N"]) == (
        f"cluster#{CLUSTER}", "new", "1")
    last_seen = datetime.fromisoformat(api["last_seen"]["S"])
    assert int(api["expires_at"]["N"]) == int((last_seen + timedelta(days=30)).timestamp())
    assert json.loads(api["findings"]["S"])[0]["image"] == API_IMAGE and api["format"]["N"] == "1"


def logged_problems(caplog: pytest.LogCaptureFixture) -> dict[str, dict[str, Any]]:
    """The handler's "problem" log lines (what the dashboard's table of open problems reads)."""
    rows = {r.problem["workload"]: r.problem for r in caplog.records if r.getMessage() == "problem"}
    caplog.clear()
    return rows


def test_the_log_holds_each_problem_for_the_dashboard(world, sandbox, handler, state_table, two_problems,
                                                       caplog) -> None:
    world(two_problems)
    table = state_table()
    caplog.clear()
    scan(handler)
    first = logged_problems(caplog)
    assert {w: (p["state"], p["cluster"], p["namespace"], p["cause"], p["silenced"])
            for w, p in first.items()} == {
        "Deployment/api": ("open", CLUSTER, "shop", "image_not_found", False),
        "Deployment/worker": ("open", CLUSTER, "ops", "auth_failed", False)}
    StateStore(sandbox.client("dynamodb"), table).add_silence(
        Silence("workload", f"{CLUSTER}/ops/Deployment/worker", datetime.now(UTC) + timedelta(hours=1)))
    sandbox.clusters[CLUSTER].load([pod("api", "shop", API_IMAGE, None)])
    scan(handler)
    second = logged_problems(caplog)
    assert second["Deployment/api"]["state"] == "resolved"
    worker = second["Deployment/worker"]
    assert (worker["state"], worker["silenced"], worker["since"]) == (
        "open", True, first["Deployment/worker"]["since"])


def test_new_cause_is_announced_as_changed(world, sandbox, handler, state_table, two_problems) -> None:
    world(two_problems)
    state_table()
    scan(handler)
    sandbox.messages()
    sandbox.clusters[CLUSTER].load([pod("api", "shop", API_IMAGE, RATE_LIMITED)])
    summary = scan(handler)
    assert summary["announced"] == {"changed": 1}
    (envelope,) = sandbox.messages()
    (finding,) = json.loads(envelope["Message"])["findings"]
    assert (finding["event"], finding["cause"], finding["previous_cause"]) == (
        "changed", "rate_limited", "image_not_found")
    assert json.loads(envelope["MessageAttributes"]["event"]["Value"]) == ["changed"]
    (published,) = sandbox.published()[-1:]
    assert "1. CHANGED [MEDIUM] rate_limited - prod/shop/Deployment/api" in published["message"]["email"]
    assert "the cause was image_not_found" in published["message"]["email"]


def test_fixed_image_is_announced_as_resolved(world, sandbox, handler, state_table, two_problems) -> None:
    world(two_problems)
    table = state_table()
    scan(handler)
    sandbox.messages()
    sandbox.clusters[CLUSTER].load([pod("api", "shop", API_IMAGE, None)])
    summary = scan(handler)
    assert summary["announced"] == {"resolved": 1}
    assert [r["workload"] for r in summary["resolved"]] == ["Deployment/api"]
    assert announced(sandbox) == [[("resolved", "Deployment/api", "image_not_found")]]
    assert set(records(sandbox, table)) == {"Deployment/worker"}
    email = sandbox.published()[-1]["message"]["email"]
    assert "1. RESOLVED [HIGH] image_not_found - prod/shop/Deployment/api" in email
    scan(handler)
    assert announced(sandbox) == []


def test_unreachable_cluster_resolves_nothing(world, sandbox, handler, state_table, two_problems) -> None:
    world(two_problems)
    table = state_table()
    scan(handler)
    sandbox.messages()
    sandbox.clusters[CLUSTER].inject(401)
    summary = scan(handler)
    assert [e["cluster"] for e in summary["errors"]] == [CLUSTER] and summary["resolved"] == []
    (told,) = sandbox.messages()  # the unreadable cluster is a problem of its own, told once
    assert json.loads(told["MessageAttributes"]["event"]["Value"]) == ["scan_error"]
    assert "create an EKS access entry" in json.loads(told["Message"])["errors"][0]["message"]
    assert scan(handler)["errors"] and sandbox.messages() == []  # not again on every scan
    assert set(records(sandbox, table)) == {"Deployment/api", "Deployment/worker"}
    sandbox.clusters[CLUSTER].clear_faults()
    assert scan(handler)["announced"] == {} and announced(sandbox) == []


def test_silenced_workload_is_quiet_until_the_silence_expires(world, sandbox, handler,
                                                              state_table) -> None:
    world("reference-cases")
    table = state_table()
    written = invoke(handler, json.loads((EVENTS / "silence.json").read_text()))
    assert written["silenced"]["value"] == "demo/default/Deployment/nginx"
    summary = scan(handler)
    assert summary["silenced"] == 1 and summary["announced"] == {"new": 4}
    (shown,) = announced(sandbox)
    assert "Deployment/nginx" not in {workload for _, workload, _ in shown}
    assert "announced_event" not in records(sandbox, table)["Deployment/nginx"]
    store = StateStore(sandbox.client("dynamodb"), table)
    store.add_silence(Silence("workload", "demo/default/Deployment/nginx",
                              datetime.now(UTC) - timedelta(minutes=1)))
    assert scan(handler)["announced"] == {"new": 1}
    assert announced(sandbox) == [[("new", "Deployment/nginx", "image_not_found")]]


def test_reminder_after_the_interval(world, sandbox, handler, state_table, two_problems,
                                     monkeypatch) -> None:
    world(two_problems)
    table = state_table()
    monkeypatch.setenv("PULLMEDIC_REMINDER_HOURS", "6")
    scan(handler)
    sandbox.messages()
    api = records(sandbox, table)["Deployment/api"]
    earlier = (datetime.now(UTC) - timedelta(hours=7)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    sandbox.client("dynamodb").update_item(
        TableName=table, Key={"pk": api["pk"], "sk": api["sk"]},
        UpdateExpression="SET last_announced = :t", ExpressionAttributeValues={":t": {"S": earlier}})
    assert scan(handler)["announced"] == {"reminder": 1}
    assert announced(sandbox) == [[("reminder", "Deployment/api", "image_not_found")]]
    assert "1. REMINDER [HIGH]" in sandbox.published()[-1]["message"]["email"]
    assert scan(handler)["announced"] == {}
