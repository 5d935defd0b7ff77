"""A partial read failure is a scan error, never a false "resolved" or a renamed problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_alert_lifecycle import FORBIDDEN, NOT_FOUND, announced, pod, records

from pullmedic_sandbox.handler import invoke, load_handler

SCHEDULED = {"source": "aws.events", "detail-type": "Scheduled Event"}


def owned_by(name: str, namespace: str, owner: dict[str, Any] | None) -> dict[str, Any]:
    """A ReplicaSet named like `pod()`'s owner, controlled by `owner` (None: a bare ReplicaSet)."""
    meta: dict[str, Any] = {"name": f"{name}-7f9c5d", "namespace": namespace,
                            "labels": {"app": name, "pod-template-hash": "7f9c5d"}}
    if owner:
        meta["ownerReferences"] = [{**owner, "controller": True, "uid": f"o-{name}"}]
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta}


@pytest.fixture
def rollout_and_bare_rs(tmp_path: Path) -> Path:
    """web: a pod of an Argo Rollout's ReplicaSet; batch: a pod of a ReplicaSet with no owner."""
    objects = [pod("web", "shop", "docker.io/substratusai/controller-manager:v0.0.2-alpha", NOT_FOUND),
               owned_by("web", "shop", {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                                        "name": "web"}),
               pod("batch", "ops", "ghcr.io/nloui/paperless-mcp:latest", FORBIDDEN),
               owned_by("batch", "ops", None)]
    path = tmp_path / "incomplete.yaml"
    path.write_text(yaml.safe_dump({"name": "incomplete", "region": "us-east-2",
                                    "clusters": [{"name": "prod", "objects": objects}]}))
    return path


def test_a_failed_replicaset_list_resolves_nothing_and_renames_nothing(
        world, sandbox, state_table, rollout_and_bare_rs) -> None:
    world(rollout_and_bare_rs)
    table = state_table()
    handler = load_handler()
    first = invoke(handler, SCHEDULED)
    assert sorted(f["workload"] for f in first["findings"]) == ["ReplicaSet/batch-7f9c5d", "Rollout/web"]
    before = records(sandbox, table)
    sandbox.messages()

    sandbox.clusters["prod"].inject(500, path_contains="/replicasets")  # after the client's retries too
    broken = invoke(handler, SCHEDULED)
    assert [(e["cluster"], e["stage"]) for e in broken["errors"]] == [("prod", "replicasets")]
    assert "workloads are named from pod names" in broken["errors"][0]["message"]
    assert sorted(f["workload"] for f in broken["findings"]) == ["ReplicaSet/batch-7f9c5d", "Rollout/web"]
    assert broken["resolved"] == [] and announced(sandbox) == [[]]  # only the scan error is told
    assert records(sandbox, table).keys() == before.keys()

    sandbox.clusters["prod"].clear_faults()
    healed = invoke(handler, SCHEDULED)
    assert healed["errors"] == [] and healed["announced"] == {} and announced(sandbox) == []
    after = records(sandbox, table)
    assert {k: v["first_seen"] for k, v in after.items()} == {k: v["first_seen"] for k, v in before.items()}
    assert json.loads(after["Rollout/web"]["findings"]["S"])[0]["workload"]["inferred"] is False
