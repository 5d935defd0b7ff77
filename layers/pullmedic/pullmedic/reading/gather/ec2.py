"""EC2 reads: instances, and per VPC the subnets, routes, ACLs, groups, endpoints and NATs.

Every list is one call per VPC (or one per 200 instances), cached for the scan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from pullmedic.core.awsclients import plain, plains
from pullmedic.core.unavailable import Unavailable, guarded
from pullmedic.reading.gather.cache import Memo
from pullmedic.reading.parallel import ordered

VPC_WORKERS = 4  # of one VPC's reads, at once

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ec2.literals import InstanceTypeType


@dataclass(frozen=True)
class Host:
    """The EC2 instance (or Fargate ENI) a pod runs on, with what the network checks need."""

    instance_id: str | None
    private_ip: str
    public_ip: str | None
    subnet_id: str
    vpc_id: str
    security_groups: tuple[str, ...]
    architecture: str | None = None
    instance_type: str | None = None
    profile_arn: str | None = None
    fargate: bool = False


@dataclass(frozen=True)
class PrefixList:
    """An AWS-managed prefix list: its id, name and CIDRs (empty when unknown)."""

    id: str
    name: str
    cidrs: tuple[str, ...]


@dataclass
class VpcFacts:
    """Everything about one VPC's network, read once per scan."""

    vpc_id: str
    cidrs: tuple[str, ...] = ()
    subnets: dict[str, dict[str, Any]] | Unavailable = field(default_factory=dict)
    route_tables: list[dict[str, Any]] | Unavailable = field(default_factory=list)
    network_acls: list[dict[str, Any]] | Unavailable = field(default_factory=list)
    security_groups: dict[str, dict[str, Any]] | Unavailable = field(default_factory=dict)
    endpoints: list[dict[str, Any]] | Unavailable = field(default_factory=list)
    nat_gateways: dict[str, dict[str, Any]] | Unavailable = field(default_factory=dict)
    dns_support: bool | Unavailable | None = None


