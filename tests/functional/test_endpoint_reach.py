"""Clusters the function cannot reach from where it runs: the sandbox routes each endpoint as AWS
would (a dropped connection times out), and each scan error says in one line what to set."""

from __future__ import annotations

import time
from typing import Any

import pytest

from pullmedic.core.permissions import READ_ACTIONS
from pullmedic_sandbox.aws_seed import substitute
from pullmedic_sandbox.deployment import function_role
from pullmedic_sandbox.handler import invoke, load_handler
from pullmedic_sandbox.sandbox import Sandbox


@pytest.fixture(scope="module")
def handler() -> Any:
    return load_handler()


def scan(handler: Any) -> tuple[dict[str, str], list[str], float]:
    started = time.monotonic()
    summary = invoke(handler, {"dry_run": True})
    errors = {e["cluster"]: e["message"] for e in summary["errors"]}
    return errors, sorted(summary["clusters_scanned"]), time.monotonic() - started


def test_from_inside_the_vpc_each_blocked_path_names_its_rule(
        world, sandbox: Sandbox, handler: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = world("endpoint-unreachable")
    for key, value in substitute(scenario.env, sandbox.refs).items():
        monkeypatch.setenv(key, value)
    refs = sandbox.refs

    errors, scanned, took = scan(handler)

    assert scanned == ["open", "private-only"]  # the admitted private path, and the NAT to the open one
    assert set(errors) == {"restricted", "sg-closed"}
    assert all("\n" not in message for message in errors.values())
    assert "timed out" in errors["restricted"]  # refused by the network, not by the server
    assert " at 0x" not in errors["restricted"]  # the reason, not a connection's repr
    nat = refs["eip.nat-a"]
    assert (f"not the function's egress address {nat} (its NAT gateway): aws eks update-cluster-config "
            "--name restricted --region us-east-2 --resources-vpc-config "
            f"publicAccessCidrs=203.0.113.0/24,{nat}/32") in errors["restricted"]
    closed, function = refs["sg.cluster-closed"], refs["sg.function"]
    assert (f"the cluster security group {closed} does not admit HTTPS (443) from the function's "
            f"security group {function}: aws ec2 authorize-security-group-ingress --group-id {closed} "
            f"--protocol tcp --port 443 --source-group {function} --region us-east-2") in errors["sg-closed"]
    assert took < 30, took  # connect timeouts, clusters side by side

    sandbox.client("ec2").authorize_security_group_ingress(GroupId=closed, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "UserIdGroupPairs": [{"GroupId": function}]}])
    errors, scanned, _ = scan(handler)
    assert "sg-closed" in scanned and set(errors) == {"restricted"}


def test_outside_any_vpc_a_private_endpoint_names_the_parameters_to_set(
        world, sandbox: Sandbox, handler: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    world("endpoint-unreachable")  # the template's default: no SubnetIds, outside any VPC
    monkeypatch.delenv("PULLMEDIC_SUBNET_IDS", raising=False)
    monkeypatch.delenv("PULLMEDIC_SECURITY_GROUP_IDS", raising=False)
    vpc = sandbox.refs["vpc"]

    errors, scanned, _ = scan(handler)

    assert scanned == ["open"]
    assert set(errors) == {"private-only", "restricted", "sg-closed"}
    for name in ("private-only", "sg-closed"):
        assert errors[name].startswith(
            f"cannot reach the API server of cluster {name}: its endpoint is private and the function "
            f"runs outside any VPC: deploy the stack with SubnetIds (private subnets of {vpc}) and "
            "SecurityGroupIds"), errors[name]
    assert ("admits only 203.0.113.0/24 and the function runs outside any VPC, with no fixed egress "
            "address: deploy the stack with SubnetIds") in errors["restricted"]


def test_doctor_in_the_vpc_agrees_with_the_network(
        world, sandbox: Sandbox, handler: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = world("endpoint-unreachable")
    for key, value in {**substitute(scenario.env, sandbox.refs),
                       **function_role(sandbox, READ_ACTIONS | {"sns:Publish"})}.items():
        monkeypatch.setenv(key, value)
    refs = sandbox.refs

    result = invoke(handler, {"doctor": {}})
    found = {(line["subject"], line["check"]): line for line in result["doctor"]["lines"]}

    nat = refs["eip.nat-a"]
    endpoint = found[("restricted", "endpoint")]
    assert endpoint["verdict"] == "problem" and f"egress address {nat} is not in publicAccessCidrs" in \
        endpoint["detail"]
    assert endpoint["fix"] == ("aws eks update-cluster-config --name restricted --region us-east-2 "
                               f"--resources-vpc-config publicAccessCidrs=203.0.113.0/24,{nat}/32")
    rule = found[("sg-closed", "cluster security group")]
    assert rule["verdict"] == "problem"
    closed, function = refs["sg.cluster-closed"], refs["sg.function"]
    assert rule["fix"] == (f"aws ec2 authorize-security-group-ingress --group-id {closed} --protocol tcp "
                           f"--port 443 --source-group {function} --region us-east-2")
    for name, line in (("restricted", endpoint), ("sg-closed", rule)):  # the network dropped them
        assert found[(name, "endpoint reached")]["verdict"] == "problem"
        assert found[(name, "endpoint reached")]["fix"] == line["fix"]
    for name in ("private-only", "open"):
        assert found[(name, "endpoint")]["verdict"] == "ok"
        assert (name, "endpoint reached") not in found
        assert found[(name, "kubernetes: list pods in all namespaces")]["verdict"] == "ok"
