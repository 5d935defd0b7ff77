"""`pullmedic doctor` and the console event {"doctor": {}} against the sandbox: each
misconfiguration is reported with its fix; a correct deployment is all green."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pullmedic.cli import main
from pullmedic.core.permissions import READ_ACTIONS
from pullmedic_sandbox.deployment import endpoint_access, function_role, scan_function, subscribe_email
from pullmedic_sandbox.handler import invoke, load_handler
from pullmedic_sandbox.rbac import Rbac
from pullmedic_sandbox.sandbox import Sandbox

EVENTS = Path(__file__).resolve().parents[2] / "events"
WRITES = ("sns:Publish", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem")


@pytest.fixture(scope="module")
def handler() -> Any:
    return load_handler()


def as_function(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, allowed: set[str]) -> None:
    """Run as the deployed function: its role's credentials and Lambda's environment."""
    for key, value in function_role(sandbox, allowed).items():
        monkeypatch.setenv(key, value)


def lines(result: dict[str, Any]) -> dict[tuple[str, str], dict[str, str]]:
    return {(line["subject"], line["check"]): line for line in result["doctor"]["lines"]}


def test_each_misconfiguration_is_reported_with_its_fix(
        world, sandbox: Sandbox, handler: Any, state_table: Callable[[], str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    world("doctor-misconfigured")
    table = state_table()
    monkeypatch.setenv("PULLMEDIC_REMEDIATION", "approve")  # retry_pods may evict in team and web
    monkeypatch.setenv("PULLMEDIC_REMEDIATION_NAMESPACES", "team,web")
    subscribe_email(sandbox, "oncall@example.com", confirmed=False)
    as_function(sandbox, monkeypatch, (READ_ACTIONS | set(WRITES)) - {"ec2:DescribeRouteTables"})

    result = invoke(handler, json.loads((EVENTS / "doctor.json").read_text()))
    found = lines(result)
    role = "arn:aws:iam::123456789012:role/pullmedic-scan"

    assert result["doctor"]["ok"] is False
    locked = found[("locked", "kubernetes api")]
    assert locked["verdict"] == "problem" and "401" in locked["detail"]
    assert f"aws eks create-access-entry --cluster-name locked --principal-arn {role}" in locked["fix"]
    assert "AmazonEKSViewPolicy --access-scope type=cluster" in locked["fix"]

    replicasets = found[("partial", "kubernetes: list replicasets.apps in all namespaces")]
    assert replicasets["verdict"] == "problem"
    assert "associate-access-policy --cluster-name partial" in replicasets["fix"]
    assert found[("partial", "kubernetes: list pods in all namespaces")]["verdict"] == "ok"
    nodes = found[("partial", "kubernetes: list nodes cluster-wide")]
    assert nodes["verdict"] == "ok" and nodes["detail"].startswith("not allowed (optional)")
    assert nodes["fix"] == ("aws eks update-kubeconfig --name partial --region us-east-2 && kubectl "
                            "--context arn:aws:eks:us-east-2:123456789012:cluster/partial apply -f "
                            "functions/scan/rbac/pullmedic-readers.yaml")

    evict = found[("partial", "kubernetes: create pods/eviction in namespace team")]
    assert evict["verdict"] == "problem" and evict["detail"].startswith("not allowed: retry_pods")
    assert "pullmedic-remediators.yaml with namespace: team" in evict["fix"]
    assert found[("partial", "kubernetes: create pods/eviction in namespace web")]["verdict"] == "ok"

    legacy = found[("legacy", "authentication mode")]
    assert legacy["verdict"] == "problem" and legacy["detail"].startswith("CONFIG_MAP")
    assert "--access-config authenticationMode=API_AND_CONFIG_MAP" in legacy["fix"]

    topic = found[("deployment", "alert topic")]
    assert topic["verdict"] == "problem"
    assert "PendingConfirmation (email oncall@example.com)" in topic["detail"]
    assert "Subscription Confirmation" in topic["fix"]

    permissions = found[("deployment", "aws permissions")]
    assert permissions["verdict"] == "problem"
    assert "ec2:DescribeRouteTables" in permissions["detail"]
    assert "the role's own policies" in permissions["detail"]  # moto has no policy simulator
    assert "ec2:DescribeRouteTables" in permissions["fix"]
    assert found[("deployment", "state table")]["verdict"] == "ok", table


def test_a_correct_deployment_is_all_green_and_the_cli_exits_0(
        world, sandbox: Sandbox, state_table: Callable[[], str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    world("healthy")
    state_table()
    subscribe_email(sandbox, "oncall@example.com", confirmed=True)
    as_function(sandbox, monkeypatch, READ_ACTIONS | set(WRITES))

    status = main(["doctor"])
    out = capsys.readouterr().out

    assert status == 0, out
    verdicts = [row.split()[0] for row in out.splitlines()[1:] if row and not row.startswith(" ")]
    assert set(verdicts[:-1]) == {"ok"} and len(verdicts) > 10, out
    assert out.rstrip().endswith("0 problem(s), 0 unknown")
    # moto has no access entries: the line says so, and rests on the API server's answer
    assert "the entries themselves cannot be listed (could not call eks:ListAccessEntries" in " ".join(
        out.split())


def test_restricted_public_endpoint_fails_a_function_outside_any_vpc(
        world, sandbox: Sandbox, state_table: Callable[[], str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    world("healthy")
    state_table()
    subscribe_email(sandbox, "oncall@example.com", confirmed=True)
    endpoint_access(sandbox, "healthy", cidrs=("203.0.113.0/24",))
    as_function(sandbox, monkeypatch, READ_ACTIONS | set(WRITES))

    status = main(["doctor", "--json"])
    found = lines(json.loads(capsys.readouterr().out))

    assert status == 1
    endpoint = found[("healthy", "endpoint")]
    assert endpoint["verdict"] == "problem" and "no fixed egress address" in endpoint["detail"]
    # never "open it to the world": the fix keeps the restriction and names the way in
    assert "0.0.0.0/0" not in endpoint["fix"] and "NAT gateway's public IP" in endpoint["fix"]


def test_without_the_function_role_the_identity_and_network_are_unknown(
        world, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    world("healthy")
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)

    status = main(["doctor", "--cluster", "healthy", "--cluster", "gone", "--json"])
    found = lines(json.loads(capsys.readouterr().out))

    assert status == 1
    assert found[("deployment", "identity")]["verdict"] == "unknown"
    assert "pass --function FUNCTION_NAME" in found[("deployment", "identity")]["fix"]
    assert found[("healthy", "endpoint")]["verdict"] == "unknown"
    assert found[("deployment", "state table")]["detail"].startswith("no state table")  # no PULLMEDIC_TABLE
    gone = found[("gone", "cluster")]
    assert gone["verdict"] == "problem" and "ResourceNotFoundException" in gone["detail"]
    assert found[("healthy", "kubernetes: list pods in all namespaces")]["verdict"] == "ok"
    assert main(["doctor", "--cluster", "not a name"]) == 2


def test_without_node_reads_the_scan_finds_the_instance_by_host_ip_and_says_so(
        world, sandbox: Sandbox, handler: Any) -> None:
    """AmazonEKSViewPolicy alone (no RBAC manifest): nodes cannot be listed, the cause is still
    proven from the instance behind the pod's host IP, and the evidence says how it was found."""
    world("evidence-arm64-node-amd64-image")
    sandbox.clusters["evidence-arm64-node-amd64-image"].rbac = Rbac(["list nodes"])

    summary = invoke(handler, {"dry_run": True})

    (finding,) = summary["findings"]
    assert finding["cause"] == "platform_mismatch" and finding["confidence"] == "confirmed"
    assert any(line.startswith("note: cannot list nodes (nodes: HTTP 403: nodes is forbidden")
               and line.endswith("the pod's instance was found by its host IP 10.0.1.10")
               for line in finding["evidence"]), finding["evidence"]
    assert [r.status for r in sandbox.clusters["evidence-arm64-node-amd64-image"].requests
            if r.path == "/api/v1/nodes"] == [403]


