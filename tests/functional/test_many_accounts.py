"""One invocation over clusters in two accounts: each reached through its own credentials, one
published message for the whole scan, and an unreadable cluster's stored problems kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_alert_lifecycle import FORBIDDEN, NOT_FOUND, pod, records, replicaset

from pullmedic_sandbox.handler import invoke, load_handler
from pullmedic_sandbox.sandbox import Sandbox

MEMBER = "210987654321"
TARGETS = [{"account": "self", "clusters": ["home", "locked"]},
           {"account": MEMBER, "clusters": ["remote"]}]
# A member account's cluster is named with its account and Region: "prod" exists in many.
REMOTE = f"{MEMBER}/us-east-2/remote"


@pytest.fixture(scope="module")
def handler() -> Any:
    return load_handler()


@pytest.fixture
def two_accounts(tmp_path: Path) -> Path:
    """Clusters home and locked in the sandbox's account, remote in a member account; each has
    one Deployment that cannot pull."""
    def cluster(name: str, app: str, message: str, account: str | None = None) -> dict[str, Any]:
        spec = {"name": name, "objects": [pod(app, "shop", f"example.com/{app}:v1", message),
                                          replicaset(app, "shop")]}
        return {**spec, "account": account} if account else spec

    path = tmp_path / "two-accounts.yaml"
    path.write_text(yaml.safe_dump({"name": "two-accounts", "region": "us-east-2", "clusters": [
        cluster("home", "api", NOT_FOUND), cluster("locked", "billing", NOT_FOUND),
        cluster("remote", "worker", FORBIDDEN, MEMBER)]}))
    return path


def test_member_account_cluster_is_scanned_with_assumed_role_credentials(
        world, sandbox: Sandbox, handler, two_accounts, monkeypatch) -> None:
    world(two_accounts)
    monkeypatch.setenv("PULLMEDIC_TARGETS", json.dumps(TARGETS))
    monkeypatch.setenv("PULLMEDIC_EXTERNAL_ID", "pullmedic-test")
    summary = invoke(handler, {"source": "aws.events", "detail-type": "Scheduled Event"})
    assert summary["errors"] == []
    assert sorted(summary["clusters_scanned"]) == sorted(["home", "locked", REMOTE])
    assert {f["cluster"] for f in summary["findings"]} == {"home", "locked", REMOTE}
    assert {(f["cluster"], f["account"], f["region"]) for f in summary["findings"]} == {
        ("home", "123456789012", "us-east-2"), ("locked", "123456789012", "us-east-2"),
        (REMOTE, MEMBER, "us-east-2")}  # from each cluster's ARN
    from moto.sts.models import sts_backends

    (assumed,) = [r for r in sts_backends[MEMBER]["aws"].assumed_roles if r.session_name == "pullmedic"]
    assert assumed.role_arn == f"arn:aws:iam::{MEMBER}:role/pullmedic-reader"
    assert assumed.external_id == "pullmedic-test"
    assert sandbox.clusters["remote"].requests  # its token, signed with the assumed key, was accepted
    assert sandbox.client("eks").list_clusters()["clusters"] == ["home", "locked"]


def test_failing_cluster_is_an_error_and_its_problems_are_not_resolved(
        world, sandbox: Sandbox, handler, state_table, two_accounts, monkeypatch) -> None:
    world(two_accounts)
    table = state_table()
    first = invoke(handler, {"targets": [{"account": "self", "clusters": ["locked"]}]})
    assert [f["cluster"] for f in first["findings"]] == ["locked"]
    sandbox.messages()
    sandbox.clusters["locked"].inject(401)
    monkeypatch.setenv("PULLMEDIC_TARGETS", json.dumps(TARGETS))
    summary = invoke(handler, {"source": "aws.events", "detail-type": "Scheduled Event"})
    assert [e["cluster"] for e in summary["errors"]] == ["locked"] and summary["resolved"] == []
    (message,) = sandbox.messages()
    body = json.loads(message["Message"])
    assert {(f["cluster"], f["event"]) for f in body["findings"]} == {("home", "new"), (REMOTE, "new")}
    assert [e["cluster"] for e in body["errors"]] == ["locked"]
    assert "Deployment/billing" in records(sandbox, table)


def test_unreachable_account_does_not_stop_the_others(world, sandbox: Sandbox, handler, two_accounts,
                                                      monkeypatch) -> None:
    world(two_accounts)
    monkeypatch.setenv("PULLMEDIC_TARGETS", json.dumps(
        [{"account": "self", "clusters": ["home"]},
         {"account": MEMBER, "region": "eu-west-1", "clusters": ["gone"],
          "role_arn": "arn:aws:iam::210987654321:role/pullmedic-reader"},
         {"account": MEMBER, "clusters": "all"}]))
    summary = invoke(handler, {"source": "aws.events", "detail-type": "Scheduled Event"})
    assert sorted(summary["clusters_scanned"]) == sorted(["home", REMOTE])
    errors = [(e["cluster"], e["stage"]) for e in summary["errors"]]
    assert errors == [(f"{MEMBER}/eu-west-1/gone", "describe-cluster")]


def test_fan_out_steps_scan_each_cluster_apart_and_announce_once(
        world, sandbox: Sandbox, handler, state_table, two_accounts, monkeypatch) -> None:
    world(two_accounts)
    state_table()
    monkeypatch.setenv("PULLMEDIC_TARGETS", json.dumps(
        [{"account": "self", "clusters": ["home", "locked"]}, {"account": MEMBER, "clusters": "all"}]))
    listed = invoke(handler, {"fanout": "list"})
    assert listed["count"] == 3
    assert [t["clusters"] for t in listed["targets"]] == [["home"], ["locked"], ["remote"]]
    results = [invoke(handler, {"fanout": "cluster", "execution": "run-1", "target": target})
               for target in listed["targets"] if target["clusters"] != ["locked"]]
    assert [r["findings"] for r in results] == [1, 1] and sandbox.messages() == []
    failed = {"target": listed["targets"][1], "error": "States.Timeout", "cause": "the task timed out"}
    summary = invoke(handler, {"fanout": "aggregate", "execution": "run-1", "results": [*results, failed]})
    assert summary["finding_count"] == 2 and summary["announced"] == {"new": 2}
    assert [(e["cluster"], e["stage"]) for e in summary["errors"]] == [("locked", "fanout")]
    assert "findings" not in summary  # the state machine keeps only counts
    (message,) = sandbox.messages()
    body = json.loads(message["Message"])
    assert {(f["cluster"], f["event"]) for f in body["findings"]} == {("home", "new"), (REMOTE, "new")}
    assert "States.Timeout" in body["errors"][0]["message"]
    again = invoke(handler, {"fanout": "aggregate", "execution": "run-1", "results": results})
    assert again["announced"] == {} and sandbox.messages() == []


def test_large_scheduled_scan_starts_the_state_machine(world, sandbox: Sandbox, handler, two_accounts,
                                                       monkeypatch) -> None:
    world(two_accounts)
    machine = sandbox.client("stepfunctions").create_state_machine(
        name="pullmedic-fanout", definition=json.dumps({"StartAt": "Done", "States": {
            "Done": {"Type": "Succeed"}}}), roleArn="arn:aws:iam::123456789012:role/sfn")["stateMachineArn"]
    monkeypatch.setenv("PULLMEDIC_TARGETS", json.dumps(TARGETS))
    monkeypatch.setenv("PULLMEDIC_STATE_MACHINE_ARN", machine)
    monkeypatch.setenv("PULLMEDIC_FANOUT_THRESHOLD", "2")
    started = invoke(handler, {"source": "aws.events", "detail-type": "Scheduled Event"})
    assert started["fanout"] == "started" and started["targets"] == 3
    assert sandbox.messages() == [] and started["execution_arn"].startswith(
        machine.replace(":stateMachine:", ":execution:"))
    monkeypatch.setenv("PULLMEDIC_FANOUT_THRESHOLD", "3")
    assert sorted(invoke(handler, {"source": "aws.events", "detail-type": "Scheduled Event"})
                  ["clusters_scanned"]) == sorted(["home", "locked", REMOTE])
    assert invoke(handler, {"targets": TARGETS})["finding_count"] == 3  # on demand: never handed over


def test_account_that_cannot_be_assumed_is_an_error_of_its_own(world, sandbox: Sandbox, handler,
                                                                two_accounts, monkeypatch) -> None:
    world(two_accounts)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")  # STS unreachable
    summary = invoke(handler, {"targets": [{"account": MEMBER, "region": "us-east-2", "clusters": "all"},
                                           {"account": "self", "clusters": ["home"]}]})
    assert summary["clusters_scanned"] == ["home"] and summary["finding_count"] == 1
    (error,) = summary["errors"]
    assert (error["cluster"], error["stage"]) == (f"{MEMBER}/us-east-2/*", "assume-role")
    assert f"cannot reach account {MEMBER}" in error["message"]
