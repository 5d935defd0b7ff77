"""Plan, approve, apply, audit and verify remediations: opt-in, read-only unless turned on.

Modes (PULLMEDIC_REMEDIATION): `off` (the default: plans are shown, approvals refused),
`approve` (an approved plan is applied: the console event or `pullmedic fix --yes`) and `auto`
(allow-listed actions also run by themselves once a finding's cause has been proven on two
scans in a row). A plan is computed from a live re-scan of the finding's cluster and stored;
an approval computes it again and applies it only while the evidence digest is the one shown.
Every step is audited in the state table (ledger.py); applied fixes are verified by the
next scans: the problem resolves, or the alert says the fix did not help.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from pullmedic.announcing.lifecycle import CONFIRMED_STREAK, Scope
from pullmedic.announcing.notify import publish
from pullmedic.announcing.render import error_doc, fix_command, fix_event
from pullmedic.announcing.state import StateStore
from pullmedic.app.bootstrap import App
from pullmedic.app.event import RemediateOrder
from pullmedic.app.scan import Hook, ScanRequest, scan
from pullmedic.core.model import Announcement, Finding, Remediation
from pullmedic.core.settings import Settings
from pullmedic.core.vocab import Confidence, Event, PlanStatus, ResultStatus
from pullmedic.diagnosing.evidence import Facts
from pullmedic.diagnosing.findings import fingerprint
from pullmedic.reading.aws.eks import ClusterAccess, list_clusters
from pullmedic.reading.kube.reader import KubeReader, KubeReadError
from pullmedic.remediating.actions import ACTIONS
from pullmedic.remediating.actions.base import (
    DONE,
    REMEDIATED,
    REMEDIATION_FAILED,
    Budget,
    Context,
    Outcome,
    Plan,
)
from pullmedic.remediating.ledger import Ledger, StoredPlan

VERIFY_AFTER = timedelta(minutes=10)  # the kubelet's image pull back-off tops out at 5 minutes
AUTO = "pullmedic (auto)"


@dataclass(frozen=True)
class Policy:
    """What the deployer allows: the mode, the actions and the namespaces (None: all)."""

    mode: str
    actions: frozenset[str]
    namespaces: frozenset[str] | None

    def allows(self, action: str, namespace: str) -> bool:
        """Whether `action` may change anything for a finding in `namespace`."""
        return (self.mode != "off" and action in self.actions
                and (self.namespaces is None or namespace in self.namespaces))


def policy(settings: Settings) -> Policy:
    """The policy the settings describe; an unknown action id is an error."""
    listed = settings.remediation_actions
    unknown = sorted(set(listed or ()) - set(ACTIONS))
    if unknown:
        raise ValueError(f"PULLMEDIC_REMEDIATION_ACTIONS names unknown actions {unknown}; "
                         f"known: {', '.join(ACTIONS)}")
    default = () if settings.remediation == "auto" else tuple(ACTIONS)
    return Policy(settings.remediation, frozenset(default if listed is None else listed),
                  settings.remediation_namespaces)


def offers(finding: Finding, allowed: Policy) -> tuple[str, ...]:
    """The actions an alert offers for the finding (none while remediation is off)."""
    return tuple(a for a, module in ACTIONS.items()
                 if allowed.allows(a, finding.namespace) and module.applies(finding))


@dataclass(frozen=True)
class Result:
    """What became of one action for one problem."""

    action: str
    status: ResultStatus
    detail: str
    plan: Plan | None = None
    finding: Finding | None = None
    outcome: Outcome | None = None
    by: str = ""

    def doc(self, flags: str = "") -> dict[str, Any]:
        """The JSON form returned by the handler and printed by the CLI; `flags` (table, region,
        profile) make the approve command work when pasted elsewhere."""
        doc: dict[str, Any] = {"action": self.action, "status": self.status, "detail": self.detail,
                               "plan": self.plan.doc() if self.plan else None}
        if self.outcome:
            doc["steps"] = [{"target": s.call.target, "outcome": s.outcome, "detail": s.detail}
                            for s in self.outcome.steps]
        if self.status == ResultStatus.PLANNED and self.plan and not self.plan.blocker \
                and not self.plan.in_place:
            where = f"--cluster {self.plan.cluster}" + (f" {flags}" if flags else "")
            doc["approve"] = {"command": fix_command(self.plan.fingerprint, self.action, where, apply=True),
                              "event": fix_event(self.plan.fingerprint, self.action)}
        return doc

    def announcement(self) -> Announcement | None:
        """The SNS announcement of an applied plan (None for anything that changed nothing)."""
        if self.status not in (REMEDIATED, REMEDIATION_FAILED) or not self.finding or not self.plan:
            return None
        return Announcement(Event(self.status), self.finding, remediation=Remediation(
            self.action, self.detail, self.by, self.plan.undo))


@dataclass
class Run:
    """One invocation's remediation state: clients, who acts, the eviction budget, results."""

    settings: Settings
    app: App
    ledger: Ledger
    allowed: Policy
    who: str
    budget: Budget
    results: list[Result] = field(default_factory=list)

    def now(self) -> datetime:
        """The clock (a fresh reading per audit item)."""
        return self.app.deps.now()

    def context(self, finding: Finding, findings: list[Finding], facts: Facts,
                reader: KubeReader) -> Context:
        """What an action plans and applies with."""
        return Context(finding, findings, facts, reader, self.app.deps.client_for, self.settings,
                       self.budget)


