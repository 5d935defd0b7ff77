"""Remediation end to end: the real handler plans, applies, audits and verifies fixes in the sandbox.

Scenarios: tests/sandbox/pullmedic_sandbox/scenarios/remediate-*.yaml (their messages are real
fixture messages; the ids are beside each). Plans are asked for and approved with the console
event (events/remediate.json's form); what changed is read back from moto and the simulated
Kubernetes API.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from pullmedic.announcing.chat import CHAT_SCHEMA
from pullmedic.announcing.render import DOCUMENT_SCHEMA, load_schema
from pullmedic.cli import main
from pullmedic_sandbox.aws_seed import substitute
from pullmedic_sandbox.handler import invoke, load_handler
from pullmedic_sandbox.sandbox import ACCOUNT, Sandbox
from pullmedic_sandbox.scenario import BUNDLED

EVENTS = Path(__file__).resolve().parents[2] / "events"
PULL_ONLY = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly"
SECRET = f"arn:aws:secretsmanager:us-east-2:{ACCOUNT}:secret:ecr-pullthroughcache/docker-hub-AbCdEf"
EVICTION = "/api/v1/namespaces/team/pods/{}/eviction"


@pytest.fixture(scope="module")
def handler() -> Any:
    return load_handler()


@pytest.fixture
def approve(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULLMEDIC_REMEDIATION", "approve")


def scan(handler: Any) -> dict[str, Any]:
    return invoke(handler, json.loads((EVENTS / "scheduled.json").read_text()))


# Who approves, as the audit names it: the invocation (CloudTrail ties it to the caller) and the label.
ALICE = "Lambda request 00000000-0000-4000-8000-000000000000 (as 'alice')"


def fix(handler: Any, fp: str, action: str, confirm: bool = False, by: str = "alice") -> dict[str, Any]:
    event = json.loads((EVENTS / "remediate.json").read_text())
    event["remediate"].update(fingerprint=fp, action=action, confirm=confirm, approved_by=by)
    (result,) = invoke(handler, event)["remediation"]["results"]
    return result


def fingerprints(summary: dict[str, Any]) -> dict[str, str]:
    return {f["workload"]: f["fingerprint"] for f in summary["findings"]}


def expectations(name: str, sandbox: Sandbox) -> list[dict[str, Any]]:
    raw = yaml.safe_load((BUNDLED / f"{name}.yaml").read_text())
    return substitute(raw["expect"], sandbox.refs)


def assert_expected(summary: dict[str, Any], name: str, sandbox: Sandbox) -> None:
    """The scenario's `expect` entries (as in the evidence scenarios) hold before any fix."""
    for entry in expectations(name, sandbox):
        (finding,) = [f for f in summary["findings"] if f["workload"] == entry["workload"]]
        assert (finding["cause"], finding["confidence"]) == (entry["cause"], entry["confidence"])
        for mention in entry.get("evidence_mentions", []):
            assert mention in "\n".join(finding["evidence"])


def published_findings(sandbox: Sandbox) -> list[dict[str, Any]]:
    """The findings of every SNS message read back through SQS since the last call."""
    return [f for m in sandbox.messages() for f in json.loads(m["Message"])["findings"]]


def items(sandbox: Sandbox, table: str, prefix: str) -> list[dict[str, Any]]:
    found = sandbox.client("dynamodb").scan(TableName=table)["Items"]
    return sorted((i for i in found if i["pk"]["S"].startswith(prefix)), key=lambda i: i["sk"]["S"])


def fixes(sandbox: Sandbox, table: str) -> list[dict[str, Any]]:
    """Applied fixes waiting for verification."""
    return [i for i in items(sandbox, table, "cluster#") if i["sk"]["S"].startswith("remediation#")]


def attached(sandbox: Sandbox, role: str) -> set[str]:
    return {p["PolicyArn"] for p in sandbox.client("iam").list_attached_role_policies(
        RoleName=role)["AttachedPolicies"]}


