"""vpc_endpoints over in-memory facts: each verdict it can give."""

from __future__ import annotations

import pytest
from casebook import REGION, Case, facts, network, subject, verify

from pullmedic.core.causes import Cause
from pullmedic.core.netpath.sg import SgRule
from pullmedic.core.netpath.target import Target
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks import vpc_endpoints
from pullmedic.diagnosing.checks.base import CONFIRMED, PASSED, UNAVAILABLE
from pullmedic.diagnosing.checks.facts import Endpoint

UNREACHABLE = Cause.REGISTRY_UNREACHABLE
DKR = Target("endpoint", "10.0.2.5", ("sg-vpce",), "the ecr.dkr endpoint vpce-dkr (10.0.2.5)")
BOTH = {"ecr.api": Endpoint("vpce-api", private_dns=True), "ecr.dkr": Endpoint("vpce-dkr", private_dns=True)}
FROM_NODES = {"sg-vpce": (SgRule("sg-vpce", "ingress", "tcp", 443, 443, groups=("sg-node",)),)}
CASES = [
    Case("no host", subject(cause=UNREACHABLE), facts(network=None), None),
    Case("pulls over the internet", subject(cause=UNREACHABLE), facts(network=network()), None),
    Case("network unreadable", subject(cause=UNREACHABLE), facts(network=Unavailable(
        "ec2:DescribeVpcEndpoints: UnauthorizedOperation: no")), UNAVAILABLE,
        says=("unavailable: ec2:DescribeVpcEndpoints",)),
    Case("endpoints usable", subject(cause=UNREACHABLE), facts(network=network(
        target=DKR, hops=(DKR,), endpoints=BOTH, group_rules=FROM_NODES)), PASSED,
        says=("ECR endpoints present, private DNS on, vpce-dkr accepts tcp/443 from the node",)),
    Case("ecr.api missing", subject(cause=UNREACHABLE), facts(network=network(
        target=DKR, hops=(DKR,), endpoints={"ecr.dkr": BOTH["ecr.dkr"]}, group_rules=FROM_NODES)),
        CONFIRMED, says=("ecr.api endpoint missing in vpc-1",),
        fix=(f"aws ec2 create-vpc-endpoint --vpc-id vpc-1 --vpc-endpoint-type Interface --service-name "
             f"com.amazonaws.{REGION}.ecr.api --subnet-ids subnet-a --private-dns-enabled",)),
    Case("ecr.api pending", subject(cause=UNREACHABLE), facts(network=network(
        target=DKR, hops=(DKR,), endpoints={**BOTH, "ecr.api": Endpoint("vpce-api", "pending")},
        group_rules=FROM_NODES)), CONFIRMED, says=("ecr.api endpoint vpce-api is pending in vpc-1",)),
    Case("private DNS off", subject(cause=UNREACHABLE), facts(network=network(
        target=DKR, hops=(DKR,), endpoints={**BOTH, "ecr.dkr": Endpoint("vpce-dkr", private_dns=False)},
        group_rules=FROM_NODES)), CONFIRMED,
        says=("ecr.dkr endpoint vpce-dkr has private DNS disabled: the node still resolves the registry "
              "to its public address",),
        fix=("aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-dkr --private-dns-enabled",)),
    Case("endpoint group shuts the node out", subject(cause=UNREACHABLE), facts(network=network(
        target=DKR, hops=(DKR,), endpoints=BOTH, group_rules={"sg-vpce": ()})), CONFIRMED,
        says=("the ecr.dkr endpoint's security group does not accept the node's HTTPS",),
        fix=("aws ec2 authorize-security-group-ingress --group-id sg-vpce --protocol tcp --port 443 "
             "--source-group sg-node",)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_verdict(case: Case) -> None:
    verify(vpc_endpoints, case)
