"""Every cluster of the Region as the default scope, and doctor's limits: a deadline, caps on
what it reads, no value of the function's environment in its output, pasteable commands."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pullmedic.app.event import parse_doctor
from pullmedic.cli import main
from pullmedic.core.permissions import READ_ACTIONS
from pullmedic.core.settings import load
from pullmedic.doctor.run import clusters_to_check
from pullmedic.reading.aws.eks import list_clusters
from pullmedic_sandbox.deployment import endpoint_access, function_role, scan_function, subscribe_email
from pullmedic_sandbox.handler import LambdaContext, invoke, load_handler
from pullmedic_sandbox.sandbox import Sandbox

EVENTS = Path(__file__).resolve().parents[2] / "events"
WRITES = {"sns:Publish", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"}
ROLE = "arn:aws:iam::123456789012:role/pullmedic-scan"


@pytest.fixture(scope="module")
def handler() -> Any:
    return load_handler()


def as_function(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in function_role(sandbox, READ_ACTIONS | WRITES).items():
        monkeypatch.setenv(key, value)


def lines(result: dict[str, Any]) -> dict[tuple[str, str], dict[str, str]]:
    return {(line["subject"], line["check"]): line for line in result["doctor"]["lines"]}


class ShortContext(LambdaContext):
    """An invocation with little time left."""

    def __init__(self, millis: int) -> None:
        self.millis = millis

    def get_remaining_time_in_millis(self) -> int:
        return self.millis


def test_every_cluster_of_the_region_is_scanned_and_doctor_names_those_without_access(
        world, sandbox: Sandbox, handler: Any, state_table: Callable[[], str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    world("doctor-misconfigured")
    state_table()
    monkeypatch.setenv("PULLMEDIC_CLUSTERS", "")  # the template's default ClusterNames: every cluster
    subscribe_email(sandbox, "oncall@example.com", confirmed=True)

    summary = invoke(handler, {"dry_run": True})

    assert sorted(summary["clusters_scanned"]) == ["legacy", "partial", "ready"]
    assert [(e["cluster"], e["stage"]) for e in summary["errors"]] == [("locked", "pods")]
    assert "401" in summary["errors"][0]["message"]

    as_function(sandbox, monkeypatch)
    found = lines(invoke(handler, json.loads((EVENTS / "doctor.json").read_text())))

    scope = found[("deployment", "clusters")]
    assert scope["verdict"] == "ok"
    assert scope["detail"] == ("every cluster of the Region (ClusterNames empty): 4 found: "
                               "legacy, locked, partial, ready")
    access = found[("deployment", "cluster access")]
    assert access["verdict"] == "problem"
    assert access["detail"].startswith("3 of 4 cluster(s) still lack access: ")
    assert "ready" not in access["detail"]
    assert "locked (no access entry)" in access["detail"]
    assert "partial (RBAC: list replicasets.apps in all namespaces)" in access["detail"]
    assert "legacy (CONFIG_MAP authentication)" in access["detail"]
    assert "ClusterNames naming them and CreateAccessEntries=true" in access["fix"]


def test_the_cluster_listing_pages_and_stops_at_the_cap(world, sandbox: Sandbox) -> None:
    world("healthy")
    eks = sandbox.client("eks")
    subnets = eks.describe_cluster(name="healthy")["cluster"]["resourcesVpcConfig"]["subnetIds"]
    for n in range(104):  # moto answers 100 names a page
        eks.create_cluster(name=f"team-{n:03d}", roleArn="arn:aws:iam::123456789012:role/eks",
                           resourcesVpcConfig={"subnetIds": subnets})

    assert len(list_clusters(eks)) == 105
    settings = load({"AWS_REGION": sandbox.region})
    names, line = clusters_to_check(parse_doctor({"doctor": {}}), settings, eks, cap=3)
    assert names == ["healthy", "team-000", "team-001"]
    assert line is not None and line.verdict == "unknown"
    assert line.detail == ("every cluster of the Region (ClusterNames empty): more than 3; the first 3 by "
                           "name are checked, from healthy to team-001")
    assert "--cluster NAME" in line.fix


def test_doctor_stops_at_its_timeout_and_says_what_was_not_checked(
        world, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    world("doctor-misconfigured")
    as_function(sandbox, monkeypatch)
    sandbox.set_latency(kube=1.5)  # each review takes 1.5 s: seven per cluster
    try:
        started = time.monotonic()
        status = main(["doctor", "--timeout", "4", "--json"])
        took = time.monotonic() - started
    finally:
        sandbox.set_latency()
    result = json.loads(capsys.readouterr().out)

    assert status == 1 and took < 9, took
    details = " ".join(line["detail"] for line in result["doctor"]["lines"])
    assert "time ran out" in details, details


def test_in_lambda_doctor_keeps_within_the_invocations_remaining_time(
        world, sandbox: Sandbox, handler: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    world("doctor-misconfigured")
    as_function(sandbox, monkeypatch)
    sandbox.set_latency(kube=1.5)
    try:
        started = time.monotonic()
        result = handler.lambda_handler(json.loads((EVENTS / "doctor.json").read_text()), ShortContext(8000))
        took = time.monotonic() - started
    finally:
        sandbox.set_latency()

    assert took < 8, took  # answered before Lambda would have killed it
    details = " ".join(line["detail"] for line in result["doctor"]["lines"])
    assert "time ran out" in details, details


def test_function_environment_values_never_reach_the_output(
        world, sandbox: Sandbox, state_table: Callable[[], str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    world("healthy")
    table = state_table()
    function_role(sandbox, READ_ACTIONS | WRITES)
    config = sandbox.client("eks").describe_cluster(name="healthy")["cluster"]["resourcesVpcConfig"]
    deployed = {"PULLMEDIC_TOPIC_ARN": sandbox.topic_arn, "PULLMEDIC_TABLE": table,
                "PULLMEDIC_CLUSTERS": "healthy",
                "CHAT_WEBHOOK": "https://hooks.example.com/T0/B0/s3cr3tT0ken",
                "PULLMEDIC_GRACE_SECONDS": "12x-s3cr3t",
                "PULLMEDIC_KUBERNETES_GROUP": "readers;curl evil.example"}
    name = scan_function(sandbox, config["subnetIds"], [], deployed)

    main(["doctor", "--function", name, "--json"])
    out = capsys.readouterr().out

    for secret in ("s3cr3tT0ken", "12x-s3cr3t", "curl evil.example"):
        assert secret not in out
    found = lines(json.loads(out))
    malformed = found[("deployment", "function settings")]
    assert malformed["verdict"] == "problem"
    assert ("PULLMEDIC_GRACE_SECONDS, PULLMEDIC_KUBERNETES_GROUP malformed (values not shown)"
            in malformed["detail"])
    # the well-formed ones are still the function's
    assert found[("deployment", "state table")]["detail"].startswith(f"table {table} is ACTIVE")


def test_egress_to_the_vpc_cidr_reaches_a_private_endpoint(
        world, sandbox: Sandbox, state_table: Callable[[], str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    world("healthy")
    table = state_table()
    function_role(sandbox, READ_ACTIONS | WRITES)
    ec2 = sandbox.client("ec2")
    config = sandbox.client("eks").describe_cluster(name="healthy")["cluster"]["resourcesVpcConfig"]
    vpc = ec2.describe_subnets(SubnetIds=config["subnetIds"])["Subnets"][0]["VpcId"]
    cluster_sg = ec2.create_security_group(GroupName="eks-cluster", Description="c", VpcId=vpc)["GroupId"]
    function_sg = ec2.create_security_group(GroupName="fn", Description="f", VpcId=vpc)["GroupId"]
    ec2.revoke_security_group_egress(GroupId=function_sg, IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ec2.authorize_security_group_egress(GroupId=function_sg, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
    name = scan_function(sandbox, config["subnetIds"], [function_sg],
                         {"PULLMEDIC_TABLE": table, "PULLMEDIC_CLUSTERS": "healthy"})
    endpoint_access(sandbox, "healthy", public=False, private=True, vpc_id=vpc, security_group=cluster_sg)

    main(["doctor", "--function", name, "--json"])
    found = lines(json.loads(capsys.readouterr().out))

    egress = found[("healthy", "function egress")]
    assert egress["verdict"] == "ok", egress
    assert "10.0.0.0/16" in egress["detail"]


def test_every_printed_command_names_its_region_and_kubectl_context(
        world, sandbox: Sandbox, handler: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    world("doctor-misconfigured")
    monkeypatch.setenv("PULLMEDIC_REMEDIATION", "approve")
    monkeypatch.setenv("PULLMEDIC_READ_SECRETS", "true")
    subscribe_email(sandbox, "oncall@example.com", confirmed=False)
    as_function(sandbox, monkeypatch)

    result = invoke(handler, json.loads((EVENTS / "doctor.json").read_text()))

    commands = 0
    for line in result["doctor"]["lines"]:
        for command in re.findall(r"(?:^|&& |: )((?:aws|kubectl) .*?)(?= && |$)", line["fix"]):
            commands += 1
            if command.startswith("aws "):
                assert "--region us-east-2" in command, line
            else:
                context = f"arn:aws:eks:us-east-2:123456789012:cluster/{line['subject']}"
                assert command.startswith(f"kubectl --context {context} "), line
    kubectl = [line for line in result["doctor"]["lines"] if "kubectl" in line["fix"]]
    assert commands > 8 and kubectl, result
    assert all(line["fix"].startswith(f"aws eks update-kubeconfig --name {line['subject']} "
                                      "--region us-east-2 && kubectl --context") for line in kubectl)
