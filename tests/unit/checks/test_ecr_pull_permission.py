"""ecr_pull_permission over in-memory facts: each verdict it can give."""

from __future__ import annotations

import pytest
from casebook import ACCOUNT, REGION, ROLE, Case, facts, pod, subject, verify

from pullmedic.core.causes import Cause
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks import ecr_pull_permission
from pullmedic.diagnosing.checks.base import CONFIRMED, PASSED, UNAVAILABLE
from pullmedic.diagnosing.checks.facts import FARGATE_PROFILE_LABEL, RolePermissions

REPO = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/shop/api"
READ_ONLY = ("AmazonEC2ContainerRegistryReadOnly", {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken", "ecr:BatchGetImage",
                                   "ecr:GetDownloadUrlForLayer"], "Resource": "*"}]})
NOTHING = ("AmazonEKSWorkerNodePolicy", {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}]})
ALLOWED = {("ecr:GetAuthorizationToken", "*"): "allowed"}
PULL_ALLOWED = {("ecr:BatchGetImage", REPO): "allowed", ("ecr:GetDownloadUrlForLayer", REPO): "allowed"}
PULL_DENIED = {("ecr:BatchGetImage", REPO): "explicitDeny", ("ecr:GetDownloadUrlForLayer", REPO): "allowed"}
AUTH = Cause.AUTH_FAILED
FARGATE = subject(cause=AUTH, pod_sample=pod(labels={FARGATE_PROFILE_LABEL: "fp-default"}))
CASES = [
    Case("not an ECR image", subject("quay.io/acme/api:1", AUTH), facts(), None),
    Case("role unknown", subject(cause=AUTH), facts(pull_role=Unavailable(
        "instance i-0abc has no instance profile")), UNAVAILABLE,
        says=("unavailable: instance i-0abc has no instance profile",)),
    Case("policies unreadable", subject(cause=AUTH), facts(pull_role=ROLE, role_permissions=Unavailable(
        "iam:ListAttachedRolePolicies: AccessDenied: no")), UNAVAILABLE,
        says=("unavailable: iam:ListAttachedRolePolicies: AccessDenied",)),
    Case("allowed, simulator agrees", subject(cause=AUTH), facts(pull_role=ROLE, role_permissions=(
        RolePermissions((READ_ONLY,), ALLOWED, PULL_ALLOWED))), PASSED,
        says=("node role eks-nodes allows the ECR pull actions (AmazonEC2ContainerRegistryReadOnly) "
              "(the IAM policy simulator agrees)",)),
    Case("no ECR statement", subject(cause=AUTH), facts(pull_role=ROLE, role_permissions=(
        RolePermissions((NOTHING,), ALLOWED, PULL_ALLOWED))), CONFIRMED,
        says=(f"node role eks-nodes ({ROLE}) is not allowed ecr:GetAuthorizationToken",),
        fix=("aws iam attach-role-policy --role-name eks-nodes --policy-arn "
             "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",)),
    Case("an SCP denies what the policies allow", subject(cause=AUTH), facts(
        pull_role=ROLE, role_permissions=RolePermissions((READ_ONLY,), ALLOWED, PULL_DENIED)),
        CONFIRMED, says=("ecr:BatchGetImage (explicitDeny: the IAM policy simulator denies it",)),
    Case("simulator unavailable", subject(cause=AUTH), facts(pull_role=ROLE, role_permissions=(
        RolePermissions((READ_ONLY,), Unavailable("iam:SimulatePrincipalPolicy: AccessDenied: no"),
                        Unavailable("iam:SimulatePrincipalPolicy: AccessDenied: no")))), PASSED,
        says=("(decided from the role's policies; iam:SimulatePrincipalPolicy: AccessDenied: no)",)),
    Case("Fargate execution role", FARGATE, facts(pull_role=ROLE, role_permissions=(
        RolePermissions((NOTHING,), ALLOWED, PULL_ALLOWED))), CONFIRMED,
        says=("Fargate pod execution role eks-nodes",),
        fix=("arn:aws:iam::aws:policy/AmazonEKSFargatePodExecutionRolePolicy",)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_verdict(case: Case) -> None:
    verify(ecr_pull_permission, case)
