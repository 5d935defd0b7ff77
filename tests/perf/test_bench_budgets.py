"""`make bench`'s machine-independent budgets on small worlds, so that they cannot rot.

The same code as the bench (bench.run_all, bench.check) on worlds small enough for `make test`:
one scan each, in a child process, localhost only. Wall times are left to `make bench`; what is
checked here does not depend on the machine: Kubernetes requests = pages (+ a constant), AWS
requests flat in failing pods and at most linear in clusters, registry requests = one HEAD per
distinct public image + one token request per registry (counted at the sandbox's fronts), peak
RSS under the budget.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

from world import Shape

from bench import Latency, check, code_hash, run_all, staleness

# Like the bench's 1k -> 10k: ten times the failing pods on the same repositories, roles and
# VPC, and the larger world has more nodes than instances (node IPs that are no instance's).
SMALL = Shape("small", pods=100, failing=20, workloads=20, repositories=5, max_instances=4)
LARGE = replace(SMALL, name="large", pods=1_000, failing=200)
MANY = replace(SMALL, name="small-x3", clusters=3)


def test_request_and_memory_budgets_hold_on_small_worlds() -> None:
    assert SMALL.nodes <= SMALL.max_instances < LARGE.nodes
    records = run_all([SMALL, LARGE, MANY], {"localhost": Latency()}, repeat=1, baselines=False)
    budgets = check(records, None, walls=False)

    rows = records["localhost"]
    assert [r["failing_pods"] for r in rows] == [20, 200, 60]
    assert {b.name for b in budgets} >= {
        "k8s requests per cluster, large", "AWS requests independent of failing pods, small -> large",
        "AWS requests at most linear in clusters, small-x3", "peak RSS, every world and mode",
        "registry requests, small", "registry requests, large", "registry requests, small-x3"}
    # many pods share a few public images on three registries: the same requests in every world
    assert {r["probed_pods"] for r in rows} == {5, 50, 15}
    assert [r["registry_requests"] for r in rows] == [
        {"manifests": 5, "tokens": 3, "challenges": 0}] * 3
    failed = [f"{b.name}: {b.detail}" for b in budgets if not b.ok]
    assert not failed, "\n".join(failed)


def test_results_are_stale_when_measured_code_changes_not_when_they_are_committed(tmp_path: Path) -> None:
    def git(*argv: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *argv], cwd=tmp_path,
                       check=True, capture_output=True)

    (tmp_path / "layers").mkdir()
    (tmp_path / "bench").mkdir()
    (tmp_path / "layers" / "scan.py").write_text("pages = 1\n")
    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "code")
    measured = code_hash(tmp_path)
    results = {"code": measured, "commit": "any"}
    (tmp_path / "bench" / "results.json").write_text(json.dumps(results))
    git("add", ".")
    git("commit", "-qm", "its figures")  # committed with the code: still that code's figures

    assert code_hash(tmp_path) == measured and staleness(results, measured) == ""
    (tmp_path / "layers" / "scan.py").write_text("pages = 2\n")
    changed = code_hash(tmp_path)
    assert changed != measured
    assert "not this code's" in staleness(results, changed)
    assert "not this code's" in staleness({"commit": "d55a092"}, measured)  # made before hashes
