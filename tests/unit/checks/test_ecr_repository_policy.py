"""ecr_repository_policy over in-memory facts: each verdict it can give."""

from __future__ import annotations

import json

import pytest
from casebook import ACCOUNT, OTHER_ACCOUNT, REGION, ROLE, Case, facts, subject, verify

from pullmedic.core.causes import Cause
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks import ecr_repository_policy
from pullmedic.diagnosing.checks.base import CONFIRMED, PASSED, UNAVAILABLE

AUTH = Cause.AUTH_FAILED
SHARED = subject(f"{OTHER_ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/base/runtime:3", AUTH)
ALLOWS = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
    "AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]})
OTHERS = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
    "AWS": "arn:aws:iam::777788889999:root"}, "Action": "ecr:*"}]})
CASES = [
    Case("same account", subject(cause=AUTH), facts(pull_role=ROLE), None),
    Case("not an ECR image", subject("ghcr.io/acme/api:1", AUTH), facts(pull_role=ROLE), None),
    Case("role unknown", SHARED, facts(pull_role=Unavailable("the pod is not on a node")),
         UNAVAILABLE, says=("unavailable: the pod is not on a node",)),
    Case("policy unreadable", SHARED, facts(pull_role=ROLE, ecr_policy=Unavailable(
        "ecr:GetRepositoryPolicy: AccessDeniedException: no")), UNAVAILABLE,
        says=(f"(account {OTHER_ACCOUNT} must allow ecr:GetRepositoryPolicy to pullmedic's role)",)),
    Case("no policy", SHARED, facts(pull_role=ROLE, ecr_policy=None), CONFIRMED,
         says=(f"repository base/runtime in account {OTHER_ACCOUNT} has no repository policy, so no "
               f"other account (including {ACCOUNT}) may pull from it",),
         fix=(f"aws ecr set-repository-policy --registry-id {OTHER_ACCOUNT} --region {REGION} "
              "--repository-name base/runtime --policy-text '{",)),
    Case("policy allows the account", SHARED, facts(pull_role=ROLE, ecr_policy=ALLOWS), PASSED,
         says=(f"the policy of repository base/runtime in account {OTHER_ACCOUNT} allows {ROLE}",)),
    Case("policy names others", SHARED, facts(pull_role=ROLE, ecr_policy=OTHERS), CONFIRMED,
         says=(f"does not allow {ROLE} ecr:BatchGetImage, ecr:GetDownloadUrlForLayer",),
         fix=("aws ecr get-repository-policy", "--policy-text file://pullmedic-ecr-policy.json")),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_verdict(case: Case) -> None:
    verify(ecr_repository_policy, case)
