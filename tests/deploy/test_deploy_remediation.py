"""Remediation permissions follow the mode: none while it is off, each write scoped when it is on.

The template is transformed offline with each RemediationMode (conftest's parameter sets) and
its Fn::If resolved for those values, as CloudFormation would.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from deploy_support import REMEDIATION, REPO, cfn_lint_policies, condition_true, default_parameters
from factories import finding
from test_deploy_iam import OWN_WRITES, as_list, own_resource, role_statements

from pullmedic.announcing.chat import notification
from pullmedic.core.causes import Cause
from pullmedic.core.model import Announcement
from pullmedic.core.permissions import READ_ACTIONS
from pullmedic.remediating.actions import ACTIONS

ACTION_PERMISSIONS = {p for module in ACTIONS.values() for p in module.META.permissions}
PULL_ONLY = {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly"}
CACHE_ROLE = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/"
                         "pullthroughcache.ecr.amazonaws.com/AWSServiceRoleForECRPullThroughCache"}
# Each remediation write: its resource scope and its condition.
SCOPES: dict[str, tuple[Any, dict[str, Any]]] = {
    "iam:AttachRolePolicy": ({"Ref": "RemediationRoleArnPattern"},
                             {"ArnEquals": {"iam:PolicyARN": PULL_ONLY}}),
    "ecr:CreatePullThroughCacheRule": ("*", {"StringEquals": {
        "aws:RequestedRegion": {"Ref": "AWS::Region"}}}),
    "iam:CreateServiceLinkedRole": (CACHE_ROLE, {"StringEquals": {
        "iam:AWSServiceName": "pullthroughcache.ecr.amazonaws.com"}}),
}


def writes(cfn: dict[str, Any]) -> list[dict[str, Any]]:
    """Role statements that write (anything but reads) to other than the stack's own resources."""
    found = []
    for statement in role_statements(cfn):
        owners = {own_resource(r) for r in as_list(statement["Resource"])}
        if None not in owners:  # doctor also reads the topic's and the table's settings
            assert all(set(as_list(statement["Action"])) - READ_ACTIONS <= OWN_WRITES[o] for o in owners)
        elif not set(as_list(statement["Action"])) <= READ_ACTIONS:
            found.append(statement)
    return found


@pytest.mark.parametrize("parameter_set", ["default", "listed", "off"])
def test_mode_off_grants_no_write_outside_its_own_resources(translated: dict[str, Any],
                                                            parameter_set: str) -> None:
    assert writes(translated[parameter_set]) == []
    granted = {a for s in role_statements(translated[parameter_set]) for a in as_list(s["Action"])}
    assert not granted & ACTION_PERMISSIONS


@pytest.mark.parametrize("parameter_set", ["approve", "auto"])
def test_mode_on_grants_each_action_permission_scoped_and_conditioned(translated: dict[str, Any],
                                                                      parameter_set: str) -> None:
    found = writes(translated[parameter_set])
    actions = [a for s in found for a in as_list(s["Action"])]
    assert sorted(actions) == sorted(ACTION_PERMISSIONS) == sorted(SCOPES)
    for statement in found:
        (action,) = as_list(statement["Action"])
        resource, condition = SCOPES[action]
        assert statement["Effect"] == "Allow"
        assert statement["Resource"] == resource, action
        assert statement["Condition"] == condition, action
    # The one Resource "*" is forced: the action has no resource type to scope it to.
    assert cfn_lint_policies()["ecr"]["Actions"]["createpullthroughcacherule"].get("Resources", []) == []


def test_each_write_needs_its_own_parameter(template: dict[str, Any]) -> None:
    on = default_parameters(template) | REMEDIATION | {"RemediationMode": "approve"}
    assert condition_true(template, "GrantsEcrPull", on)
    assert condition_true(template, "CreatesPullThroughCache", on)
    assert not condition_true(template, "GrantsEcrPull", on | {"RemediationRoleArnPattern": ""})
    assert not condition_true(template, "CreatesPullThroughCache", on | {"DockerHubSecretArn": ""})
    for name in ("GrantsEcrPull", "CreatesPullThroughCache", "CreatesChatActions"):
        assert not condition_true(template, name, on | {"RemediationMode": "off"})


