"""The handler accepts the schedule and console events, and names every wrong field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pullmedic.app.event import InvalidEvent, parse_event

EVENTS = Path(__file__).resolve().parents[2] / "events"


def test_scheduled_event_uses_deployment_settings() -> None:
    order = parse_event(json.loads((EVENTS / "scheduled.json").read_text()))
    assert (order.source, order.clusters, order.namespaces, order.dry_run) == (
        "schedule", None, None, False)


def test_on_demand_event() -> None:
    order = parse_event(json.loads((EVENTS / "on-demand.json").read_text()))
    assert order.clusters == ("demo",) and order.namespaces == frozenset({"default"})
    assert order.dry_run is True


def test_empty_event_scans_defaults() -> None:
    assert parse_event({}).clusters is None


def test_bad_event_names_each_field() -> None:
    with pytest.raises(InvalidEvent) as caught:
        parse_event(json.loads((EVENTS / "bad-input.json").read_text()))
    text = str(caught.value)
    assert "'clusters' must be a list" in text
    assert "'dry_run' must be true or false" in text
    assert "unknown field 'namespace'" in text
    assert len(caught.value.problems) == 3


@pytest.mark.parametrize("event", [None, [], "scan", 3])
def test_non_object_event(event: object) -> None:
    with pytest.raises(InvalidEvent, match="must be a JSON object"):
        parse_event(event)


def test_blank_cluster_names_rejected() -> None:
    with pytest.raises(InvalidEvent, match="'clusters' must be a list of EKS cluster names"):
        parse_event({"clusters": ["prod", " "]})
