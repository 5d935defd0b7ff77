"""subnet_free_ips over in-memory facts: each verdict it can give."""

from __future__ import annotations

import pytest
from casebook import Case, facts, network, subject, verify

from pullmedic.core.causes import Cause
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks import subnet_free_ips
from pullmedic.diagnosing.checks.base import CONFIRMED, PASSED, UNAVAILABLE

EXHAUSTED = Cause.IP_EXHAUSTED
CASES = [
    Case("no host", subject(cause=EXHAUSTED), facts(network=None), None),
    Case("network unreadable", subject(cause=EXHAUSTED), facts(network=Unavailable(
        "ec2:DescribeSubnets: UnauthorizedOperation: no")), UNAVAILABLE,
        says=("unavailable: ec2:DescribeSubnets",)),
    Case("subnet full", subject(cause=EXHAUSTED), facts(network=network(free_ips=0)), CONFIRMED,
         says=("subnet subnet-a (10.0.1.0/24) has 0 free IP addresses",),
         fix=("kubectl -n kube-system set env daemonset aws-node ENABLE_PREFIX_DELEGATION=true",
              "aws ec2 associate-vpc-cidr-block --vpc-id vpc-1 --cidr-block 100.64.0.0/16")),
    Case("room in the subnet, node ceiling", subject(cause=EXHAUSTED), facts(
        network=network(free_ips=200), node_ip_limit=29), PASSED,
        says=("subnet subnet-a (10.0.1.0/24) has 200 free IP addresses; m5.large takes at most 29 pod "
              "IPs without prefix delegation: the subnet is not the limit",)),
    Case("room in the subnet, type unknown", subject(cause=EXHAUSTED), facts(network=network(free_ips=7)),
         PASSED, says=("has 7 free IP addresses: the subnet is not the limit",)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_verdict(case: Case) -> None:
    verify(subnet_free_ips, case)
