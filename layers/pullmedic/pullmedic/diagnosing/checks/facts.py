"""What the checks read: the subject of one finding and frozen snapshots of the facts they declare.

Nothing here reads anything: `pullmedic.diagnosing.gathering` fills a `Snapshot` from the scan's cached
readers, and a unit test builds one by hand. A fact that could not be read is an `Unavailable`
with its reason; `None` is a fact that does not exist (no host, no policy, not asked for).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pullmedic.core.imageref import ImageRef, parse_image
from pullmedic.core.model import Finding
from pullmedic.core.netpath.nacl import NaclEntry
from pullmedic.core.netpath.routes import Route
from pullmedic.core.netpath.sg import SgRule
from pullmedic.core.netpath.target import Target
from pullmedic.core.unavailable import Unavailable
from pullmedic.reading.gather.ec2 import Host
from pullmedic.reading.gather.registry import RegistryAnswer

FARGATE_PROFILE_LABEL = "eks.amazonaws.com/fargate-profile"
# What finding a pod's host costs (nodes are matched by providerID, else by host IP; Fargate by ENI).
HOST_READS = ("ec2:DescribeInstances", "ec2:DescribeNetworkInterfaces")
# What reading one VPC's network costs (once per VPC per scan; see Ec2Reader.vpc).
NETWORK_READS = HOST_READS + (
    "ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeRouteTables", "ec2:DescribeNetworkAcls",
    "ec2:DescribeSecurityGroups", "ec2:DescribeVpcEndpoints", "ec2:DescribeNatGateways",
    "ec2:DescribeVpcAttribute", "ec2:DescribePrefixLists", "ec2:GetManagedPrefixListEntries")
# The role that pulls: instance profile -> role, or the Fargate profile's execution role.
ROLE_READS = HOST_READS + ("iam:GetInstanceProfile", "eks:DescribeFargateProfile")


class Fact(StrEnum):
    """A kind of fact a check declares it needs (one `Snapshot` field each)."""

    HOST = "host"
    NETWORK = "network"
    PREFIX_LISTS = "prefix_lists"
    DNS_SUPPORT = "dns_support"
    NODE_IP_LIMIT = "node_ip_limit"
    PULL_ROLE = "pull_role"
    ROLE_PERMISSIONS = "role_permissions"
    ECR_IMAGES = "ecr_images"
    ECR_ENCRYPTION = "ecr_encryption"
    ECR_POLICY = "ecr_policy"
    MANIFEST = "manifest"
    REGISTRY = "registry"
    PULL_SECRETS = "pull_secrets"
    PULL_THROUGH_RULES = "pull_through_rules"


@dataclass(frozen=True)
class Subject:
    """What the checks look at for one finding: the finding and its image, parsed once."""

    finding: Finding
    image: ImageRef | None

    @property
    def fargate_profile(self) -> str | None:
        """The Fargate profile the pod runs under, if any."""
        pod = self.finding.pod_sample
        return pod.labels.get(FARGATE_PROFILE_LABEL) if pod else None


def subject_of(finding: Finding) -> Subject:
    """The finding plus its parsed image."""
    parsed = parse_image(finding.image) if finding.image else None
    return Subject(finding, parsed if isinstance(parsed, ImageRef) else None)


@dataclass(frozen=True)
class Endpoint:
    """A VPC endpoint of the region's ECR or S3 service."""

    id: str
    state: str = "available"
    private_dns: bool | None = None
    route_tables: tuple[str, ...] = ()
    policy: str | None = None  # the policy document; None: none set


@dataclass(frozen=True)
class NatGateway:
    """A NAT gateway of the VPC."""

    id: str
    state: str | None = "available"
    private: bool = False
    public_ips: tuple[str, ...] = ()  # "?" for an address without one