def start(settings: Settings, app: App, who: str) -> Run:
    """A run; remediation items live in the state table, so it needs one."""
    if not settings.table:
        raise ValueError("remediation plans and their audit live in the state table: set "
                         "PULLMEDIC_TABLE (or pass --table)")
    return Run(settings, app, Ledger(app.deps.client_for("dynamodb", None), settings.table),
               policy(settings), who, Budget(settings.evictions_per_run))


def approver(caller: str, label: str) -> str:
    """Who approves, for the audit: the identity the platform vouches for, and the name the
    approval gave (only a label beside it)."""
    return f"{caller} (as {label!r})" if label and label != caller else caller


def remediate(order: RemediateOrder, settings: Settings, app: App, caller: str,
              flags: str = "") -> dict[str, Any]:
    """Show the plans for a problem, or apply the approved one; return what happened.

    `caller`: who asks, as the platform tells it (the CLI's STS identity; for a Lambda
    invocation, its request id, which CloudTrail ties to the invoking principal). `flags`: what
    a printed command needs to reach the same table and region (and profile).
    """
    run = start(settings, app, approver(caller, order.approved_by))
    store = StateStore(app.deps.client_for("dynamodb", None), settings.table or "")
    cluster, namespace = order.cluster, None
    if cluster is None:
        candidates = settings.clusters or tuple(list_clusters(app.deps.eks))
        record = store.records(candidates).get(order.fingerprint)
        if record is None:
            raise ValueError(f"no open problem {order.fingerprint} in the state table: name its "
                             "cluster (--cluster, or 'cluster' in the event)")
        cluster, namespace = record.cluster, frozenset({record.namespace})
    result = scan(ScanRequest((cluster,), namespace), app.deps, _order_hook(order, run))
    announcements = [a for r in run.results if (a := r.announcement())]
    ids = []
    if announcements and settings.topic_arn:
        ids = publish(app.sns, settings.topic_arn, announcements, [], [cluster])
    return {"remediation": {
        "fingerprint": order.fingerprint, "cluster": cluster, "mode": run.allowed.mode,
        "confirm": order.confirm, "approved_by": order.approved_by,
        "results": [r.doc(flags) for r in run.results], "errors": [error_doc(e) for e in result.errors],
        "published_message_ids": ids}}


def auto_hook(run: Run, store: StateStore) -> Hook:
    """For a scan in auto mode: apply allowed actions to findings proven on two scans in a row."""
    def hook(access: ClusterAccess, findings: list[Finding], facts: Facts, reader: KubeReader) -> None:
        records = store.records([access.name])
        for finding in findings:
            record = records.get(fingerprint(finding))
            if finding.confidence == Confidence.LIKELY or record is None \
                    or record.confirmed_scans + 1 < CONFIRMED_STREAK:
                continue
            for action in sorted(run.allowed.actions):
                if run.allowed.allows(action, finding.namespace) and ACTIONS[action].applies(finding):
                    context = run.context(finding, findings, facts, reader)
                    _collect(run, action, partial(_auto, run, action, context))
    return hook


