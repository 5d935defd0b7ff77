"""nacl_path over in-memory facts: each verdict it can give."""

from __future__ import annotations

import pytest
from casebook import OPEN_ACL, Case, acl_entry, facts, network, subject, verify

from pullmedic.core.causes import Cause
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks import nacl_path
from pullmedic.diagnosing.checks.base import CONFIRMED, PASSED, UNAVAILABLE

UNREACHABLE = Cause.REGISTRY_UNREACHABLE
NO_443 = (acl_entry(90, True, "deny", (443, 443)), *OPEN_ACL)
NO_EPHEMERAL = (acl_entry(100, True), acl_entry(100, False, ports=(22, 22)),
                acl_entry(32767, True, "deny"), acl_entry(32767, False, "deny"))
CASES = [
    Case("no host", subject(cause=UNREACHABLE), facts(network=None), None),
    Case("network unreadable", subject(cause=UNREACHABLE), facts(network=Unavailable(
        "ec2:DescribeNetworkAcls: UnauthorizedOperation: no")), UNAVAILABLE,
        says=("unavailable: ec2:DescribeNetworkAcls: UnauthorizedOperation",)),
    Case("no ACL for the subnet", subject(cause=UNREACHABLE), facts(network=network(acl=None)),
         UNAVAILABLE, says=("no network ACL found for subnet subnet-a",)),
    Case("open ACL", subject(cause=UNREACHABLE), facts(network=network()), PASSED,
         says=("registry hop (manifests): NACL acl-1",)),
    Case("outbound 443 denied", subject(cause=UNREACHABLE), facts(network=network(acl_entries=NO_443)),
         CONFIRMED, says=("registry hop (manifests): NACL acl-1 rule 90 denies outbound tcp/443",
                                 "(subnet subnet-a, towards the registry on the internet"),
         fix=("aws ec2 create-network-acl-entry --network-acl-id acl-1 --egress --rule-number 89 "
              "--protocol tcp --port-range From=443,To=443 --cidr-block 0.0.0.0/0 --rule-action allow",)),
    Case("no return traffic", subject(cause=UNREACHABLE), facts(network=network(acl_entries=NO_EPHEMERAL)),
         CONFIRMED, says=("inbound",),
         fix=("--ingress --rule-number 99 --protocol tcp --port-range From=1024,To=65535",)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_verdict(case: Case) -> None:
    verify(nacl_path, case)
