"""The state layer against DynamoDB (moto): conditional writes decide who announces."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from factories import ecr_finding, finding

from pullmedic.announcing.lifecycle import Scope, Silence, plan
from pullmedic.announcing.outbox import Outbox
from pullmedic.announcing.state import StateStore
from pullmedic.core.causes import Cause
from pullmedic.core.model import PodInfo, ScanError
from pullmedic.diagnosing.findings import fingerprint

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
DAY = timedelta(hours=24)
SCOPE = Scope(frozenset({"prod"}))
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "state"


@pytest.fixture
def store(sandbox, new_table) -> StateStore:
    return StateStore(sandbox.client("dynamodb"), new_table())


def test_two_invocations_with_one_snapshot_announce_a_new_problem_once(store) -> None:
    found = [finding("api"), finding("web")]
    snapshot = store.records(SCOPE.clusters)
    decided = plan(snapshot, found, SCOPE, NOW, DAY, store.silences())
    first = store.commit(decided.changes, NOW).changes
    second = store.commit(decided.changes, NOW).changes
    assert [a.event for c in first for a in c.announcements] == ["new", "new"]
    assert second == []
    stored = store.records(["prod"])
    assert {r.fingerprint for r in stored.values()} == {fingerprint(f) for f in found}
    assert all(r.version == 1 and r.announced_event == "new" for r in stored.values())


def test_two_invocations_race_for_a_change_and_a_resolution(store) -> None:
    store.commit(plan({}, [finding("api"), finding("web")], SCOPE, NOW, DAY, []).changes, NOW)
    snapshot = store.records(["prod"])
    later = NOW + timedelta(minutes=5)
    decided = plan(snapshot, [finding("api", cause=Cause.AUTH_FAILED)], SCOPE, later, DAY, [])
    assert sorted(a.event for a in decided.announcements) == ["changed", "resolved"]
    assert len(store.commit(decided.changes, later).changes) == 2
    assert store.commit(decided.changes, later).changes == []
    (api,) = store.records(["prod"]).values()
    assert (api.version, api.cause, api.announced_event) == (2, "auth_failed", "changed")


def test_a_claimed_announcement_waits_in_the_outbox_with_its_claim(store) -> None:
    decided = plan({}, [finding("api"), finding("web")], SCOPE, NOW, DAY, [])
    done = store.commit(decided.changes, NOW)
    entries, dropped = Outbox(store.client, store.table).take(NOW + timedelta(hours=1))
    assert dropped == []
    assert sorted(e.key for e in entries) == sorted(done.outbox)
    assert sorted((e.item for e in entries), key=repr) == sorted(decided.announcements, key=repr)
    again = store.commit(decided.changes, NOW)  # a lost race adds nothing to the outbox
    assert again.changes == [] and again.outbox == [] and again.failures == []


def test_a_stored_problem_keeps_every_field_of_its_findings(store) -> None:
    """What a resolved message tells is what was found: verdicts and the pod sample included."""
    pod = PodInfo("shop", "api-7f9c-a", "uid-1", NOW, "node-1", "10.0.1.10", "10.0.1.99",
                  {"app": "api"}, "ReplicaSet", "api-7f9c", "api", ("regcred",))
    found = replace(ecr_finding("api"), verdicts=(("ecr_image_exists", "confirmed"),), pod_sample=pod,
                    secret_warning="secret regcred not found")
    store.commit(plan({}, [found], SCOPE, NOW, DAY, []).changes, NOW)
    (stored,) = store.records(["prod"]).values()
    (kept,) = stored.findings
    assert kept == found and kept.pod_sample == pod and kept.verdicts == found.verdicts
    (resolved,) = plan({stored.fingerprint: stored}, [], SCOPE, NOW + DAY, DAY, []).announcements
    assert resolved.event == "resolved" and resolved.finding == found


def test_a_problem_stored_before_the_format_attribute_still_reads_and_resolves(store) -> None:
    """Existing deployments' tables hold items with finding documents (`docs`): they read as
    findings, and a resolved problem announces the finding the document described."""
    old = json.loads((FIXTURES / "problem_before_format.json").read_text())["item"]
    store.client.put_item(TableName=store.table, Item=old)
    (stored,) = store.records(["prod"]).values()
    assert (stored.fingerprint, stored.version, stored.announced_event, stored.confirmed_scans) == (
        old["fingerprint"]["S"], 1, "new", 1)
    assert stored.findings == (ecr_finding("api"),)  # the documents never held the verdicts
    later = NOW + timedelta(hours=2)
    decided = plan({stored.fingerprint: stored}, [], SCOPE, later, DAY, [])
    (resolved,) = decided.announcements
    assert (resolved.event, resolved.since, fingerprint(resolved.finding)) == (
        "resolved", NOW, stored.fingerprint)
    assert store.commit(decided.changes, later).changes == list(decided.changes)
    assert store.records(["prod"]) == {}


def test_silences_round_trip(store) -> None:
    active = Silence("namespace", "prod/shop", NOW + DAY, "maintenance", NOW)
    expired = Silence("fingerprint", "0123456789abcdef", NOW - DAY, "", NOW - 2 * DAY)
    store.add_silence(active)
    store.add_silence(expired)
    assert sorted(store.silences(), key=lambda s: s.scope) == [expired, active]


def test_a_scan_error_is_told_once_then_after_the_reminder(store) -> None:
    error = ScanError("prod", "pods", "pullmedic cannot authenticate to cluster prod (HTTP 401)")
    assert store.claim_errors([error], NOW, DAY).errors == [error]
    assert store.claim_errors([error], NOW + timedelta(minutes=5), DAY).errors == []
    assert store.claim_errors([error], NOW + DAY + timedelta(minutes=1), DAY).errors == [error]
    later = NOW + 3 * DAY
    assert store.claim_errors([error], later, None).errors == [error]  # the day-long item has expired
    assert store.claim_errors([error], later + 29 * DAY, None).errors == []  # reminders off: quiet
    assert store.claim_errors([error], later + 31 * DAY, None).errors == [error]


def test_an_unreadable_outbox_entry_is_dropped_and_never_blocks_the_others(store) -> None:
    decided = plan({}, [finding("api")], SCOPE, NOW, DAY, [])
    done = store.commit(decided.changes, NOW)
    store.client.put_item(TableName=store.table, Item={
        "pk": {"S": "outbox"}, "sk": {"S": "0000-damaged"}, "kind": {"S": "announcement"},
        "body": {"S": '{"event": "new", "finding": {"cluster": 5}}'}})
    outbox = Outbox(store.client, store.table)
    entries, dropped = outbox.take(NOW + timedelta(hours=1))
    assert [e.key for e in entries] == done.outbox and dropped == ["0000-damaged"]
    assert outbox.take(NOW + timedelta(hours=1, minutes=1)) == ([], [])  # leased; the damaged one is gone
