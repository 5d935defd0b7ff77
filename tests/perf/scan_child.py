"""Run one real dry-run scan in this process and print what it cost as one JSON line.

Started by bench.py with the sandbox's environment, so that the peak RSS is the scan's own. The
peak is VmHWM of /proc/self/status: ru_maxrss survives exec, so a child started by a big parent
would report the parent's size.
With `--profile FILE` the scan runs under cProfile and the stats are written to FILE.
`--mode floor` and `--mode peer` time what the scan is compared with instead (see baselines.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from typing import Any


def peak_rss_kb() -> int:
    """This process's peak resident set size since exec, in KiB."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1])


def main() -> None:
    """Scan every cluster the environment names; print wall time, RSS and request counts."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", help="write cProfile stats of the scan to this file")
    parser.add_argument("--mode", choices=("scan", "floor", "peer"), default="scan")
    parser.add_argument("--sample", type=int, default=0,
                        help="peer: time this many event lists per cluster and extrapolate (0: all)")
    parser.add_argument("--sample-clusters", type=int, default=0,
                        help="peer: time this many clusters and extrapolate (0: all)")
    args = parser.parse_args()
    if args.mode != "scan":
        from baselines import floor, peer

        started = time.perf_counter()
        report = floor() if args.mode == "floor" else peer(args.sample, args.sample_clusters)
        report.setdefault("wall_s", time.perf_counter() - started)
        json.dump({**report, "peak_rss_kb": peak_rss_kb()}, sys.stdout)
        sys.stdout.write("\n")
        return

    import boto3
    import kubernetes.client  # noqa: F401  (imported before the clock starts, as by floor and peer)

    from pullmedic.app.bootstrap import bootstrap
    from pullmedic.app.event import ScanOrder
    from pullmedic.app.service import run_scan
    from pullmedic.core.settings import load
    from pullmedic.core.vocab import OrderSource

    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[f"{model.service_model.service_name}:{model.name}"] += 1

    session = boto3.session.Session()
    session.events.register("before-call", count)
    order = ScanOrder(OrderSource.ON_DEMAND, None, None, dry_run=True)

    def scan() -> Any:
        settings = load()
        return run_scan(order, settings, bootstrap(settings, session=session)).result

    started, cpu = time.perf_counter(), time.process_time()
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        result = profiler.runcall(scan)
        profiler.dump_stats(args.profile)
    else:
        result = scan()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    json.dump({
        "wall_s": wall, "cpu_s": cpu,
        "peak_rss_kb": peak_rss_kb(),
        "aws_calls": dict(calls.most_common()),
        "findings": len(result.findings),
        "failing_pods": sum(f.pod_count for f in result.findings),
        "errors": [f"{e.cluster}: {e.message}" for e in result.errors],
        "kube_requests": result.kube_requests,
        "by_cause": dict(Counter(f.cause.value for f in result.findings)),
    }, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