def test_cli_with_function_checks_its_role_and_names_the_security_group_rule_to_add(
        world, sandbox: Sandbox, state_table: Callable[[], str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """From a laptop: the function's role and subnets come from --function; its cluster has a
    private endpoint only, and the cluster security group does not admit the function's group."""
    world("healthy")
    table = state_table()
    function_role(sandbox, READ_ACTIONS | set(WRITES))
    subscribe_email(sandbox, "oncall@example.com", confirmed=False)
    deployed = {"PULLMEDIC_TOPIC_ARN": sandbox.topic_arn, "PULLMEDIC_TABLE": table,
                "PULLMEDIC_CLUSTERS": "healthy"}
    for name in deployed:  # the laptop has none of the deployment's settings
        monkeypatch.delenv(name)
    ec2 = sandbox.client("ec2")
    config = sandbox.client("eks").describe_cluster(name="healthy")["cluster"]["resourcesVpcConfig"]
    subnets = config["subnetIds"]
    vpc = ec2.describe_subnets(SubnetIds=subnets)["Subnets"][0]["VpcId"]
    cluster_sg = ec2.create_security_group(GroupName="eks-cluster-sg-healthy", Description="cluster",
                                           VpcId=vpc)["GroupId"]
    function_sg = ec2.create_security_group(GroupName="pullmedic", Description="function",
                                            VpcId=vpc)["GroupId"]
    name = scan_function(sandbox, subnets, [function_sg], deployed)
    endpoint_access(sandbox, "healthy", public=False, private=True, vpc_id=vpc, security_group=cluster_sg)

    status = main(["doctor", "--function", name, "--json"])
    found = lines(json.loads(capsys.readouterr().out))

    assert status == 1
    identity = found[("deployment", "identity")]
    assert identity["detail"].startswith("checking role arn:aws:iam::123456789012:role/pullmedic-scan")
    assert "the Kubernetes lines are this caller's" in identity["detail"]
    assert found[("deployment", "aws permissions")]["verdict"] == "ok"  # the function's role's
    assert found[("healthy", "endpoint")]["verdict"] == "ok"  # private endpoint, same VPC
    # the topic and table are the function's (from its environment), not the laptop's
    assert "oncall@example.com" in found[("deployment", "alert topic")]["detail"]
    assert found[("deployment", "state table")]["detail"].startswith(f"table {table} is ACTIVE")
    rule = found[("healthy", "cluster security group")]
    assert rule["verdict"] == "problem"
    assert rule["fix"] == (f"aws ec2 authorize-security-group-ingress --group-id {cluster_sg} --protocol tcp "
                           f"--port 443 --source-group {function_sg} --region us-east-2")

    ec2.authorize_security_group_ingress(GroupId=cluster_sg, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "UserIdGroupPairs": [{"GroupId": function_sg}]}])
    main(["doctor", "--function", name, "--json"])
    after = lines(json.loads(capsys.readouterr().out))
    assert after[("healthy", "cluster security group")]["verdict"] == "ok"
