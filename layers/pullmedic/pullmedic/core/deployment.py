"""What doctor reads, and the lines it reports (data only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pullmedic.core.unavailable import Unavailable
from pullmedic.core.vocab import Health

OK, PROBLEM, UNKNOWN = Health.OK, Health.PROBLEM, Health.UNKNOWN
DEPLOYMENT = "deployment"  # the subject of the lines that are not about one cluster
# Caps on what one run reads, applied while paginating (one more item says that more exist).
SUBSCRIPTIONS_MAX = 100  # subscriptions of the alert topic looked at (each may cost one call)
ENTRIES_MAX = 2000  # access entries of one cluster looked through
POLICIES_MAX = 100  # access policies of one access entry


@dataclass(frozen=True)
class Line:
    """One checklist line: what was checked, for what, the verdict, why, and the exact fix."""

    check: str
    subject: str  # a cluster name, or DEPLOYMENT
    verdict: Health
    detail: str
    fix: str = ""

    def doc(self) -> dict[str, str]:
        """The JSON form."""
        return {"check": self.check, "subject": self.subject, "verdict": self.verdict,
                "detail": self.detail, "fix": self.fix}


@dataclass(frozen=True)
class KubeNeed:
    """One Kubernetes permission the deployment needs: a verb on a resource, and why."""

    verb: str
    resource: str
    purpose: str
    group: str = ""
    subresource: str = ""
    namespace: str = ""  # "": every namespace (or cluster-scoped)
    required: bool = True  # False: the scan degrades without it (said in the evidence)
    grant: str = "view"  # what grants it: view | nodes | secrets | evict

    def text(self) -> str:
        """`list replicasets.apps in all namespaces`, as people and kubectl name it."""
        name = f"{self.resource}/{self.subresource}" if self.subresource else self.resource
        name = f"{name}.{self.group}" if self.group else name
        where = f"in namespace {self.namespace}" if self.namespace else (
            "cluster-wide" if self.resource == "nodes" else "in all namespaces")
        return f"{self.verb} {name} {where}"


@dataclass(frozen=True)
class Identity:
    """Who doctor runs as, and whose access it checks (the function's role)."""

    caller: str  # the caller's ARN (assumed-role ARN in Lambda)
    role_arn: str | None  # the role whose access is checked (None: the caller is not a role)
    caller_role: str | None  # the caller's own role ARN, when the caller is a role
    account: str
    partition: str


@dataclass(frozen=True)
class AccessEntry:
    """The principal's access entry in one cluster (found means it exists)."""

    principal_arn: str
    type: str
    groups: tuple[str, ...]
    policies: tuple[tuple[str, str, tuple[str, ...]], ...]  # (policy ARN, scope type, namespaces)


@dataclass(frozen=True)
class KubeAccess:
    """What the cluster's API server said: each permission's review, or why it could not be asked."""

    reviews: dict[KubeNeed, bool | Unavailable] = field(default_factory=dict)
    status: int | None = None  # HTTP status of a failed review (401, 403...), None when reached
    error: str | None = None  # why the API server could not be asked at all


@dataclass(frozen=True)
class FunctionNetwork:
    """Where the function runs: outside a VPC (vpc_id None), or in these subnets and groups."""

    vpc_id: str | None
    subnet_cidrs: dict[str, str] = field(default_factory=dict)
    security_groups: tuple[str, ...] = ()
    egress_ips: tuple[str, ...] | Unavailable = ()  # NAT public IPs of its subnets' default routes
    groups: list[dict[str, Any]] | Unavailable = field(default_factory=list)  # its security groups
    vpc_cidrs: tuple[str, ...] = ()  # the VPC's IPv4 CIDR blocks (empty: not read)


@dataclass(frozen=True)
class ClusterFacts:
    """Everything read about one cluster."""

    name: str
    cluster: dict[str, Any] | Unavailable  # describe_cluster's "cluster"
    entry: AccessEntry | None | Unavailable = None  # None: no entry for the role
    security_groups: list[dict[str, Any]] | Unavailable = field(default_factory=list)
    kube: KubeAccess = field(default_factory=KubeAccess)
    late: bool = False  # not checked before the deadline (`cluster` says so)


@dataclass(frozen=True)
class Permissions:
    """The role's decision for each AWS action it needs, and how it was decided."""

    decisions: dict[str, str] | Unavailable  # action -> allowed | explicitDeny | implicitDeny
    source: str  # "simulator", or "policies" (the role's own policies, simulator unavailable)
    note: str = ""  # why the simulator was not used


@dataclass(frozen=True)
class Subscription:
    """One subscription of the alert topic."""

    protocol: str
    endpoint: str
    pending: bool


@dataclass(frozen=True)
class TableFacts:
    """The state table's status and time-to-live setting."""

    status: str
    ttl_status: str  # ENABLED | DISABLED | ENABLING | DISABLING
    ttl_attribute: str | None


@dataclass(frozen=True)
class DeploymentFacts:
    """What doctor reads once per run, and the facts of every cluster."""

    region: str
    identity: Identity | Unavailable
    function: str | None  # the function's name (None: not known, e.g. the CLI without --function)
    network: FunctionNetwork | Unavailable | None  # None: function not known
    permissions: Permissions | None  # None: no role to check
    topic_arn: str | None
    subscriptions: list[Subscription] | Unavailable | None
    table: str | None
    table_facts: TableFacts | Unavailable | None
    clusters: list[ClusterFacts]
    kubernetes_group: str = "pullmedic-readers"
