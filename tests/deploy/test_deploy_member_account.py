"""functions/scan/member-account.yaml: the role the central function assumes in member accounts
reads what pullmedic.core.permissions lists, trusts only that function with the external id, and
writes only as the central template's remediation does, when remediation is on."""

from __future__ import annotations

from typing import Any

import pytest
from deploy_support import REPO, SAM_BIN, condition_true, default_parameters, load_yaml, require_sam_venv, run
from test_deploy_iam import as_list

from pullmedic.core.permissions import SCAN_READ_ACTIONS

MEMBER = REPO / "functions/scan/member-account.yaml"
VIEW_POLICY = {"Fn::Sub": "arn:${AWS::Partition}:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"}


@pytest.fixture(scope="module")
def member() -> dict[str, Any]:
    return load_yaml(MEMBER)


def policies(role: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The role's inline policies by name (conditional ones unwrapped from their Fn::If)."""
    found = {}
    for policy in role["Properties"]["Policies"]:
        if "Fn::If" in policy:
            policy = policy["Fn::If"][1]
        found[policy["PolicyName"]] = as_list(policy["PolicyDocument"]["Statement"])
    return found


def test_cfn_lint_passes() -> None:
    require_sam_venv()
    run([str(SAM_BIN / "cfn-lint"), str(MEMBER)])


def test_reads_equal_permissions_module_and_trust_needs_the_external_id(member: dict[str, Any]) -> None:
    role = member["Resources"]["ReaderRole"]
    assert role["Properties"]["RoleName"] == "pullmedic-reader" and role["Condition"] == "CreatesRole"
    reads = {a for s in policies(role)["read-for-diagnosis"] for a in as_list(s["Action"])}
    # doctor runs in the function's own account only: members grant what a scan reads
    assert reads == SCAN_READ_ACTIONS, (
        f"only in the member template: {sorted(reads - SCAN_READ_ACTIONS)}; "
        f"only in pullmedic.core.permissions: {sorted(SCAN_READ_ACTIONS - reads)}")
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": {"Ref": "PullmedicRoleArn"}} and trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}}


def test_remediation_writes_match_the_central_template_and_follow_the_mode(
        member: dict[str, Any], template: dict[str, Any]) -> None:
    central = policies(template["Resources"]["ScanFunctionRole"])
    own = policies(member["Resources"]["ReaderRole"])
    for name in ("remediate-grant-ecr-pull", "remediate-pull-through-cache"):
        assert own[name] == central[name], name
    conditional = {p["Fn::If"][1]["PolicyName"]: p["Fn::If"][0]
                   for p in member["Resources"]["ReaderRole"]["Properties"]["Policies"] if "Fn::If" in p}
    assert set(conditional) == {"remediate-grant-ecr-pull", "remediate-pull-through-cache"}
    defaults = default_parameters(member) | {"PullmedicRoleArn": "x", "ExternalId": "x"}
    with_pattern = defaults | {"RemediationRoleArnPattern": "arn:aws:iam::1:role/node-*"}
    region = {"AWS::Region": "us-east-1"}
    for condition in conditional.values():
        assert not condition_true(member, condition, with_pattern | region)
        assert condition_true(member, condition, with_pattern | region | {"RemediationMode": "approve"})
        assert not condition_true(member, condition, with_pattern | {"AWS::Region": "eu-west-1",
                                                                      "RemediationMode": "auto"})


def test_an_access_entry_with_the_view_policy_per_listed_cluster(member: dict[str, Any]) -> None:
    entries = [v for v in member["Resources"].values() if v["Type"] == "AWS::EKS::AccessEntry"]
    assert len(entries) == 5
    for i, entry in enumerate(entries):
        props = entry["Properties"]
        name = props["ClusterName"]
        assert entry["Condition"] == f"HasCluster{i + 1}"
        assert member["Conditions"][entry["Condition"]] == {"Fn::Not": [{"Fn::Equals": [name, ""]}]}
        assert name["Fn::Select"][0] == i and cluster_name(name, ["prod-eu-1", "staging_2"]) == (
            ["prod-eu-1", "staging_2", "", "", ""][i])
        assert cluster_name(name, [""]) == ""
        assert props["Type"] == "STANDARD"
        assert props["AccessPolicies"] == [{"PolicyArn": VIEW_POLICY, "AccessScope": {"Type": "cluster"}}]
        assert props["PrincipalArn"]["Fn::If"][:2] == ["CreatesRole", {"Fn::GetAtt": ["ReaderRole", "Arn"]}]


def cluster_name(expression: dict[str, Any], names: list[str]) -> str:
    """`!Select [i, !Split [",", !Sub ["${Names},,,,,", {Names: !Join [",", names]}]]]`, evaluated."""
    index, split = expression["Fn::Select"]
    separator, sub = split["Fn::Split"]
    text, variables = sub["Fn::Sub"]
    assert variables == {"Names": {"Fn::Join": [",", {"Ref": "ClusterNames"}]}}
    return text.replace("${Names}", ",".join(names)).split(separator)[index]
