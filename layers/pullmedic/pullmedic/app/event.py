"""Read the handler's input: an EventBridge schedule, an on-demand scan, a silence, a remediation
or a doctor run."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pullmedic.core.limits import CLUSTER_NAME, CLUSTERS_MAX, NAMESPACE_NAME, NAMESPACES_MAX, cut
from pullmedic.core.model import SILENCE_SCOPES
from pullmedic.core.targets import InvalidTargets, ScanTarget, parse, parse_one
from pullmedic.core.vocab import OrderSource

ON_DEMAND_FIELDS = frozenset({"clusters", "namespaces", "dry_run", "targets"})
SILENCE_FIELDS = frozenset({*SILENCE_SCOPES, "hours", "reason"})
SILENCE_MAX_HOURS = 90 * 24
REASON_MAX = 500
FANOUT_STEPS = ("list", "cluster", "aggregate")
FANOUT_FIELDS = {"list": frozenset({"fanout"}), "cluster": frozenset({"fanout", "execution", "target"}),
                 "aggregate": frozenset({"fanout", "execution", "results"})}
_EXECUTION = re.compile(r"^[\w:.-]{1,200}$")
DOCTOR_FIELDS = frozenset({"clusters"})
REMEDIATE_FIELDS = frozenset({"fingerprint", "action", "confirm", "approved_by", "cluster"})
APPROVER_MAX = 100
# What each scope names: a fingerprint, cluster/namespace/Kind/name, or cluster/namespace.
_SCOPE_FORMS = {
    "fingerprint": (re.compile(r"^[0-9a-f]{16}$"), "16 hex digits (from the alert)"),
    "workload": (re.compile(r"^[^/\s]+/[^/\s]+/[A-Za-z]+/[^/\s]+$"), "cluster/namespace/Kind/name"),
    "namespace": (re.compile(r"^[^/\s]+/[^/\s]+$"), "cluster/namespace"),
}


class InvalidEvent(ValueError):
    """The event cannot be used; the message names every wrong field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid event: " + "; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ScanOrder:
    """What one scan should do."""

    source: OrderSource
    clusters: tuple[str, ...] | None
    namespaces: frozenset[str] | None
    dry_run: bool
    targets: tuple[ScanTarget, ...] | None = None  # None: the deployment's targets


@dataclass(frozen=True)
class FanoutOrder:
    """One step of the Step Functions fan-out: list the targets, scan one, or aggregate."""

    step: str  # one of FANOUT_STEPS
    execution: str = ""  # the execution whose per-cluster results are kept together
    target: ScanTarget | None = None  # the "cluster" step's target
    results: tuple[Any, ...] = ()  # the "aggregate" step's per-cluster summaries and failures


@dataclass(frozen=True)
class SilenceOrder:
    """Hold back alerts for one problem, workload or namespace for `hours`."""

    scope: str  # one of SILENCE_SCOPES
    value: str
    hours: float
    reason: str


@dataclass(frozen=True)
class RemediateOrder:
    """Plan (and, confirmed, apply) the remediation of one problem."""

    fingerprint: str
    action: str | None  # None: every action the evidence calls for
    confirm: bool  # False: show the plan, change nothing
    approved_by: str
    cluster: str | None  # None: the cluster of the problem's state record


@dataclass(frozen=True)
class DoctorOrder:
    """Check the deployment: access, reachability and permissions per cluster, alerts, state."""

    clusters: tuple[str, ...] | None  # None: the deployment's clusters


def parse_event(event: Any) -> ScanOrder | SilenceOrder | RemediateOrder | FanoutOrder | DoctorOrder:
    """Validate `event`; raise InvalidEvent listing each problem."""
    if not isinstance(event, Mapping):
        raise InvalidEvent([f"the event must be a JSON object, not {type(event).__name__}"])
    if event.get("source") == "aws.events" or event.get("detail-type") == "Scheduled Event":
        return ScanOrder(OrderSource.SCHEDULE, None, None, False)
    if "silence" in event:
        return parse_silence(event)
    if "remediate" in event:
        return parse_remediate(event)
    if "fanout" in event:
        return parse_fanout(event)
    if "doctor" in event:
        return parse_doctor(event)
    return _parse_on_demand(event)


