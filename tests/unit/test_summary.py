"""The typed scan summary: its JSON is schemas/summary.json, and every order has a handler."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import get_args, get_type_hints

import jsonschema
from factories import ecr_finding, finding

from pullmedic.announcing.announce import Delivery
from pullmedic.announcing.render import load_schema
from pullmedic.app.event import parse_event
from pullmedic.app.scan import ScanResult
from pullmedic.app.summary import ScanSummary
from pullmedic.core.causes import Cause
from pullmedic.core.model import Announcement, ScanError
from pullmedic.diagnosing.findings import fingerprint
from pullmedic_sandbox.handler import load_handler

SINCE = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
API = ecr_finding("api")
WEB = finding("web", cause=Cause.RATE_LIMITED, severity="medium", pod_count=4)
GONE = finding("gone")


def summary(message_ids: list[str]) -> ScanSummary:
    result = ScanResult(clusters=["prod"], findings=[API, WEB],
                        errors=[ScanError("dev", "token", "cannot mint an EKS token")])
    events = (Announcement("new", API, SINCE), Announcement("resolved", GONE, SINCE))
    return ScanSummary(result, events, Delivery(list(events), [], message_ids), silenced=1,
                       stateful=True, dry_run=False, duration_ms=812)


def test_the_summary_document_matches_its_schema_and_counts() -> None:
    doc = summary(["m-1"]).doc()
    jsonschema.validate(doc, load_schema("summary"))
    assert (doc["finding_count"], doc["failing_pods"], doc["by_cause"]) == (
        2, 7, {"image_not_found": 1, "rate_limited": 1})
    assert doc["announced"] == {"new": 1, "resolved": 1} and doc["published_message_id"] == "m-1"
    assert [(f["fingerprint"], f["event"]) for f in doc["findings"]] == [
        (fingerprint(API), "new"), (fingerprint(WEB), None)]
    assert [r["workload"] for r in doc["resolved"]] == ["Deployment/gone"]
    assert doc["errors"] == [{"cluster": "dev", "stage": "token", "message": "cannot mint an EKS token"}]


def test_nothing_counts_as_announced_until_a_message_is_published() -> None:
    assert summary([]).doc()["announced"] == {} and summary([]).announced == {}


def test_a_narrowed_summary_counts_only_the_findings_kept() -> None:
    whole = summary(["m-1"])
    doc = whole.narrowed([WEB]).doc()
    jsonschema.validate(doc, load_schema("summary"))
    assert (doc["finding_count"], doc["failing_pods"], doc["by_cause"]) == (1, 4, {"rate_limited": 1})
    assert [f["workload"] for f in doc["findings"]] == ["Deployment/web"]
    assert doc["errors"] == whole.doc()["errors"] and doc["resolved"] == whole.doc()["resolved"]


def test_the_fanout_step_returns_counts_only() -> None:
    counts = summary(["m-1"]).counts()
    assert set(counts) == {"finding_count", "failing_pods", "by_cause", "errors", "announced", "silenced",
                           "published_message_ids"}


def test_every_order_the_event_parser_returns_has_a_handler() -> None:
    orders = set(get_args(get_type_hints(parse_event)["return"]))
    assert set(load_handler().HANDLERS) == orders


def test_narrowing_by_cause_drops_the_same_containers_other_cause() -> None:
    """`pullmedic scan --cause rate_limited`: a container failing two ways shows only the cause
    asked for (they share a fingerprint; narrowing by fingerprint kept both)."""
    other = ecr_finding("api", cause=Cause.RATE_LIMITED)
    whole = ScanSummary(ScanResult(clusters=["prod"], findings=[API, other]), (), Delivery(), 0, False,
                        True, 5)
    doc = whole.narrowed([other]).doc()
    assert fingerprint(other) == fingerprint(API)
    assert [f["cause"] for f in doc["findings"]] == ["rate_limited"] and doc["finding_count"] == 1
