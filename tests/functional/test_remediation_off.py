"""Remediation off (the default) is read-only: scans, plans and a refused approval write nothing
but the bot's own state table and topic.

Every AWS call is counted by a boto3 `before-call` handler on the session given to bootstrap;
every Kubernetes request by the simulated API servers. The plans are real (the evidence calls
for each action), so only the mode stands between them and a change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from pullmedic.app.bootstrap import bootstrap
from pullmedic.app.event import RemediateOrder, ScanOrder
from pullmedic.app.remediate import remediate
from pullmedic.app.service import run_scan
from pullmedic.core.settings import load
from pullmedic_sandbox.sandbox import ACCOUNT, Sandbox

READS = ("Describe", "Get", "List", "BatchGet", "Query", "Scan", "Simulate")  # Simulate*: a read
OWN_WRITES = {("dynamodb", "PutItem"), ("dynamodb", "DeleteItem"), ("dynamodb", "TransactWriteItems"),
              ("dynamodb", "UpdateItem"), ("dynamodb", "BatchWriteItem"), ("sns", "Publish")}
SECRET = f"arn:aws:secretsmanager:us-east-2:{ACCOUNT}:secret:ecr-pullthroughcache/docker-hub-AbCdEf"


def push_tag(sandbox: Sandbox) -> None:
    """The missing team/api:2.0.0 arrives (so retry_pods has pods to evict)."""
    ecr = sandbox.client("ecr")
    manifest = ecr.batch_get_image(repositoryName="team/api", imageIds=[{"imageTag": "1.4.1"}])
    ecr.put_image(repositoryName="team/api", imageTag="2.0.0",
                  imageManifest=manifest["images"][0]["imageManifest"])


CASES: list[tuple[str, str, str, Callable[[Sandbox], None] | None]] = [
    ("remediate-node-role-no-ecr", "grant_ecr_pull", "Deployment/api", None),
    ("remediate-tag-pushed", "retry_pods", "Deployment/api", push_tag),
    ("remediate-dockerhub-rate-limit", "pull_through_cache", "Deployment/httpd", None),
]


@pytest.mark.parametrize(("name", "action", "workload", "between"), CASES, ids=[c[1] for c in CASES])
def test_off_mode_changes_nothing(world, sandbox: Sandbox, state_table, monkeypatch, name: str,
                                  action: str, workload: str,
                                  between: Callable[[Sandbox], None] | None) -> None:
    world(name)
    table = state_table()
    monkeypatch.setenv("PULLMEDIC_DOCKERHUB_SECRET_ARN", SECRET)
    for cluster in sandbox.clusters.values():
        cluster.requests.clear()
    calls: list[tuple[str, str, dict[str, Any]]] = []

    def count(model: Any, params: dict[str, Any], **_: Any) -> None:
        calls.append((model.service_model.service_name, model.name, params))

    session = boto3.session.Session()
    session.events.register("before-call", count)
    settings = load()
    assert settings.remediation == "off"
    # One bootstrap per call, as each Lambda invocation (or CLI command) does.
    summary = run_scan(ScanOrder("on-demand", None, None, False), settings,
                       bootstrap(settings, session=session)).doc()
    (fp,) = {f["fingerprint"] for f in summary["findings"] if f["workload"] == workload}
    if between:
        between(sandbox)
    shown, approved = (remediate(RemediateOrder(fp, action, confirm, "alice", None), settings,
                                 bootstrap(settings, session=session), caller="cli")["remediation"]
                       for confirm in (False, True))

    (plan,) = shown["results"]
    assert plan["status"] == "planned" and plan["plan"]["calls"], plan
    (refusal,) = approved["results"]
    assert refusal["status"] == "refused" and refusal["detail"].startswith("remediation is off")
    assert "pullmedic fix" not in sandbox.published()[-1]["message"]["email"]

    writes = [(service, op, params) for service, op, params in calls if not op.startswith(READS)]
    assert {(service, op) for service, op, _ in writes} <= OWN_WRITES, writes
    assert all(_tables(params) <= {table} for _, _, params in writes)
    assert all(params.get("TopicArn", sandbox.topic_arn) == sandbox.topic_arn for _, _, params in writes)
    assert {op for _, op, _ in writes} >= {"TransactWriteItems", "Publish"}  # its own state and alert
    kube = [r for cluster in sandbox.clusters.values() for r in cluster.requests]
    assert kube and {r.method for r in kube} == {"GET"}


def _tables(params: dict[str, Any]) -> set[str]:
    """Every table a DynamoDB write names (directly, per batch, per transaction item)."""
    names = {params["TableName"]} if "TableName" in params else set()
    names |= set(params.get("RequestItems") or {})
    names |= {next(iter(item.values()))["TableName"] for item in params.get("TransactItems") or []}
    return names
