"""`pullmedic scan`: a dry run from a laptop; nothing is stored or published."""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from pullmedic.announcing.render import text
from pullmedic.app.bootstrap import App, with_deadline
from pullmedic.app.event import ScanOrder
from pullmedic.app.service import run_scan
from pullmedic.cli import aws
from pullmedic.cli.errors import INCOMPLETE, OK, PROBLEMS, UsageError
from pullmedic.cli.output import Progress, Terminal, dump, say, stderr_progress, table
from pullmedic.core.model import Announcement
from pullmedic.core.settings import load
from pullmedic.core.vocab import Event, OrderSource
from pullmedic.reading.aws.eks import list_clusters

FINDING_COLUMNS = ("CLUSTER", "NAMESPACE", "WORKLOAD", "CONTAINER", "IMAGE", "SEVERITY", "CAUSE",
                   "CONFIDENCE", "PODS", "FINGERPRINT")


def run(args: argparse.Namespace) -> int:
    """Scan; exit 0 (nothing failing), 3 (problems found) or 4 (a cluster could not be read)."""
    progress = stderr_progress(args.quiet)
    deployed = load()
    settings, app = aws.connect(args, replace(deployed, table=None))
    app = with_deadline(app, args.timeout, reserve=0)  # a dry run: nothing to announce
    names = _clusters(args, settings.clusters, app)
    if not names:
        say(f"No EKS clusters in {app.deps.region}.")
        return OK
    progress.say(f"scanning {len(names)} cluster(s) in {app.deps.region}")
    _report_each_cluster(app, progress, len(names))
    order = ScanOrder(OrderSource.CLI, tuple(names), frozenset(args.namespace) or None, True)
    summary = run_scan(order, settings, app)
    result = summary.result
    kept = [f for f in result.findings if selected(f.severity, f.cause.value, args)]
    doc = summary.narrowed(kept).doc()
    progress.say(f"done: {len(kept)} problem(s), {len(result.errors)} cluster(s) not scanned")
    if args.output != "table":
        say(dump(doc, args.output), end="")
    else:
        if not kept and not result.errors:
            say(f"No pods failing to pull in: {', '.join(result.clusters)}")
        elif kept:
            say(findings_table(doc["findings"], Terminal.of(sys.stdout)), cleaned=True)
        if kept or result.errors:
            say("")
            flags = aws.flags(args, deployed, app)
            say(text([Announcement(Event.NEW, f) for f in kept], result.errors, cli_flags=flags), end="")
    return INCOMPLETE if result.errors else PROBLEMS if kept else OK


def _clusters(args: argparse.Namespace, deployed: Sequence[str] | None, app: App) -> list[str]:
    if args.cluster:
        return list(dict.fromkeys(args.cluster))
    if args.all:
        return list_clusters(app.deps.eks)
    if deployed:
        return list(deployed)
    raise UsageError(f"name a cluster (--cluster NAME), or pass --all for every cluster in {app.deps.region}")


def _report_each_cluster(app: App, progress: Progress, total: int) -> None:
    """A progress line as each cluster's scan starts (botocore's before-parameter-build event)."""
    counter = itertools.count(1)

    def before(params: dict[str, Any], **_: Any) -> None:
        progress.say(f"[{next(counter)}/{total}] cluster {params.get('name')}")

    app.deps.eks.meta.events.register("before-parameter-build.eks.DescribeCluster", before)


def selected(severity: str, cause: str, args: argparse.Namespace) -> bool:
    """Whether a finding passes --severity and --cause."""
    return (not args.severity or severity in args.severity) and (not args.cause or cause in args.cause)


def findings_table(docs: Sequence[dict[str, Any]], term: Terminal) -> str:
    """Finding documents as a table, one line each."""
    rows = [(d["cluster"], d["namespace"], d["workload"], d["container"], d["image"], d["severity"],
             d["cause"], d["confidence"], str(d["pod_count"]), d["fingerprint"]) for d in docs]
    return table(FINDING_COLUMNS, rows, term)