def running(sandbox: Sandbox, cluster: str, namespace: str, name: str) -> None:
    """What the kubelet does once the image can be pulled: the container starts."""
    pod = sandbox.clusters[cluster].get("Pod", namespace, name)
    assert pod is not None
    pod["status"]["phase"] = "Running"
    for status in pod["status"]["containerStatuses"]:
        status.update(ready=True, state={"running": {"startedAt": datetime.now(UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ")}})
    sandbox.clusters[cluster].load([pod])


def test_node_role_gets_the_pull_policy_and_the_next_scan_resolves(
        world, sandbox, handler, state_table, approve) -> None:
    name = "remediate-node-role-no-ecr"
    world(name)
    table = state_table()
    first = scan(handler)
    assert_expected(first, name, sandbox)
    fp = fingerprints(first)["Deployment/api"]
    (offered,) = published_findings(sandbox)
    assert offered["actions"] == ["grant_ecr_pull"]
    alert = sandbox.published()[-1]["message"]
    email, chat = alert["email"], json.loads(alert["https"])
    jsonschema.validate(chat, CHAT_SCHEMA)
    assert chat["metadata"]["enableCustomActions"] is True
    assert {k: chat["metadata"]["additionalContext"][k] for k in ("fingerprint", "action")} == {
        "fingerprint": fp, "action": "grant_ecr_pull"}
    flags = f"--table {table} --region us-east-2"
    assert chat["content"]["nextSteps"][:2] == [f"pullmedic fix {fp} --action grant_ecr_pull {flags}",
                                                f"pullmedic fix {fp} --action grant_ecr_pull --yes {flags}"]
    assert f"pullmedic fix {fp} --action grant_ecr_pull --yes" in email
    assert '{"remediate": {"fingerprint": "' + fp + '", "action": "grant_ecr_pull", "confirm": true' in email

    planned = fix(handler, fp, "grant_ecr_pull")
    assert planned["status"] == "planned"
    (call,) = planned["plan"]["calls"]
    assert call["api"] == "iam:AttachRolePolicy"
    assert call["params"] == {"RoleName": sandbox.refs["role.node-role"], "PolicyArn": PULL_ONLY}
    assert planned["plan"]["resources"] == [sandbox.refs["role_arn.node-role"], PULL_ONLY]
    assert PULL_ONLY not in attached(sandbox, "node-role")

    applied = fix(handler, fp, "grant_ecr_pull", confirm=True)
    assert applied["status"] == "remediated", applied
    assert PULL_ONLY in attached(sandbox, "node-role")
    steps = [(i["step"]["S"], i["who"]["S"], i["result"]["S"]) for i in items(sandbox, table, f"audit#{fp}")]
    assert steps == [("plan", ALICE, "planned"), ("approval", ALICE, "approved"),
                     ("apply", ALICE, "applying"), ("result", ALICE, "remediated")]
    undo = f"aws iam detach-role-policy --role-name node-role --policy-arn {PULL_ONLY}"
    assert all(json.loads(i["undo"]["S"]) == [undo] for i in items(sandbox, table, f"audit#{fp}"))
    (announced,) = published_findings(sandbox)
    assert announced["event"] == "remediated" and announced["remediation"]["by"] == ALICE
    assert announced["remediation"]["undo"] == [undo]
    message = sandbox.published()[-1]
    assert json.loads(message["attributes"]["event"]["Value"]) == ["remediated"]
    jsonschema.validate(json.loads(message["message"]["sqs"]), DOCUMENT_SCHEMA)
    jsonschema.validate(json.loads(message["message"]["https"]), CHAT_SCHEMA)

    replayed = fix(handler, fp, "grant_ecr_pull", confirm=True, by="mallory")  # the same approval again
    assert replayed["status"] == "refused" and "already used by" in replayed["detail"], replayed
    assert published_findings(sandbox) == []

    running(sandbox, name, "team", "api-7f9c6d5b8-jcszl")
    after = scan(handler)
    assert after["findings"] == [] and after["announced"] == {"resolved": 1}
    (resolved,) = published_findings(sandbox)
    assert resolved["event"] == "resolved"
    assert resolved["remediation"]["action"] == "grant_ecr_pull"
    assert resolved["remediation"]["summary"].startswith("verified: the problem resolved after it was")
    assert (f"Action: grant_ecr_pull (approved by {ALICE}): verified: the problem resolved after"
            in " ".join(sandbox.published()[-1]["message"]["email"].split()))
    assert fixes(sandbox, table) == []
    assert items(sandbox, table, f"audit#{fp}")[-1]["result"]["S"] == "resolved"


def test_a_fix_that_did_not_help_is_announced_once(world, sandbox, handler, state_table, approve) -> None:
    name = "remediate-node-role-no-ecr"
    world(name)
    table = state_table()
    fp = fingerprints(scan(handler))["Deployment/api"]
    fix(handler, fp, "grant_ecr_pull")
    assert fix(handler, fp, "grant_ecr_pull", confirm=True)["status"] == "remediated"
    sandbox.messages()
    soon = scan(handler)  # within the kubelet's back-off: too early to judge
    assert "remediation_failed" not in soon["announced"]
    sandbox.messages()
    dynamodb = sandbox.client("dynamodb")
    (fixed,) = fixes(sandbox, table)
    earlier = datetime.fromisoformat(fixed["applied_at"]["S"]) - timedelta(minutes=15)
    dynamodb.put_item(TableName=table, Item={**fixed, "applied_at": {"S": earlier.isoformat()}})

    later = scan(handler)  # the pod still waits on its image: the fix did not help
    assert later["announced"].get("remediation_failed") == 1
    failed = [f for f in published_findings(sandbox) if f["event"] == "remediation_failed"]
    (failed_doc,) = failed
    assert failed_doc["remediation"]["action"] == "grant_ecr_pull"
    assert failed_doc["remediation"]["summary"].startswith("did not help: still failing although it was")
    assert any("ok [ecr_pull_permission]" in line for line in failed_doc["evidence"])
    assert "remediation_failed" not in scan(handler)["announced"]


def test_approval_refuses_a_plan_whose_evidence_changed(world, sandbox, handler, state_table,
                                                         approve) -> None:
    world("remediate-node-role-no-ecr")
    table = state_table()
    fp = fingerprints(scan(handler))["Deployment/api"]
    fix(handler, fp, "grant_ecr_pull")
    sandbox.client("iam").put_role_policy(RoleName="node-role", PolicyName="logs", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}]}))
    refused = fix(handler, fp, "grant_ecr_pull", confirm=True)
    assert refused["status"] == "refused"
    assert "the evidence changed since the plan was shown" in refused["detail"]
    assert PULL_ONLY not in attached(sandbox, "node-role")
    (approval,) = [i for i in items(sandbox, table, f"audit#{fp}") if i["step"]["S"] == "approval"]
    assert approval["result"]["S"].startswith("refused: the evidence changed")


