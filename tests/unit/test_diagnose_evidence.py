"""How verdicts become a finding's evidence: a missing fact is data, said once for every check."""

from __future__ import annotations

from pullmedic.core.causes import Cause
from pullmedic.core.unavailable import Unavailable
from pullmedic.core.vocab import VerdictStatus
from pullmedic.diagnosing.checks import ecr_pull_permission, rate_limit_cache, vpc_endpoint_policy
from pullmedic.diagnosing.checks.base import Verdict
from pullmedic.diagnosing.diagnose import _evidence, _items

DENIED = "iam:GetInstanceProfile: AccessDenied: not authorized"


def test_the_same_missing_fact_is_one_line_naming_every_check() -> None:
    verdicts = [Verdict.unavailable(ecr_pull_permission.META, DENIED),
                Verdict.unavailable(vpc_endpoint_policy.META, DENIED),
                Verdict.confirmed(rate_limit_cache.META, "no ECR pull-through cache rule")]
    assert _evidence(verdicts) == (
        f"[ecr_pull_permission, vpc_endpoint_policy] unavailable: {DENIED}",
        "confirmed [rate_limit_cache]: no ECR pull-through cache rule")


def test_a_missing_fact_inside_a_verdict_is_unavailable_evidence_whatever_the_check_concluded() -> None:
    verdict = Verdict.confirmed(rate_limit_cache.META, Unavailable("ecr:DescribePullThroughCacheRules: "
                                                                   "AccessDeniedException"),
                                "pull through the cache", cause=Cause.RATE_LIMITED)
    items = _items([verdict])
    assert [(i.status, i.text) for i in items] == [
        (VerdictStatus.UNAVAILABLE, "ecr:DescribePullThroughCacheRules: AccessDeniedException"),
        (VerdictStatus.CONFIRMED, "pull through the cache")]


def test_a_statement_that_starts_like_a_missing_fact_stays_a_statement() -> None:
    verdict = Verdict.passed(rate_limit_cache.META, "unavailable: is a word the registry used")
    assert [i.status for i in _items([verdict])] == [VerdictStatus.PASSED]
    assert _evidence([verdict]) == ("ok [rate_limit_cache]: unavailable: is a word the registry used",)