def verify(run: Run, findings: list[Finding],
           scope: Scope) -> tuple[list[Announcement], dict[str, Remediation]]:
    """Judge applied fixes: resolved problems get a note, problems still failing after
    VERIFY_AFTER are announced as remediation_failed. Each fix is judged once."""
    found: dict[str, Finding] = {}
    for finding in findings:
        found.setdefault(fingerprint(finding), finding)
    failed: list[Announcement] = []
    notes: dict[str, Remediation] = {}
    now = run.now()
    for fix in run.ledger.applied(scope.clusters):
        if scope.namespaces is not None and fix.namespace not in scope.namespaces:
            continue
        still = found.get(fix.fingerprint)
        applied = f"it was applied {fix.applied_at:%Y-%m-%d %H:%M} UTC ({fix.summary})"
        if still is None:
            verdict, notes[fix.fingerprint] = "resolved", Remediation(
                fix.action, f"verified: the problem resolved after {applied}", fix.applied_by, fix.undo)
        elif now - fix.applied_at >= VERIFY_AFTER:
            verdict = "not_resolved"
            failed.append(Announcement(Event.REMEDIATION_FAILED, still, remediation=Remediation(
                fix.action, f"did not help: still failing although {applied}", fix.applied_by, fix.undo)))
        else:
            continue
        run.ledger.settle(fix)
        run.ledger.audit(fix.fingerprint, fix.action, fix.cluster, "verify", who="pullmedic", now=now,
                         result=verdict, undo=fix.undo)
    return failed, notes


def _order_hook(order: RemediateOrder, run: Run) -> Hook:
    def hook(access: ClusterAccess, findings: list[Finding], facts: Facts, reader: KubeReader) -> None:
        mine = [f for f in findings if fingerprint(f) == order.fingerprint]
        contexts = [run.context(f, findings, facts, reader) for f in mine]
        actions = [order.action] if order.action else list(ACTIONS)
        plans = _plans(run, actions, contexts)
        if order.confirm and order.action is None:
            ready = _only_ready(run, plans)
            if ready is None:
                return
            actions = [ready]
        for action in (a for a in actions if a in plans):
            _act(run, order, action, plans[action], failing=bool(mine))
    return hook


def _only_ready(run: Run, plans: dict[str, tuple[Plan | None, Context | None]]) -> str | None:
    """An approval that names no action: the one action with something to do (None: refused)."""
    ready = [a for a, (p, _) in plans.items() if p is not None and not p.in_place]
    if len(ready) != 1:
        run.results.append(Result("-", ResultStatus.REFUSED, f"{len(ready)} actions apply to this problem "
                                  f"({', '.join(ready) or 'none'}): name the one to apply"))
        return None
    return ready[0]


def _act(run: Run, order: RemediateOrder, action: str, planned: tuple[Plan | None, Context | None], *,
         failing: bool) -> None:
    """Approve the action, show its plan, or say why it does not apply (when it was named)."""
    live, context = planned
    if order.confirm:
        _collect(run, action, partial(_approve, run, order, action, live, context))
    elif live is not None and context is not None:
        _collect(run, action, partial(_show, run, live, context))
    elif order.action:
        why = "the live evidence does not call for it" if failing else \
            "the problem is not failing in this scan"
        run.results.append(Result(action, ResultStatus.NOT_APPLICABLE, why))


def _plans(run: Run, actions: list[str],
           contexts: list[Context]) -> dict[str, tuple[Plan | None, Context | None]]:
    """Each action's live plan from the first of the problem's findings that calls for it; an
    action whose facts cannot be read gets a result saying so, and no entry."""
    plans: dict[str, tuple[Plan | None, Context | None]] = {}
    for action in actions:
        try:
            plans[action] = next(((p, c) for c in contexts if (p := ACTIONS[action].plan(c))),
                                 (None, None))
        except (ClientError, BotoCoreError, KubeReadError) as err:
            run.results.append(Result(action, REMEDIATION_FAILED, f"cannot plan: {err}"))
    return plans


def _show(run: Run, plan: Plan, context: Context) -> Result:
    run.ledger.save_plan(plan, run.who, run.now(), valid_for=run.settings.plan_valid)
    run.ledger.audit(plan.fingerprint, plan.action, plan.cluster, "plan", who=run.who, now=run.now(),
                     result="blocked" if plan.blocker else "done" if plan.in_place else "planned",
                     detail=plan.doc(), undo=plan.undo)
    detail = plan.blocker or ("already in place" if plan.in_place else
                              "nothing is changed until the plan is approved")
    return Result(plan.action, ResultStatus.PLANNED, detail, plan, context.finding)


def _approve(run: Run, order: RemediateOrder, action: str, live: Plan | None,
             context: Context | None) -> Result:
    stored = run.ledger.plan(order.fingerprint, action)
    shown = stored.plan if stored else live
    why = _refusal(run, action, stored, live)
    if shown is not None:
        run.ledger.audit(order.fingerprint, action, shown.cluster, "approval", who=run.who,
                         now=run.now(), result=f"refused: {why}" if why else "approved",
                         undo=shown.undo)
    if why:
        return Result(action, ResultStatus.REFUSED, why, shown)
    if live is None or live.in_place:
        return Result(action, ResultStatus.ALREADY_DONE, "already in place: nothing was changed",
                      live or shown)
    assert context is not None
    if not run.ledger.use_plan(order.fingerprint, action, run.who, run.now()):
        return Result(action, ResultStatus.REFUSED, "another approval used this plan a moment ago, or it "
                      "just expired: nothing was changed; ask for the plan again", shown)
    return _apply(run, live, context)