def test_pushed_tag_evicts_waiting_pods_safely(world, sandbox, handler, state_table, approve) -> None:
    name = "remediate-tag-pushed"
    world(name)
    state_table()
    cluster = sandbox.clusters[name]
    before = scan(handler)
    assert_expected(before, name, sandbox)
    fps = fingerprints(before)
    assert all(not f["actions"] for f in published_findings(sandbox))  # the tag is missing: nothing to retry
    ecr = sandbox.client("ecr")
    manifest = ecr.batch_get_image(repositoryName="team/api", imageIds=[{"imageTag": "1.4.1"}])
    ecr.put_image(repositoryName="team/api", imageTag="2.0.0",
                  imageManifest=manifest["images"][0]["imageManifest"])

    api = fix(handler, fps["Deployment/api"], "retry_pods")
    assert api["status"] == "planned"
    assert [c["params"]["name"] for c in api["plan"]["calls"]] == [
        "api-5d4f8c7b9-k2x7q", "api-5d4f8c7b9-w9m4t"]
    bare = fix(handler, fps["Pod/debug"], "retry_pods")
    assert bare["plan"]["calls"] == [] and bare["plan"]["blocker"] == "no pod of the finding can be evicted"
    assert any("a bare or static pod is never evicted" in n for n in bare["plan"]["notes"])
    worker = fix(handler, fps["Deployment/worker"], "retry_pods")
    assert [c["params"]["name"] for c in worker["plan"]["calls"]] == ["worker-6c8d9f7b5-p4z8r"]
    assert not [r for r in cluster.requests if r.method != "GET"]

    cluster.requests.clear()
    evicted = fix(handler, fps["Deployment/api"], "retry_pods", confirm=True)
    assert evicted["status"] == "remediated"
    posts = [(r.path, r.status) for r in cluster.requests if r.method == "POST"]
    assert posts == [(EVICTION.format("api-5d4f8c7b9-k2x7q"), 201),
                     (EVICTION.format("api-5d4f8c7b9-w9m4t"), 201)]
    assert cluster.get("Pod", "team", "api-5d4f8c7b9-k2x7q") is None
    assert cluster.get("Pod", "team", "api-5d4f8c7b9-w9m4t") is None
    assert [f["event"] for f in published_findings(sandbox)] == ["remediated"]

    cluster.requests.clear()
    refused = fix(handler, fps["Deployment/worker"], "retry_pods", confirm=True)
    assert refused["status"] == "remediation_failed"
    (step,) = refused["steps"]
    assert step["outcome"] == "refused" and "HTTP 429" in step["detail"]
    assert "The disruption budget worker needs 1 healthy pods and has 0 currently" in step["detail"]
    posts = [(r.path, r.status) for r in cluster.requests if r.method == "POST"]
    assert posts == [(EVICTION.format("worker-6c8d9f7b5-p4z8r"), 429)]  # once: never retried
    assert cluster.get("Pod", "team", "worker-6c8d9f7b5-p4z8r") is not None
    assert [f["event"] for f in published_findings(sandbox)] == ["remediation_failed"]

    cluster.requests.clear()
    never = fix(handler, fps["Pod/debug"], "retry_pods", confirm=True)
    assert never["status"] == "refused"
    assert not [r for r in cluster.requests if r.method != "GET"]
    assert cluster.get("Pod", "team", "debug") is not None

    running(sandbox, name, "team", "worker-6c8d9f7b5-p4z8r")  # the kubelet's own retry succeeds
    running(sandbox, name, "team", "debug")
    after = scan(handler)
    assert after["findings"] == [] and after["announced"] == {"resolved": 3}
    notes = {f["workload"]: f["remediation"] for f in published_findings(sandbox)}
    assert notes["Deployment/api"]["action"] == "retry_pods"
    assert notes["Pod/debug"] is None


