"""sg_egress over in-memory facts: each verdict it can give."""

from __future__ import annotations

import pytest
from casebook import INTERNET, Case, facts, network, subject, verify

from pullmedic.core.causes import Cause
from pullmedic.core.netpath.sg import SgRule
from pullmedic.core.netpath.target import INTERNET_STAND_IN, Target
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks import sg_egress
from pullmedic.diagnosing.checks.base import CONFIRMED, PASSED, UNAVAILABLE

UNREACHABLE = Cause.REGISTRY_UNREACHABLE
VPC_ONLY = {"sg-node": (SgRule("sg-node", "egress", "tcp", 443, 443, ("10.0.0.0/16",)),)}
REGISTRY_ONLY = {"sg-node": (SgRule("sg-node", "egress", "tcp", 443, 443, (f"{INTERNET_STAND_IN}/32",)),)}
S3_LIST = {"sg-node": (SgRule("sg-node", "egress", "tcp", 443, 443, ("0.0.0.0/0",)),)}
LAYERS = Target("s3-gateway", "52.216.8.10", (), "S3 for image layers through the gateway endpoint "
                "vpce-s3", hop="layers", prefix_list="pl-63a5400a", cidrs=("52.216.0.0/15",))
CASES = [
    Case("no host", subject(cause=UNREACHABLE), facts(network=None), None),
    Case("network unreadable", subject(cause=UNREACHABLE), facts(network=Unavailable(
        "ec2:DescribeSubnets: UnauthorizedOperation: no")), UNAVAILABLE,
        says=("unavailable: ec2:DescribeSubnets",)),
    Case("groups unreadable", subject(cause=UNREACHABLE), facts(network=network(group_rules=Unavailable(
        "ec2:DescribeSecurityGroups: UnauthorizedOperation: no"))), UNAVAILABLE,
        says=("unavailable: ec2:DescribeSecurityGroups",)),
    Case("open egress", subject(cause=UNREACHABLE), facts(network=network()), PASSED,
         says=("registry hop (manifests): ",)),
    Case("egress only inside the VPC", subject(cause=UNREACHABLE), facts(network=network(
        group_rules=VPC_ONLY)), CONFIRMED, says=("registry hop (manifests): ",
                                                        "(the registry on the internet"),
        fix=("aws ec2 authorize-security-group-egress --group-id sg-node --ip-permissions "
             "IpProtocol=tcp,FromPort=443,ToPort=443,IpRanges=[{CidrIp=0.0.0.0/0}]",
             "Allow outbound tcp/443 from sg-node to the registry.")),
    Case("layers through a prefix list the group lacks", subject(cause=UNREACHABLE), facts(
        network=network(hops=(INTERNET, LAYERS), group_rules=REGISTRY_ONLY),
        prefix_lists={"pl-63a5400a": ("52.216.0.0/15",)}), CONFIRMED,
        says=("layers hop (S3): ",),
        fix=("PrefixListIds=[{PrefixListId=pl-63a5400a}]", "Allow outbound tcp/443 from sg-node to S3 "
             "(pl-63a5400a), where ECR keeps image layers.")),
    Case("layers allowed", subject(cause=UNREACHABLE), facts(network=network(
        hops=(INTERNET, LAYERS), group_rules=S3_LIST), prefix_lists={"pl-63a5400a": ("52.216.0.0/15",)}),
        PASSED, says=("layers hop (S3): ",)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_verdict(case: Case) -> None:
    verify(sg_egress, case)
