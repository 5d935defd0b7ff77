"""What a scan announces, given what the state table remembers (table-driven, pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from factories import finding

from pullmedic.announcing.lifecycle import (
    CONFIRMED_STREAK,
    RETENTION,
    TOUCH,
    Decision,
    Record,
    Scope,
    Silence,
    digest,
    plan,
)
from pullmedic.core.causes import Cause
from pullmedic.core.model import Finding
from pullmedic.diagnosing.findings import fingerprint

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=2)
DAY = timedelta(hours=24)
ALL = Scope(frozenset({"prod"}))


def announced(f: Finding, at: datetime = T0, **changes: Any) -> Record:
    """The record the table holds after `f` was announced as new at `at`."""
    (change,) = plan({}, [f], ALL, at, DAY, []).changes
    assert change.record is not None
    return replace(change.record, **changes)


def events(result: Decision) -> list[tuple[str, str]]:
    return [(a.event, a.finding.workload.name) for a in result.announcements]


API, WEB = finding("api"), finding("web")
HOUR = timedelta(hours=1)
CASES: list[tuple[str, dict[str, Record], list[Finding], dict[str, Any], list[tuple[str, str]], int]] = [
    # name, stored, found, plan() overrides, expected announcements, expected silenced
    ("first seen is new", {}, [API], {}, [("new", "api")], 0),
    ("unchanged and recent says nothing", {fingerprint(API): announced(API)}, [API], {}, [], 0),
    ("new evidence is a change",
     {fingerprint(API): announced(API)}, [finding(evidence=("confirmed [ecr]: no tag v9",))], {},
     [("changed", "api")], 0),
    ("new confidence is a change",
     {fingerprint(API): announced(API)}, [finding(confidence="confirmed")], {}, [("changed", "api")], 0),
    ("new cause is a change", {fingerprint(API): announced(API)}, [finding(cause=Cause.AUTH_FAILED)], {},
     [("changed", "api")], 0),
    ("a day later is a reminder", {fingerprint(API): announced(API, T0 - DAY)}, [API], {},
     [("reminder", "api")], 0),
    ("no reminders when they are off", {fingerprint(API): announced(API, T0 - DAY)}, [API],
     {"reminder": None}, [], 0),
    ("gone from a scanned cluster is resolved", {fingerprint(API): announced(API)}, [], {},
     [("resolved", "api")], 0),
    ("a cluster that was not scanned resolves nothing", {fingerprint(API): announced(API)}, [],
     {"scope": Scope(frozenset())}, [], 0),
    ("a namespace the scan skipped resolves nothing", {fingerprint(API): announced(API)}, [],
     {"scope": Scope(frozenset({"prod"}), frozenset({"ops"}))}, [], 0),
    ("silenced by fingerprint", {}, [API, WEB],
     {"silences": [Silence("fingerprint", fingerprint(API), NOW + HOUR)]}, [("new", "web")], 1),
    ("silenced by workload", {}, [API, WEB],
     {"silences": [Silence("workload", "prod/shop/Deployment/api", NOW + HOUR)]}, [("new", "web")], 1),
    ("silenced by namespace", {}, [API, finding("job", namespace="ops")],
     {"silences": [Silence("namespace", "prod/shop", NOW + HOUR)]}, [("new", "job")], 1),
    ("an expired silence holds nothing back", {}, [API],
     {"silences": [Silence("workload", "prod/shop/Deployment/api", NOW - HOUR)]}, [("new", "api")], 0),
    ("a silence of another cluster holds nothing back", {}, [API],
     {"silences": [Silence("namespace", "dev/shop", NOW + HOUR)]}, [("new", "api")], 0),
    ("silenced since first seen, silence over: new",
     {fingerprint(API): announced(API, last_announced=None, announced_event=None)}, [API], {},
     [("new", "api")], 0),
    ("changed while silenced: held back", {fingerprint(API): announced(API)},
     [finding(cause=Cause.RATE_LIMITED)],
     {"silences": [Silence("fingerprint", fingerprint(API), NOW + HOUR)]}, [], 1),
    ("resolved while silenced: held back", {fingerprint(API): announced(API)}, [],
     {"silences": [Silence("namespace", "prod/shop", NOW + HOUR)]}, [], 1),
    ("never announced and gone: nothing to say",
     {fingerprint(API): announced(API, last_announced=None, announced_event=None)}, [], {}, [], 0),
]


@pytest.mark.parametrize(("stored", "found", "overrides", "expected", "held"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_announcements(stored, found, overrides, expected, held) -> None:
    arguments = {"scope": ALL, "reminder": DAY, "silences": [], **overrides}
    result = plan(stored, found, arguments["scope"], NOW, arguments["reminder"], arguments["silences"])
    assert events(result) == expected
    assert result.silenced == held


def test_new_record_starts_the_history() -> None:
    (change,) = plan({}, [API], ALL, NOW, DAY, []).changes
    record = change.record
    assert change.previous is None and record is not None
    assert (record.first_seen, record.last_seen, record.last_announced) == (NOW, NOW, NOW)
    assert (record.announced_event, record.version, record.expires) == ("new", 1, NOW + RETENTION)
    assert (record.workload, record.cause, record.digest) == ("Deployment/api", "image_not_found",
                                                             digest([API]))
    assert record.findings == (API,) and fingerprint(API) == record.fingerprint
    assert change.announcements[0].since == NOW


def test_changed_keeps_first_seen_and_names_the_old_cause() -> None:
    stored = announced(API)
    (change,) = plan({fingerprint(API): stored}, [finding(cause=Cause.AUTH_FAILED)], ALL, NOW, DAY,
                     []).changes
    assert change.previous == stored and change.record is not None
    assert change.record.version == stored.version + 1 and change.record.first_seen == T0
    (item,) = change.announcements
    assert (item.event, item.previous_cause, item.since) == ("changed", "image_not_found", T0)


def test_quiet_problems_are_touched_hourly_only() -> None:
    stored = announced(API, NOW - TOUCH / 2)
    assert plan({fingerprint(API): stored}, [API], ALL, NOW, DAY, []).changes == ()
    stale = announced(API, NOW - TOUCH)
    (touch,) = plan({fingerprint(API): stale}, [API], ALL, NOW, DAY, []).changes
    assert touch.announcements == () and touch.record is not None
    assert touch.record.last_seen == NOW and touch.record.last_announced == NOW - TOUCH


def test_held_back_change_keeps_what_was_announced() -> None:
    stored = announced(API, NOW - TOUCH)
    silence = Silence("fingerprint", fingerprint(API), NOW + HOUR)
    (touch,) = plan({fingerprint(API): stored}, [finding(cause=Cause.RATE_LIMITED)], ALL, NOW, DAY,
                    [silence]).changes
    assert touch.record is not None and touch.announcements == ()
    assert (touch.record.cause, touch.record.digest) == (stored.cause, stored.digest)
    later = plan({fingerprint(API): touch.record}, [finding(cause=Cause.RATE_LIMITED)], ALL,
                 NOW + 2 * HOUR, DAY, [silence])
    assert events(later) == [("changed", "api")]


def test_resolved_deletes_and_announces_the_last_known_finding() -> None:
    stored = announced(API)
    (change,) = plan({fingerprint(API): stored}, [], ALL, NOW, DAY, []).changes
    assert change.record is None and change.previous == stored
    (item,) = change.announcements
    assert item.finding.image == API.image and item.finding.cause is Cause.IMAGE_NOT_FOUND
    assert item.since == T0 and fingerprint(item.finding) == fingerprint(API)


def test_one_container_failing_two_ways_is_one_problem() -> None:
    rate = finding(cause=Cause.RATE_LIMITED)
    (change,) = plan({}, [API, rate], ALL, NOW, DAY, []).changes
    assert [a.finding.cause for a in change.announcements] == [Cause.IMAGE_NOT_FOUND, Cause.RATE_LIMITED]
    assert change.record is not None and change.record.findings == (API, rate)
    stored = change.record
    assert plan({fingerprint(API): stored}, [rate, API], ALL, NOW + HOUR / 2, DAY, []).changes == ()
    assert events(plan({fingerprint(API): stored}, [API], ALL, NOW + HOUR / 2, DAY, [])) == [
        ("changed", "api")]


def test_proven_scans_in_a_row_are_counted_up_to_the_streak() -> None:
    proven = finding(confidence="confirmed")
    (first,) = plan({}, [proven], ALL, NOW, DAY, []).changes
    assert first.record is not None and first.record.confirmed_scans == 1
    (second,) = plan({fingerprint(API): first.record}, [proven], ALL, NOW + HOUR / 2, DAY, []).changes
    assert second.announcements == () and second.record is not None  # written for the count alone
    assert second.record.confirmed_scans == CONFIRMED_STREAK
    assert plan({fingerprint(API): second.record}, [proven], ALL, NOW + HOUR, DAY, []).changes == ()
    (unproven,) = plan({fingerprint(API): second.record}, [finding()], ALL, NOW + HOUR, DAY, []).changes
    assert unproven.record is not None and unproven.record.confirmed_scans == 0


def test_problems_lists_what_stays_open_and_what_this_scan_resolved() -> None:
    """The rows the handler logs for the dashboard's table of open problems."""
    other = replace(announced(WEB), cluster="staging", fingerprint="0000000000000000")
    stored = {fingerprint(API): announced(API), fingerprint(WEB): announced(WEB), "0000000000000000": other}
    muted = Silence("namespace", "prod/shop", NOW + HOUR)
    rows = {r["workload"] + "@" + r["cluster"]: r for r in plan(
        stored, [finding(cause=Cause.AUTH_FAILED)], ALL, NOW, DAY, [muted]).problems}
    assert rows["Deployment/api@prod"] == {
        "fingerprint": fingerprint(API), "state": "open", "cluster": "prod", "namespace": "shop",
        "workload": "Deployment/api", "cause": "auth_failed", "since": "2026-11-27T12:00:00+00:00",
        "silenced": True}
    assert rows["Deployment/web@prod"]["state"] == "resolved"  # gone from a cluster the scan read
    assert rows["Deployment/web@staging"]["state"] == "open"  # its cluster was not read
    assert rows["Deployment/web@staging"]["silenced"] is False  # the silence names prod/shop only
    (new,) = plan({}, [WEB], ALL, NOW, DAY, []).problems
    assert (new["since"], new["state"], new["silenced"]) == (NOW.isoformat(), "open", False)
