"""Private subnets: given SubnetIds and SecurityGroupIds, every function runs in them (with the
permissions Lambda needs for its network interfaces); without them, no function is in a VPC."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from deploy_support import REGION, SAM_BIN, TEMPLATE, VPC, default_parameters, run, sam

VPC_ACCESS = "service-role/AWSLambdaVPCAccessExecutionRole"


def functions(cfn: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in cfn["Resources"].items()
            if v["Type"] == "AWS::Lambda::Function"}


def managed_policies(cfn: dict[str, Any]) -> set[str]:
    role = cfn["Resources"]["ScanFunctionRole"]["Properties"]
    return {arn["Fn::Sub"].split(":policy/", 1)[1] for arn in role["ManagedPolicyArns"]}


def test_vpc_settings_reach_every_function_when_given(translated: dict[str, Any]) -> None:
    found = functions(translated["vpc"])
    assert set(found) == {"ScanFunction", "FanOutFunction"}
    for name, props in found.items():
        assert props["VpcConfig"] == {"SubnetIds": {"Ref": "SubnetIds"},
                                      "SecurityGroupIds": {"Ref": "SecurityGroupIds"}}, name
    # Lambda creates and deletes the functions' network interfaces with their role.
    assert VPC_ACCESS in managed_policies(translated["vpc"])


@pytest.mark.parametrize("parameter_set", ["default", "listed", "approve"])
def test_no_vpc_settings_without_subnets(translated: dict[str, Any], parameter_set: str) -> None:
    found = functions(translated[parameter_set])
    assert "ScanFunction" in found
    for name, props in found.items():
        assert "VpcConfig" not in props, name
    assert VPC_ACCESS not in managed_policies(translated[parameter_set])


def rule_holds(rule: dict[str, Any], values: dict[str, Any]) -> bool:
    """A CloudFormation rule (Fn::Not, Fn::EachMemberEquals over Refs) for these values."""
    def evaluate(node: Any) -> Any:
        ((fn, arg),) = node.items()
        if fn == "Ref":
            return values[arg]
        if fn == "Fn::Not":
            return not evaluate(arg[0])
        if fn == "Fn::EachMemberEquals":
            return all(member == arg[1] for member in evaluate(arg[0]))
        raise AssertionError(f"rule function {fn} is not understood by this test")
    if not evaluate(rule["RuleCondition"]):
        return True
    return all(evaluate(a["Assert"]) for a in rule["Assertions"])


@pytest.mark.parametrize(("subnets", "groups", "accepted"), [
    ([""], [""], True),
    (VPC["SubnetIds"], VPC["SecurityGroupIds"], True),
    (VPC["SubnetIds"], [""], False),
    ([""], VPC["SecurityGroupIds"], False),
])
def test_subnets_and_security_groups_come_together(template: dict[str, Any], subnets: list[str],
                                                   groups: list[str], accepted: bool) -> None:
    values = default_parameters(template) | {"SubnetIds": subnets, "SecurityGroupIds": groups}
    holds = all(rule_holds(rule, values) for rule in template["Rules"].values())
    assert holds is accepted


def vpc_variant(tmp_path: Path) -> Path:
    """template.yaml with the VPC parameters' defaults set to subnet and group ids."""
    text = TEMPLATE.read_text()
    for name, ids in VPC.items():
        old = f'  {name}:\n    Type: CommaDelimitedList\n    Default: ""\n'
        assert old in text, name
        text = text.replace(old, old.replace('""', '"' + ",".join(ids) + '"'))
    variant = tmp_path / "template.yaml"
    variant.write_text(text)
    return variant


def test_cfn_lint_and_sam_validate_with_vpc_settings(tmp_path: Path) -> None:
    variant = vpc_variant(tmp_path)
    run([str(SAM_BIN / "cfn-lint"), str(variant)])
    sam("validate", "--lint", "--region", REGION, "--template-file", str(variant))


def test_sam_build_with_vpc_settings(built: Path, tmp_path: Path) -> None:
    overrides = " ".join(f'{name}="{",".join(ids)}"' for name, ids in VPC.items())
    sam("build", "--region", REGION, "--build-dir", str(tmp_path / "build"),
        "--parameter-overrides", overrides)
    assert (tmp_path / "build" / "template.yaml").is_file()
    assert (tmp_path / "build" / "ScanFunction" / "app.py").is_file()
