"""The real Lambda handler against the sandbox: findings, SNS message, summary, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pullmedic.announcing.render import load_schema
from pullmedic_sandbox.handler import invoke, load_handler

EVENTS = Path(__file__).resolve().parents[2] / "events"


@pytest.fixture(scope="module")
def handler() -> Any:
    return load_handler()


def scheduled() -> dict[str, Any]:
    return json.loads((EVENTS / "scheduled.json").read_text())


def keyed(findings: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(f["workload"], f["container"]): f for f in findings}


def test_reference_cases_named_and_alert_read_back_through_sqs(world, sandbox, handler) -> None:
    scenario = world("reference-cases")
    summary = invoke(handler, scheduled())

    assert summary["clusters_scanned"] == ["demo"] and summary["errors"] == []
    found = {(f["workload"], f["image"] if f["container_type"] != "sandbox" else f["container"]):
             f["cause"] for f in summary["findings"]}
    expected = {(e["workload"], e.get("image", e.get("container"))): e["cause"]
                for e in scenario.expect}
    assert found == expected
    nginx = keyed(summary["findings"])[("Deployment/nginx", "nginx")]
    assert nginx["pod_count"] == 2 and nginx["alternatives"] == ["auth_failed"]
    assert "pull access denied for nginxx" in nginx["message"]

    (envelope,) = sandbox.messages()
    assert envelope["Type"] == "Notification" and len(envelope["Subject"]) < 100
    assert envelope["Subject"].isascii()
    document = json.loads(envelope["Message"])
    assert document["schema"] == "pullmedic.findings/v3"
    jsonschema.validate(document, load_schema("findings"))
    jsonschema.validate(summary, load_schema("summary"))
    assert {(f["account"], f["region"]) for f in document["findings"]} == {("123456789012", "us-east-2")}
    assert {f["cause"] for f in document["findings"]} == set(expected.values())
    attributes = {k: v["Value"] for k, v in envelope["MessageAttributes"].items()}
    assert json.loads(attributes["cluster"]) == ["demo"]
    assert attributes["severity"] == "high"
    assert "rate_limited" in json.loads(attributes["causes"])


def test_email_body_says_what_where_why_and_fix(world, sandbox, handler) -> None:
    world("reference-cases")
    invoke(handler, scheduled())
    (published,) = sandbox.published()
    body = published["message"]["email"]
    assert published["message"]["default"] == body
    assert "demo/default/Deployment/nginx" in body
    assert "Image:     nginxx:latest (container nginx)" in body
    assert "\n#2 NEW high image_not_found: demo/default/Deployment/nginx\n" in body
    assert "EKS cluster demo: https://console.aws.amazon.com/eks/home?region=us-east-2#/clusters/demo" in body
    assert body.count("$ pullmedic silence") == 5
    by_cause = {f["cause"]: f for f in json.loads(published["message"]["sqs"])["findings"]}
    assert {"check": "rate_limit_cache", "status": "unavailable", "resources": [],  # no such API here
            "text": "could not call ecr:DescribePullThroughCacheRules: not supported by this endpoint "
                    "(HTTP 500)"} in by_cause["rate_limited"]["evidence_items"]
    assert ("pull_secrets", "confirmed") in {(e["check"], e["status"])
                                             for e in by_cause["auth_failed"]["evidence_items"]}
    assert "Fix:" in body and "toomanyrequests" in body


def test_healthy_cluster_publishes_nothing(world, sandbox, handler) -> None:
    world("healthy")
    summary = invoke(handler, scheduled())
    assert summary["findings"] == [] and summary["clusters_scanned"] == ["healthy"]
    assert sandbox.messages() == []


def test_dry_run_on_demand_event_does_not_publish(world, sandbox, handler) -> None:
    world("reference-cases")
    summary = invoke(handler, {"clusters": ["demo"], "namespaces": ["shop"], "dry_run": True})
    assert [f["workload"] for f in summary["findings"]] == ["Deployment/storefront"]
    assert summary["published_message_id"] is None and sandbox.messages() == []


def test_bad_event_is_a_clear_error(world, handler) -> None:
    world("reference-cases")
    with pytest.raises(ValueError, match="'dry_run' must be true or false"):
        invoke(handler, json.loads((EVENTS / "bad-input.json").read_text()))


def test_unreadable_cluster_is_reported_and_others_still_scanned(world, sandbox, handler) -> None:
    world("access-denied")
    summary = invoke(handler, scheduled())
    assert summary["clusters_scanned"] == ["open"]
    (error,) = summary["errors"]
    assert error["cluster"] == "locked" and "access entry" in error["message"]
    assert [f["cluster"] for f in summary["findings"]] == ["open"]
    assert len(sandbox.messages()) == 1
