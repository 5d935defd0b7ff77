"""vpc_dns over in-memory facts: each verdict it can give."""

from __future__ import annotations

import pytest
from casebook import Case, facts, host, subject, verify

from pullmedic.core.causes import Cause
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks import vpc_dns
from pullmedic.diagnosing.checks.base import CONFIRMED, PASSED, UNAVAILABLE

DNS = subject(cause=Cause.REGISTRY_UNREACHABLE, rule_id="dns_failure")
CASES = [
    Case("not a DNS failure", subject(cause=Cause.REGISTRY_UNREACHABLE, rule_id="connection_refused"),
         facts(host=host(), dns_support=False), None),
    Case("no host", DNS, facts(host=None), None),
    Case("host unknown", DNS, facts(host=Unavailable("no EC2 instance found for node x")),
         UNAVAILABLE, says=("unavailable: no EC2 instance found for node x",)),
    Case("attribute unreadable", DNS, facts(host=host(), dns_support=Unavailable(
        "ec2:DescribeVpcAttribute: UnauthorizedOperation: no")), UNAVAILABLE,
        says=("unavailable: ec2:DescribeVpcAttribute",)),
    Case("DNS off", DNS, facts(host=host(), dns_support=False), CONFIRMED,
         says=("VPC vpc-1 has enableDnsSupport=false: nothing in it can resolve the registry's name",),
         fix=("aws ec2 modify-vpc-attribute --vpc-id vpc-1 --enable-dns-support '{\"Value\":true}'",)),
    Case("DNS on", DNS, facts(host=host(), dns_support=True), PASSED,
         says=("VPC vpc-1 resolves DNS (enableDnsSupport=true); check the registry name",)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_verdict(case: Case) -> None:
    verify(vpc_dns, case)