def _parse_on_demand(event: Mapping[str, Any]) -> ScanOrder:
    """Validate an on-demand scan: clusters or targets, namespaces, dry_run."""
    problems = [f"unknown field {_shown(key)} (expected one of: {', '.join(sorted(ON_DEMAND_FIELDS))})"
                for key in event if key not in ON_DEMAND_FIELDS]
    clusters = _names(event, "clusters", problems)
    namespaces = _names(event, "namespaces", problems)
    dry_run = event.get("dry_run", False)
    if not isinstance(dry_run, bool):
        problems.append(f"'dry_run' must be true or false, not {_shown(dry_run)}")
    targets = _targets(event, problems)
    if event.get("targets") is not None and clusters:
        problems.append("give either 'clusters' or 'targets' (each target names its clusters)")
    if problems:
        raise InvalidEvent(problems)
    return ScanOrder(OrderSource.ON_DEMAND, tuple(clusters) if clusters else None,
                     frozenset(namespaces) if namespaces else None, bool(dry_run), targets)


def _targets(event: Mapping[str, Any], problems: list[str]) -> tuple[ScanTarget, ...] | None:
    if event.get("targets") is None:
        return None
    try:
        return parse(event["targets"])
    except InvalidTargets as err:
        problems.extend(err.problems)
        return None


_NAME_RULES = {"clusters": (CLUSTER_NAME, CLUSTERS_MAX, "EKS cluster names (letters, digits, - and _, "
                                                       "at most 100)"),
               "namespaces": (NAMESPACE_NAME, NAMESPACES_MAX, "namespace names (RFC 1123 labels)")}


def _names(event: Mapping[str, Any], key: str, problems: list[str]) -> list[str]:
    """The names under `key`, each once, in order; each wrong one is a problem."""
    value = event.get(key)
    if value is None:
        return []
    pattern, most, form = _NAME_RULES[key]
    if not isinstance(value, list) or not value:
        problems.append(f"{key!r} must be a list of {form}, at least one, not {_shown(value)}")
        return []
    names = list(dict.fromkeys(v.strip() for v in value if isinstance(v, str)))
    wrong = [v for v in value if not isinstance(v, str) or not pattern.match(v.strip())]
    if wrong:
        problems.append(f"{key!r} must be a list of {form}; not: {', '.join(_shown(v) for v in wrong[:5])}"
                        + (f" and {len(wrong) - 5} more" if len(wrong) > 5 else ""))
    if len(names) > most:
        problems.append(f"{key!r} names {len(names)}; at most {most} per invocation (scan more "
                        "through the deployment's targets and the fan-out)")
    return names


def _shown(value: Any) -> str:
    """A short repr of a wrong value, for an error message."""
    return cut(repr(value), 80)


def parse_fanout(event: Mapping[str, Any]) -> FanoutOrder:
    """Validate `{"fanout": "list"}`, `{"fanout": "cluster", "execution": ..., "target": {...}}`
    or `{"fanout": "aggregate", "execution": ..., "results": [...]}`."""
    step = event["fanout"]
    if step not in FANOUT_STEPS:
        raise InvalidEvent([f"'fanout' must be one of {', '.join(FANOUT_STEPS)}, not {_shown(step)}"])
    allowed = FANOUT_FIELDS[step]
    problems = [f"unknown field {_shown(key)} for fanout {step} (expected one of: "
                f"{', '.join(sorted(allowed))})" for key in event if key not in allowed]
    execution = event.get("execution", "")
    if step != "list" and (not isinstance(execution, str) or not _EXECUTION.match(execution)):
        problems.append("'execution' must name the execution (letters, digits, _ : . -), "
                        f"not {_shown(execution)}")
    target = None
    if step == "cluster":
        try:
            target = parse_one(event.get("target"))
        except InvalidTargets as err:
            problems.extend(err.problems)
    results = event.get("results", [])
    if step == "aggregate" and not isinstance(results, list):
        problems.append(f"'results' must be a list, not {_shown(results)}")
    if problems:
        raise InvalidEvent(problems)
    return FanoutOrder(step, execution if step != "list" else "", target, tuple(results))


def parse_silence(event: Mapping[str, Any]) -> SilenceOrder:
    """Validate `{"silence": {"fingerprint"|"workload"|"namespace": ..., "hours": 24,
    "reason": ...}}`; raise InvalidEvent listing each problem."""
    problems = [f"unknown field {_shown(key)} next to 'silence'" for key in event if key != "silence"]
    body = event["silence"]
    if not isinstance(body, Mapping):
        raise InvalidEvent([*problems, f"'silence' must be an object, not {_shown(body)}"])
    problems += [f"unknown field 'silence.{key}' (expected one of: "
                 f"{', '.join(sorted(SILENCE_FIELDS))})" for key in body if key not in SILENCE_FIELDS]
    scopes = [scope for scope in SILENCE_SCOPES if scope in body]
    problems += _scope_problems(body, scopes)
    hours, reason = body.get("hours", 24), body.get("reason", "")
    problems += _silence_problems(hours, reason)
    if problems:
        raise InvalidEvent(problems)
    scope = scopes[0]
    return SilenceOrder(scope, body[scope].strip(), float(hours), reason.strip())


