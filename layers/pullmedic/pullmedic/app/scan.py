"""One scan: clusters -> failing containers -> causes -> findings. Wires readers to logic."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, EndpointConnectionError

from pullmedic.app.reach import unreachable_fix, vantage
from pullmedic.core.awsclients import ClientFor
from pullmedic.core.console import account_of
from pullmedic.core.limits import ERROR_MAX, clean
from pullmedic.core.model import FailureEvent, Finding, ScanError, Workload
from pullmedic.diagnosing.diagnose import diagnose
from pullmedic.diagnosing.evidence import Facts, Readers
from pullmedic.diagnosing.findings import group
from pullmedic.reading.aws.eks import ClusterAccess, describe, list_clusters
from pullmedic.reading.aws.session import SESSION_LOCK
from pullmedic.reading.aws.token import eks_token
from pullmedic.reading.kube.pods import (
    EVENT_FIELD_SELECTOR,
    POD_FIELD_SELECTOR,
    Candidate,
    candidates,
    event_key,
    failure_event,
    failures,
    newer,
)
from pullmedic.reading.kube.reader import KubeReader, KubeReadError
from pullmedic.reading.kube.workloads import controller_index, needs_jobs, replicaset_selector, workload_of
from pullmedic.reading.parallel import Background, ahead, bounded

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient

Connect = Callable[[str, str, str], AbstractContextManager[Any]]
# Runs inside each cluster's Kubernetes client context, after its findings are diagnosed.
Hook = Callable[[ClusterAccess, list[Finding], Facts, KubeReader], None]
CLUSTER_WORKERS = 16  # clusters read side by side in one invocation (they mostly wait)
EVIDENCE_WORKERS = 6  # findings of one cluster diagnosed side by side (their AWS reads wait)


@dataclass(frozen=True)
class ScanRequest:
    """What to scan: named clusters (None: every cluster in the region) and namespaces."""

    clusters: tuple[str, ...] | None = None
    namespaces: frozenset[str] | None = None


@dataclass(frozen=True)
class ScanDeps:
    """Everything a scan talks to, built by bootstrap (or by a test against the sandbox)."""

    session: boto3.session.Session
    region: str
    eks: EKSClient
    connect: Connect
    client_for: ClientFor
    readers: Readers
    grace: timedelta
    now: Callable[[], datetime]
    page_size: int = 500
    read_secrets: bool = False
    deadline: float | None = None  # time.monotonic() by which every cluster must be read
    subnet_ids: tuple[str, ...] = ()  # where the function runs (explains an unreachable cluster)
    security_group_ids: tuple[str, ...] = ()
    # the function's own account and Region (client_for, region) when these deps are another
    # target's: its subnets are read there; None: these are the function's own
    home: tuple[ClientFor, str] | None = None


@dataclass
class ScanResult:
    """Findings of every cluster that could be read, and an error for every one that could not."""

    clusters: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    kube_requests: dict[str, int] = field(default_factory=dict)


def scan(request: ScanRequest, deps: ScanDeps, hook: Hook | None = None) -> ScanResult:
    """Scan every requested cluster; one failing or slow cluster never hides the others.

    Clusters are scanned side by side (CLUSTER_WORKERS at a time). A cluster still being read
    at `deps.deadline` is a scan error of its own; what the others found is kept.
    `hook`, if given, sees each cluster's findings with the facts and the Kubernetes
    client they were diagnosed with (remediation plans from live evidence).
    """
    result = ScanResult()
    try:
        names = list(dict.fromkeys(request.clusters)) if request.clusters else list_clusters(deps.eks)
    except (ClientError, BotoCoreError) as err:
        result.errors.append(scan_error("*", "list-clusters", f"cannot list EKS clusters: {err}"
                                        f"{aws_unreachable_fix(err, 'eks')}"))
        return result
    started = time.monotonic()
    tasks = {name: partial(_scan_one, name, request, deps, hook) for name in names}
    parts, late = bounded(tasks, CLUSTER_WORKERS, deps.deadline)
    for name in names:
        part = parts.get(name)
        if part is None:
            waited = time.monotonic() - started
            result.errors.append(scan_error(name, "deadline", _late(name, f"after {waited:.0f} s")))
            continue
        result.clusters += part.clusters
        result.findings += part.findings
        result.errors += part.errors
        result.kube_requests.update(part.kube_requests)
    return result


def scan_error(cluster: str, stage: str, message: str) -> ScanError:
    """A scan error whose message is redacted and bounded (it is stored and published)."""
    return ScanError(cluster, stage, clean(message, ERROR_MAX))


def _scan_one(name: str, request: ScanRequest, deps: ScanDeps, hook: Hook | None) -> ScanResult:
    """One cluster's part of the result; never raises (a bug is that cluster's scan error)."""
    result = ScanResult()
    try:
        _read_cluster(name, request, deps, result, hook)
    except Exception as err:  # a defect must not cost the other clusters their findings
        result.errors.append(scan_error(name, "internal", (
            f"pullmedic failed on cluster {name} ({type(err).__name__}: {err}); the other clusters "
            "were scanned. Please report this with the function's log.")))
    return result


def _read_cluster(name: str, request: ScanRequest, deps: ScanDeps, result: ScanResult,
                  hook: Hook | None) -> None:
    try:
        access = describe(deps.eks, name)
    except (ClientError, BotoCoreError) as err:
        result.errors.append(scan_error(name, "describe-cluster",
                                        f"cannot describe cluster: {err}{aws_unreachable_fix(err, 'eks')}"))
        return
    reader: KubeReader | None = None
    try:
        with SESSION_LOCK:  # boto3 sessions are not thread-safe; minting is local and quick
            token = eks_token(deps.session, access.name, deps.region)
        Background(partial(deps.readers.warm, access.region), "pullmedic-clients")
        with deps.connect(access.endpoint, access.ca_data, token) as client:
            reader = KubeReader(client, page_size=deps.page_size, deadline=deps.deadline)
            findings, facts = _findings(access, request, deps, reader, result)
            if hook is not None and (deps.deadline is None or time.monotonic() < deps.deadline):
                # never after the deadline: the scan has given up on this cluster by then
                facts = facts or Facts(deps.readers, access, reader, read_secrets=deps.read_secrets)
                hook(access, findings, facts, reader)
            result.findings.extend(findings)
        result.clusters.append(name)
    except KubeReadError as err:
        result.errors.append(scan_error(name, err.what, _explain(access, err, deps)))
    except (ClientError, BotoCoreError) as err:
        result.errors.append(scan_error(name, "token", f"cannot mint an EKS token: {err}"
                                        f"{aws_unreachable_fix(err, 'sts')}"))
    finally:
        if reader is not None:
            result.kube_requests[name] = reader.requests


def _findings(access: ClusterAccess, request: ScanRequest, deps: ScanDeps, reader: KubeReader,
              result: ScanResult) -> tuple[list[Finding], Facts | None]:
    """The cluster's diagnosed findings and the facts they were proven with (None: no failures).

    A read the diagnosis needs but could not make, or an object that could not be understood,
    is a scan error of the cluster: its findings still count, but nothing of it resolves.
    The waiting overlaps (_list_pods), without a request more than one after another.
    """
    listed = _list_pods(access, request, deps, reader)
    if listed.malformed:
        result.errors.append(scan_error(access.name, "pods", (
            f"{listed.malformed} pod object(s) of cluster {access.name} could not be read (malformed "
            "fields) and were skipped; nothing in this cluster is resolved until they can be.")))
    if listed.events is None:
        return [], None
    found = listed.found
    owners = _owners(reader, [c.pod for c in found], access, result)
    pods = {(c.pod.namespace, c.pod.name) for c in found}
    kept = {key: event for key, event in listed.events.result().items() if key[:2] in pods}
    failed = failures(access.name, found, kept)
    if listed.hosts is not None:
        listed.hosts.result()
    grouped = group(failed, lambda f: workload_of(f.pod, owners.get(f.pod.owner_kind or "")))
    account, region = account_of(access.arn), access.region or None
    facts = listed.facts or Facts(deps.readers, access, reader, read_secrets=deps.read_secrets)
    return diagnose([replace(f, account=account, region=region) for f in grouped], facts,
                    EVIDENCE_WORKERS), facts


@dataclass
class _Listed:
    """A cluster's pods read: the candidates, and the reads started on the first of them."""

    found: list[Candidate] = field(default_factory=list)
    malformed: int = 0
    events: Background[dict[tuple[str, str, str], FailureEvent]] | None = None
    facts: Facts | None = None
    hosts: Background[None] | None = None


