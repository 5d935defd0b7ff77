"""Least privilege: the function reads what pullmedic.core.permissions lists and writes only its own."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Any

import pytest
from deploy_support import ACCOUNT, REGION, REPO, cfn_lint_policies

from pullmedic.core.permissions import READ_ACTIONS

# The stack's own resources and what the function may do to each (nothing else is written).
OWN_WRITES: dict[str, frozenset[str]] = {
    "AlertTopic": frozenset({"sns:Publish"}),
    "AlertKey": frozenset({"kms:GenerateDataKey", "kms:Decrypt"}),  # publishing to the topic
    # state.py: Query per cluster and for silences, conditional PutItem, DeleteItem of resolved
    # (also inside TransactWriteItems, with the outbox entries); outbox.py: UpdateItem (lease),
    # BatchWriteItem (clear); ledger.py: UpdateItem (a plan is used once).
    "StateTable": frozenset({"dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem",
                             "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"}),
    "FailureQueue": frozenset({"sqs:SendMessage"}),  # the on-failure destination
}
MANAGED_POLICIES = {"service-role/AWSLambdaBasicExecutionRole", "AWSXrayWriteOnlyAccess"}
READ_VERBS = ("Describe", "Get", "List", "BatchGet", "Simulate")


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every policy statement anywhere in `node` (identity, trust, key, queue, topic policies)."""
    if isinstance(node, dict):
        if "Statement" in node and "Version" in node:
            for statement in as_list(node["Statement"]):
                yield where, statement
        for key, value in node.items():
            yield from statements(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from statements(value, f"{where}[{i}]")


def is_key_default_statement(where: str, statement: dict[str, Any]) -> bool:
    """The default KMS key policy statement (the account's IAM policies manage the key).

    Its kms:* is the one wildcard allowed: without it the key cannot be managed at all.
    """
    return (where.startswith("/Resources/AlertKey/") and statement["Effect"] == "Allow"
            and statement["Principal"] == {
                "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}})


def own_resource(resource: Any) -> str | None:
    """The logical id when `resource` is one of the stack's own resources, else None."""
    if isinstance(resource, dict):
        if resource.get("Ref") in OWN_WRITES:
            return resource["Ref"]
        target = resource.get("Fn::GetAtt", [None])[0]
        if target in OWN_WRITES:
            return target
    return None


def role_statements(cfn: dict[str, Any]) -> list[dict[str, Any]]:
    role = cfn["Resources"]["ScanFunctionRole"]["Properties"]
    return [s for policy in role["Policies"] for s in as_list(policy["PolicyDocument"]["Statement"])]


@pytest.mark.parametrize("parameter_set", ["default", "listed"])
def test_no_wildcard_action_anywhere(translated: dict[str, Any], parameter_set: str) -> None:
    found = list(statements(translated[parameter_set]))
    assert len(found) > 10
    for where, statement in found:
        assert "NotAction" not in statement and "NotResource" not in statement, where
        if is_key_default_statement(where, statement):
            continue
        for action in as_list(statement["Action"]):
            assert "*" not in action, f"{where}: wildcard action {action}"


def test_function_role_uses_only_the_expected_managed_policies(translated: dict[str, Any]) -> None:
    role = translated["default"]["Resources"]["ScanFunctionRole"]["Properties"]
    names = {arn["Fn::Sub"].split(":policy/", 1)[1] for arn in role["ManagedPolicyArns"]}
    assert names == MANAGED_POLICIES
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole"


def test_writes_only_on_own_resources_and_reads_equal_permissions_module(
        translated: dict[str, Any]) -> None:
    reads: set[str] = set()
    writes: dict[str, set[str]] = {}
    for statement in role_statements(translated["default"]):
        assert statement["Effect"] == "Allow"
        actions = as_list(statement["Action"])
        owners = {own_resource(r) for r in as_list(statement["Resource"])}
        if owners - {None}:
            assert None not in owners, f"{statement['Sid']}: own and other resources mixed"
            written = set(actions) - READ_ACTIONS  # doctor reads the topic's and table's settings
            for owner in owners:
                assert written <= OWN_WRITES[owner], (statement["Sid"], owner)
                writes.setdefault(owner, set()).update(written)
            reads.update(set(actions) & READ_ACTIONS)
        else:
            reads.update(actions)
    assert reads == READ_ACTIONS, (
        f"only in the template: {sorted(reads - READ_ACTIONS)}; "
        f"only in pullmedic.core.permissions: {sorted(READ_ACTIONS - reads)}")
    assert writes == {k: set(v) for k, v in OWN_WRITES.items()}


def test_read_actions_only_read() -> None:
    for action in READ_ACTIONS:
        service, name = action.split(":")
        assert name.startswith(READ_VERBS), f"{action} is not a read"
        assert "*" not in action


def test_every_action_exists_and_its_resources_can_match(translated: dict[str, Any]) -> None:
    """Every action is a real IAM action (cfn-lint's service data), and a statement scoped to
    ARNs names at least one ARN of a resource type the action supports (else it never applies).
    """
    policies = cfn_lint_policies()
    for statement in role_statements(translated["default"]):
        resources = as_list(statement["Resource"])
        for action in as_list(statement["Action"]):
            service, name = action.split(":")
            spec = policies[service]["Actions"].get(name.lower())
            assert spec is not None, f"{action} is not an IAM action"
            types = spec.get("Resources", [])
            if resources == ["*"]:
                continue
            if not types:
                pytest.fail(f"{action} supports no resource-level permission: needs Resource *")
            if all(own_resource(r) for r in resources):
                continue
            formats = [f for t in types
                       for f in policies[service]["Resources"].get(t, {}).get("ARNFormats", [])]
            arns = [_arn(r) for r in resources]
            assert any(_arn_fits(arn, f) for arn in arns for f in formats), (
                f"{action}: none of {arns} is a {types} ARN")


def _arn(resource: Any) -> str:
    text = resource["Fn::Sub"] if isinstance(resource, dict) else resource
    return (text.replace("${AWS::Partition}", "aws").replace("${AWS::Region}", REGION)
            .replace("${AWS::AccountId}", ACCOUNT))


def _arn_fits(arn: str, arn_format: str) -> bool:
    pattern = re.escape(arn_format).replace(r"\.\*", ".*")
    for variable, value in (("Partition", "[^:]+"), ("Region", "[^:]*"), ("Account", "[^:]*")):
        pattern = pattern.replace(re.escape("${" + variable + "}"), value)
    return re.fullmatch(pattern, arn) is not None


def test_every_aws_read_the_code_makes_is_allowed() -> None:
    """The layer's AWS reads go through `guarded("svc:Action", ...)`: each action it names must
    be in READ_ACTIONS (and so in the role), or the read is denied in AWS."""
    called: dict[str, str] = {}
    for path in sorted((REPO / "layers/pullmedic/pullmedic").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if name == "guarded" and isinstance(first, ast.Constant):
                called[first.value] = f"{path.relative_to(REPO)}:{node.lineno}"
    missing = {action: where for action, where in called.items() if action not in READ_ACTIONS}
    assert not missing, f"AWS reads not in pullmedic.core.permissions.READ_ACTIONS: {missing}"