@dataclass(frozen=True)
class Network:
    """The network a pod's pulls leave from: its host, subnet, route table, ACL and the hops."""

    host: Host
    target: Target  # the registry hop
    hops: tuple[Target, ...] = ()  # every hop of the pull, the registry (`target`) first
    subnet_cidr: str = "?"
    free_ips: int | None = None
    route_table: str | None = None  # its id; None: no table found for the subnet
    routes: tuple[Route, ...] = ()
    acl: str | None = None  # its id; None: no ACL found for the subnet
    acl_entries: tuple[NaclEntry, ...] = ()
    endpoints: Mapping[str, Endpoint] = field(default_factory=dict)  # "ecr.api", "ecr.dkr", "s3"
    group_rules: Mapping[str, tuple[SgRule, ...]] | Unavailable = field(default_factory=dict)
    nat_gateways: Mapping[str, NatGateway] | Unavailable = field(default_factory=dict)
    nat_subnets: Mapping[str, int] = field(default_factory=dict)  # NAT id -> subnets routed to it
    usable_nat: str | None = None  # an available public NAT gateway a route can point at

    def paths(self) -> tuple[Target, ...]:
        """The hops to evaluate: all of them, or the registry alone."""
        return self.hops or (self.target,)


@dataclass(frozen=True)
class ImageVersion:
    """The subject's version (tag or digest) as ECR holds it."""

    archived: bool = False
    pushed_at: datetime | None = None


@dataclass(frozen=True)
class EcrImages:
    """What the image's repository holds; the look-ups for a missing image come with it."""

    exists: bool
    version: ImageVersion | None = None  # None: the repository lacks the subject's version
    tags: tuple[str, ...] = ()  # a sample of existing tags, newest first
    lifecycle: str | Unavailable | None = None  # read when the version is missing
    other_regions: tuple[str, ...] = ()  # regions with a repository of that name (repository missing)
    repositories: tuple[str, ...] | Unavailable = ()  # the registry's names (repository missing)


@dataclass(frozen=True)
class Encryption:
    """A KMS-encrypted repository's key and its state."""

    key: str
    state: str | Unavailable


@dataclass(frozen=True)
class RolePermissions:
    """The pulling role's identity policies and the IAM policy simulator's decisions."""

    policies: tuple[tuple[str, dict[str, Any]], ...]
    token: Mapping[tuple[str, str], str] | Unavailable  # (action, resource) -> decision
    pull: Mapping[tuple[str, str], str] | Unavailable


@dataclass(frozen=True)
class Platforms:
    """The platforms an image index lists (`index` False: a single-platform manifest)."""

    index: bool
    platforms: tuple[str, ...] = ()  # "linux/amd64", sorted


@dataclass(frozen=True)
class PullSecret:
    """What pullmedic may know of an image pull secret: never its credentials."""

    name: str
    type: str
    hosts: tuple[str, ...]


@dataclass(frozen=True)
class PullSecrets:
    """The service account's pull secrets and, when secret reading is on, what each one is."""

    from_account: tuple[str, ...] | Unavailable = ()
    read: Mapping[str, PullSecret | None] | Unavailable | None = None  # None: reading is off


@dataclass(frozen=True)
class PullThroughRule:
    """An ECR pull-through cache rule."""

    prefix: str
    upstream: str


@dataclass(frozen=True)
class Snapshot:
    """The facts of one finding that its checks declared, as the scan read them."""

    region: str
    account: str
    host: Host | Unavailable | None = None
    network: Network | Unavailable | None = None
    prefix_lists: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    dns_support: bool | Unavailable | None = None
    node_ip_limit: int | None = None  # ENIs x (IPs per ENI - 1) of the node's instance type
    pull_role: str | Unavailable | None = None
    role_permissions: RolePermissions | Unavailable | None = None
    ecr_images: EcrImages | Unavailable | None = None
    ecr_encryption: Encryption | Unavailable | None = None  # None: no repository, or no KMS key
    ecr_policy: str | Unavailable | None = None  # the policy text; None: no policy
    manifest: Platforms | Unavailable | None = None
    registry: RegistryAnswer | Unavailable | None = None
    pull_secrets: PullSecrets | None = None
    pull_through_rules: tuple[PullThroughRule, ...] | Unavailable = ()
    host_note: str | None = None  # the host was found by its IP: why


def repository_arn(image: ImageRef) -> str:
    """The ARN of an ECR image's repository."""
    assert image.ecr is not None
    ecr = image.ecr
    return f"arn:{ecr.partition}:ecr:{ecr.region}:{ecr.account}:repository/{image.repository}"
