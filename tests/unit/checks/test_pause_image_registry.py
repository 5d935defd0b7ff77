"""pause_image_registry over in-memory facts: each verdict it can give."""

from __future__ import annotations

import pytest
from casebook import REGION, Case, facts, subject, verify

from pullmedic.core.causes import Cause
from pullmedic.diagnosing.checks import pause_image_registry
from pullmedic.diagnosing.checks.base import CONFIRMED, PASSED

PAUSE = "602401143452.dkr.ecr.{region}.amazonaws.com/eks/pause:3.10"
CASES = [
    Case("an app container", subject(PAUSE.format(region=REGION)), facts(), None),
    Case("a sandbox image not named pause", subject(f"602401143452.dkr.ecr.{REGION}.amazonaws.com/eks/"
                                                    "coredns:1", container_type="sandbox"), facts(), None),
    Case("region's EKS registry", subject(PAUSE.format(region=REGION), container_type="sandbox"), facts(),
         PASSED,
         says=(f"the pause image comes from {REGION}'s EKS registry (602401143452)",)),
    Case("another region", subject(PAUSE.format(region="eu-west-1"), Cause.AUTH_FAILED,
                                   container_type="sandbox"),
         facts(), CONFIRMED, says=(f"is in eu-west-1, not the cluster's region {REGION}",),
         fix=(f"aws ecr describe-images --registry-id 602401143452 --region {REGION} "
              "--repository-name eks/pause",)),
    Case("wrong registry account", subject("877085696533.dkr.ecr.us-east-2.amazonaws.com/eks/pause:3.10",
                                           container_type="sandbox"), facts(), CONFIRMED,
         says=("the pause image comes from 877085696533.dkr.ecr.us-east-2, but us-east-2's EKS registry "
               "is account 602401143452",),
         fix=("--registry-id 602401143452 --region us-east-2",)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_verdict(case: Case) -> None:
    verify(pause_image_registry, case)
