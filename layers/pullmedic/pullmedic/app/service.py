"""The use cases shared by the Lambda handler and the CLI: scan and announce, silence.

Remediation (remediate.py) rides on a scan when it is turned on and there is a state table:
alerts offer the allowed actions, applied fixes are verified, and in auto mode proven
findings are fixed during the scan.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from pullmedic.announcing.announce import Announcer, Delivery, DeliveryIncomplete
from pullmedic.announcing.lifecycle import Change, Decision, Scope, Silence, known_workloads, plan
from pullmedic.announcing.notify import publish
from pullmedic.announcing.outbox import Outbox
from pullmedic.announcing.state import StateStore
from pullmedic.app.bootstrap import App, target_deps
from pullmedic.app.event import ScanOrder, SilenceOrder
from pullmedic.app.remediate import AUTO, Run, auto_hook, offers, start, verify
from pullmedic.app.scan import Hook, ScanRequest, ScanResult, scan, scan_error
from pullmedic.app.summary import ScanSummary
from pullmedic.core.model import Announcement, ScanError
from pullmedic.core.settings import Settings
from pullmedic.core.targets import ScanTarget
from pullmedic.core.times import iso
from pullmedic.diagnosing.findings import fingerprint


def run_scan(order: ScanOrder, settings: Settings, app: App,
             gathered: ScanResult | None = None) -> ScanSummary:
    """Scan what `order` asks (or the deployer's defaults) and announce what changed.

    With a state table, each problem is announced when new, changed, due for a reminder or
    resolved; without one, every finding is new. A dry run (or no topic) decides but neither
    writes the state nor publishes. `gathered`: findings already scanned (the fan-out's
    aggregation step), announced without scanning again.
    """
    started = time.monotonic()
    request = ScanRequest(clusters=order.clusters or settings.clusters,
                          namespaces=order.namespaces or settings.namespaces)
    store = _store(settings, app)
    run = start(settings, app, AUTO) if store and settings.remediation != "off" else None
    result = gathered if gathered is not None else scan_targets(
        order, settings, app, request, _auto_hook(order, run, store))
    scope = Scope(frozenset(result.clusters) - {e.cluster for e in result.errors}, request.namespaces)
    decided = _decide(result, scope, store, settings, app)
    announce = not order.dry_run and bool(settings.topic_arn)
    delivery = _deliver(decided, result, scope, run, store, settings, app) if announce else Delivery()
    summary = ScanSummary(
        result, tuple(delivery.announced if announce else decided.announcements), delivery,
        decided.silenced, store is not None, order.dry_run, round((time.monotonic() - started) * 1000),
        tuple(r.doc(cli_flags(settings, app)) for r in run.results) if run else (), decided.problems)
    if delivery.failures:
        raise DeliveryIncomplete(delivery.failures, summary.doc())
    return summary


def _auto_hook(order: ScanOrder, run: Run | None, store: StateStore | None) -> Hook | None:
    """The hook that fixes proven findings during the scan, in auto mode (never on a dry run)."""
    if run is None or store is None or run.allowed.mode != "auto" or order.dry_run:
        return None
    return auto_hook(run, store)


def _decide(result: ScanResult, scope: Scope, store: StateStore | None, settings: Settings,
            app: App) -> Decision:
    """What to announce and write, from the stored problems and this scan's findings (which take
    the workload names the stored problems know)."""
    records = store.records(frozenset(result.clusters)) if store else {}
    result.findings = known_workloads(records, result.findings)
    return plan(records, result.findings, scope, app.deps.now(), settings.reminder,
                store.silences() if store else [])


def _deliver(decided: Decision, result: ScanResult, scope: Scope, run: Run | None,
             store: StateStore | None, settings: Settings, app: App) -> Delivery:
    """Announce: through the state table's outbox when there is one, else publish at once."""
    topic = settings.topic_arn or ""
    if store is None:
        if not decided.announcements and not result.errors:
            return Delivery()
        return Delivery(decided.announcements, list(result.errors), publish(
            app.sns, topic, decided.announcements, result.errors, result.clusters))
    changes, extra = _with_remediation(run, decided.changes, result, scope) if run \
        else (decided.changes, [])
    announcer = Announcer(store, Outbox(store.client, store.table), app.sns, topic, cli_flags(settings, app))
    return announcer.announce(changes, extra, result.errors, result.clusters, app.deps.now(),
                              settings.reminder)


