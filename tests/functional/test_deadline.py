"""A scan deadline: slow clusters become scan errors, and what the others found is announced in time."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_alert_lifecycle import FORBIDDEN, NOT_FOUND, pod, replicaset

from pullmedic_sandbox.handler import LambdaContext, load_handler

SLOW = ("slow-a", "slow-b", "slow-c")
BUDGET_S = 12.0  # the invocation's remaining time; 30 s (or half) is kept for announcing
DELAY_S = 5.0  # every request to a slow cluster waits this long


class ShortContext(LambdaContext):
    """An invocation with little time left."""

    def get_remaining_time_in_millis(self) -> int:
        return int(BUDGET_S * 1000)


@pytest.fixture
def four_clusters(tmp_path: Path) -> Path:
    """prod: worker is refused (found after the first scan); slow-*: api cannot find its tag."""
    clusters = [{"name": "prod", "objects": []}] + [
        {"name": name, "objects": [pod("api", "shop", "docker.io/substratusai/controller-manager:"
                                       "v0.0.2-alpha", NOT_FOUND), replicaset("api", "shop")]}
        for name in SLOW]
    path = tmp_path / "deadline.yaml"
    path.write_text(yaml.safe_dump({"name": "deadline", "region": "us-east-2", "clusters": clusters}))
    return path


def test_slow_clusters_time_out_and_the_rest_is_announced(world, sandbox, state_table, four_clusters) -> None:
    world(four_clusters)
    state_table()
    handler = load_handler()
    scheduled = {"source": "aws.events", "detail-type": "Scheduled Event"}
    first: dict[str, Any] = handler.lambda_handler(scheduled, LambdaContext())
    assert first["announced"] == {"new": 3}
    sandbox.messages()
    sandbox.clusters["prod"].load([pod("worker", "ops", "ghcr.io/nloui/paperless-mcp:latest", FORBIDDEN),
                                   replicaset("worker", "ops")])
    for name in SLOW:  # each of them would take 3 x 5 s (describe is quick, the lists are slow)
        sandbox.clusters[name].delay = DELAY_S
    started = time.monotonic()
    try:
        summary = handler.lambda_handler(scheduled, ShortContext())
        took = time.monotonic() - started
    finally:
        for name in SLOW:
            sandbox.clusters[name].delay = 0.0
    assert took < BUDGET_S, f"the scan took {took:.1f} s of its {BUDGET_S} s"
    assert {e["cluster"] for e in summary["errors"]} == set(SLOW)
    assert all("time ran out" in e["message"] for e in summary["errors"])
    assert summary["resolved"] == []  # their open problems stay open
    assert summary["announced"] == {"new": 1}
    (message,) = sandbox.messages()
    doc = json.loads(message["Message"])
    assert [f["workload"] for f in doc["findings"]] == ["Deployment/worker"]
    assert {e["cluster"] for e in doc["errors"]} == set(SLOW)
    print(f"\nslow-cluster scan: {took:.1f} s against a {BUDGET_S:.0f} s invocation "
          f"({BUDGET_S / 2:.0f} s to read clusters)")
