"""Evict pods still in image pull back-off once the evidence says their image can be pulled now."""

from __future__ import annotations

from typing import Any

from pullmedic.core.causes import Cause
from pullmedic.core.model import Finding
from pullmedic.diagnosing.checks.base import CONFIRMED, CONTRADICTED, PASSED
from pullmedic.diagnosing.findings import fingerprint
from pullmedic.reading.kube.pods import PULL_REASONS
from pullmedic.reading.kube.reader import KubeReadError
from pullmedic.remediating.actions.base import (
    ALREADY_DONE,
    DONE,
    FAILED,
    REFUSED,
    SKIPPED,
    ActionMeta,
    Call,
    Context,
    Outcome,
    Plan,
    Step,
    evidence_digest,
    proven,
)

EVICTION = "kubernetes:create pods/eviction"
META = ActionMeta(
    id="retry_pods", title="Evict the waiting pods so their controller recreates them",
    causes=frozenset({Cause.IMAGE_NOT_FOUND, Cause.AUTH_FAILED, Cause.UNKNOWN}),
    evidence=(("ecr_image_exists", CONTRADICTED), ("ecr_pull_permission", PASSED)),
    changes="evicts the finding's pods that still wait on their image (only pods owned by a "
            "controller; PodDisruptionBudgets apply; at most the configured number per workload "
            "and per run): their controller creates new pods, which pull at once instead of "
            "waiting out the kubelet's back-off",
    calls=("POST /api/v1/namespaces/{namespace}/pods/{pod}/eviction (policy/v1 Eviction)",),
    undo="nothing to undo: the {workload} controller has replaced the pods "
         "(kubectl -n {namespace} get pods)",
    permissions=(), kube_verbs=("create pods/eviction",),
)


def applies(finding: Finding) -> bool:
    """ECR has the image (or the role may pull it) and no check confirms a blocker."""
    return proven(META, finding) and not any(status == CONFIRMED for _, status in finding.verdicts)


def plan(context: Context) -> Plan | None:
    """The finding's pods that are still waiting and owned by a controller, up to the limit."""
    finding = context.finding
    if not applies(finding):
        return None
    evictable, notes = [], []
    for name in finding.pods:
        why = _not_evictable(context, finding, name)
        if why:
            notes.append(f"pod {name} is left alone: {why}")
        else:
            evictable.append(name)
    limit = context.settings.evictions_per_workload
    if len(evictable) > limit:
        notes.append(f"{len(evictable) - limit} more pod(s) not evicted: at most {limit} per workload")
        evictable = evictable[:limit]
    if finding.pod_count > len(finding.pods):
        notes.append(f"{finding.pod_count - len(finding.pods)} more failing pod(s) are not named "
                     "in the finding and are left to the kubelet's back-off")
    workload = f"{finding.workload.kind}/{finding.workload.name}"
    calls = tuple(Call(EVICTION, f"pod {finding.namespace}/{name}",
                       {"namespace": finding.namespace, "name": name}) for name in evictable)
    return Plan(
        action=META.id, fingerprint=fingerprint(finding), cluster=finding.cluster,
        namespace=finding.namespace, resources=tuple(f"pod/{n}" for n in evictable), calls=calls,
        undo=(META.undo.format(workload=workload, namespace=finding.namespace),),
        evidence_digest=evidence_digest(META, finding, *evictable), notes=tuple(notes),
        blocker=None if calls else "no pod of the finding can be evicted")


def apply(plan: Plan, context: Context) -> Outcome:
    """One eviction per pod, never retried: a budget's refusal (429) is reported as refused."""
    steps = []
    for call in plan.calls:
        if not context.budget.take():
            steps.append(Step(call, SKIPPED, f"{call.target} not evicted: the per-run eviction limit "
                                             "is reached"))
            continue
        result = context.kube.evict(call.params["namespace"], call.params["name"])
        if result.outcome != "evicted":
            context.budget.give_back()
        if result.outcome == "evicted":
            steps.append(Step(call, DONE, f"evicted {call.target}"))
        elif result.outcome == "gone":
            steps.append(Step(call, ALREADY_DONE, f"{call.target} is gone already"))
        elif result.outcome == "refused":
            steps.append(Step(call, REFUSED, f"a PodDisruptionBudget refused to evict {call.target} "
                                             f"(HTTP {result.status}): {result.message}"))
        else:
            steps.append(Step(call, FAILED, f"evicting {call.target} failed (HTTP {result.status}): "
                                            f"{result.message}"))
    return Outcome(tuple(steps))


def _not_evictable(context: Context, finding: Finding, name: str) -> str | None:
    """Why pod `name` must not be evicted now (None: it may)."""
    try:
        pod = context.kube.pod(finding.namespace, name)
    except KubeReadError as err:
        return "it is gone" if err.status == 404 else f"it cannot be read ({err})"
    owner = next((o for o in (pod.get("metadata") or {}).get("ownerReferences") or []
                  if o.get("controller")), None)
    if owner is None or owner.get("kind") == "Node":
        return "no controller would recreate it (a bare or static pod is never evicted)"
    if not _waiting_on_image(pod, finding.container):
        return f"container {finding.container} no longer waits on its image"
    return None


def _waiting_on_image(pod: dict[str, Any], container: str) -> bool:
    status = pod.get("status") or {}
    statuses = [s for key in ("initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses")
                for s in status.get(key) or []]
    return any(s.get("name") == container
               and ((s.get("state") or {}).get("waiting") or {}).get("reason") in PULL_REASONS
               for s in statuses)