def scan_targets(order: ScanOrder, settings: Settings, app: App, request: ScanRequest,
                 hook: Hook | None) -> ScanResult:
    """Scan every target of the order (else of the deployment) into one result.

    A target that cannot be reached (AssumeRole denied, Region unreachable) is a scan error of
    its own and never stops the others. Remediation runs only in the function's own account
    and Region.
    """
    targets = order.targets or (None if order.clusters else settings.targets)
    if not targets:
        return scan(request, app.deps, hook)
    result = ScanResult()
    for target in targets:
        try:
            deps = target_deps(settings, app.deps, target)
        except (ClientError, BotoCoreError) as err:
            result.errors += [scan_error(target.label(name), "assume-role",
                                         f"cannot reach account {target.account}: {err}")
                              for name in target.clusters or ("*",)]
            continue
        part = scan(ScanRequest(target.clusters, request.namespaces), deps,
                    hook if deps is app.deps else None)
        if deps is not app.deps:  # "prod" may exist in every account: name it account/region/prod
            part = _qualified(part, f"{target.account}/{deps.region}/")
        result.clusters += part.clusters
        result.findings += part.findings
        result.errors += [_labelled(e, target) for e in part.errors]
        result.kube_requests.update(part.kube_requests)
    return result


def _qualified(part: ScanResult, prefix: str) -> ScanResult:
    """A target's clusters named with their account and Region, everywhere they appear."""
    return ScanResult(
        clusters=[prefix + c for c in part.clusters],
        findings=[replace(f, cluster=prefix + f.cluster) for f in part.findings],
        errors=[e if e.cluster == "*" else replace(e, cluster=prefix + e.cluster) for e in part.errors],
        kube_requests={prefix + c: n for c, n in part.kube_requests.items()})


def _labelled(error: ScanError, target: ScanTarget) -> ScanError:
    """Name the target of an error that concerns all of its clusters."""
    return replace(error, cluster=target.label()) if error.cluster == "*" else error


def add_silence(order: SilenceOrder, settings: Settings, app: App) -> dict[str, Any]:
    """Store a silence in the state table; return what was written."""
    store = _store(settings, app)
    if store is None:
        raise ValueError("silences live in the state table: set PULLMEDIC_TABLE (or pass --table)")
    now = app.deps.now()
    silence = Silence(order.scope, order.value, now + timedelta(hours=order.hours), order.reason, now)
    store.add_silence(silence)
    return {"silenced": {"scope": silence.scope, "value": silence.value, "hours": order.hours,
                         "reason": silence.reason,
                         "expires_at": iso(silence.expires)},
            "table": settings.table}


def _with_remediation(run: Run, changes: Sequence[Change], result: ScanResult,
                      scope: Scope) -> tuple[list[Change], list[Announcement]]:
    """Offer the allowed actions, note the fix that resolved a problem; and what fixes did."""
    failed, notes = verify(run, result.findings, scope)

    def shown(a: Announcement) -> Announcement:
        if a.event == "resolved":
            return a._replace(remediation=notes.get(fingerprint(a.finding)))
        return a._replace(actions=offers(a.finding, run.allowed))

    applied = [a for r in run.results if (a := r.announcement())]
    return ([replace(c, announcements=tuple(shown(a) for a in c.announcements)) for c in changes],
            failed + applied)


def _store(settings: Settings, app: App) -> StateStore | None:
    if not settings.table:
        return None
    return StateStore(app.deps.client_for("dynamodb", None), settings.table)


def cli_flags(settings: Settings, app: App) -> str:
    """What a printed pullmedic command (silence, fix) needs to find the table and region."""
    return f"--table {settings.table} --region {app.deps.region}" if settings.table else ""