class Ec2Reader:
    """Cached EC2 reads for one region (safe to share between threads)."""

    def __init__(self, client: EC2Client) -> None:
        self._ec2 = client
        self._vpcs: Memo[str, VpcFacts] = Memo()
        self._prefix_lists: Memo[str, dict[str, tuple[str, ...]] | Unavailable] = Memo()
        self._instance_types: Memo[str, dict[str, Any] | Unavailable] = Memo()
        self._instances: Memo[str, Host | Unavailable | None] = Memo()
        self._named_lists: Memo[str, PrefixList | None | Unavailable] = Memo()

    def instances(self, instance_ids: list[str]) -> dict[str, Host | None] | Unavailable:
        """Hosts by instance id (None: no such instance); each id is looked up once per scan,
        the ids no cluster asked for before in one paginated call per 200."""
        def read(missing: list[str]) -> dict[str, Host | Unavailable | None]:
            found = self._describe("instance-id", missing)
            if isinstance(found, Unavailable):
                return dict.fromkeys(missing, found)
            return {host.instance_id or "": host for host in found}
        known = self._instances.get_many(instance_ids, read)
        failed = next((v for v in known.values() if isinstance(v, Unavailable)), None)
        return failed or {key: value for key, value in known.items() if not isinstance(value, Unavailable)}

    def hosts_by_ip(self, private_ips: list[str]) -> dict[str, Host] | Unavailable:
        """Hosts by primary private IP (not cached: the same IP may be in two clusters' VPCs)."""
        found = self._describe("private-ip-address", private_ips)
        return found if isinstance(found, Unavailable) else {host.private_ip: host for host in found}

    def fargate_hosts(self, pod_ips: list[str]) -> dict[str, Host] | Unavailable:
        """Fargate pods' ENIs keyed by the pod IP (one call)."""
        if not pod_ips:
            return {}
        result = guarded("ec2:DescribeNetworkInterfaces", lambda: self._ec2.describe_network_interfaces(
            Filters=[{"Name": "addresses.private-ip-address", "Values": sorted(set(pod_ips))}]))
        if isinstance(result, Unavailable):
            return result
        return {eni["PrivateIpAddress"]: Host(None, eni["PrivateIpAddress"],
                                              (eni.get("Association") or {}).get("PublicIp"),
                                              eni["SubnetId"], eni["VpcId"],
                                              tuple(g["GroupId"] for g in eni.get("Groups", [])),
                                              fargate=True)
                for eni in result.get("NetworkInterfaces", [])}

    def vpc(self, vpc_id: str) -> VpcFacts:
        """The network facts of `vpc_id` (read on first use, then cached)."""
        return self._vpcs.get(vpc_id, lambda: self._read_vpc(vpc_id))

    def prefix_lists(self) -> dict[str, tuple[str, ...]] | Unavailable:
        """AWS-managed prefix lists (S3, DynamoDB) id -> CIDRs."""
        def read() -> dict[str, tuple[str, ...]] | Unavailable:
            result = guarded("ec2:DescribePrefixLists", lambda: self._ec2.describe_prefix_lists())
            return result if isinstance(result, Unavailable) else {
                p["PrefixListId"]: tuple(p.get("Cidrs", [])) for p in result.get("PrefixLists", [])}
        return self._prefix_lists.get("all", read)

    def prefix_list_named(self, name: str) -> PrefixList | None | Unavailable:
        """An AWS-managed prefix list (`com.amazonaws.<region>.s3`) with its CIDRs; None: none.

        DescribePrefixLists carries the CIDRs on AWS; where it does not (moto), one
        GetManagedPrefixListEntries call reads them.
        """
        return self._named_lists.get(name, lambda: self._read_prefix_list(name))

    def _read_prefix_list(self, name: str) -> PrefixList | None | Unavailable:
        result = guarded("ec2:DescribePrefixLists", lambda: self._ec2.describe_prefix_lists(
            Filters=[{"Name": "prefix-list-name", "Values": [name]}]))
        if isinstance(result, Unavailable):
            return result
        found = next(iter(result.get("PrefixLists") or []), None)
        if found is None:
            return None
        cidrs = tuple(found.get("Cidrs") or ())
        if not cidrs:
            entries = guarded("ec2:GetManagedPrefixListEntries", lambda: _all(
                self._ec2, "get_managed_prefix_list_entries", "Entries",
                PrefixListId=found["PrefixListId"]))
            if isinstance(entries, Unavailable):
                return entries
            cidrs = tuple(e["Cidr"] for e in entries if e.get("Cidr"))
        return PrefixList(found["PrefixListId"], name, cidrs)

    def instance_type(self, name: str) -> dict[str, Any] | Unavailable:
        """The instance type's network limits."""
        def read() -> dict[str, Any] | Unavailable:
            kind = cast("InstanceTypeType", name)  # a name the API knows, or it answers an error
            result = guarded("ec2:DescribeInstanceTypes",
                             lambda: self._ec2.describe_instance_types(InstanceTypes=[kind]))
            if isinstance(result, Unavailable):
                return result
            found = result.get("InstanceTypes") or []
            return plain(found[0]) if found else {}
        return self._instance_types.get(name, read)

    def _instance_pages(self, key: str, values: list[str]) -> list[dict[str, Any]]:
        pages = self._ec2.get_paginator("describe_instances").paginate(
            Filters=[{"Name": key, "Values": values}])
        return plains(pages)

    def _describe(self, key: str, values: list[str]) -> list[Host] | Unavailable:
        """The instances whose `key` filter matches one of `values`, 200 values per request."""
        hosts: list[Host] = []
        for chunk in _chunks(sorted(set(values)), 200):
            pages = guarded("ec2:DescribeInstances", partial(self._instance_pages, key, chunk))
            if isinstance(pages, Unavailable):
                return pages
            hosts += [_host(instance) for page in pages
                      for reservation in page.get("Reservations", [])
                      for instance in reservation.get("Instances", [])]
        return hosts

    def _read_vpc(self, vpc_id: str) -> VpcFacts:
        """The VPC's eight reads, side by side (VPC_WORKERS at a time): none needs another."""
        ec2, by_vpc = self._ec2, [{"Name": "vpc-id", "Values": [vpc_id]}]
        reads: list[Callable[[], Any]] = [
            partial(guarded, "ec2:DescribeVpcs", lambda: ec2.describe_vpcs(VpcIds=[vpc_id])),
            lambda: guarded("ec2:DescribeSubnets", lambda: _all(
                ec2, "describe_subnets", "Subnets", Filters=by_vpc)),
            lambda: guarded("ec2:DescribeRouteTables", lambda: _all(
                ec2, "describe_route_tables", "RouteTables", Filters=by_vpc)),
            lambda: guarded("ec2:DescribeNetworkAcls", lambda: _all(
                ec2, "describe_network_acls", "NetworkAcls", Filters=by_vpc)),
            lambda: guarded("ec2:DescribeSecurityGroups", lambda: _all(
                ec2, "describe_security_groups", "SecurityGroups", Filters=by_vpc)),
            lambda: guarded("ec2:DescribeVpcEndpoints", lambda: _all(
                ec2, "describe_vpc_endpoints", "VpcEndpoints", Filters=by_vpc)),
            lambda: guarded("ec2:DescribeNatGateways", lambda: _all(
                ec2, "describe_nat_gateways", "NatGateways", Filter=by_vpc)),
            lambda: guarded("ec2:DescribeVpcAttribute", lambda: ec2.describe_vpc_attribute(
                VpcId=vpc_id, Attribute="enableDnsSupport")),
        ]
        vpcs, subnets, tables, acls, groups, endpoints, nats, dns = ordered(reads, VPC_WORKERS)
        facts = VpcFacts(vpc_id)
        if not isinstance(vpcs, Unavailable) and vpcs.get("Vpcs"):
            facts.cidrs = tuple(a["CidrBlock"] for a in vpcs["Vpcs"][0].get("CidrBlockAssociationSet", []))
        facts.subnets = _keyed(subnets, "SubnetId")
        facts.route_tables, facts.network_acls, facts.endpoints = tables, acls, endpoints
        facts.security_groups = _keyed(groups, "GroupId")
        facts.nat_gateways = _keyed(nats, "NatGatewayId")
        facts.dns_support = dns if isinstance(dns, Unavailable) else dns["EnableDnsSupport"]["Value"]
        return facts


