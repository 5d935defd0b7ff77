"""The silence event (console) is validated field by field, like the scan events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pullmedic.app.event import InvalidEvent, SilenceOrder, parse_event

EVENTS = Path(__file__).resolve().parents[2] / "events"


def test_console_silence_event() -> None:
    order = parse_event(json.loads((EVENTS / "silence.json").read_text()))
    assert order == SilenceOrder("workload", "demo/default/Deployment/nginx", 24.0,
                                 "nginxx is being renamed; fixed in the next release")


@pytest.mark.parametrize(("body", "expected"), [
    ({"fingerprint": "0ff9c55240fe5160"}, SilenceOrder("fingerprint", "0ff9c55240fe5160", 24.0, "")),
    ({"namespace": "prod/shop", "hours": 1.5, "reason": " deploy "},
     SilenceOrder("namespace", "prod/shop", 1.5, "deploy")),
    ({"workload": "prod/shop/CronJob/report", "hours": 2160},
     SilenceOrder("workload", "prod/shop/CronJob/report", 2160.0, "")),
])
def test_valid_silences(body, expected) -> None:
    assert parse_event({"silence": body}) == expected


@pytest.mark.parametrize(("event", "messages"), [
    ({"silence": {}}, ["needs exactly one of 'silence.fingerprint'"]),
    ({"silence": {"fingerprint": "0ff9c55240fe5160", "namespace": "prod/shop"}}, ["(got 2)"]),
    ({"silence": {"fingerprint": "nginx"}}, ["'silence.fingerprint' must be 16 hex digits"]),
    ({"silence": {"workload": "prod/shop/nginx"}},
     ["'silence.workload' must be cluster/namespace/Kind/name, not 'prod/shop/nginx'"]),
    ({"silence": {"namespace": "shop"}}, ["'silence.namespace' must be cluster/namespace"]),
    ({"silence": {"namespace": "prod/shop", "hours": 0}}, ["'silence.hours' must be a number"]),
    ({"silence": {"namespace": "prod/shop", "hours": "24"}}, ["'silence.hours' must be a number"]),
    ({"silence": {"namespace": "prod/shop", "hours": True}}, ["'silence.hours' must be a number"]),
    ({"silence": {"namespace": "prod/shop", "hours": 9999}}, ["at most 2160"]),
    ({"silence": {"namespace": "prod/shop", "reason": 3}}, ["'silence.reason' must be text"]),
    ({"silence": "prod/shop"}, ["'silence' must be an object"]),
    ({"silence": {"namespace": "prod/shop"}, "dry_run": True}, ["unknown field 'dry_run' next to"]),
    ({"silence": {"namespace": "prod/shop", "hour": 2}}, ["unknown field 'silence.hour'"]),
])
def test_bad_silence_names_each_field(event, messages) -> None:
    with pytest.raises(InvalidEvent) as caught:
        parse_event(event)
    for message in messages:
        assert message in str(caught.value)


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(InvalidEvent) as caught:
        parse_event({"silence": {"workload": "x", "hours": -1, "reason": 5, "until": "friday"}})
    assert len(caught.value.problems) == 4