def _scope_problems(body: Mapping[str, Any], scopes: list[str]) -> list[str]:
    """Exactly one scope, in its form."""
    problems = []
    if len(scopes) != 1:
        problems.append("'silence' needs exactly one of 'silence.fingerprint', 'silence.workload' "
                        f"or 'silence.namespace' (got {len(scopes)})")
    for scope in scopes:
        pattern, form = _SCOPE_FORMS[scope]
        value = body[scope]
        if not isinstance(value, str) or not pattern.match(value.strip()):
            problems.append(f"'silence.{scope}' must be {form}, not {_shown(value)}")
    return problems


def _silence_problems(hours: object, reason: object) -> list[str]:
    """Hours above 0 and at most SILENCE_MAX_HOURS; a reason of at most REASON_MAX characters."""
    problems = []
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 < hours <= SILENCE_MAX_HOURS:
        problems.append(f"'silence.hours' must be a number of hours above 0 and at most "
                        f"{SILENCE_MAX_HOURS}, not {_shown(hours)}")
    if not isinstance(reason, str) or len(reason) > REASON_MAX:
        problems.append(f"'silence.reason' must be text of at most {REASON_MAX} characters")
    return problems


def parse_remediate(event: Mapping[str, Any]) -> RemediateOrder:
    """Validate `{"remediate": {"fingerprint": ..., "action": ..., "confirm": true,
    "approved_by": ..., "cluster": ...}}`; raise InvalidEvent listing each problem."""
    from pullmedic.remediating.actions import ACTIONS  # deferred: the actions import the checks

    problems = [f"unknown field {_shown(key)} next to 'remediate'" for key in event if key != "remediate"]
    body = event["remediate"]
    if not isinstance(body, Mapping):
        raise InvalidEvent([*problems, f"'remediate' must be an object, not {_shown(body)}"])
    problems += [f"unknown field 'remediate.{key}' (expected one of: "
                 f"{', '.join(sorted(REMEDIATE_FIELDS))})" for key in body if key not in REMEDIATE_FIELDS]
    fp, action = body.get("fingerprint"), body.get("action")
    problems += _fix_problems(fp, action, tuple(ACTIONS))
    confirm, who, cluster = body.get("confirm", False), body.get("approved_by", ""), body.get("cluster")
    problems += _approval_problems(confirm, who, cluster)
    if problems:
        raise InvalidEvent(problems)
    return RemediateOrder(str(fp).strip(), action, confirm, str(who).strip(),
                          cluster.strip() if cluster else None)


def _fix_problems(fp: object, action: object, actions: tuple[str, ...]) -> list[str]:
    """A fingerprint in its form; no action, or a known one."""
    problems = []
    pattern, form = _SCOPE_FORMS["fingerprint"]
    if not isinstance(fp, str) or not pattern.match(fp.strip()):
        problems.append(f"'remediate.fingerprint' must be {form}, not {_shown(fp)}")
    if action is not None and (not isinstance(action, str) or action not in actions):
        problems.append(f"'remediate.action' must be one of {', '.join(actions)}, not {_shown(action)}")
    return problems


def _approval_problems(confirm: object, who: object, cluster: object) -> list[str]:
    """confirm a bool; who approves (required with confirm); no cluster, or a cluster name."""
    problems = []
    if not isinstance(confirm, bool):
        problems.append(f"'remediate.confirm' must be true or false, not {_shown(confirm)}")
    if not isinstance(who, str) or len(who) > APPROVER_MAX or (confirm is True and not who.strip()):
        problems.append(f"'remediate.approved_by' must name who approves (at most {APPROVER_MAX} "
                        "characters; required with confirm)")
    if cluster is not None and (not isinstance(cluster, str) or not CLUSTER_NAME.match(cluster.strip())):
        problems.append(f"'remediate.cluster' must be an EKS cluster name, not {_shown(cluster)}")
    return problems


def parse_doctor(event: Mapping[str, Any]) -> DoctorOrder:
    """Validate `{"doctor": {}}` or `{"doctor": {"clusters": [...]}}`."""
    problems = [f"unknown field {_shown(key)} next to 'doctor'" for key in event if key != "doctor"]
    body = event["doctor"]
    if not isinstance(body, Mapping):
        raise InvalidEvent([*problems, f"'doctor' must be an object, not {_shown(body)}"])
    problems += [f"unknown field 'doctor.{key}' (expected one of: {', '.join(sorted(DOCTOR_FIELDS))})"
                 for key in body if key not in DOCTOR_FIELDS]
    clusters = _names(body, "clusters", problems)
    if problems:
        raise InvalidEvent(problems)
    return DoctorOrder(tuple(clusters) or None)
