"""Day two, from the state table: `problems` (open problems, silences), `silence`, `unsilence`."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

from pullmedic.announcing.lifecycle import Record, Silence
from pullmedic.announcing.state import StateStore
from pullmedic.app.event import SilenceOrder, parse_silence
from pullmedic.app.service import add_silence
from pullmedic.cli import aws
from pullmedic.cli.errors import FAILED, OK, UsageError
from pullmedic.cli.output import Terminal, dump, say, table
from pullmedic.cli.scan import selected
from pullmedic.core.model import SILENCE_SCOPES
from pullmedic.core.times import iso
from pullmedic.reading.aws.eks import list_clusters

# Workload kinds as Kubernetes spells them, by lower-case name, plural and kubectl short name.
KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod")
_SHORT = {"deploy": "Deployment", "sts": "StatefulSet", "ds": "DaemonSet", "rs": "ReplicaSet",
          "cj": "CronJob", "po": "Pod"}
_KIND_NAMES = {**{k.lower(): k for k in KINDS}, **{k.lower() + "s": k for k in KINDS}, **_SHORT}
PROBLEM_COLUMNS = ("CLUSTER", "NAMESPACE", "WORKLOAD", "CONTAINER", "SEVERITY", "CAUSE", "SINCE",
                   "SILENCED", "FINGERPRINT")
SILENCE_COLUMNS = ("SCOPE", "VALUE", "UNTIL", "REASON")


def run_problems(args: argparse.Namespace) -> int:
    """List the open problems (filtered) and the active silences."""
    settings, app = aws.connect(args)
    settings = aws.with_table(args, settings, app)
    store = StateStore(app.deps.client_for("dynamodb", None), settings.table or "")
    clusters = args.cluster or settings.clusters or list_clusters(app.deps.eks)
    now = app.deps.now()
    silences = [s for s in store.silences() if s.expires > now]
    records = sorted(store.records(clusters).values(), key=lambda r: (r.cluster, r.namespace, r.workload))
    shown = [problem_doc(r, silences, now) for r in records
             if (not args.namespace or r.namespace in args.namespace)]
    shown = [p for p in shown if selected(p["severity"], p["cause"], args)]
    doc: dict[str, Any] = {"table": settings.table, "clusters": sorted(clusters), "problems": shown,
                           "silences": [silence_doc(s) for s in silences]}
    if args.output != "table":
        say(dump(doc, args.output), end="")
        return OK
    _print_tables(doc, settings.table)
    return OK


def _print_tables(doc: dict[str, Any], table_name: str | None) -> None:
    """The problems (or a line saying there are none) and the active silences, as tables."""
    term = Terminal.of(sys.stdout)
    if doc["problems"]:
        rows = [(p["cluster"], p["namespace"], p["workload"], p["container"], p["severity"], p["cause"],
                 p["first_seen"][:16].replace("T", " "), "yes" if p["silenced_by"] else "", p["fingerprint"])
                for p in doc["problems"]]
        say(table(PROBLEM_COLUMNS, rows, term), cleaned=True)
    else:
        say(f"No open problems in {', '.join(doc['clusters']) or 'any cluster'} (table {table_name}).")
    if doc["silences"]:
        say("")
        listed = [(s["scope"], s["value"], s["expires_at"], s["reason"]) for s in doc["silences"]]
        say(table(SILENCE_COLUMNS, listed, term, severity_column=None), cleaned=True)


def problem_doc(record: Record, silences: list[Silence], now: datetime) -> dict[str, Any]:
    """An open problem as JSON, with the severity and confidence it was last seen with."""
    first = record.findings[0] if record.findings else None
    cover = next((s for s in silences if s.covers(record, now)), None)
    return {"fingerprint": record.fingerprint, "cluster": record.cluster, "namespace": record.namespace,
            "workload": record.workload, "container": record.container, "image": record.image,
            "cause": record.cause, "severity": first.severity if first else "medium",
            "confidence": first.confidence if first else "likely", "first_seen": iso(record.first_seen),
            "last_seen": iso(record.last_seen),
            "last_announced": iso(record.last_announced) if record.last_announced else None,
            "announced_event": record.announced_event,
            "silenced_by": f"{cover.scope} {cover.value}" if cover else None}


def silence_doc(silence: Silence) -> dict[str, Any]:
    """A silence as JSON."""
    return {"scope": silence.scope, "value": silence.value, "expires_at": iso(silence.expires),
            "reason": silence.reason, "created_at": iso(silence.created) if silence.created else None}


def run_silence(args: argparse.Namespace) -> int:
    """Write a silence (checked as the console event is) and say how to lift it."""
    scope, value = target(args)
    order = parse_silence({"silence": {scope: value, "hours": args.hours, "reason": args.reason}})
    settings, app = aws.connect(args)
    settings = aws.with_table(args, settings, app)
    written = add_silence(order, settings, app)
    if args.output != "table":
        say(dump(written, args.output), end="")
        return OK
    done = written["silenced"]
    say(f"Silenced {done['scope']} {done['value']} until {done['expires_at']} (table {written['table']}).")
    say(f"Lift it with: pullmedic unsilence --{scope} {value} {aws.flags(args, settings, app)}")
    return OK


def run_unsilence(args: argparse.Namespace) -> int:
    """Delete a silence; exit 1 when there was none."""
    scope, value = target(args)
    order: SilenceOrder = parse_silence({"silence": {scope: value}})
    settings, app = aws.connect(args)
    settings = aws.with_table(args, settings, app)
    store = StateStore(app.deps.client_for("dynamodb", None), settings.table or "")
    lifted = store.delete_silence(order.scope, order.value)
    doc = {"unsilenced": {"scope": order.scope, "value": order.value}, "found": lifted,
           "table": settings.table}
    if args.output != "table":
        say(dump(doc, args.output), end="")
    elif lifted:
        say(f"Lifted the silence of {order.scope} {order.value} (table {settings.table}).")
    else:
        say(f"pullmedic: no silence of {order.scope} {order.value} in table {settings.table} "
            "(`pullmedic problems` lists them)", sys.stderr)
    return OK if lifted else FAILED


def target(args: argparse.Namespace) -> tuple[str, str]:
    """The scope and value of --fingerprint / --workload / --namespace, normalised: a
    fingerprint in lower case, a workload's kind as Kubernetes spells it."""
    scope = next(s for s in SILENCE_SCOPES if getattr(args, s))
    value = getattr(args, scope).strip()
    if scope == "fingerprint":
        return scope, value.lower()
    if scope == "workload" and value.count("/") == 3:
        cluster, namespace, kind, name = value.split("/")
        return scope, f"{cluster}/{namespace}/{workload_kind(kind)}/{name}"
    return scope, value


def workload_kind(kind: str) -> str:
    """`kind` as Kubernetes spells it ("deployment", "deploy" -> "Deployment"); a kind of a
    custom controller (Rollout) passes when it is capitalised; anything else is an error."""
    known = _KIND_NAMES.get(kind.lower())
    if known:
        return known
    if kind[:1].isupper() and kind.isalpha():
        return kind
    raise UsageError(f"unknown workload kind {kind!r}: use one of {', '.join(KINDS)} "
                     "(or a custom controller's kind, capitalised)")