def test_environment_carries_the_remediation_settings(translated: dict[str, Any]) -> None:
    variables = translated["default"]["Resources"]["ScanFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["PULLMEDIC_REMEDIATION"] == {"Ref": "RemediationMode"}
    assert variables["PULLMEDIC_REMEDIATION_ACTIONS"] == {"Ref": "RemediationActions"}
    assert variables["PULLMEDIC_REMEDIATION_NAMESPACES"] == {
        "Fn::Join": [",", {"Ref": "RemediationNamespaces"}]}
    assert variables["PULLMEDIC_DOCKERHUB_SECRET_ARN"] == {"Ref": "DockerHubSecretArn"}


def test_parameters_accept_what_the_code_accepts(template: dict[str, Any]) -> None:
    params = template["Parameters"]
    assert params["RemediationMode"]["Default"] == "off"
    assert params["RemediationMode"]["AllowedValues"] == ["off", "approve", "auto"]
    assert params["ChatbotCustomActions"]["Default"] == "false"
    actions = params["RemediationActions"]["AllowedPattern"]
    assert set(re.findall(r"[a-z_]{4,}", actions)) == set(ACTIONS)
    assert re.fullmatch(actions, "grant_ecr_pull,retry_pods") and not re.fullmatch(actions, "delete_all")
    role = params["RemediationRoleArnPattern"]["AllowedPattern"]
    assert re.fullmatch(role, REMEDIATION["RemediationRoleArnPattern"]) and re.fullmatch(role, "")
    secret = params["DockerHubSecretArn"]["AllowedPattern"]
    assert re.fullmatch(secret, REMEDIATION["DockerHubSecretArn"])
    assert not re.fullmatch(secret, REMEDIATION["DockerHubSecretArn"].replace("ecr-pullthroughcache/", ""))


def test_chat_buttons_only_with_remediation_and_the_parameter(translated: dict[str, Any],
                                                              template: dict[str, Any]) -> None:
    defaults = default_parameters(template)
    assert not condition_true(template, "CreatesChatActions", defaults)
    assert not condition_true(template, "CreatesChatActions", defaults | REMEDIATION)
    assert condition_true(template, "CreatesChatActions",
                          defaults | REMEDIATION | {"RemediationMode": "auto"})
    buttons = {v["Properties"]["Attachments"][0]["ButtonText"]: v
               for v in translated["approve"]["Resources"].values()
               if v["Type"] == "AWS::Chatbot::CustomAction"}
    assert set(buttons) == {"Show fix plan", "Apply fix"}
    context = _chat_context()
    for text, button in buttons.items():
        assert button["Condition"] == "CreatesChatActions"
        (attachment,) = button["Properties"]["Attachments"]
        assert attachment["NotificationType"] == "Custom"
        assert attachment["Criteria"] == [{"Operator": "HAS_VALUE", "VariableName": "fingerprint"}]
        for variable, path in attachment["Variables"].items():
            assert path == f"event.metadata.additionalContext.{variable}"
            assert variable in context, f"chat.py puts no {variable} in additionalContext"
        command = button["Properties"]["Definition"]["CommandText"]["Fn::Sub"]
        assert "lambda invoke --function-name ${ScanFunction}" in command
        assert '"fingerprint": "$fingerprint", "action": "$action"' in command
        assert ('"confirm": true' in command) is (text == "Apply fix")


def _chat_context() -> dict[str, str]:
    """The additionalContext chat.py sends for a finding that offers an action."""
    found = finding(namespace="team", image="123456789012.dkr.ecr.us-east-2.amazonaws.com/team/api:1",
                    cause=Cause.AUTH_FAILED)
    message = notification([Announcement("new", found, actions=("grant_ecr_pull",))], [])
    assert message["metadata"]["enableCustomActions"] is True
    return message["metadata"]["additionalContext"]


def test_rbac_remediators_create_evictions_only_in_a_namespace(template: dict[str, Any]) -> None:
    documents = [d for d in yaml.safe_load_all((REPO / "functions/scan/rbac/pullmedic-remediators.yaml")
                                               .read_text()) if d]
    (role,) = [d for d in documents if d["kind"] == "Role"]
    (binding,) = [d for d in documents if d["kind"] == "RoleBinding"]
    assert not [d for d in documents if d["kind"].startswith("Cluster")]
    assert role["metadata"]["namespace"] == binding["metadata"]["namespace"]
    assert role["rules"] == [{"apiGroups": [""], "resources": ["pods/eviction"], "verbs": ["create"]}]
    verbs = {v for module in ACTIONS.values() for v in module.META.kube_verbs}
    assert verbs == {f"{verb} {resource}" for rule in role["rules"]
                     for verb in rule["verbs"] for resource in rule["resources"]}
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": role["metadata"]["name"]}
    assert binding["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                                    "name": template["Parameters"]["KubernetesGroup"]["Default"]}]
