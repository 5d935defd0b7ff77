"""Which actions the deployer allows, and which ones an alert offers (pure)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from factories import finding

from pullmedic.app.event import InvalidEvent, RemediateOrder, parse_event
from pullmedic.app.remediate import Policy, offers, policy
from pullmedic.core.causes import Cause
from pullmedic.core.model import Finding
from pullmedic.core.settings import load
from pullmedic.remediating.actions import ACTIONS

EVENTS = Path(__file__).resolve().parents[2] / "events"


def proven(cause: Cause, *verdicts: tuple[str, str], namespace: str = "team") -> Finding:
    """A finding of an ECR image in team/api whose checks returned `verdicts`."""
    return finding(namespace=namespace, image="123456789012.dkr.ecr.us-east-2.amazonaws.com/team/api:2.0.0",
                   cause=cause, confidence="confirmed", verdicts=tuple(sorted(verdicts)))


ROLE_DENIED = proven(Cause.AUTH_FAILED, ("ecr_pull_permission", "confirmed"))
TAG_PUSHED = proven(Cause.AUTH_FAILED, ("ecr_image_exists", "contradicted"),
                     ("ecr_pull_permission", "passed"))
BOTH = proven(Cause.AUTH_FAILED, ("ecr_image_exists", "contradicted"),
               ("ecr_pull_permission", "confirmed"))
TAG_MISSING = proven(Cause.IMAGE_NOT_FOUND, ("ecr_image_exists", "confirmed"))
RATE = proven(Cause.RATE_LIMITED, ("rate_limit_cache", "confirmed"))
UNPROVEN = proven(Cause.AUTH_FAILED, ("ecr_pull_permission", "unavailable"))


@pytest.mark.parametrize(("found", "expected"), [
    (ROLE_DENIED, ("grant_ecr_pull",)), (TAG_PUSHED, ("retry_pods",)),
    (BOTH, ("grant_ecr_pull",)),  # pods would fail again: the role is the blocker
    (TAG_MISSING, ()), (RATE, ("pull_through_cache",)), (UNPROVEN, ()),
], ids=["role-denied", "tag-pushed", "both", "tag-missing", "rate-limit", "unproven"])
def test_offers_follow_the_evidence(found: Finding, expected: tuple[str, ...]) -> None:
    assert offers(found, Policy("approve", frozenset(ACTIONS), None)) == expected


def test_nothing_is_offered_while_off_or_outside_the_allow_lists() -> None:
    assert offers(ROLE_DENIED, Policy("off", frozenset(ACTIONS), None)) == ()
    assert offers(ROLE_DENIED, Policy("approve", frozenset({"retry_pods"}), None)) == ()
    assert offers(ROLE_DENIED, Policy("approve", frozenset(ACTIONS), frozenset({"web"}))) == ()
    assert offers(replace(ROLE_DENIED, namespace="web"),
                  Policy("approve", frozenset(ACTIONS), frozenset({"web"}))) == ("grant_ecr_pull",)


def test_allow_list_defaults_to_all_with_approve_and_none_with_auto() -> None:
    assert policy(load({"PULLMEDIC_REMEDIATION": "approve"})).actions == frozenset(ACTIONS)
    assert policy(load({"PULLMEDIC_REMEDIATION": "auto"})).actions == frozenset()
    listed = load({"PULLMEDIC_REMEDIATION": "auto", "PULLMEDIC_REMEDIATION_ACTIONS": "retry_pods"})
    assert policy(listed).actions == frozenset({"retry_pods"})
    with pytest.raises(ValueError, match=r"unknown actions \['delete_cluster'\]"):
        policy(load({"PULLMEDIC_REMEDIATION_ACTIONS": "delete_cluster"}))


def test_remediate_event() -> None:
    order = parse_event(json.loads((EVENTS / "remediate.json").read_text()))
    assert order == RemediateOrder("0123456789abcdef", "grant_ecr_pull", True, "alice", None)
    assert parse_event({"remediate": {"fingerprint": "0123456789abcdef"}}) == RemediateOrder(
        "0123456789abcdef", None, False, "", None)


def test_bad_remediate_event_names_each_field() -> None:
    with pytest.raises(InvalidEvent) as caught:
        parse_event({"remediate": {"fingerprint": "abc", "action": "delete_cluster", "confirm": "yes",
                                   "cluster": "", "why": 1}, "dry_run": True})
    text = str(caught.value)
    for part in ("unknown field 'dry_run' next to 'remediate'", "unknown field 'remediate.why'",
                 "'remediate.fingerprint' must be 16 hex digits", "'remediate.action' must be one of",
                 "'remediate.confirm' must be true or false",
                 "'remediate.cluster' must be an EKS cluster name"):
        assert part in text
    assert len(caught.value.problems) == 6


def test_a_confirmed_remediation_names_who_approves() -> None:
    with pytest.raises(InvalidEvent, match="'remediate.approved_by' must name who approves"):
        parse_event({"remediate": {"fingerprint": "0123456789abcdef", "confirm": True}})
