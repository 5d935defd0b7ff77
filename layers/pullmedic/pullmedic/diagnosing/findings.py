"""Group container failures into findings: one per workload, container, image and cause."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

from pullmedic.core.causes import ADVICE, Cause
from pullmedic.core.model import ContainerFailure, Finding, Workload
from pullmedic.core.vocab import MessageSource, Severity
from pullmedic.diagnosing.classify import Classification, classify

EXAMPLE_NODES = 20  # nodes named per finding (a bound on alerts and state items)
EXAMPLE_PODS = 5
SEVERITY: dict[Cause, Severity] = {
    Cause.RATE_LIMITED: Severity.MEDIUM, Cause.PULL_TIMEOUT: Severity.MEDIUM,
    Cause.REGISTRY_SERVER_ERROR: Severity.MEDIUM, Cause.UNKNOWN: Severity.MEDIUM,
}
SEVERITY_ORDER = (Severity.LOW, Severity.MEDIUM, Severity.HIGH)
# Rules that fire when the message says nothing: such pods join their siblings' known cause.
SILENT_RULES = frozenset({"backoff_only", "no_message"})

Place = tuple[str, str, Workload, str, str]  # cluster, namespace, workload, container, image
Members = list[tuple[ContainerFailure, Classification]]


def severity(cause: Cause) -> Severity:
    """High unless the cause is often transient (rate limit, timeout, server error) or unknown."""
    return SEVERITY.get(cause, Severity.HIGH)


def fingerprint(finding: Finding) -> str:
    """A stable id for the problem: the same (cluster, ns, workload, container, image).

    The cause is left out so that a problem whose cause changes keeps its id (and its alert
    history); findings of one container that fail for different causes share it.
    """
    return hashlib.sha256("\x1f".join(finding.key[:-1]).encode()).hexdigest()[:16]


def group(failures: Iterable[ContainerFailure],
          workload_of: Callable[[ContainerFailure], Workload]) -> list[Finding]:
    """Classify each failure and fold them into findings, newest message kept per group."""
    by_place: dict[Place, Members] = defaultdict(list)
    for failure in failures:
        classification = classify(failure.message, reason=failure.reason, image=failure.image or None)
        place = (failure.cluster, failure.pod.namespace, workload_of(failure), failure.container,
                 failure.image)
        by_place[place].append((failure, classification))
    groups: dict[tuple[*Place, Cause], Members] = defaultdict(list)
    for place, members in by_place.items():
        known = Counter(v.cause for _, v in members if v.rule_id not in SILENT_RULES)
        for failure, classification in members:
            cause = classification.cause
            if classification.rule_id in SILENT_RULES and known:
                cause = known.most_common(1)[0][0]
            groups[(*place, cause)].append((failure, classification))
    findings = [_finding(key, members) for key, members in groups.items()]
    return sorted(findings, key=lambda f: (SEVERITY_ORDER.index(f.severity) * -1, f.key))


def _finding(key: tuple[*Place, Cause], members: Members) -> Finding:
    cluster, namespace, workload, container, image, cause = key
    best_failure, best_classification = max(members, key=_informative)
    pods = sorted({f.pod.name for f, _ in members})
    return Finding(
        cluster=cluster, namespace=namespace, workload=workload, container=container,
        container_type=best_failure.container_type, image=image, cause=cause,
        rule_id=best_classification.rule_id, summary=best_classification.summary,
        alternatives=best_classification.alternatives, message=best_failure.message,
        message_source=best_failure.message_source,
        reasons=tuple(sorted({f.reason for f, _ in members})), pods=tuple(pods[:EXAMPLE_PODS]),
        pod_count=len(pods),
        nodes=tuple(sorted({f.pod.node for f, _ in members if f.pod.node})[:EXAMPLE_NODES]),
        severity=severity(cause), advice=ADVICE[cause], pod_sample=best_failure.pod,
        secret_warning=next((f.secret_warning for f, _ in members if f.secret_warning), None),
    )


def _informative(member: tuple[ContainerFailure, Classification]) -> tuple[int, float]:
    """Prefer a message from the waiting state or an event, then the newest event."""
    failure, _ = member
    rank = {MessageSource.WAITING: 2, MessageSource.EVENT: 1}.get(failure.message_source, 0)
    when = failure.event.time.timestamp() if failure.event and failure.event.time else 0.0
    return rank, when
