"""vpc_endpoint_policy over in-memory facts: each verdict it can give."""

from __future__ import annotations

import json

import pytest
from casebook import ACCOUNT, REGION, ROLE, Case, facts, network, subject, verify

from pullmedic.core.causes import Cause
from pullmedic.core.netpath.target import Target
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks import vpc_endpoint_policy
from pullmedic.diagnosing.checks.base import CONFIRMED, PASSED, UNAVAILABLE
from pullmedic.diagnosing.checks.facts import Endpoint

AUTH = Cause.AUTH_FAILED
DKR = Target("endpoint", "10.0.2.5", ("sg-vpce",), "the ecr.dkr endpoint vpce-dkr (10.0.2.5)")
OTHER_REPO = json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "ecr:*",
                                        "Resource": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/other"}]})
ANY = json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]})


def through(**policies: str) -> dict[str, Endpoint]:
    return {service: Endpoint(f"vpce-{service}", policy=policies.get(service.replace(".", "_")))
            for service in ("ecr.api", "ecr.dkr", "s3")}


CASES = [
    Case("no host", subject(cause=AUTH), facts(network=None, pull_role=ROLE), None),
    Case("pulls over the internet", subject(cause=AUTH), facts(network=network(), pull_role=ROLE), None),
    Case("not an ECR image", subject("ghcr.io/acme/api:1", AUTH), facts(
        network=network(target=DKR), pull_role=ROLE), None),
    Case("network unreadable", subject(cause=AUTH), facts(network=Unavailable(
        "ec2:DescribeVpcEndpoints: UnauthorizedOperation: no")), UNAVAILABLE,
        says=("unavailable: ec2:DescribeVpcEndpoints",)),
    Case("role unknown", subject(cause=AUTH), facts(network=network(target=DKR), pull_role=Unavailable(
        "iam:GetInstanceProfile: AccessDenied: no")), UNAVAILABLE,
        says=("unavailable: iam:GetInstanceProfile",)),
    Case("no policies set", subject(cause=AUTH), facts(network=network(target=DKR, endpoints=through()),
                                                       pull_role=ROLE), PASSED,
         says=("endpoint policies (none set) allow the pull",)),
    Case("policies allow", subject(cause=AUTH), facts(network=network(
        target=DKR, endpoints=through(ecr_dkr=ANY, s3=ANY)), pull_role=ROLE), PASSED,
        says=("endpoint policies (vpce-ecr.dkr, vpce-s3) allow the pull",)),
    Case("dkr policy names another repository", subject(cause=AUTH), facts(network=network(
        target=DKR, endpoints=through(ecr_dkr=OTHER_REPO)), pull_role=ROLE), CONFIRMED,
        says=("the policy of ecr.dkr endpoint vpce-ecr.dkr does not allow ecr:BatchGetImage on "
              f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/shop/api",),
        fix=("aws ec2 describe-vpc-endpoints --vpc-endpoint-ids vpce-ecr.dkr",
             '"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"]',
             "aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-ecr.dkr --policy-document "
             "file://pullmedic-endpoint-policy.json")),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_verdict(case: Case) -> None:
    verify(vpc_endpoint_policy, case)
