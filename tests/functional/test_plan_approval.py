"""Approvals are single-use and short-lived: a plan is applied at most once, within its validity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pullmedic.remediating.actions.base import Call, Plan
from pullmedic.remediating.ledger import Ledger

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
PLAN = Plan(action="grant_ecr_pull", fingerprint="0123456789abcdef", cluster="prod", namespace="shop",
            resources=("arn:aws:iam::123456789012:role/node",),
            calls=(Call("iam:AttachRolePolicy", "role node", {"RoleName": "node"}),),
            undo=("aws iam detach-role-policy --role-name node",), evidence_digest="d1")


@pytest.fixture
def ledger(sandbox, new_table) -> Ledger:
    return Ledger(sandbox.client("dynamodb"), new_table())


def test_a_plan_is_used_once(ledger) -> None:
    ledger.save_plan(PLAN, "planner", NOW)
    assert ledger.use_plan(PLAN.fingerprint, PLAN.action, "alice", NOW + timedelta(minutes=5))
    assert not ledger.use_plan(PLAN.fingerprint, PLAN.action, "mallory", NOW + timedelta(minutes=6))
    stored = ledger.plan(PLAN.fingerprint, PLAN.action)
    assert stored is not None and (stored.status, stored.used_by) == ("applying", "alice")


def test_a_plan_expires(ledger) -> None:
    ledger.save_plan(PLAN, "planner", NOW, valid_for=timedelta(minutes=30))
    stored = ledger.plan(PLAN.fingerprint, PLAN.action)
    assert stored is not None and stored.valid_until == NOW + timedelta(minutes=30)
    assert not ledger.use_plan(PLAN.fingerprint, PLAN.action, "alice", NOW + timedelta(minutes=31))


def test_an_applied_plan_stays_used_when_it_is_stored_again(ledger) -> None:
    ledger.save_plan(PLAN, "planner", NOW)
    assert ledger.use_plan(PLAN.fingerprint, PLAN.action, "alice", NOW)
    ledger.save_plan(PLAN, "alice", NOW, status="applied", used_by="alice")
    assert not ledger.use_plan(PLAN.fingerprint, PLAN.action, "alice", NOW)
    stored = ledger.plan(PLAN.fingerprint, PLAN.action)
    assert stored is not None and (stored.status, stored.used_by) == ("applied", "alice")


def test_a_plan_that_was_never_shown_cannot_be_used(ledger) -> None:
    assert not ledger.use_plan(PLAN.fingerprint, PLAN.action, "alice", NOW)
