"""The handler's embedded-metric-format lines: per service, per cluster and cause, per event."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pullmedic_sandbox.handler import invoke, load_handler

EVENTS = Path(__file__).resolve().parents[2] / "events"


def emf(out: str) -> list[dict[str, Any]]:
    """The EMF objects printed, each as {dimensions..., metric: value} with its dimension names."""
    found = []
    for line in out.splitlines():
        if line.startswith('{"_aws"'):
            blob = json.loads(line)
            (directive,) = blob["_aws"]["CloudWatchMetrics"]
            found.append({"dimensions": directive["Dimensions"][0], **blob})
    return found


def test_scan_metrics_by_cluster_cause_and_event(world, capsys) -> None:
    world("reference-cases")
    invoke(load_handler(), json.loads((EVENTS / "scheduled.json").read_text()))
    lines = emf(capsys.readouterr().out)
    (service,) = [m for m in lines if m["dimensions"] == ["service"]]
    assert service["FailingWorkloads"] == [5.0] and service["FailingPods"] == [6.0]
    assert service["ScanErrors"] == [0.0] and service["ScanDuration"][0] > 0
    assert service["KubernetesRequests"][0] >= 3
    by_cause = {(m["cluster"], m["cause"]): (m["FailingWorkloads"], m["FailingPods"])
                for m in lines if m["dimensions"] == ["cluster", "cause", "service"]}
    assert by_cause[("demo", "image_not_found")] == ([1.0], [2.0]) and len(by_cause) == 5
    by_event = {m["event"]: m["AnnouncedEvents"] for m in lines if m["dimensions"] == ["event", "service"]}
    assert by_event == {"new": [5.0], "changed": [0.0], "reminder": [0.0], "resolved": [0.0]}
    assert all(m["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "pullmedic" for m in lines)
