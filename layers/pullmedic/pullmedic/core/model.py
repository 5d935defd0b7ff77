"""Plain records passed between the scan's stages (frozen, no behaviour beyond naming)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from pullmedic.core.causes import Cause
from pullmedic.core.vocab import Confidence, Event, MessageSource, Severity, VerdictStatus

CONTAINER_TYPES = ("init", "regular", "ephemeral", "sandbox")
SANDBOX = "(pod sandbox)"

# how a silence names what it silences
SILENCE_SCOPES = ("fingerprint", "workload", "namespace")


@dataclass(frozen=True)
class Workload:
    """The controller a pod belongs to, found through its owner chain."""

    kind: str
    name: str
    inferred: bool = False  # named from naming conventions because the owner could not be read


@dataclass(frozen=True)
class PodInfo:
    """The few fields of a pod the scan keeps (the rest of the page is dropped)."""

    namespace: str
    name: str
    uid: str
    created: datetime | None
    node: str | None
    host_ip: str | None
    pod_ip: str | None
    labels: dict[str, str]
    owner_kind: str | None
    owner_name: str | None
    service_account: str
    pull_secrets: tuple[str, ...]


@dataclass(frozen=True)
class FailureEvent:
    """The newest kubelet event that explains a container's (or sandbox's) failure."""

    reason: str
    message: str
    time: datetime | None
    count: int


@dataclass(frozen=True)
class ContainerFailure:
    """One container (or pod sandbox) of one pod that cannot start because of its image."""

    cluster: str
    pod: PodInfo
    container: str
    container_type: str
    image: str
    reason: str
    message: str
    message_source: MessageSource
    event: FailureEvent | None = None
    secret_warning: str | None = None  # a FailedToRetrieveImagePullSecret event for the pod


@dataclass(frozen=True)
class Evidence:
    """One fact a check reported: the check, its status, the text, and the AWS ids it names."""

    check: str
    status: VerdictStatus
    text: str
    resources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    """One problem: a (cluster, namespace, workload, container, image, cause) group of failures."""

    cluster: str
    namespace: str
    workload: Workload
    container: str
    container_type: str
    image: str
    cause: Cause
    rule_id: str
    summary: str
    alternatives: tuple[Cause, ...]
    message: str
    message_source: MessageSource
    reasons: tuple[str, ...]
    pods: tuple[str, ...]
    pod_count: int
    nodes: tuple[str, ...]
    severity: Severity
    confidence: Confidence = Confidence.LIKELY
    advice: str = ""
    evidence: tuple[str, ...] = field(default_factory=tuple)
    fix_commands: tuple[str, ...] = field(default_factory=tuple)
    pod_sample: PodInfo | None = field(default=None, compare=False)
    secret_warning: str | None = None
    message_cause: Cause | None = None  # what the message alone said, when evidence changed it
    verdicts: tuple[tuple[str, str], ...] = ()  # (check id, status) of every check run, sorted
    evidence_items: tuple[Evidence, ...] = ()  # the evidence as data, one per check and line
    account: str | None = None  # the cluster's AWS account (from its ARN), when known
    region: str | None = None  # the cluster's AWS Region, when known

    @property
    def key(self) -> tuple[str, str, str, str, str, str, str]:
        """The grouping key; also the input of the stable fingerprint."""
        return (self.cluster, self.namespace, self.workload.kind, self.workload.name,
                self.container, self.image, self.cause.value)


@dataclass(frozen=True)
class ScanError:
    """A cluster (or a part of one) that could not be scanned, and why."""

    cluster: str
    stage: str
    message: str


class Remediation(NamedTuple):
    """A fix applied to a finding: what it did (or why it did not help), who, how to undo it."""

    action: str
    summary: str
    by: str = ""
    undo: tuple[str, ...] = ()


class Announcement(NamedTuple):
    """One finding to tell subscribers about, and why now."""

    event: Event
    finding: Finding
    since: datetime | None = None  # first seen
    previous_cause: str | None = None  # for `changed`: the cause announced before
    actions: tuple[str, ...] = ()  # remediation actions that may be approved for it
    remediation: Remediation | None = None  # the fix applied to it, if any