def _refusal(run: Run, action: str, stored: StoredPlan | None, live: Plan | None) -> str | None:
    """Why an approval must change nothing (None: it may go ahead)."""
    if run.allowed.mode == "off":
        return "remediation is off (PULLMEDIC_REMEDIATION=off): nothing was changed"
    if stored is None:
        return "no plan was shown for this action: ask for the plan first (without confirm)"
    if stored.status != PlanStatus.PLANNED:
        by = f" by {stored.used_by}" if stored.used_by else ""
        return (f"this plan was already used{by} (it is {stored.status}); a plan is applied once: "
                "ask for the plan again")
    if stored.valid_until is not None and run.now() >= stored.valid_until:
        return (f"this plan expired at {stored.valid_until:%Y-%m-%d %H:%M} UTC (plans are valid for "
                f"{_minutes(run.settings.plan_valid)}): ask for the plan again")
    if not run.allowed.allows(action, stored.plan.namespace):
        return (f"{action} is not allowed for namespace {stored.plan.namespace} "
                "(PULLMEDIC_REMEDIATION_ACTIONS, PULLMEDIC_REMEDIATION_NAMESPACES)")
    if live is None:
        return "the live evidence no longer calls for it: nothing was changed"
    if live.in_place:
        return None
    if live.blocker:
        return live.blocker
    if live.evidence_digest != stored.plan.evidence_digest:
        return (f"the evidence changed since the plan was shown (digest {stored.plan.evidence_digest} "
                f"-> {live.evidence_digest}): ask for the plan again")
    return None


def _minutes(span: timedelta) -> str:
    return f"{int(span.total_seconds() // 60)} minutes"


def _auto(run: Run, action: str, context: Context) -> Result | None:
    """Apply one action by itself, once per problem (a fix that did not help is not repeated)."""
    stored = run.ledger.plan(fingerprint(context.finding), action)
    if stored is not None and stored.status in (PlanStatus.APPLIED, PlanStatus.FAILED):
        return None
    plan = ACTIONS[action].plan(context)
    if plan is None or plan.in_place or plan.blocker:
        return None
    _show(run, plan, context)
    if not run.ledger.use_plan(plan.fingerprint, action, run.who, run.now()):
        return None  # another invocation is applying it
    run.ledger.audit(plan.fingerprint, action, plan.cluster, "approval", who=run.who, now=run.now(),
                     result=f"approved: cause proven on {CONFIRMED_STREAK} scans in a row", undo=plan.undo)
    return _apply(run, plan, context)


def _apply(run: Run, plan: Plan, context: Context) -> Result:
    """Apply, audit before and after, and remember the fix for verification."""
    calls = [{"api": c.api, "target": c.target, "params": dict(c.params)} for c in plan.calls]
    run.ledger.audit(plan.fingerprint, plan.action, plan.cluster, "apply", who=run.who, now=run.now(),
                     result="applying", detail={"calls": calls}, undo=plan.undo)
    outcome = ACTIONS[plan.action].apply(plan, context)
    steps = [{"target": s.call.target, "outcome": s.outcome, "detail": s.detail} for s in outcome.steps]
    run.ledger.audit(plan.fingerprint, plan.action, plan.cluster, "result", who=run.who, now=run.now(),
                     result=outcome.status, detail={"steps": steps}, undo=plan.undo)
    if outcome.status != ResultStatus.ALREADY_DONE:
        run.ledger.save_plan(plan, run.who, run.now(), used_by=run.who,
                             status=PlanStatus.APPLIED if outcome.status == REMEDIATED else PlanStatus.FAILED)
    if any(s.outcome == DONE for s in outcome.steps):
        run.ledger.record_applied(plan, run.who, run.now(), outcome.summary)
    return Result(plan.action, outcome.status, outcome.summary, plan, context.finding, outcome, run.who)


def _collect(run: Run, action: str, step: Callable[[], Result | None]) -> None:
    """Run one action's step; an AWS or Kubernetes error is its result, never the scan's."""
    try:
        result = step()
    except (ClientError, BotoCoreError, KubeReadError) as err:
        result = Result(action, REMEDIATION_FAILED, f"remediation error: {err}")
    if result is not None:
        run.results.append(result)
