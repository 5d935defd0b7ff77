"""One scan: clusters -> failing containers -> causes -> findings. Wires readers to logic."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from pullmedic.aws.eks import ClusterAccess, describe, list_clusters
from pullmedic.aws.token import eks_token
from pullmedic.diagnose import diagnose
from pullmedic.evidence import Facts, Readers
from pullmedic.findings import group
from pullmedic.kube.pods import (
    EVENT_FIELD_SELECTOR,
    POD_FIELD_SELECTOR,
    Candidate,
    candidates,
    event_key,
    failure_event,
    failures,
    newer,
)
from pullmedic.kube.reader import KubeReader, KubeReadError
from pullmedic.kube.workloads import controller_index, needs_jobs, replicaset_selector, workload_of
from pullmedic.model import FailureEvent, Finding, ScanError, Workload

Connect = Callable[[str, str, str], AbstractContextManager[Any]]
# Runs inside each cluster's Kubernetes client context, after its findings are diagnosed.
Hook = Callable[[ClusterAccess, list[Finding], Facts, KubeReader], None]


@dataclass(frozen=True)
class ScanRequest:
    """What to scan: named clusters (None: every cluster in the region) and namespaces."""

    clusters: tuple[str, ...] | None = None
    namespaces: frozenset[str] | None = None


@dataclass(frozen=True)
class ScanDeps:
    """Everything a scan talks to, built by bootstrap (or by a test against the sandbox)."""

    session: Any
    region: str
    eks: Any
    connect: Connect
    client_for: Callable[[str, str | None], Any]
    readers: Readers
    grace: timedelta
    now: Callable[[], datetime]
    page_size: int = 500
    read_secrets: bool = False


@dataclass
class ScanResult:
    """Findings of every cluster that could be read, and an error for every one that could not."""

    clusters: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    kube_requests: dict[str, int] = field(default_factory=dict)


def scan(request: ScanRequest, deps: ScanDeps, hook: Hook | None = None) -> ScanResult:
    """Scan every requested cluster; one failing cluster never hides the others.

    `hook`, if given, sees each cluster's findings with the facts and the Kubernetes
    client they were diagnosed with (remediation plans from live evidence).
    """
    result = ScanResult()
    try:
        names = list(request.clusters) if request.clusters else list_clusters(deps.eks)
    except (ClientError, BotoCoreError) as err:
        result.errors.append(ScanError("*", "list-clusters", f"cannot list EKS clusters: {err}"))
        return result
    for name in names:
        _scan_one(name, request, deps, result, hook)
    return result


def _scan_one(name: str, request: ScanRequest, deps: ScanDeps, result: ScanResult,
              hook: Hook | None) -> None:
    try:
        access = describe(deps.eks, name)
    except (ClientError, BotoCoreError) as err:
        result.errors.append(ScanError(name, "describe-cluster", f"cannot describe cluster: {err}"))
        return
    reader: KubeReader | None = None
    try:
        token = eks_token(deps.session, access.name, deps.region)
        with deps.connect(access.endpoint, access.ca_data, token) as client:
            reader = KubeReader(client, page_size=deps.page_size)
            findings, facts = _findings(access, request, deps, reader)
            if hook is not None:
                facts = facts or Facts(deps.readers, access, reader, read_secrets=deps.read_secrets)
                hook(access, findings, facts, reader)
            result.findings.extend(findings)
        result.clusters.append(name)
    except KubeReadError as err:
        result.errors.append(ScanError(name, err.what, _explain(access, err)))
    except (ClientError, BotoCoreError) as err:
        result.errors.append(ScanError(name, "token", f"cannot mint an EKS token: {err}"))
    finally:
        if reader is not None:
            result.kube_requests[name] = reader.requests


def _findings(access: ClusterAccess, request: ScanRequest, deps: ScanDeps,
              reader: KubeReader) -> tuple[list[Finding], Facts | None]:
    """The cluster's diagnosed findings and the facts they were proven with (None: no failures)."""
    now, found = deps.now(), []
    for page in reader.pods(POD_FIELD_SELECTOR):
        for pod in page:
            namespace = (pod.get("metadata") or {}).get("namespace", "")
            if request.namespaces is None or namespace in request.namespaces:
                found.extend(candidates(pod, now, deps.grace))
    if not found:
        return [], None
    failed = failures(access.name, found, _events(reader, found))
    owners = _owners(reader, [c.pod for c in found])
    grouped = group(failed, lambda f: workload_of(f.pod, owners.get(f.pod.owner_kind or "")))
    facts = Facts(deps.readers, access, reader, read_secrets=deps.read_secrets)
    return diagnose(grouped, facts), facts


def _events(reader: KubeReader, found: list[Candidate]) -> dict[tuple[str, str, str], FailureEvent]:
    """The newest explaining event per (namespace, pod, container) of the failing pods."""
    pods = {(c.pod.namespace, c.pod.name) for c in found}
    kept: dict[tuple[str, str, str], FailureEvent] = {}
    for page in reader.events(EVENT_FIELD_SELECTOR):
        for event in page:
            key = event_key(event)
            if key is not None and key[:2] in pods:
                kept[key] = newer(kept.get(key), failure_event(event))
    return kept


def _owners(reader: KubeReader, pods: list[Any]) -> dict[str, dict | None]:
    """Controller indexes of the ReplicaSets and Jobs that own failing pods (None: unreadable)."""
    owners: dict[str, dict | None] = {}
    selector = replicaset_selector(pods)
    if selector:
        owners["ReplicaSet"] = _index_or_none(lambda: controller_index(reader.replicasets(selector)))
    if needs_jobs(pods):
        owners["Job"] = _index_or_none(lambda: controller_index(reader.jobs()))
    return owners


def _index_or_none(build: Callable[[], dict[tuple[str, str], Workload | None]]) -> dict | None:
    try:
        return build()
    except KubeReadError:
        return None


def _explain(access: ClusterAccess, err: KubeReadError) -> str:
    """A message that says what to do about a cluster that could not be read."""
    if err.status == 401:
        return (f"pullmedic cannot authenticate to cluster {access.name} ({err}): create an EKS "
                "access entry for the function's role (authentication mode API or "
                "API_AND_CONFIG_MAP).")
    if err.status == 403:
        return (f"pullmedic has no permission to read cluster {access.name} ({err}): associate "
                "the AmazonEKSViewPolicy access policy with the function's access entry.")
    if err.status is None:
        return (f"cannot reach the API server of cluster {access.name} at {access.endpoint} "
                f"({err}): check the endpoint's public access CIDRs, or run pullmedic in the "
                "cluster's VPC for a private endpoint.")
    return f"cannot read cluster {access.name}: {err}"


