"""IAM identity and ECR repository policies: explicit deny, else allow, else implicit deny."""

from __future__ import annotations

import fnmatch
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pullmedic.core.iampolicy import evaluate, evaluate_all, resource_policy_allows

REPO = "arn:aws:ecr:us-east-1:111122223333:repository/team/api"
OTHER_REPO = "arn:aws:ecr:us-east-1:111122223333:repository/team/web"
PULL = ("ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
READ_ONLY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
    "ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer",
    "ecr:GetRepositoryPolicy", "ecr:DescribeRepositories", "ecr:ListImages",
    "ecr:DescribeImages", "ecr:BatchGetImage", "ecr:GetLifecyclePolicy",
    "ecr:GetLifecyclePolicyPreview", "ecr:ListTagsForResource", "ecr:DescribeImageScanFindings"]}]}
DENY_REPO = {"Version": "2012-10-17", "Statement": [
    {"Sid": "NoApi", "Effect": "Deny", "Action": "ecr:*", "Resource": REPO}]}
NOT_ACTION = {"Statement": {"Effect": "Allow", "NotAction": ["iam:*", "ecr:Put*"],
                            "Resource": "*"}}
GET_STAR = {"Statement": [{"Effect": "Allow", "Action": "ECR:get*", "Resource": [REPO]}]}
CONDITIONAL_ALLOW = {"Statement": [{"Sid": "OnlyFromVpce", "Effect": "Allow", "Action": "ecr:*",
                                    "Resource": "*",
                                    "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}}]}
CONDITIONAL_DENY = {"Statement": [{"Sid": "DenyOutsideVpce", "Effect": "Deny", "Action": "ecr:*",
                                   "Resource": "*",
                                   "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}}]}
READ = ("AmazonEC2ContainerRegistryReadOnly", READ_ONLY)


@pytest.mark.parametrize(
    ("policies", "action", "resource", "decision", "statement", "conditional"), [
    ([READ], "ecr:BatchGetImage", REPO, "allowed",
     "AmazonEC2ContainerRegistryReadOnly: statement 1", False),
    ([READ], "ecr:PutImage", REPO, "implicitDeny", None, False),
    ([READ, ("deny-api", DENY_REPO)], "ecr:BatchGetImage", REPO, "explicitDeny",
     "deny-api: Sid NoApi", False),
    ([READ, ("deny-api", DENY_REPO)], "ecr:BatchGetImage", OTHER_REPO, "allowed",
     "AmazonEC2ContainerRegistryReadOnly: statement 1", False),
    ([READ, ("deny-api", json.dumps(DENY_REPO))], "ecr:GetAuthorizationToken", "*", "allowed",
     "AmazonEC2ContainerRegistryReadOnly: statement 1", False),
    ([("broad", NOT_ACTION)], "ecr:BatchGetImage", REPO, "allowed", "broad: statement 1", False),
    ([("broad", NOT_ACTION)], "ecr:PutImage", REPO, "implicitDeny", None, False),
    ([("broad", NOT_ACTION)], "IAM:PassRole", "*", "implicitDeny", None, False),
    ([("get", GET_STAR)], "ecr:GetDownloadUrlForLayer", REPO, "allowed", "get: statement 1", False),
    ([("get", GET_STAR)], "ecr:BatchGetImage", REPO, "implicitDeny", None, False),
    ([("get", GET_STAR)], "ecr:GetDownloadUrlForLayer", REPO.upper(), "implicitDeny", None, False),
    ([("vpce", CONDITIONAL_ALLOW)], "ecr:BatchGetImage", REPO, "allowed", "vpce: Sid OnlyFromVpce",
     True),
    ([READ, ("vpce-deny", CONDITIONAL_DENY)], "ecr:BatchGetImage", REPO, "allowed",
     "AmazonEC2ContainerRegistryReadOnly: statement 1", True),
    ([("vpce-deny", CONDITIONAL_DENY)], "ecr:BatchGetImage", REPO, "implicitDeny", None, False),
    ([], "ecr:BatchGetImage", REPO, "implicitDeny", None, False),
])
def test_evaluate(policies, action, resource, decision, statement, conditional) -> None:
    result = evaluate(policies, action, resource)
    assert (result.decision, result.statement, result.conditional) == (
        decision, statement, conditional)


def test_reasons() -> None:
    deny = evaluate([READ, ("deny-api", DENY_REPO)], "ecr:BatchGetImage", REPO)
    assert deny.reason == f"deny-api: Sid NoApi explicitly denies ecr:BatchGetImage on {REPO}"
    doubt = evaluate([READ, ("vpce-deny", CONDITIONAL_DENY)], "ecr:BatchGetImage", REPO)
    assert "vpce-deny: Sid DenyOutsideVpce" in doubt.reason
    none = evaluate([("get", GET_STAR)], "ecr:BatchGetImage", REPO)
    assert none.reason == f"no statement in get allows ecr:BatchGetImage on {REPO}"


def test_evaluate_all() -> None:
    results = evaluate_all([("get", GET_STAR)], PULL, REPO)
    assert {a: r.decision for a, r in results.items()} == {
        "ecr:GetAuthorizationToken": "allowed", "ecr:BatchGetImage": "implicitDeny",
        "ecr:GetDownloadUrlForLayer": "allowed"}


NODE_ROLE = "arn:aws:iam::444455556666:role/eks-node-role"
CLUSTER_ACCOUNT = "444455556666"


def _repo_policy(principal, *, effect="Allow", key="Principal", condition=None) -> str:
    statement = {"Sid": "EksPull", "Effect": effect, key: principal,
                 "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.mark.parametrize(("policy", "action", "decision", "conditional"), [
    (_repo_policy({"AWS": NODE_ROLE}), "ecr:BatchGetImage", "allowed", False),
    (_repo_policy({"AWS": [f"arn:aws:iam::{CLUSTER_ACCOUNT}:root"]}), "ecr:BatchGetImage",
     "allowed", False),
    (_repo_policy({"AWS": CLUSTER_ACCOUNT}), "ecr:GetDownloadUrlForLayer", "allowed", False),
    (_repo_policy({"AWS": "arn:aws:iam::444455556666:role/other-role"}), "ecr:BatchGetImage",
     "implicitDeny", False),
    (_repo_policy({"AWS": "arn:aws:iam::999999999999:root"}), "ecr:BatchGetImage",
     "implicitDeny", False),
    (_repo_policy({"AWS": NODE_ROLE}), "ecr:PutImage", "implicitDeny", False),
    (_repo_policy("*"), "ecr:BatchGetImage", "allowed", False),
    (_repo_policy({"AWS": "*"}, condition={"StringEquals": {"aws:PrincipalOrgID": "o-1"}}),
     "ecr:BatchGetImage", "allowed", True),
    (_repo_policy({"Service": "codebuild.amazonaws.com"}), "ecr:BatchGetImage", "implicitDeny",
     False),
    (_repo_policy({"AWS": NODE_ROLE}, key="NotPrincipal", effect="Deny"), "ecr:BatchGetImage",
     "implicitDeny", False),
    (_repo_policy({"AWS": "arn:aws:iam::444455556666:role/admin"}, key="NotPrincipal",
                  effect="Deny"), "ecr:BatchGetImage", "explicitDeny", False),
])
def test_resource_policy(policy: str, action: str, decision: str, conditional: bool) -> None:
    result = resource_policy_allows(policy, principal_arn=NODE_ROLE,
                                    principal_account=CLUSTER_ACCOUNT, action=action)
    assert (result.decision, result.conditional) == (decision, conditional)


def test_resource_policy_deny_wins() -> None:
    policy = json.loads(_repo_policy({"AWS": NODE_ROLE}))
    policy["Statement"].append({"Sid": "NoOneElse", "Effect": "Deny", "Principal": "*",
                                "Action": "ecr:*"})
    result = resource_policy_allows(policy, principal_arn=NODE_ROLE,
                                    principal_account=CLUSTER_ACCOUNT, action="ecr:BatchGetImage")
    assert (result.decision, result.statement) == (
        "explicitDeny", "repository policy: Sid NoOneElse")


# Property: evaluate equals a naive model built on fnmatch (no conditions).

_ACTIONS = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:GetAuthorizationToken",
            "ECR:PutImage", "s3:GetObject"]
_ACTION_GLOBS = _ACTIONS + ["*", "ecr:*", "ecr:Get*", "ecr:?atch*", "s3:*", "EcR:BATCHGETIMAGE"]
_RESOURCES = [REPO, OTHER_REPO, "*"]
_RESOURCE_GLOBS = _RESOURCES + ["arn:aws:ecr:*:111122223333:repository/*",
                                "arn:aws:ecr:us-east-1:111122223333:repository/team/a??",
                                "arn:aws:ecr:*:*:repository/TEAM/*"]


@st.composite
def _statement(draw) -> dict:
    action_key = draw(st.sampled_from(["Action", "NotAction"]))
    resource_key = draw(st.sampled_from(["Resource", "NotResource"]))
    actions = draw(st.lists(st.sampled_from(_ACTION_GLOBS), min_size=1, max_size=3))
    resources = draw(st.lists(st.sampled_from(_RESOURCE_GLOBS), min_size=1, max_size=2))
    return {"Effect": draw(st.sampled_from(["Allow", "Deny"])),
            action_key: actions[0] if len(actions) == 1 else actions,
            resource_key: resources[0] if len(resources) == 1 else resources}


def _naive_applies(statement: dict, action: str, resource: str) -> bool:
    def listed(key: str, value: str, fold: bool) -> bool:
        values = statement[key] if isinstance(statement[key], list) else [statement[key]]
        if fold:
            return any(fnmatch.fnmatchcase(value.lower(), v.lower()) for v in values)
        return any(fnmatch.fnmatchcase(value, v) for v in values)

    action_ok = (listed("Action", action, True) if "Action" in statement
                 else not listed("NotAction", action, True))
    resource_ok = (listed("Resource", resource, False) if "Resource" in statement
                   else not listed("NotResource", resource, False))
    return action_ok and resource_ok


@settings(max_examples=200, deadline=None)
@given(docs=st.lists(st.lists(_statement(), min_size=1, max_size=3), max_size=3),
       action=st.sampled_from(_ACTIONS), resource=st.sampled_from(_RESOURCES))
def test_evaluate_matches_naive_model(docs, action, resource) -> None:
    effects = [s["Effect"] for doc in docs for s in doc if _naive_applies(s, action, resource)]
    expected = ("explicitDeny" if "Deny" in effects else
                "allowed" if "Allow" in effects else "implicitDeny")
    policies = [(f"p{i}", {"Statement": doc}) for i, doc in enumerate(docs)]
    result = evaluate(policies, action, resource)
    assert result.decision == expected
    assert not result.conditional