def _list_pods(access: ClusterAccess, request: ScanRequest, deps: ScanDeps, reader: KubeReader) -> _Listed:
    """Every page of pods read into candidates (the next page is requested while this one is
    read); from the first candidate on, the event list, and from the first container waiting
    on its image, the node list with the nodes' instances, are read meanwhile."""
    listed = _Listed()
    read = partial(_candidates, deps.now(), deps.grace, request.namespaces)
    for page, malformed in ahead(reader.pods(POD_FIELD_SELECTOR, read)):
        listed.found += page
        listed.malformed += malformed
        if listed.found and listed.events is None:
            listed.events = Background(partial(_events, reader), "pullmedic-events")
        if listed.facts is None and any(c.container_type != "sandbox" for c in page):
            listed.facts = Facts(deps.readers, access, reader, read_secrets=deps.read_secrets)
            listed.hosts = Background(listed.facts.warm_hosts, "pullmedic-nodes")  # prepare() reads them
    return listed


def _candidates(now: datetime, grace: timedelta, namespaces: frozenset[str] | None,
                page: list[dict[str, Any]]) -> tuple[list[Candidate], int]:
    """The candidates of one page of pods, and how many of its pods could not be read."""
    found: list[Candidate] = []
    malformed = 0
    for pod in page:
        try:
            namespace = (pod.get("metadata") or {}).get("namespace", "")
            if namespaces is None or namespace in namespaces:
                found.extend(candidates(pod, now, grace))
        except (AttributeError, TypeError, ValueError):
            malformed += 1
    return found, malformed


