"""The one codec is lossless: generated findings, announcements, scan errors and state records,
with every field set, come back equal (every field, also those equality ignores)."""

from __future__ import annotations

import json
from dataclasses import fields, is_dataclass, replace
from datetime import UTC, datetime
from typing import Any

from factories import ecr_finding
from hypothesis import given, settings
from hypothesis import strategies as st

from pullmedic.announcing.dynamo import plain
from pullmedic.announcing.lifecycle import Record
from pullmedic.announcing.render import EVENTS
from pullmedic.announcing.state import _item, _record
from pullmedic.core import codec
from pullmedic.core.causes import Cause
from pullmedic.core.model import (
    Announcement,
    Evidence,
    Finding,
    PodInfo,
    Remediation,
    ScanError,
    Workload,
)
from pullmedic.core.vocab import Confidence, MessageSource, Severity, VerdictStatus

ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
# for what the state table redacts on the way in: no letters a credential pattern starts with
SAFE_TEXT = st.text("abcdefgh0123456789-_./ é漢", max_size=30)
MOMENTS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                       timezones=st.just(UTC))


def texts(base: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(base, min_size=1, max_size=3).map(tuple)


def findings(text: st.SearchStrategy[str]) -> st.SearchStrategy[Finding]:
    """Findings with every field set to a value other than its default."""
    causes = st.sampled_from(list(Cause))
    pods = st.builds(PodInfo, namespace=text, name=text, uid=text, created=MOMENTS, node=text,
                     host_ip=text, pod_ip=text, labels=st.dictionaries(text, text, min_size=1, max_size=3),
                     owner_kind=text, owner_name=text, service_account=text, pull_secrets=texts(text))
    evidence = st.builds(Evidence, check=text, status=st.sampled_from(list(VerdictStatus)),
                         text=text, resources=texts(text))
    return st.builds(
        Finding, cluster=text, namespace=text,
        workload=st.builds(Workload, kind=text, name=text, inferred=st.just(True)),
        container=text, container_type=text, image=text, cause=causes, rule_id=text, summary=text,
        alternatives=st.lists(causes, min_size=1, max_size=3).map(tuple), message=text,
        message_source=st.sampled_from([MessageSource.WAITING, MessageSource.EVENT]),
        reasons=texts(text), pods=texts(text),
        pod_count=st.integers(1, 10_000), nodes=texts(text),
        severity=st.sampled_from(list(Severity)),
        confidence=st.sampled_from([Confidence.CONFIRMED, Confidence.CONTRADICTED]),
        advice=text.filter(bool), evidence=texts(text), fix_commands=texts(text), pod_sample=pods,
        secret_warning=text, message_cause=causes,
        verdicts=st.lists(st.tuples(text, text), min_size=1, max_size=3).map(tuple),
        evidence_items=st.lists(evidence, min_size=1, max_size=3).map(tuple), account=text, region=text)


def announcements(text: st.SearchStrategy[str]) -> st.SearchStrategy[Announcement]:
    return st.builds(Announcement, event=st.sampled_from(EVENTS), finding=findings(text), since=MOMENTS,
                     previous_cause=text, actions=texts(text),
                     remediation=st.builds(Remediation, action=text, summary=text, by=text.filter(bool),
                                           undo=texts(text)))


def records(text: st.SearchStrategy[str]) -> st.SearchStrategy[Record]:
    return st.builds(Record, fingerprint=text, cluster=text, namespace=text, workload=text,
                     container=text, image=text, cause=text, digest=text, first_seen=MOMENTS,
                     last_seen=MOMENTS, last_announced=MOMENTS, announced_event=text,
                     findings=st.lists(findings(text), min_size=1, max_size=2).map(tuple),
                     version=st.integers(2, 10**6), confirmed_scans=st.integers(1, 2))


def every_field(value: Any) -> Any:
    """`value` as nested tuples of (field, value): equal only if every field is, `compare=False` too."""
    if is_dataclass(value) and not isinstance(value, type):
        return tuple((f.name, every_field(getattr(value, f.name))) for f in fields(value))
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return tuple((name, every_field(getattr(value, name))) for name in value._fields)
    if isinstance(value, tuple | list):
        return tuple(every_field(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, every_field(v)) for k, v in value.items()))
    return value


def unset(value: Any) -> list[str]:
    """The fields of a dataclass left at their default (or None): a generator that sets every
    field leaves none, so a field the codec drops cannot come back equal."""
    left = []
    for f in fields(value):
        current = getattr(value, f.name)
        default = f.default_factory() if callable(f.default_factory) else f.default
        if current is None or current == default:
            left.append(f.name)
    return left


@settings(max_examples=60, deadline=None)
@given(findings(ANY_TEXT))
def test_a_finding_with_every_field_set_comes_back_equal(found: Finding) -> None:
    assert unset(found) == [] and unset(found.pod_sample) == []
    again = codec.loads(Finding, codec.dumps(found))
    assert again == found and every_field(again) == every_field(found)


@settings(max_examples=40, deadline=None)
@given(announcements(ANY_TEXT), st.builds(ScanError, cluster=ANY_TEXT, stage=ANY_TEXT, message=ANY_TEXT))
def test_announcements_and_scan_errors_come_back_equal(item: Announcement, error: ScanError) -> None:
    assert every_field(codec.loads(Announcement, codec.dumps(item))) == every_field(item)
    assert codec.loads(ScanError, codec.dumps(error)) == error


@settings(max_examples=30, deadline=None)
@given(records(SAFE_TEXT))
def test_a_state_record_comes_back_from_its_item_equal(record: Record) -> None:
    """The state table's item of a problem (as DynamoDB gives it back) is the record it was."""
    assert unset(record) == []
    item = json.loads(json.dumps(_item(record)))  # what the wire carries
    again = _record(plain(item))
    assert every_field(again) == every_field(record)


def test_every_field_of_a_finding_is_written() -> None:
    """A field the codec left out would make this fail (and the generated round trips)."""
    pod = PodInfo("shop", "api-1", "uid", datetime(2026, 11, 27, tzinfo=UTC), "n", "10.0.0.1", "10.0.0.2",
                  {"app": "api"}, "ReplicaSet", "api-1", "default", ("regcred",))
    found = replace(ecr_finding(), pod_sample=pod, verdicts=(("ecr_image_exists", "confirmed"),))
    written = codec.encode(found)
    assert set(written) == {f.name for f in fields(Finding)}
    assert set(written["pod_sample"]) == {f.name for f in fields(PodInfo)}
    assert written["verdicts"] == [["ecr_image_exists", "confirmed"]]
    dropped = {k: v for k, v in written.items() if k != "pod_sample"}
    assert every_field(codec.decode(Finding, dropped)) != every_field(found)

