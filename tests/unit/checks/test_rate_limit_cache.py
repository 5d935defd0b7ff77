"""rate_limit_cache over in-memory facts: each verdict it can give."""

from __future__ import annotations

import pytest
from casebook import ACCOUNT, REGION, Case, facts, network, subject, verify

from pullmedic.core.causes import Cause
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks import rate_limit_cache
from pullmedic.diagnosing.checks.base import CONFIRMED, PASSED
from pullmedic.diagnosing.checks.facts import NatGateway, PullThroughRule

HUB = "docker.io/library/nginx:1.25"
LIMITED = Cause.RATE_LIMITED
BEHIND_NAT = network(nat_gateways={"nat-1": NatGateway("nat-1", public_ips=("3.14.15.92",))},
                     nat_subnets={"nat-1": 3})
CACHED = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/docker-hub/library/nginx:1.25"
CASES = [
    Case("not Docker Hub", subject("ghcr.io/acme/api:1", LIMITED), facts(), None),
    Case("shared NAT, no cache rule", subject(HUB, LIMITED), facts(network=BEHIND_NAT), CONFIRMED,
         says=("nodes in subnet subnet-a reach Docker Hub through NAT gateway nat-1 (public IP "
               "3.14.15.92), shared by 3 subnet(s)",
               f"no ECR pull-through cache rule for Docker Hub in {REGION}",
               f"pull through the cache as {CACHED}"),
         fix=(f"aws ecr create-pull-through-cache-rule --region {REGION} --ecr-repository-prefix docker-hub",
              f"kubectl -n shop set image deployment/api api={CACHED}")),
    Case("rules unreadable", subject(HUB, LIMITED), facts(network=BEHIND_NAT, pull_through_rules=Unavailable(
        "ecr:DescribePullThroughCacheRules: AccessDeniedException: no")), CONFIRMED,
        says=("unavailable: ecr:DescribePullThroughCacheRules",)),
    Case("rule exists, not used, no NAT known", subject(HUB, LIMITED), facts(
        network=None, pull_through_rules=(PullThroughRule("hub", "registry-1.docker.io"),)), PASSED,
        says=("pull-through cache rule hub -> registry-1.docker.io exists: the workload does not use it",
              f"pull through the cache as {ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/hub/library/nginx:1.25"),
        fix=("Create an ECR pull-through cache rule",)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_verdict(case: Case) -> None:
    verify(rate_limit_cache, case)
