"""Facts for the checks, gathered once per cluster scan and shared by every finding."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from pullmedic.core.awsclients import ClientFor, Service
from pullmedic.core.imageref import ImageRef
from pullmedic.core.model import Finding, PodInfo
from pullmedic.core.netpath.routes import table_for_subnet
from pullmedic.core.netpath.target import Target, auth_target, endpoint, layers_target, target_for
from pullmedic.core.unavailable import Unavailable, guarded
from pullmedic.diagnosing.checks.facts import (
    FARGATE_PROFILE_LABEL,
    PullSecret,
    Subject,
    repository_arn,
    subject_of,
)
from pullmedic.reading.aws.eks import ClusterAccess
from pullmedic.reading.gather.cache import Memo
from pullmedic.reading.gather.ec2 import Ec2Reader, Host, PrefixList, VpcFacts
from pullmedic.reading.gather.ecr import EcrReader, RepoImages
from pullmedic.reading.gather.iam import IamReader
from pullmedic.reading.gather.kms import KmsReader
from pullmedic.reading.gather.registry import ASKED_FOR, RegistryReader
from pullmedic.reading.kube.reader import KubeReader, KubeReadError

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

# Subject, subject_of, PullSecret and repository_arn are pure and live in checks.facts.
__all__ = ["ClientFor", "Facts", "NetworkParts", "PullSecret", "Readers", "Subject", "repository_arn",
           "subject_of"]


@dataclass(frozen=True)
class NetworkParts:
    """The network a pod's pulls leave from, as read: host, VPC facts, its subnet's table and ACL."""

    host: Host
    vpc: VpcFacts
    subnet: dict[str, Any]
    route_table: Mapping[str, Any] | None
    network_acl: dict[str, Any] | None
    target: Target
    hops: tuple[Target, ...] = ()  # every hop of the pull, the registry (`target`) first


class Readers:
    """The AWS readers of one scan, shared by all its clusters (and their threads): a VPC, role
    or repository that several clusters use is read once."""

    def __init__(self, client_for: ClientFor, registry: RegistryReader | None = None) -> None:
        lock = threading.Lock()  # boto3 sessions are not thread-safe; their clients are

        def locked(service: Service, region: str | None) -> object:
            with lock:
                return client_for(service, region)

        self.client_for = cast(ClientFor, locked)  # the same client types, created under the lock
        self.registry = registry or RegistryReader()  # off unless the deployment turns it on
        self.iam = IamReader(self.client_for("iam", None))
        self.ecr = EcrReader(lambda region: self.client_for("ecr", region))
        self.kms = KmsReader(lambda region: self.client_for("kms", region))
        self._ec2: Memo[str, Ec2Reader] = Memo()

    def ec2(self, region: str) -> Ec2Reader:
        """The EC2 reader of `region`."""
        return self._ec2.get(region, lambda: Ec2Reader(self.client_for("ec2", region)))

    def warm(self, region: str) -> None:
        """Create the EC2 and ECR clients of `region` (no request; a client takes CPU time to
        build, EC2's most): done while the first cluster's pods are being listed."""
        self.ec2(region)
        self.client_for("ecr", region)


class Facts:
    """Lazy, cached facts for one cluster: hosts, VPCs, roles, ECR, service accounts."""

    def __init__(self, readers: Readers, cluster: ClusterAccess, kube: KubeReader | None, *,
                 read_secrets: bool = False) -> None:
        self.cluster, self._kube, self.read_secrets = cluster, kube, read_secrets
        self.region = cluster.region
        self.account = cluster.arn.split(":")[4] if cluster.arn.count(":") >= 5 else ""
        self.ec2, self.iam, self.ecr = readers.ec2(self.region), readers.iam, readers.ecr
        self.kms, self.registry = readers.kms, readers.registry
        self._eks = readers.client_for("eks", self.region)
        self._ec2_for: Callable[[str | None], EC2Client] = lambda region: readers.client_for("ec2", region)
        self._versions: dict[tuple[str, str, str], tuple[str, ...]] = {}
        self._repository_arns: set[str] = set()
        self._hosts: dict[str, Host] | Unavailable = {}
        self._nodes: dict[str, str] | Unavailable = {}
        self._by_host_ip: set[tuple[str, str]] = set()  # pods found by host IP: nodes unreadable
        # once per key, whichever of the threads diagnosing this cluster's findings asks first
        self._fargate_roles: Memo[str, str | Unavailable] = Memo()
        self._service_accounts: Memo[tuple[str, str], dict[str, Any] | Unavailable] = Memo()
        self._regions: Memo[str, tuple[str, ...] | Unavailable] = Memo()
        self._node_list: Memo[str, dict[str, str] | Unavailable] = Memo()

    def warm_hosts(self) -> None:
        """Read the node list and the nodes' instances now (prepare() uses them; each is read
        once): started while the pods are still being listed."""
        known = self._node_instances()
        if not isinstance(known, Unavailable):
            self.ec2.instances(sorted(set(known.values())))

    def prepare(self, findings: Iterable[Finding]) -> None:
        """Batch the look-ups of every finding: one node list, one EC2 call for the nodes'
        instances (and one by host IP for pods on nodes without one), and every tag the
        findings ask of an ECR repository in one request; the public images they may ask a
        registry about, for one token request per registry."""
        self.prepare_subjects([subject_of(finding) for finding in findings])

    def prepare_subjects(self, subjects: Iterable[Subject]) -> None:
        """`prepare` for findings whose images are parsed already."""
        subjects = list(subjects)
        self.registry.plan([s.image for s in subjects if s.finding.cause in ASKED_FOR])
        for subject in subjects:
            self._ask_versions(subject.image)
        pods = [s.finding.pod_sample for s in subjects if s.finding.pod_sample is not None]
        if pods:
            self._nodes = self._node_instances()
            self._hosts = self._find_hosts(pods)

    def _ask_versions(self, image: ImageRef | None) -> None:
        """Note the version an ECR image asks of its repository (read in one request later)."""
        if image is None or image.ecr is None:
            return
        key = (image.ecr.account, image.ecr.region, image.repository)
        version = image.digest or image.tag or "latest"
        self._versions[key] = tuple(sorted({*self._versions.get(key, ()), version}))
        self._repository_arns.add(repository_arn(image))

    def _find_hosts(self, pods: list[PodInfo]) -> dict[str, Host] | Unavailable:
        """The nodes' instances, then by host IP only the pods whose node names no instance that
        exists (a node's IP may differ from its instance's primary IP: looking those up would
        only cost requests), then the Fargate pods' network interfaces."""
        known = {} if isinstance(self._nodes, Unavailable) else self._nodes
        instances = self.ec2.instances(sorted(set(known.values())))
        if isinstance(instances, Unavailable):
            return instances
        found = {key: host for key, host in instances.items() if host is not None}
        host_ips = sorted({p.host_ip for p in pods if p.host_ip and not p.labels.get(
            FARGATE_PROFILE_LABEL) and known.get(p.node or "") not in found})
        by_ip = self.ec2.hosts_by_ip(host_ips) if host_ips else {}
        if isinstance(by_ip, Unavailable):
            return by_ip
        return {**found, **by_ip, **self._fargate_hosts(pods)}

    def _fargate_hosts(self, pods: list[PodInfo]) -> dict[str, Host]:
        """The Fargate pods' network interfaces by pod IP ({} where unreadable)."""
        ips = sorted({p.pod_ip or p.host_ip or "" for p in pods if p.labels.get(FARGATE_PROFILE_LABEL)}
                     - {""})
        found = self.ec2.fargate_hosts(ips) if ips else {}
        return {} if isinstance(found, Unavailable) else found

    def host(self, subject: Subject) -> Host | Unavailable | None:
        """The instance or Fargate ENI the finding's pod runs on."""
        pod = subject.finding.pod_sample
        if pod is None:
            return None
        if isinstance(self._hosts, Unavailable):
            return self._hosts
        if subject.fargate_profile:
            return _fargate_host(self._hosts, pod)
        instance = None if isinstance(self._nodes, Unavailable) else self._nodes.get(pod.node or "")
        found = self._hosts.get(instance or "") or self._hosts.get(pod.host_ip or "")
        at = f" (host IP {pod.host_ip})" if pod.host_ip else ""
        return found or Unavailable(f"no EC2 instance found for node {pod.node or '?'}{at}")

    def host_note(self, finding: Finding) -> str | None:
        """An evidence line for a pod whose instance is found by host IP, as nodes are unreadable."""
        pod = finding.pod_sample
        if pod is None or not isinstance(self._nodes, Unavailable):
            return None
        return f"note: {self._nodes.why} {pod.host_ip}"

    def pull_role(self, subject: Subject) -> str | Unavailable:
        """The role that pulls images for the pod: the node role, or the Fargate execution role."""
        if subject.fargate_profile:
            return self._fargate_role(subject.fargate_profile)
        host = self.host(subject)
        if host is None or isinstance(host, Unavailable):
            return host or Unavailable("the pod is not on a node")
        if not host.profile_arn:
            return Unavailable(f"instance {host.instance_id} has no instance profile")
        return self.iam.role_of_profile(host.profile_arn)

    def repository_arns(self) -> tuple[str, ...]:
        """The ARNs of every ECR repository this cluster's findings name (for batched checks)."""
        return tuple(sorted(self._repository_arns))

    def ecr_images(self, image: ImageRef) -> RepoImages | Unavailable:
        """What the image's repository holds of every version this scan asks of it."""
        assert image.ecr is not None
        key = (image.ecr.account, image.ecr.region, image.repository)
        versions = self._versions.get(key) or (image.digest or image.tag or "latest",)
        return self.ecr.images(*key, versions)

    def network(self, subject: Subject) -> NetworkParts | Unavailable | None:
        """The finding's network view (None when the pod has no host)."""
        host = self.host(subject)
        if host is None or isinstance(host, Unavailable):
            return host
        vpc = self.ec2.vpc(host.vpc_id)
        for part in (vpc.subnets, vpc.route_tables, vpc.network_acls, vpc.endpoints):
            if isinstance(part, Unavailable):
                return part
        assert not isinstance(vpc.subnets, Unavailable)
        assert not isinstance(vpc.route_tables, Unavailable)
        assert not isinstance(vpc.network_acls, Unavailable)
        assert not isinstance(vpc.endpoints, Unavailable)
        acl = next((a for a in vpc.network_acls for assoc in a.get("Associations", [])
                    if assoc.get("SubnetId") == host.subnet_id), None)
        table = table_for_subnet(vpc.route_tables, host.subnet_id, host.vpc_id)
        registry = target_for(subject.image, vpc.endpoints, vpc.subnets, self.region)
        auth = auth_target(subject.image, vpc.endpoints, vpc.subnets, self.region)
        layers = self._layers_hop(subject.image, vpc, table)
        hops = tuple(t for t in (registry, auth, layers) if t is not None)
        return NetworkParts(host, vpc, vpc.subnets.get(host.subnet_id, {}), table, acl, registry, hops)

    def _layers_hop(self, image: ImageRef | None, vpc: VpcFacts, table: Mapping[str, Any] | None
                    ) -> Target | None:
        """The S3 hop of a private ECR pull, with the region's S3 prefix list when readable."""
        if image is None or image.ecr is None:
            return None
        s3 = self.s3_prefix_list()
        known = s3 if isinstance(s3, PrefixList) else None
        note = f"; S3's ranges unknown: {s3.why}" if isinstance(s3, Unavailable) else ""
        s3_id = known.id if known else None
        assert not isinstance(vpc.endpoints, Unavailable)
        gateway = (endpoint(vpc.endpoints, self.region, "s3") or {}).get("VpcEndpointId")
        if s3_id is None and table and gateway:  # the gateway's route still names the list
            s3_id = next((r.get("DestinationPrefixListId") for r in table.get("Routes", [])
                          if r.get("GatewayId") == gateway), None)
        return layers_target(image, vpc.endpoints, table["RouteTableId"] if table else None,
                             self.region, s3_id, known.cidrs if known else (), note=note)

    def s3_prefix_list(self) -> PrefixList | None | Unavailable:
        """The region's S3 prefix list (the gateway endpoint's destination) with its CIDRs."""
        return self.ec2.prefix_list_named(f"com.amazonaws.{self.region}.s3")

    def prefix_lists(self) -> dict[str, tuple[str, ...]]:
        """Prefix list id -> CIDRs, the S3 list's read in full ({} where unreadable)."""
        lists = self.ec2.prefix_lists()
        known = {} if isinstance(lists, Unavailable) else dict(lists)
        s3 = self.s3_prefix_list()
        if s3 is not None and not isinstance(s3, Unavailable) and s3.cidrs:
            known[s3.id] = s3.cidrs
        return known

    def service_account(self, namespace: str, name: str) -> dict[str, Any] | Unavailable:
        """A service account (for its imagePullSecrets)."""
        def read() -> dict[str, Any] | Unavailable:
            if self._kube is None:
                return Unavailable("no Kubernetes access")
            try:
                return self._kube.service_account(namespace, name)
            except KubeReadError as err:  # a missing account has no pull secrets either
                return {} if err.status == 404 else Unavailable(str(err))
        return self._service_accounts.get((namespace, name), read)

    def pull_secret(self, namespace: str, name: str) -> PullSecret | None | Unavailable:
        """A pull secret's type and registry hosts (None: it does not exist). The values are
        decoded here and dropped: nothing but the host names leaves this method."""
        if self._kube is None:
            return Unavailable("no Kubernetes access")
        try:
            secret = self._kube.secret(namespace, name)
        except KubeReadError as err:
            return None if err.status == 404 else Unavailable(str(err))
        return PullSecret(name, secret.get("type", ""), _registry_hosts(secret))

    def regions(self) -> tuple[str, ...] | Unavailable:
        """The account's enabled regions (to find an image pushed elsewhere)."""
        def read() -> tuple[str, ...] | Unavailable:
            result = guarded("ec2:DescribeRegions", lambda: self._ec2_for(self.region).describe_regions())
            return result if isinstance(result, Unavailable) else tuple(
                sorted(r["RegionName"] for r in result["Regions"]))
        return self._regions.get(self.region, read)

    def _node_instances(self) -> dict[str, str] | Unavailable:
        """node name -> EC2 instance id, from the nodes' providerID (needs RBAC on nodes)."""
        return self._node_list.get("nodes", self._read_nodes)

    def _read_nodes(self) -> dict[str, str] | Unavailable:
        if self._kube is None:
            return Unavailable("no Kubernetes access")
        try:
            nodes = [n for page in self._kube.nodes() for n in page]
        except KubeReadError as err:
            return Unavailable(f"cannot list nodes ({err}); the pod's instance was found by its host IP")
        return {n["metadata"]["name"]: n["spec"]["providerID"].rsplit("/", 1)[-1]
                for n in nodes if (n.get("spec") or {}).get("providerID", "").startswith("aws://")
                and n["spec"]["providerID"].rsplit("/", 1)[-1].startswith("i-")}

    def _fargate_role(self, profile: str) -> str | Unavailable:
        def read() -> str | Unavailable:
            result = guarded("eks:DescribeFargateProfile", lambda: self._eks.describe_fargate_profile(
                clusterName=self.cluster.name, fargateProfileName=profile))
            return result if isinstance(result, Unavailable) else \
                result["fargateProfile"]["podExecutionRoleArn"]
        return self._fargate_roles.get(profile, read)


def _fargate_host(hosts: Mapping[str, Host], pod: PodInfo) -> Host | Unavailable:
    """A Fargate pod's network interface, by its pod IP (or host IP)."""
    return hosts.get(pod.pod_ip or "") or hosts.get(pod.host_ip or "") \
        or Unavailable(f"no network interface found for Fargate pod IP {pod.pod_ip or '?'}")


def _registry_hosts(secret: dict[str, Any]) -> tuple[str, ...]:
    """The registry hosts a dockerconfigjson (or legacy dockercfg) secret has credentials for."""
    data = secret.get("data") or {}
    raw = data.get(".dockerconfigjson") or data.get(".dockercfg")
    try:
        config = json.loads(base64.b64decode(raw or ""))
    except ValueError:
        return ()
    auths = config.get("auths", config) if isinstance(config, dict) else {}
    return tuple(sorted(_host(key) for key in auths))


def _host(key: str) -> str:
    """`https://index.docker.io/v1/` -> `index.docker.io`; `ghcr.io` -> `ghcr.io`."""
    return key.split("://", 1)[-1].split("/", 1)[0]

