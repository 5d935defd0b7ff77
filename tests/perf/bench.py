"""Scan large sandbox worlds and check the scan's budgets (`make bench`; not part of `make test`).

For each world: start the sandbox and seed it (not timed); then, in each mode (localhost, and
latency: every answer of the simulated EKS APIs delayed by --kube-rtt-ms, of moto by
--aws-rtt-ms), run the real dry-run scan (bootstrap + run_scan) in a child process,
scan_child.py, `--repeat` times, and once each the floor and the peer (baselines.py: the same
lists only json.loads'ed; the kubernetes client's typed pod list plus one event list per
failing pod, sampled and extrapolated where said). Recorded: the best wall times (the machine
may be shared: contention only adds time), the peak RSS of the child, the sandbox's own CPU
seconds while the scan ran (its servers run in this process, not the scan's: near the wall
time, they would be the bottleneck), Kubernetes requests (counted by the simulated API servers
and by the scan), AWS requests by API (counted in the child with a boto3 `before-call` handler),
registry requests (counted by the sandbox's Docker Hub, Quay and GHCR fronts) and findings.
The handler's cold import is timed with `python -X importtime` in fresh processes, best of five.
Prints one table per mode and the budgets (PASS/FAIL, exit status 1 if any fails), says whether
the previous bench/results.json is from the current commit and compares with it, then writes
it anew (with the commit it was measured at).

`--profile SCENARIO` instead runs that scenario's scan once under cProfile and prints the top.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
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
MODES = ("localhost", "latency")
# A change here changes the figures (bench/ itself is not measured code).
MEASURED = ("layers", "functions", "tests/perf", "tests/sandbox", "pyproject.toml", "tests/constraints.txt")
RSS_BUDGET_MB, IMPORT_BUDGET_MS = 256, 600
FLOOR_RATIO = {"localhost": 1.5, "latency": 2.0}  # scan/floor at most, BUDGET_SHAPE
MANY_CLUSTERS_S = 10.0  # the 50 x 1k world with latency, one invocation
BUDGET_SHAPE, MANY_SHAPE = "10k", "50x1k"
# Lambda sizing (lambda_sizing): x86 on-demand prices (us-east-2), one vCPU at 1,769 MB.
LAMBDA_GB_S_USD, LAMBDA_REQUEST_USD, LAMBDA_VCPU_MB = 0.0000166667, 0.0000002, 1769
LAMBDA_SIZES_MB = (512, 768, 1024, 1280, 1536, 1769, 2048, 3008)
LAMBDA_HEADROOM, LAMBDA_SLOWDOWN = 2.0, 1.25  # memory over the peak RSS; duration over one vCPU's
# The peer: event lists timed per cluster (the rest extrapolated), and clusters of a many-cluster world.
PEER_SAMPLE = {"localhost": 200, "latency": 100}
PEER_CLUSTERS = 5
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


@dataclass(frozen=True)
class Latency:
    """Round trips added to every answer, in milliseconds (0, 0: localhost)."""

    kube_ms: float = 0.0
    aws_ms: float = 0.0


def main() -> None:
    """Run every world in every mode, print the tables and budgets, write bench/results.json."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="scans per world and mode (best wall time)")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated: localhost, latency")
    parser.add_argument("--kube-rtt-ms", type=float, default=50.0,
                        help="latency mode: delay of every Kubernetes answer")
    parser.add_argument("--aws-rtt-ms", type=float, default=20.0,
                        help="latency mode: delay of every AWS answer")
    parser.add_argument("--worlds", default=",".join(s.name for s in SHAPES),
                        help="comma-separated worlds to run (the budgets need them all)")
    parser.add_argument("--scan-only", action="store_true", help="no floor and peer (no ratio budgets)")
    parser.add_argument("--profile", choices=[s.name for s in SHAPES],
                        help="profile one scenario's scan instead")
    parser.add_argument("--check", action="store_true",
                        help="only say whether bench/results.json holds this code's figures (exit 1 if not)")
    args = parser.parse_args()
    if args.profile:
        profile(next(s for s in SHAPES if s.name == args.profile))
        return
    commit, code = git_commit(), code_hash()
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else None
    stale = staleness(previous, code)
    if args.check:
        print(stale or f"{RESULTS.relative_to(REPO)} holds the figures of this code ({code})")
        sys.exit(1 if stale else 0)
    if stale:
        print(stale, file=sys.stderr)
    latency = {"localhost": Latency(), "latency": Latency(args.kube_rtt_ms, args.aws_rtt_ms)}
    modes = {name: latency[name] for name in args.modes.split(",")}
    worlds = args.worlds.split(",")
    records = run_all([s for s in SHAPES if s.name in worlds], modes, args.repeat,
                      baselines=not args.scan_only)
    imports = cold_import()
    for mode, rows in records.items():
        print_table(mode, modes[mode], rows)
    print(f"\nhandler cold import (python -X importtime {HANDLER.relative_to(REPO)}, fresh process, "
          f"Lambda environment): best {imports['best_ms']:.0f} ms, median {imports['median_ms']:.0f} ms "
          f"of {', '.join(f'{ms:.0f}' for ms in imports['runs_ms'])} ms; heaviest in the best: "
          + ", ".join(f"{name} {ms:.0f} ms" for name, ms in imports["heaviest"]))
    sizing = lambda_sizing(records)
    if sizing:
        print_sizing(sizing)
    budgets = check(records, imports)
    print("\nbudgets")
    for budget in budgets:
        print(f"  {'PASS' if budget.ok else 'FAIL'}  {budget.name}: {budget.detail}")
    if previous:
        print_changes(previous, records)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"), "commit": commit, "code": code,
        "nproc": os.cpu_count(), "python": sys.version.split()[0], "page_size": PAGE_SIZE,
        "repeat": args.repeat,
        "latency_ms": {mode: {"kube": m.kube_ms, "aws": m.aws_ms} for mode, m in modes.items()},
        "modes": {mode: {r["scenario"]: r for r in rows} for mode, rows in records.items()},
        "cold_import": imports, "lambda": sizing,
        "budgets": [{"name": b.name, "ok": b.ok, "detail": b.detail} for b in budgets],
    }, indent=2) + "\n")
    print(f"\nwrote {RESULTS.relative_to(REPO)} (code {code}, commit {commit})")
    sys.exit(0 if all(b.ok for b in budgets) else 1)