def _all(client: EC2Client, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    by_name: Any = client  # the operation is chosen by its name: the stubs type each name apart
    for page in by_name.get_paginator(operation).paginate(**params):
        items.extend(page.get(key, []))
    return items


def _keyed(items: list[dict[str, Any]] | Unavailable, key: str) -> dict[str, dict[str, Any]] | Unavailable:
    return items if isinstance(items, Unavailable) else {item[key]: item for item in items}


def _chunks(values: list[str], size: int) -> list[list[str]]:
    return [values[i:i + size] for i in range(0, len(values), size)]


def _host(instance: dict[str, Any]) -> Host:
    primary = next((eni for eni in instance.get("NetworkInterfaces", [])
                    if (eni.get("Attachment") or {}).get("DeviceIndex") == 0), None)
    groups = (primary or instance).get("Groups") or instance.get("SecurityGroups") or []
    return Host(
        instance_id=instance.get("InstanceId"), private_ip=instance.get("PrivateIpAddress", ""),
        public_ip=instance.get("PublicIpAddress"), subnet_id=instance.get("SubnetId", ""),
        vpc_id=instance.get("VpcId", ""), security_groups=tuple(g["GroupId"] for g in groups),
        architecture=instance.get("Architecture"), instance_type=instance.get("InstanceType"),
        profile_arn=(instance.get("IamInstanceProfile") or {}).get("Arn"),
    )


def usable_nat(vpc: VpcFacts, subnet_id: str) -> str | None:
    """An available public NAT gateway of the VPC that a route can point at (one in the subnet's
    Availability Zone first); None when the VPC has none or its NATs could not be read."""
    nats, subnets = vpc.nat_gateways, vpc.subnets
    if isinstance(nats, Unavailable):
        return None
    zones = {} if isinstance(subnets, Unavailable) else {
        sid: s.get("AvailabilityZone") for sid, s in subnets.items()}
    usable = [n for n in nats.values()
              if n.get("State") == "available" and n.get("ConnectivityType", "public") == "public"]
    usable.sort(key=lambda n: (zones.get(n.get("SubnetId", "")) != zones.get(subnet_id),
                               n["NatGatewayId"]))
    return usable[0]["NatGatewayId"] if usable else None