def test_dockerhub_rate_limit_plans_a_cache_rule_and_reports_the_moto_gap(
        world, sandbox, handler, state_table, approve, monkeypatch) -> None:
    name = "remediate-dockerhub-rate-limit"
    world(name)
    state_table()
    before = scan(handler)
    assert_expected(before, name, sandbox)
    fp = fingerprints(before)["Deployment/httpd"]
    assert {f["workload"]: f["actions"] for f in published_findings(sandbox)} == {
        "Deployment/httpd": ["pull_through_cache"], "Deployment/cache": ["pull_through_cache"]}
    no_secret = fix(handler, fp, "pull_through_cache")
    assert "no Docker Hub credential" in no_secret["plan"]["blocker"]

    monkeypatch.setenv("PULLMEDIC_DOCKERHUB_SECRET_ARN", SECRET)
    planned = fix(handler, fp, "pull_through_cache")
    assert planned["status"] == "planned" and planned["plan"]["blocker"] is None
    (call,) = planned["plan"]["calls"]
    assert call["api"] == "ecr:CreatePullThroughCacheRule"
    assert call["params"] == {"region": "us-east-2", "ecrRepositoryPrefix": "docker-hub",
                              "upstreamRegistryUrl": "registry-1.docker.io", "credentialArn": SECRET}
    hub = f"{ACCOUNT}.dkr.ecr.us-east-2.amazonaws.com/docker-hub/library"
    notes = planned["plan"]["notes"]
    assert f"web/Deployment/httpd (httpd): httpd:latest -> {hub}/httpd:latest" in notes
    assert f"web/Deployment/cache (redis): redis:7.2 -> {hub}/redis:7.2" in notes
    # moto answers DescribePullThroughCacheRules with HTTP 500 too: the plan says it cannot tell.
    assert any(n.startswith("whether a rule exists already is unknown") for n in notes)

    cluster = sandbox.clusters[name]
    cluster.requests.clear()
    applied = fix(handler, fp, "pull_through_cache", confirm=True)
    assert applied["status"] == "remediation_failed"
    (step,) = applied["steps"]
    assert step["outcome"] == "failed"
    assert "ecr:CreatePullThroughCacheRule" in step["detail"]
    assert "not supported by this endpoint (HTTP 500)" in step["detail"]
    assert [f["event"] for f in published_findings(sandbox)] == ["remediation_failed"]
    assert not [r for r in cluster.requests if r.method != "GET"]  # workload images are never edited
    images = {p["metadata"]["name"]: p["spec"]["containers"][0]["image"] for p in cluster.objects("Pod")}
    assert set(images.values()) == {"httpd:latest", "redis:7.2"}


