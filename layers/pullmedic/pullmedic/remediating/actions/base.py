"""What every remediation action declares (META), proposes (Plan) and reports (Outcome).

An action module has META, `applies(finding)` (the finding's evidence calls for it),
`plan(context)` (live: a Plan, or None when the evidence does not call for it) and
`apply(plan, context)` (idempotent: what is already in place is reported as such).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from pullmedic.core.awsclients import ClientFor
from pullmedic.core.causes import Cause
from pullmedic.core.model import Finding
from pullmedic.core.settings import Settings
from pullmedic.core.unavailable import error_text
from pullmedic.core.vocab import ResultStatus, StepOutcome
from pullmedic.diagnosing.evidence import Facts
from pullmedic.reading.kube.reader import KubeReader

DONE, ALREADY_DONE, REFUSED = StepOutcome.DONE, StepOutcome.ALREADY_DONE, StepOutcome.REFUSED
SKIPPED, FAILED = StepOutcome.SKIPPED, StepOutcome.FAILED
REMEDIATED, REMEDIATION_FAILED = ResultStatus.REMEDIATED, ResultStatus.REMEDIATION_FAILED


@dataclass(frozen=True)
class ActionMeta:
    """Typed metadata of one remediation action (id = the module's file name)."""

    id: str
    title: str
    causes: frozenset[Cause]
    evidence: tuple[tuple[str, str], ...]  # (check id, verdict status): any one calls for it
    changes: str  # what it changes, in words
    calls: tuple[str, ...]  # the exact API calls it makes
    undo: str  # how to undo it ({placeholders} are filled in the plan)
    permissions: tuple[str, ...]  # IAM actions of the calls
    kube_verbs: tuple[str, ...]  # Kubernetes RBAC of the calls ("verb resource")


@dataclass(frozen=True)
class Call:
    """One API call a plan makes, with its exact parameters."""

    api: str  # "iam:AttachRolePolicy", "kubernetes:create pods/eviction"
    target: str  # what it changes, for people
    params: Mapping[str, Any]


@dataclass(frozen=True)
class Plan:
    """What an action would change for one finding, computed from live evidence."""

    action: str
    fingerprint: str
    cluster: str
    namespace: str
    resources: tuple[str, ...]
    calls: tuple[Call, ...]
    undo: tuple[str, ...]
    evidence_digest: str  # of the evidence lines and resources the plan was computed from
    notes: tuple[str, ...] = ()
    blocker: str | None = None  # why it cannot be applied (it is shown, never applied)
    in_place: bool = False  # the change is already in place (its JSON says "done")

    def doc(self) -> dict[str, Any]:
        """The JSON form (stored at plan time, printed, returned by the handler)."""
        return {"action": self.action, "fingerprint": self.fingerprint, "cluster": self.cluster,
                "namespace": self.namespace, "resources": list(self.resources),
                "calls": [{"api": c.api, "target": c.target, "params": dict(c.params)}
                          for c in self.calls],
                "undo": list(self.undo), "evidence_digest": self.evidence_digest,
                "notes": list(self.notes), "blocker": self.blocker, "done": self.in_place}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Plan:
        """The plan a stored `doc()` describes."""
        return cls(doc["action"], doc["fingerprint"], doc["cluster"], doc["namespace"],
                   tuple(doc["resources"]),
                   tuple(Call(c["api"], c["target"], c["params"]) for c in doc["calls"]),
                   tuple(doc["undo"]), doc["evidence_digest"], tuple(doc.get("notes", ())),
                   doc.get("blocker"), bool(doc.get("done")))


@dataclass(frozen=True)
class Step:
    """What one call did."""

    call: Call
    outcome: StepOutcome
    detail: str


@dataclass(frozen=True)
class Outcome:
    """The result of applying a plan."""

    steps: tuple[Step, ...]

    @property
    def status(self) -> ResultStatus:
        """remediated, already_done (nothing needed changing) or remediation_failed."""
        outcomes = {s.outcome for s in self.steps}
        if outcomes <= {ALREADY_DONE}:
            return ResultStatus.ALREADY_DONE
        return REMEDIATED if outcomes <= {DONE, ALREADY_DONE} else REMEDIATION_FAILED

    @property
    def summary(self) -> str:
        """What each step did, in one line."""
        return "; ".join(s.detail for s in self.steps)


@dataclass
class Budget:
    """Evictions left in this run, shared by every plan applied in one invocation (and so by the
    threads that scan its clusters side by side)."""

    evictions: int
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def take(self) -> bool:
        """Reserve one eviction; False when none is left."""
        with self._lock:
            if self.evictions <= 0:
                return False
            self.evictions -= 1
            return True

    def give_back(self) -> None:
        """Return a reserved eviction that did not happen."""
        with self._lock:
            self.evictions += 1


@dataclass
class Context:
    """What an action plans and applies with: the live finding, facts and clients."""

    finding: Finding
    findings: list[Finding]  # every finding of the cluster in this scan
    facts: Facts
    kube: KubeReader
    client_for: ClientFor
    settings: Settings
    budget: Budget


class Action(Protocol):
    """What an action module provides (the registry checks each module against it)."""

    META: ActionMeta

    def applies(self, finding: Finding) -> bool:
        """The finding's evidence calls for the action."""

    def plan(self, context: Context) -> Plan | None:
        """The live plan, or None when the evidence does not call for it."""

    def apply(self, plan: Plan, context: Context) -> Outcome:
        """Carry the plan out (idempotent: what is already in place is reported as such)."""


def proven(meta: ActionMeta, finding: Finding) -> bool:
    """The finding's evidence holds one of the verdicts the action needs."""
    return finding.cause in meta.causes and bool(set(finding.verdicts) & set(meta.evidence))


def evidence_digest(meta: ActionMeta, finding: Finding, *resources: str) -> str:
    """A hash of the finding's evidence from the action's checks (as data), and the resources."""
    checks = {check for check, _ in meta.evidence}
    items = sorted([e.check, str(e.status), e.text] for e in finding.evidence_items if e.check in checks)
    text = json.dumps([finding.cause.value, items, sorted(resources)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def attempt(call: Call, run: Callable[[], object], succeeded: str,
            already: type[Exception] | tuple[type[Exception], ...] = ()) -> Step:
    """Make one AWS write (`succeeded` says what it did); the modelled exception `already`
    (e.g. client.exceptions.XAlreadyExistsException) means the change is in place."""
    try:
        run()
    except already:
        return Step(call, ALREADY_DONE, f"{call.target} is in place already")
    except ClientError as err:
        return Step(call, FAILED, f"{call.target} failed: {error_text(call.api, err)}")
    except BotoCoreError as err:
        return Step(call, FAILED, f"{call.target} failed: {error_text(call.api, err)}")
    return Step(call, DONE, succeeded)