def git_commit() -> str:
    """HEAD's commit, with `-dirty` when tracked files the figures depend on differ from it."""
    head = _git("rev-parse", "HEAD") or "unknown"
    dirty = _git("status", "--porcelain", "--untracked-files=no", "--", *MEASURED)
    return f"{head}-dirty" if dirty else head


def code_hash(root: Path = REPO) -> str:
    """A hash of every tracked file the figures depend on (MEASURED), as it is in the working
    tree. bench/ is not part of it: bench/results.json can be committed in the commit whose
    code it measured, and still be that code's figures after any number of commits that
    change nothing measured."""
    digest = hashlib.sha256()
    for path in sorted(_git("ls-files", "--", *MEASURED, cwd=root).splitlines()):
        file = root / path
        if file.is_file():
            digest.update(path.encode() + b"\0" + hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()[:16]


def staleness(previous: dict[str, Any] | None, code: str) -> str:
    """A line saying that bench/results.json does not hold the figures of the code tree `code`
    (empty when it does)."""
    if previous is None:
        return f"note: there is no {RESULTS.relative_to(REPO)}: run make bench"
    if previous.get("code") == code:
        return ""
    made = previous.get("code") or f"commit {previous.get('commit', 'unknown')}, before code hashes"
    return (f"note: {RESULTS.relative_to(REPO)} measured code {made}, not the code here ({code}): "
            "its figures are not this code's; run make bench")


def _git(*argv: str, cwd: Path = REPO) -> str:
    return subprocess.run(["git", *argv], cwd=cwd, capture_output=True, text=True,
                          check=False).stdout.strip()


def run_all(shapes: Iterable[Shape], modes: dict[str, Latency], repeat: int,
            baselines: bool) -> dict[str, list[dict[str, Any]]]:
    """Every world in every mode (each world seeded once): mode -> one record per world."""
    records: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    for shape in shapes:
        print(f"{shape.name}: seeding {shape.clusters} x {shape.pods} pods ...", file=sys.stderr, flush=True)
        box = Sandbox()
        box.start()
        try:
            box.load(build(shape))
            for mode, latency in modes.items():
                box.set_latency(latency.kube_ms / 1000, latency.aws_ms / 1000)
                records[mode].append(run_scenario(box, shape, repeat, mode, baselines))
        finally:
            box.stop()
    return records


def run_scenario(box: Sandbox, shape: Shape, repeat: int, mode: str, baselines: bool) -> dict[str, Any]:
    """Scan the loaded `shape` `repeat` times in child processes (then the floor and the peer)."""
    runs = []
    for _ in range(repeat):
        for cluster in box.clusters.values():
            cluster.requests.clear()
        for front in box.registries.values():
            front.clear()
        cpu = time.process_time()
        child = _scan(box)
        child["sandbox_cpu_s"] = time.process_time() - cpu
        child["kube_per_cluster"] = {name: len(c.requests) for name, c in box.clusters.items()}
        child["registry"] = {name: front.count() for name, front in box.registries.items()}
        runs.append(child)
        print(f"{shape.name} ({mode}): scanned in {child['wall_s']:.2f} s", file=sys.stderr, flush=True)
    last = runs[-1]
    aws = Counter(last["aws_calls"])
    best = min(runs, key=lambda r: r["wall_s"])
    record = {
        "scenario": shape.name, "clusters": shape.clusters, "pods": shape.pods * shape.clusters,
        "failing_pods": last["failing_pods"], "workloads": len(shape.failing_workloads) * shape.clusters,
        "nodes_per_cluster": shape.nodes, "instances": shape.instances,
        "wall_s": best["wall_s"], "wall_runs_s": [round(r["wall_s"], 3) for r in runs],
        "cpu_s": round(best["cpu_s"], 3),
        "sandbox_cpu_s": round(best["sandbox_cpu_s"], 3),
        "peak_rss_mb": round(max(r["peak_rss_kb"] for r in runs) / 1024, 1),
        "kube_requests": sum(last["kube_per_cluster"].values()),
        "kube_per_cluster": last["kube_per_cluster"],
        "kube_stable": all(r["kube_per_cluster"] == last["kube_per_cluster"] for r in runs),
        "kube_agrees": all(r["kube_per_cluster"] == r["kube_requests"] for r in runs),
        "aws_requests": sum(aws.values()), "aws_calls": dict(aws.most_common()),
        "aws_stable": all(r["aws_calls"] == last["aws_calls"] for r in runs),
        **_registry_record(shape, runs),
        "findings": last["findings"], "by_cause": last["by_cause"], "errors": last["errors"],
        "expected_kube_per_cluster": kube_requests(shape, PAGE_SIZE),
        "aws_resources": shape.aws_resources,
    }
    if baselines:
        cpu = time.process_time()
        floor = _scan(box, "--mode", "floor")
        floor_cpu, cpu = time.process_time() - cpu, time.process_time()
        peer = _scan(box, "--mode", "peer", "--sample", str(PEER_SAMPLE[mode]),
                     "--sample-clusters", str(PEER_CLUSTERS))
        peer_cpu = time.process_time() - cpu
        print(f"{shape.name} ({mode}): floor {floor['wall_s']:.2f} s, peer {peer['wall_s']:.2f} s"
              + (" (extrapolated)" if peer["extrapolated"] else ""), file=sys.stderr, flush=True)
        record.update({
            "floor_s": round(floor["wall_s"], 3), "floor_kube_requests": floor["kube_requests"],
            "floor_sandbox_cpu_s": round(floor_cpu, 3), "peer_sandbox_cpu_s": round(peer_cpu, 3),
            "peer_s": round(peer["wall_s"], 3), "peer_measured_s": round(peer["measured_s"], 3),
            "peer_kube_requests": peer["kube_requests"], "peer_extrapolated": peer["extrapolated"],
            "peer_sample": {"event_lists_per_cluster": peer["sample"], "clusters": peer["timed_clusters"]},
            "scan_over_floor": round(record["wall_s"] / floor["wall_s"], 2),
            "peer_over_scan": round(peer["wall_s"] / record["wall_s"], 1),
        })
    return record


def _registry_record(shape: Shape, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The registry requests of the last run (by front, and in all), and what the world expects."""
    last = runs[-1]["registry"]
    return {"registry_by_front": last,
            "registry_requests": {what: sum(c[what] for c in last.values())
                                  for what in ("manifests", "tokens", "challenges")},
            "registry_stable": all(r["registry"] == last for r in runs),
            "expected_registry_requests": shape.registry_requests, "probed_pods": shape.probed_pods}


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


def lambda_sizing(records: dict[str, list[dict[str, Any]]]) -> dict[str, Any] | None:
    """The Lambda memory size to recommend, and what a scan costs at it.

    A function gets CPU in proportion to its memory (one vCPU at 1,769 MB); the scan's CPU
    seconds run on one core at a time (threads wait on the network, the GIL serializes the
    rest), so below 1,769 MB its CPU time is stretched: duration(m) = wall + cpu x (1769/m - 1).
    Recommended: the smallest size that holds LAMBDA_HEADROOM x the peak RSS and keeps every
    world's duration within LAMBDA_SLOWDOWN of its duration at one full vCPU. Costs are of the
    latency mode (a real network), at x86 on-demand prices.
    """
    rows = records.get("latency") or next(iter(records.values()))
    if not rows or any("cpu_s" not in r for r in rows):
        return None
    peak = max(r["peak_rss_mb"] for mode_rows in records.values() for r in mode_rows)

    def duration(row: dict[str, Any], mb: int) -> float:
        return float(row["wall_s"] + row["cpu_s"] * max(0.0, LAMBDA_VCPU_MB / mb - 1))

    def cost(row: dict[str, Any], mb: int) -> float:
        return round(mb / 1024 * duration(row, mb) * LAMBDA_GB_S_USD + LAMBDA_REQUEST_USD, 7)

    size = next((mb for mb in LAMBDA_SIZES_MB if mb >= peak * LAMBDA_HEADROOM and all(
        duration(r, mb) <= duration(r, LAMBDA_VCPU_MB) * LAMBDA_SLOWDOWN for r in rows)), LAMBDA_SIZES_MB[-1])
    return {"memory_mb": size, "peak_rss_mb": peak,
            "mode": "latency" if "latency" in records else "localhost",
            "usd_per_gb_s": LAMBDA_GB_S_USD, "usd_per_request": LAMBDA_REQUEST_USD,
            "worlds": {r["scenario"]: {
                "duration_s": round(duration(r, size), 2), "cpu_s": r["cpu_s"], "usd_per_scan": cost(r, size),
                "duration_at_1024_mb_s": round(duration(r, 1024), 2)} for r in rows}}


def print_sizing(sizing: dict[str, Any]) -> None:
    """The recommended memory size and the cost of a scan at it, per world."""
    print(f"\nLambda: MemorySize {sizing['memory_mb']} MB recommended (peak RSS "
          f"{sizing['peak_rss_mb']:.0f} MB x {LAMBDA_HEADROOM:g} fits; CPU is one vCPU at "
          f"{LAMBDA_VCPU_MB} MB, less below it); cost of one scan at it "
          f"({sizing['mode']} mode durations, ${sizing['usd_per_gb_s']}/GB-s + "
          f"${sizing['usd_per_request']}/request):")
    for world, row in sizing["worlds"].items():
        print(f"  {world}: {row['duration_s']:.2f} s, ${row['usd_per_scan']:.6f} per scan "
              f"(CPU {row['cpu_s']:.2f} s; at 1024 MB {row['duration_at_1024_mb_s']:.2f} s)")


def check(records: dict[str, list[dict[str, Any]]], imports: dict[str, Any] | None,
          walls: bool = True) -> list[Budget]:
    """Every budget, in the order printed; `walls=False` keeps only the request and memory
    budgets (and the cold import when measured), which do not depend on the machine's speed."""
    first = next(iter(records.values()))
    budgets = [*registry_budgets(first), *request_budgets(first)]
    for mode, rows in list(records.items())[1:]:
        same = all(r["kube_per_cluster"] == f["kube_per_cluster"] and r["aws_calls"] == f["aws_calls"]
                   for r, f in zip(rows, first, strict=True))
        budgets.append(Budget(f"requests the same in {mode} mode", same,
                              "Kubernetes and AWS requests per world as in the first mode" if same else
                              "; ".join(f"{r['scenario']}: {r['kube_requests']} k8s, {r['aws_requests']} AWS "
                                        f"vs {f['kube_requests']}, {f['aws_requests']}"
                                        for r, f in zip(rows, first, strict=True))))
    rows = [r for mode_rows in records.values() for r in mode_rows]
    fattest = max(rows, key=lambda r: r["peak_rss_mb"])
    budgets.append(Budget("peak RSS, every world and mode", fattest["peak_rss_mb"] < RSS_BUDGET_MB,
                          f"{fattest['peak_rss_mb']:.0f} MB ({fattest['scenario']}) < {RSS_BUDGET_MB} MB"))
    if walls:
        for mode, mode_rows in records.items():
            target = next((r for r in mode_rows if r["scenario"] == BUDGET_SHAPE and "floor_s" in r), None)
            if target and mode in FLOOR_RATIO:
                budgets.append(Budget(
                    f"scan/floor, {BUDGET_SHAPE}, {mode}", target["scan_over_floor"] <= FLOOR_RATIO[mode],
                    f"{target['wall_s']:.2f} s / {target['floor_s']:.2f} s = {target['scan_over_floor']:.2f}"
                    f" <= {FLOOR_RATIO[mode]}"))
        many = next((r for r in records.get("latency", []) if r["scenario"] == MANY_SHAPE and "floor_s" in r),
                    None)
        if many:
            budgets.append(Budget(
                f"{MANY_SHAPE} with latency, one invocation", many["wall_s"] < MANY_CLUSTERS_S,
                f"{many['wall_s']:.1f} s < {MANY_CLUSTERS_S:.0f} s ({many['clusters']} clusters; the scan "
                f"runs them {'one after another' if many['wall_s'] > many['floor_s'] else 'in parallel'}, "
                f"the floor one after another takes {many['floor_s']:.1f} s)"))
    if imports is not None:
        budgets.append(Budget("handler cold import", imports["best_ms"] < IMPORT_BUDGET_MS,
                              f"{imports['best_ms']:.0f} ms < {IMPORT_BUDGET_MS} ms (best of "
                              f"{', '.join(f'{ms:.0f}' for ms in imports['runs_ms'])} ms)"))
    budgets += [Budget(f"no scan errors, {r['scenario']}", False, "; ".join(r["errors"]))
                for r in rows if r["errors"]]
    return budgets


def registry_budgets(records: list[dict[str, Any]]) -> list[Budget]:
    """Per world: registry requests = distinct public images + one token per registry."""
    return [registry_budget(record) for record in records]


def registry_budget(record: dict[str, Any]) -> Budget:
    """Registry requests = one manifest HEAD per distinct public image + one token request per
    registry (no challenge: the realms are known), whatever the pods and clusters."""
    seen, expected = record["registry_requests"], record["expected_registry_requests"]
    total = sum(seen.values())
    return Budget(
        f"registry requests, {record['scenario']}", seen == expected and record["registry_stable"],
        f"{total} = {seen['manifests']} manifest HEADs ({expected['manifests']} distinct public "
        f"images) + {seen['tokens']} token requests ({expected['tokens']} registries) + "
        f"{seen['challenges']} challenges, counted at the registry fronts, for "
        f"{record['probed_pods']} failing pods in {record['clusters']} cluster(s): never per pod"
        + ("" if record["registry_stable"] else "; counts differ between repeats"))


def request_budgets(records: list[dict[str, Any]]) -> list[Budget]:
    """Kubernetes requests = pages (+ a constant); AWS requests flat in failing pods, at most
    linear in clusters."""
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
    if not single:  # no one-cluster world run: nothing to compare with
        return budgets
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
    return budgets


def _by_service(calls: dict[str, int]) -> dict[str, int]:
    totals: Counter[str] = Counter()
    for api, n in calls.items():
        totals[api.split(":")[0]] += n
    return dict(totals.most_common())


def print_table(mode: str, latency: Latency, records: list[dict[str, Any]]) -> None:
    """One row per world."""
    print(f"\n{mode}" + (f": every Kubernetes answer +{latency.kube_ms:.0f} ms, every AWS answer "
                         f"+{latency.aws_ms:.0f} ms" if latency.kube_ms or latency.aws_ms else
                         ": sandbox servers on 127.0.0.1, no added delay"))
    header = ("world", "pods", "failing", "scan s", "scan CPU s", "floor s", "scan/floor", "peer s",
              "peer/scan", "sandbox CPU s (scan/floor/peer)", "RSS MB", "k8s req", "AWS req", "registry req",
              "findings")
    # sandbox CPU: while the scan / the floor / the timed part of the peer ran
    rows = [header] + [(
        r["scenario"], f"{r['pods']:,}", f"{r['failing_pods']:,}", f"{r['wall_s']:.2f}",
        f"{r['cpu_s']:.2f}" if "cpu_s" in r else "-",
        *((f"{r['floor_s']:.2f}", f"{r['scan_over_floor']:.2f}",
           f"{r['peer_s']:.1f}" + ("*" if r["peer_extrapolated"] else ""), f"{r['peer_over_scan']:.1f}")
          if "floor_s" in r else ("-",) * 4),
        f"{r['sandbox_cpu_s']:.2f}" + (f" / {r['floor_sandbox_cpu_s']:.2f} / {r['peer_sandbox_cpu_s']:.1f}"
                                       if "floor_s" in r else ""), f"{r['peak_rss_mb']:.0f}",
        f"{r['kube_requests']:,}", f"{r['aws_requests']}", f"{sum(r['registry_requests'].values())}",
        f"{r['findings']:,}") for r in records]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for number, row in enumerate(rows):
        print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                        for i, (cell, w) in enumerate(zip(row, widths, strict=True))))
        if number == 0:
            print("  ".join("-" * w for w in widths))
    if any(r.get("peer_extrapolated") for r in records):
        print(f"* extrapolated: event lists timed for at most {PEER_SAMPLE[mode]} failing pods per cluster "
              f"and at most {PEER_CLUSTERS} clusters, the rest at their mean")
    top = Counter({api: n for r in records[:1] for api, n in r["aws_calls"].items()})
    print("AWS requests of " + records[0]["scenario"] + ": "
          + ", ".join(f"{api} {n}" for api, n in top.most_common()))


def print_changes(previous: dict[str, Any], records: dict[str, list[dict[str, Any]]]) -> None:
    """Wall time, RSS and AWS requests against the previous results, per world and mode."""
    before = previous.get("modes") or {"localhost": previous.get("scenarios", {})}
    lines = []
    for mode, rows in records.items():
        for record in rows:
            old = before.get(mode, {}).get(record["scenario"])
            if old:
                lines.append(f"  {record['scenario']} ({mode}): wall {old['wall_s']:.2f} -> "
                             f"{record['wall_s']:.2f} s ({_percent(old['wall_s'], record['wall_s'])}), "
                             f"peak RSS {old['peak_rss_mb']:.0f} -> {record['peak_rss_mb']:.0f} MB, "
                             f"AWS requests {old['aws_requests']} -> {record['aws_requests']}")
    if lines:
        print(f"\nchange since {previous.get('timestamp', 'the previous run')} "
              f"(commit {previous.get('commit', 'not recorded')})")
        print("\n".join(lines))


def _percent(old: float, new: float) -> str:
    return f"{(new - old) / old * 100:+.0f} %" if old else "n/a"


if __name__ == "__main__":
    main()