def test_auto_mode_applies_allowed_actions_after_two_proven_scans(world, sandbox, handler, state_table,
                                                                  monkeypatch) -> None:
    world("remediate-node-role-no-ecr")
    table = state_table()
    monkeypatch.setenv("PULLMEDIC_REMEDIATION", "auto")
    scan(handler)
    scan(handler)
    assert PULL_ONLY not in attached(sandbox, "node-role")  # auto allows no action by default
    monkeypatch.setenv("PULLMEDIC_REMEDIATION_ACTIONS", "grant_ecr_pull")
    sandbox.messages()
    third = scan(handler)
    assert PULL_ONLY in attached(sandbox, "node-role")
    (result,) = third["remediation"]
    assert result["status"] == "remediated"
    jsonschema.validate(third, load_schema("summary"))  # with a fix applied and its steps
    assert [f["event"] for f in published_findings(sandbox)] == ["remediated"]
    fp = third["findings"][0]["fingerprint"]
    whos = {i["who"]["S"] for i in items(sandbox, table, f"audit#{fp}")}
    assert whos == {"pullmedic (auto)"}
    assert scan(handler)["remediation"] == []  # applied once, never again by itself


def test_auto_mode_waits_for_the_second_proven_scan(world, sandbox, handler, state_table,
                                                    monkeypatch) -> None:
    world("remediate-node-role-no-ecr")
    state_table()
    monkeypatch.setenv("PULLMEDIC_REMEDIATION", "auto")
    monkeypatch.setenv("PULLMEDIC_REMEDIATION_ACTIONS", "grant_ecr_pull")
    assert scan(handler)["remediation"] == []
    assert PULL_ONLY not in attached(sandbox, "node-role")
    assert scan(handler)["remediation"][0]["status"] == "remediated"


def test_cli_fix_shows_the_plan_then_applies_it(world, sandbox, handler, state_table, approve,
                                                capsys) -> None:
    world("remediate-node-role-no-ecr")
    table = state_table()
    fp = fingerprints(scan(handler))["Deployment/api"]
    capsys.readouterr()
    assert main(["fix", fp, "--action", "grant_ecr_pull"]) == 0
    shown = capsys.readouterr().out
    assert "grant_ecr_pull: planned - nothing is changed until the plan is approved" in shown
    assert f'iam:AttachRolePolicy {{"PolicyArn": "{PULL_ONLY}", "RoleName": "node-role"}}' in shown
    assert f"approve: $ pullmedic fix {fp} --action grant_ecr_pull --yes" in shown
    assert PULL_ONLY not in attached(sandbox, "node-role")
    assert main(["fix", fp, "--yes", "--by", "bob"]) == 0  # the one action the evidence calls for
    assert "grant_ecr_pull: remediated - attached" in capsys.readouterr().out
    assert PULL_ONLY in attached(sandbox, "node-role")
    # the CLI's approver is its STS identity; the --by name is a label beside it
    assert [i["who"]["S"] for i in items(sandbox, table, f"audit#{fp}")][-1] == \
        f"arn:aws:sts::{ACCOUNT}:user/moto (as 'bob')"
    assert main(["fix", "0123456789abcdef", "--action", "retry_pods"]) == 2
    assert "no open problem 0123456789abcdef in the state table" in capsys.readouterr().err