def _events(reader: KubeReader) -> dict[tuple[str, str, str], FailureEvent]:
    """The newest explaining event per (namespace, pod, container) of every pod."""
    kept: dict[tuple[str, str, str], FailureEvent] = {}

    def read(page: list[dict[str, Any]]) -> None:
        for event in page:
            key = event_key(event)
            if key is not None:
                kept[key] = newer(kept.get(key), failure_event(event))
    for _ in reader.events(EVENT_FIELD_SELECTOR, read):
        pass
    return kept


def _owners(reader: KubeReader, pods: list[Any], access: ClusterAccess,
            result: ScanResult) -> dict[str, dict[tuple[str, str], Workload | None] | None]:
    """Controller indexes of the ReplicaSets and Jobs that own failing pods (None: unreadable,
    which is a scan error of the cluster: workload names are then inferred from pod names)."""
    owners: dict[str, dict[tuple[str, str], Workload | None] | None] = {}
    selector = replicaset_selector(pods)
    reads: list[tuple[str, Callable[[], dict[tuple[str, str], Workload | None]]]] = []
    if selector:
        reads.append(("ReplicaSet", lambda: controller_index(reader.replicasets(selector))))
    if needs_jobs(pods):
        reads.append(("Job", lambda: controller_index(reader.jobs())))
    for kind, build in reads:
        try:
            owners[kind] = build()
        except KubeReadError as err:
            owners[kind] = None
            result.errors.append(scan_error(access.name, err.what, (
                f"cannot list the {kind}s of cluster {access.name} ({err}): workloads are named from "
                "pod names until it can, and nothing in this cluster is resolved meanwhile.")))
    return owners


def _late(cluster: str, detail: str) -> str:
    """The error of a cluster the scan gave up on at its deadline."""
    return (f"cluster {cluster} was still being read when the scan's time ran out ({detail}); its open "
            "problems stay open. Scan it on its own, or give the function a longer timeout.")


def _explain(access: ClusterAccess, err: KubeReadError, deps: ScanDeps) -> str:
    """A message that says what to do about a cluster that could not be read."""
    if err.timed_out:
        return _late(access.name, str(err))
    if err.status == 401:
        return (f"pullmedic cannot authenticate to cluster {access.name} ({err}): create an EKS "
                "access entry for the function's role (authentication mode API or "
                "API_AND_CONFIG_MAP).")
    if err.status == 403:
        return (f"pullmedic has no permission to read cluster {access.name} ({err}): associate "
                "the AmazonEKSViewPolicy access policy with the function's access entry.")
    if err.status is None:  # the fix first: a long connection error must not push it past the cut
        client_for, region = deps.home or (deps.client_for, deps.region)
        seen = vantage(client_for, region, deps.subnet_ids, deps.security_group_ids, access,
                       cluster_client_for=deps.client_for)
        fix = unreachable_fix(access, seen)
        return f"cannot reach the API server of cluster {access.name}: {fix} ({err})"
    return f"cannot read cluster {access.name}: {err}"


def aws_unreachable_fix(err: Exception, service: str) -> str:
    """For an AWS API the function could not connect to: what a VPC deployment lacks."""
    if isinstance(err, EndpointConnectionError | ConnectTimeoutError):
        return (f": cannot reach {service} from the function's network: in a VPC, add a {service} "
                "interface endpoint (or a NAT gateway) for the function's subnets")
    return ""



