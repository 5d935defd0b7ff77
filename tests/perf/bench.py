"""Scan large sandbox worlds and check the scan's budgets (`make bench`; not part of `make test`).

For each scenario: start the sandbox and seed it (not timed), then run the real dry-run scan
(bootstrap + run_scan) in a child process, scan_child.py, `--repeat` times. Recorded: the best
wall time (the machine may be shared: contention only adds time), the peak RSS of the child,
Kubernetes requests (counted by the simulated API servers and by the scan), AWS requests by API
(counted in the child with a boto3 `before-call` handler) and findings. The handler's cold import
is timed with `python -X importtime` in fresh processes, best of five.
Prints one table and the budgets (PASS/FAIL, exit status 1 if any fails), compares with the
previous bench/results.json if there is one, then writes it anew.

`--profile SCENARIO` instead runs that scenario's scan once under cProfile and prints the top.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from world import Shape, build, kube_requests

from pullmedic_sandbox.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).resolve().parent / "scan_child.py"
HANDLER = REPO / "functions" / "scan" / "app.py"
RESULTS = REPO / "bench" / "results.json"
PAGE_SIZE = 500
SHAPES = (
    Shape("1k", pods=1_000, failing=100),
    Shape("10k", pods=10_000, failing=1_000),
    Shape("50k", pods=50_000, failing=5_000),
    Shape("50x1k", pods=1_000, failing=100, clusters=50),
)
WALL_BUDGET_S, RSS_BUDGET_MB, IMPORT_BUDGET_MS = 5.0, 256, 600
BUDGET_SHAPE = "10k"
# What a deployed function has when its module is imported (tracing is on in template.yaml).
LAMBDA_ENV = {"AWS_LAMBDA_FUNCTION_NAME": "pullmedic-scan", "AWS_REGION": "us-east-2",
              "POWERTOOLS_SERVICE_NAME": "pullmedic", "POWERTOOLS_METRICS_NAMESPACE": "pullmedic"}
_IMPORT_LINE = re.compile(r"import time:\s+\d+ \|\s+(\d+) \| (\s*)(\S+)")


@dataclass(frozen=True)
class Budget:
    """One budget line."""

    name: str
    ok: bool
    detail: str


def main() -> None:
    """Run every scenario, print the table and budgets, write bench/results.json."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="scans per scenario (best wall time)")
    parser.add_argument("--profile", choices=[s.name for s in SHAPES],
                        help="profile one scenario's scan instead")
    args = parser.parse_args()
    if args.profile:
        profile(next(s for s in SHAPES if s.name == args.profile))
        return
    records = [run_scenario(shape, args.repeat) for shape in SHAPES]
    imports = cold_import()
    print_table(records)
    print(f"\nhandler cold import (python -X importtime {HANDLER.relative_to(REPO)}, fresh process, "
          f"Lambda environment): best {imports['best_ms']:.0f} ms, median {imports['median_ms']:.0f} ms "
          f"of {', '.join(f'{ms:.0f}' for ms in imports['runs_ms'])} ms; heaviest in the best: "
          + ", ".join(f"{name} {ms:.0f} ms" for name, ms in imports["heaviest"]))
    budgets = check(records, imports)
    print("\nbudgets")
    for budget in budgets:
        print(f"  {'PASS' if budget.ok else 'FAIL'}  {budget.name}: {budget.detail}")
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else None
    if previous:
        print_changes(previous, records)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"), "nproc": os.cpu_count(),
        "python": sys.version.split()[0], "page_size": PAGE_SIZE, "repeat": args.repeat,
        "scenarios": {r["scenario"]: r for r in records}, "cold_import": imports,
        "budgets": [{"name": b.name, "ok": b.ok, "detail": b.detail} for b in budgets],
    }, indent=2) + "\n")
    print(f"\nwrote {RESULTS.relative_to(REPO)}")
    sys.exit(0 if all(b.ok for b in budgets) else 1)


