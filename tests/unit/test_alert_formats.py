"""Email text, JSON document, chat notification, subject and attributes of announcements."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jsonschema
import pytest

from pullmedic.causes import Cause
from pullmedic.chat import CHAT_SCHEMA, DESCRIPTION_MAX, THREAD_MAX, notification
from pullmedic.findings import fingerprint
from pullmedic.model import Finding, ScanError, Workload
from pullmedic.render import (
    DOCUMENT_SCHEMA,
    Announcement,
    attributes,
    document,
    finding_doc,
    finding_from_doc,
    silence_event,
    subject,
    text,
)

SINCE = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
VALIDATOR = jsonschema.Draft202012Validator


def finding(name: str = "api", cluster: str = "prod", cause: Cause = Cause.IMAGE_NOT_FOUND,
            namespace: str = "shop", message: str = "", severity: str = "high") -> Finding:
    image = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{name}:v9"
    return Finding(
        cluster=cluster, namespace=namespace, workload=Workload("Deployment", name), container=name,
        container_type="regular", image=image, cause=cause, rule_id="ecr_not_found",
        summary="The tag does not exist in the repository.", alternatives=(Cause.AUTH_FAILED,),
        message=message or f'Failed to pull image "{image}": rpc error: code = NotFound desc = not found',
        message_source="event", reasons=("ErrImagePull",), pods=(f"{name}-7f9c-a",), pod_count=3,
        nodes=("ip-10-0-1-10.ec2.internal",), severity=severity, confidence="confirmed",
        advice="Push the tag or fix the reference.",
        evidence=(f"confirmed [ecr_image_exists]: {name} has no tag v9; newest tags: v8, v7",),
        fix_commands=(f"kubectl -n {namespace} set image deployment/{name} {name}={image[:-2]}v8",),
        message_cause=Cause.AUTH_FAILED)


def validate(instance: object, schema: dict) -> None:
    VALIDATOR(schema, format_checker=VALIDATOR.FORMAT_CHECKER).validate(instance)


def test_schemas_are_valid_json_schemas() -> None:
    VALIDATOR.check_schema(DOCUMENT_SCHEMA)
    VALIDATOR.check_schema(CHAT_SCHEMA)


def test_document_carries_each_event_and_matches_its_schema() -> None:
    items = [Announcement("new", finding("api"), SINCE),
             Announcement("changed", finding("web", cause=Cause.AUTH_FAILED), SINCE, "image_not_found"),
             Announcement("resolved", finding("old"), SINCE)]
    doc = document(items, [ScanError("dev", "token", "cannot mint an EKS token")], ["prod"], 2)
    validate(doc, DOCUMENT_SCHEMA)
    assert doc["schema"] == "pullmedic.findings/v2" and doc["omitted_findings"] == 2
    assert [(f["event"], f["previous_cause"]) for f in doc["findings"]] == [
        ("new", None), ("changed", "image_not_found"), ("resolved", None)]
    assert doc["findings"][0]["first_seen"] == "2026-11-27T12:00:00Z"
    with pytest.raises(jsonschema.ValidationError):
        validate({**doc, "findings": [{**doc["findings"][0], "event": "open"}]}, DOCUMENT_SCHEMA)


def test_stored_document_gives_back_the_finding() -> None:
    original = finding()
    again = finding_from_doc(json.loads(json.dumps(finding_doc(original))))
    assert finding_doc(again) == finding_doc(original)
    assert fingerprint(again) == fingerprint(original)


def test_email_text_says_event_where_why_fix_and_how_to_silence() -> None:
    f = finding()
    body = text([Announcement("reminder", f, SINCE)], [], cli_flags="--table state --region us-east-1")
    fp = fingerprint(f)
    assert "1. REMINDER [HIGH] image_not_found - prod/shop/Deployment/api" in body
    assert "failing since 2026-11-27 12:00 UTC" in body
    assert "Evidence:  confirmed [ecr_image_exists]" in body and "Fix:       Push the tag" in body
    assert "     $ kubectl -n shop set image deployment/api" in body
    assert (f'$ pullmedic silence --fingerprint {fp} --hours 24 --reason "why" --table state '
            "--region us-east-1") in body
    assert silence_event(fp) in body
    assert json.loads(silence_event(fp)) == {"silence": {"fingerprint": fp, "hours": 24,
                                                         "reason": "why"}}
    resolved = text([Announcement("resolved", f, SINCE)], [])
    assert "RESOLVED [HIGH]" in resolved and "Silence" not in resolved and "Fix:" not in resolved


def test_subject_is_short_ascii_with_event_counts() -> None:
    items = [Announcement("new", finding(f"w{i}", cluster="prod-é", cause=cause))
             for i, cause in enumerate(Cause)] + [Announcement("resolved", finding("gone", cluster="prod-é"))]
    line = subject(items, [])
    assert line.isascii() and len(line) < 100 and "\n" not in line
    assert line.startswith(f"pullmedic: {len(Cause)} new, 1 resolved image pull problems in prod-?:")
    assert subject([], [ScanError("locked", "pods", "401")]) == (
        "pullmedic: 1 cluster(s) could not be scanned in locked")


def test_attributes_name_events_for_filter_policies() -> None:
    items = [Announcement("resolved", finding("a")),
             Announcement("new", finding("b", cluster="dev", cause=Cause.RATE_LIMITED, severity="medium"))]
    attrs = {k: v["StringValue"] for k, v in attributes(items, [ScanError("x", "pods", "no")]).items()}
    assert json.loads(attrs["event"]) == ["new", "resolved", "scan_error"]
    assert json.loads(attrs["cluster"]) == ["dev", "prod", "x"]
    assert json.loads(attrs["causes"]) == ["image_not_found", "rate_limited"]
    assert attrs["severity"] == "high"


@pytest.mark.parametrize("count", [1, 3, 60])
def test_chat_notification_matches_the_documented_format(count: int) -> None:
    items = [Announcement("new" if i % 2 else "resolved", finding(f"w{i}", message="x" * 2000))
             for i in range(count)]
    body = notification(items, [ScanError("dev", "token", "expired")], omitted=7)
    validate(body, CHAT_SCHEMA)
    assert (body["version"], body["source"], body["content"]["textType"]) == (
        "1.0", "custom", "client-markdown")
    description = body["content"]["description"]
    shown = description.count("`image_not_found` prod/shop/Deployment/")
    if shown < count:
        assert f"…and {count - shown + 7} more problem(s)" in description
    else:
        assert "…and 7 more problem(s)" in description
    assert "**Could not scan** dev (token)" in description


def test_chat_threads_by_workload_and_names_next_steps() -> None:
    one = notification([Announcement("new", finding())], [])
    assert one["metadata"]["threadId"] == "prod/shop/Deployment/api"
    assert one["content"]["title"] == "NEW: image_not_found in prod/shop/Deployment/api"
    assert one["content"]["nextSteps"] == list(finding().fix_commands)
    assert one["metadata"]["eventType"] == "pullmedic-new"
    two = notification([Announcement("new", finding("a")), Announcement("new", finding("b"))], [])
    assert two["metadata"]["threadId"] == "prod/shop/Deployment"
    long = notification([Announcement("new", finding("n" * 250))], [])
    assert len(long["metadata"]["threadId"]) <= THREAD_MAX
    validate(long, CHAT_SCHEMA)


def test_chat_rejects_what_the_service_would_drop() -> None:
    body = notification([Announcement("new", finding())], [])
    for broken in ({**body, "version": "2.0"}, {**body, "source": "pullmedic"},
                   {**body, "content": {**body["content"], "description": "d" * (DESCRIPTION_MAX + 1)}},
                   {**body, "content": {"title": "no description"}}):
        with pytest.raises(jsonschema.ValidationError):
            validate(broken, CHAT_SCHEMA)