def run_scenario(shape: Shape, repeat: int) -> dict[str, Any]:
    """Seed `shape` into a fresh sandbox and scan it `repeat` times in child processes."""
    print(f"{shape.name}: seeding {shape.clusters} x {shape.pods} pods ...", file=sys.stderr, flush=True)
    box = Sandbox()
    box.start()
    try:
        box.load(build(shape))
        runs = []
        for _ in range(repeat):
            for cluster in box.clusters.values():
                cluster.requests.clear()
            child = _scan(box)
            child["kube_per_cluster"] = {name: len(c.requests) for name, c in box.clusters.items()}
            runs.append(child)
            print(f"{shape.name}: scanned in {child['wall_s']:.2f} s", file=sys.stderr, flush=True)
    finally:
        box.stop()
    last = runs[-1]
    aws = Counter(last["aws_calls"])
    return {
        "scenario": shape.name, "clusters": shape.clusters, "pods": shape.pods * shape.clusters,
        "failing_pods": last["failing_pods"], "workloads": len(shape.failing_workloads) * shape.clusters,
        "nodes_per_cluster": shape.nodes, "instances": shape.instances,
        "wall_s": min(r["wall_s"] for r in runs), "wall_runs_s": [round(r["wall_s"], 3) for r in runs],
        "peak_rss_mb": round(max(r["peak_rss_kb"] for r in runs) / 1024, 1),
        "kube_requests": sum(last["kube_per_cluster"].values()),
        "kube_per_cluster": last["kube_per_cluster"],
        "kube_stable": all(r["kube_per_cluster"] == last["kube_per_cluster"] for r in runs),
        "kube_agrees": all(r["kube_per_cluster"] == r["kube_requests"] for r in runs),
        "aws_requests": sum(aws.values()), "aws_calls": dict(aws.most_common()),
        "aws_stable": all(r["aws_calls"] == last["aws_calls"] for r in runs),
        "findings": last["findings"], "by_cause": last["by_cause"], "errors": last["errors"],
        "expected_kube_per_cluster": kube_requests(shape, PAGE_SIZE),
        "aws_resources": shape.aws_resources,
    }


def _scan(box: Sandbox, *extra: str) -> dict[str, Any]:
    """One scan in a child process with the sandbox's environment; its JSON report."""
    env = {key: value for key, value in os.environ.items() if key != "AWS_PROFILE"}
    env.update(box.env(), PULLMEDIC_PAGE_SIZE=str(PAGE_SIZE))
    done = subprocess.run([sys.executable, str(CHILD), *extra], env=env, capture_output=True,
                          text=True, timeout=900, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"scan failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def profile(shape: Shape) -> None:
    """Scan `shape` once under cProfile; print the top functions by cumulative and own time."""
    box = Sandbox()
    box.start()
    try:
        box.load(build(shape))
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "scan.prof"
            report = _scan(box, "--profile", str(path))
            print(f"{shape.name}: {report['wall_s']:.2f} s under the profiler")
            stats = pstats.Stats(str(path))
            stats.sort_stats("cumulative").print_stats(30)
            stats.sort_stats("tottime").print_stats(20)
    finally:
        box.stop()


def cold_import(runs: int = 5) -> dict[str, Any]:
    """Import time of the handler module in `runs` fresh processes (startup imports excluded).

    The best run counts, as for the scans' wall time: the machine is shared, and contention
    only ever adds time.
    """
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", ""), **LAMBDA_ENV}

    def top_level(*argv: str) -> dict[str, float]:
        done = subprocess.run([sys.executable, "-X", "importtime", *argv], env=env, cwd=REPO,
                              capture_output=True, text=True, timeout=120, check=True)
        return {m[3]: int(m[1]) / 1000 for line in done.stderr.splitlines()
                if (m := _IMPORT_LINE.match(line)) and not m[2]}

    startup = top_level("-c", "pass")
    measured = []
    for _ in range(runs):
        modules = {name: ms for name, ms in top_level(str(HANDLER)).items() if name not in startup}
        measured.append((sum(modules.values()), modules))
    best, modules = min(measured, key=lambda run: run[0])
    heaviest = sorted(modules.items(), key=lambda item: -item[1])[:4]
    return {"best_ms": round(best, 1), "median_ms": round(statistics.median(t for t, _ in measured), 1),
            "runs_ms": [round(t, 1) for t, _ in measured],
            "heaviest": [(name, round(ms, 1)) for name, ms in heaviest]}


def check(records: list[dict[str, Any]], imports: dict[str, Any]) -> list[Budget]:
    """Every budget, in the order printed."""
    budgets = []
    for record in records:
        parts = record["expected_kube_per_cluster"]
        formula = parts["pods"] + parts["events"]
        constant = sum(parts.values()) - formula
        counts = set(record["kube_per_cluster"].values())
        budgets.append(Budget(
            f"k8s requests per cluster, {record['scenario']}",
            counts == {formula + constant} and record["kube_stable"] and record["kube_agrees"],
            f"{'/'.join(map(str, sorted(counts)))} per cluster; expected {formula} pages "
            f"(ceil(pods/{PAGE_SIZE}) + ceil(events/{PAGE_SIZE})) + {constant} constant ("
            f"ReplicaSet list {parts['replicasets']}, node list {parts['nodes']}, "
            f"service-account reads {parts['service_accounts']})"
            + ("" if record["kube_stable"] else "; counts differ between repeats")
            + ("" if record["kube_agrees"] else "; the scan counted otherwise than the servers")))
    single = [r for r in records if r["clusters"] == 1]
    reference = single[0]
    for record in single[1:]:
        diff = {api: (reference["aws_calls"].get(api, 0), record["aws_calls"].get(api, 0))
                for api in set(reference["aws_calls"]) | set(record["aws_calls"])
                if reference["aws_calls"].get(api, 0) != record["aws_calls"].get(api, 0)}
        budgets.append(Budget(
            f"AWS requests independent of failing pods, {reference['scenario']} -> {record['scenario']}",
            not diff and record["aws_stable"],
            f"{reference['failing_pods']} -> {record['failing_pods']} failing pods, same repositories, "
            f"roles and VPC: {reference['aws_requests']} -> {record['aws_requests']} requests ("
            + ", ".join(f"{service} {n}" for service, n in _by_service(record["aws_calls"]).items())
            + "; distinct: " + ", ".join(f"{what} {n}" for what, n in record["aws_resources"].items()) + ")"
            + (f"; differ: {diff}" if diff else "")))
    for record in (r for r in records if r["clusters"] > 1):
        same = next((r for r in single if r["pods"] == record["pods"] // record["clusters"]), reference)
        bound = same["aws_requests"] * record["clusters"]
        budgets.append(Budget(
            f"AWS requests at most linear in clusters, {record['scenario']}",
            record["aws_requests"] <= bound and record["aws_stable"],
            f"{record['aws_requests']} <= {record['clusters']} x {same['aws_requests']} "
            f"({same['scenario']}) = {bound}"))
    target = next(r for r in records if r["scenario"] == BUDGET_SHAPE)
    budgets.append(Budget(f"wall time, {BUDGET_SHAPE}", target["wall_s"] < WALL_BUDGET_S,
                          f"{target['wall_s']:.2f} s < {WALL_BUDGET_S} s (best of "
                          f"{', '.join(f'{s:.2f}' for s in target['wall_runs_s'])} s)"))
    budgets.append(Budget(f"peak RSS, {BUDGET_SHAPE}", target["peak_rss_mb"] < RSS_BUDGET_MB,
                          f"{target['peak_rss_mb']:.0f} MB < {RSS_BUDGET_MB} MB"))
    budgets.append(Budget("handler cold import", imports["best_ms"] < IMPORT_BUDGET_MS,
                          f"{imports['best_ms']:.0f} ms < {IMPORT_BUDGET_MS} ms (best of "
                          f"{', '.join(f'{ms:.0f}' for ms in imports['runs_ms'])} ms)"))
    budgets += [Budget(f"no scan errors, {r['scenario']}", False, "; ".join(r["errors"]))
                for r in records if r["errors"]]
    return budgets


def _by_service(calls: dict[str, int]) -> dict[str, int]:
    totals: Counter[str] = Counter()
    for api, n in calls.items():
        totals[api.split(":")[0]] += n
    return dict(totals.most_common())


def print_table(records: list[dict[str, Any]]) -> None:
    """One row per scenario."""
    header = ("scenario", "pods", "failing pods", "workloads", "wall s", "peak RSS MB",
              "k8s requests", "AWS requests (top APIs)", "findings")
    rows = [header] + [(
        r["scenario"], f"{r['pods']:,}", f"{r['failing_pods']:,}", f"{r['workloads']:,}",
        f"{r['wall_s']:.2f}", f"{r['peak_rss_mb']:.0f}", f"{r['kube_requests']:,}",
        f"{r['aws_requests']} (" + ", ".join(f"{api} {n}" for api, n in list(r["aws_calls"].items())[:3])
        + ")", f"{r['findings']:,}") for r in records]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    print()
    for number, row in enumerate(rows):
        print("  ".join(cell.ljust(w) if i in (0, 7) else cell.rjust(w)
                        for i, (cell, w) in enumerate(zip(row, widths, strict=True))))
        if number == 0:
            print("  ".join("-" * w for w in widths))


def print_changes(previous: dict[str, Any], records: list[dict[str, Any]]) -> None:
    """Wall time and RSS against the previous results, per scenario both runs have."""
    before = previous.get("scenarios", {})
    lines = []
    for record in records:
        old = before.get(record["scenario"])
        if old:
            lines.append(f"  {record['scenario']}: wall {old['wall_s']:.2f} -> {record['wall_s']:.2f} s "
                         f"({_percent(old['wall_s'], record['wall_s'])}), peak RSS "
                         f"{old['peak_rss_mb']:.0f} -> {record['peak_rss_mb']:.0f} MB "
                         f"({_percent(old['peak_rss_mb'], record['peak_rss_mb'])})")
    if lines:
        print(f"\nchange since {previous.get('timestamp', 'the previous run')}")
        print("\n".join(lines))


def _percent(old: float, new: float) -> str:
    return f"{(new - old) / old * 100:+.0f} %" if old else "n/a"


if __name__ == "__main__":
    main()
