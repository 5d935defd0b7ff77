"""Why the function cannot open a connection to a cluster's API server: where the function runs
(outside any VPC, in another VPC, in the cluster's VPC) against the endpoint's access settings.

`vantage` reads (only after a connection failed); `unreachable_fix` is pure.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pullmedic.core.awsclients import ClientFor
from pullmedic.core.deployment import FunctionNetwork
from pullmedic.core.netpath.sg import ingress_allows, rules_from_api
from pullmedic.core.unavailable import Unavailable
from pullmedic.reading.aws.eks import ClusterAccess
from pullmedic.reading.deployment import DoctorReader

OPEN = ("0.0.0.0/0",)


@dataclass(frozen=True)
class Vantage:
    """Where the function runs, as far as it could be read."""

    network: FunctionNetwork | Unavailable | None  # None: not known; vpc_id None: outside any VPC
    cluster_groups: list[dict[str, Any]] | Unavailable | None = None  # read when in the cluster's VPC


def vantage(client_for: ClientFor, region: str, subnets: Sequence[str],
            groups: Sequence[str], access: ClusterAccess,
            cluster_client_for: ClientFor | None = None) -> Vantage:
    """The function's network (its subnets' VPC, NAT egress addresses, groups), read with
    `client_for` in `region` (the function's account), and, when it shares the cluster's VPC, the
    cluster security group's rules (read with `cluster_client_for`, the cluster's account).
    Every read may be Unavailable."""
    network = _network(client_for, region, tuple(subnets), tuple(groups))
    reader = DoctorReader(cluster_client_for or client_for, access.region)
    inside = isinstance(network, FunctionNetwork) and network.vpc_id is not None \
        and network.vpc_id == access.vpc_id and access.private_access
    cluster_groups = reader.security_groups([access.security_group]) \
        if inside and access.security_group else None
    return Vantage(network, cluster_groups)


@lru_cache(maxsize=8)  # one read per invocation (its client_for) however many clusters fail
def _network(client_for: ClientFor, region: str, subnets: tuple[str, ...],
             groups: tuple[str, ...]) -> FunctionNetwork | Unavailable:
    return DoctorReader(client_for, region).network(list(subnets), groups)


def unreachable_fix(access: ClusterAccess, seen: Vantage | None = None) -> str:
    """What to change when the function cannot open a connection to the cluster's API server."""
    network = seen.network if seen is not None else None
    if network is None or isinstance(network, Unavailable):
        return _unknown(access)
    if network.vpc_id is None:
        return _outside(access)
    if network.vpc_id == access.vpc_id and access.private_access:
        return _inside(access, network, seen.cluster_groups if seen is not None else None)
    return _other_vpc(access, network)


def _admit(access: ClusterAccess) -> str:
    group = f"the cluster security group {access.security_group}" if access.security_group \
        else "the cluster's security group"
    return f"{group} must accept HTTPS (443) from the function's security group"


def _restricted(access: ClusterAccess) -> bool:
    return access.public_access and tuple(access.public_cidrs) != OPEN


def _unknown(access: ClusterAccess) -> str:
    """The function's network could not be read: every way in, by the endpoint's settings."""
    if not access.public_access:
        vpc = f" {access.vpc_id}" if access.vpc_id else ""
        return (f"its endpoint is private: run the function in the cluster's VPC{vpc} (template "
                f"parameters SubnetIds and SecurityGroupIds), and {_admit(access)}.")
    if _restricted(access):
        private = (" or, since private access is on, run the function in the cluster's VPC (SubnetIds, "
                   f"SecurityGroupIds) and {_admit(access)}") if access.private_access else ""
        return (f"its public endpoint admits only {', '.join(access.public_cidrs)}: add the function's "
                "egress address (its NAT gateway's public IP) to the cluster's public access CIDRs"
                f"{private}.")
    return _path(access)


def _path(access: ClusterAccess) -> str:
    return (f"the endpoint {access.endpoint} is public and open: check the function's network path to "
            "it (NAT gateway or internet gateway, security group egress 443, network ACLs), or "
            + _admit(access) + " when the function runs in the cluster's VPC.")


def _outside(access: ClusterAccess) -> str:
    """The function runs outside any VPC (no SubnetIds): only an open public endpoint works."""
    vpc = access.vpc_id or "the cluster's VPC"
    if not access.public_access:
        return (f"its endpoint is private and the function runs outside any VPC: deploy the stack with "
                f"SubnetIds (private subnets of {vpc}) and SecurityGroupIds, and {_admit(access)}.")
    if _restricted(access):
        private = f", or, as private access is on, subnets of {vpc}" if access.private_access else ""
        return (f"its public endpoint admits only {', '.join(access.public_cidrs)} and the function runs "
                "outside any VPC, with no fixed egress address: deploy the stack with SubnetIds (private "
                "subnets behind a NAT gateway whose public IP is in publicAccessCidrs"
                f"{private}) and SecurityGroupIds.")
    return _path(access)


def _other_vpc(access: ClusterAccess, network: FunctionNetwork) -> str:
    """In a VPC that does not take the private endpoint: the public endpoint must admit its NAT."""
    vpc = access.vpc_id or "the cluster's VPC"
    if not access.public_access:
        return (f"its endpoint is private and the function runs in {network.vpc_id}, not in the "
                f"cluster's VPC {vpc}: deploy the stack with SubnetIds of {vpc} and SecurityGroupIds "
                f"(or route {network.vpc_id} to {vpc} through peering or a transit gateway).")
    if not _restricted(access):
        return _path(access)
    cidrs = list(access.public_cidrs)
    egress = network.egress_ips
    if isinstance(egress, Unavailable) or not egress:
        why = egress.why if isinstance(egress, Unavailable) else \
            "no NAT gateway on its subnets' default route"
        return (f"its public endpoint admits only {', '.join(cidrs)} and the function's egress address is "
                f"not known ({why}): add its NAT gateway's public IP to publicAccessCidrs.")
    outside = [ip for ip in egress if not _in_any(ip, cidrs)]
    if not outside:
        return _path(access)
    wanted = ",".join([*cidrs, *(f"{ip}/32" for ip in outside)])
    return (f"its public endpoint admits only {', '.join(cidrs)}, not the function's egress address "
            f"{', '.join(outside)} (its NAT gateway): aws eks update-cluster-config --name {access.name} "
            f"--region {access.region} --resources-vpc-config publicAccessCidrs={wanted}")


def _inside(access: ClusterAccess, network: FunctionNetwork,
            groups: list[dict[str, Any]] | Unavailable | None) -> str:
    """In the cluster's VPC with private access on: the cluster security group must admit it."""
    target = access.security_group or "CLUSTER_SG"
    source = network.security_groups[0] if network.security_groups else "FUNCTION_SG"
    rule = (f"aws ec2 authorize-security-group-ingress --group-id {target} --protocol tcp --port 443 "
            f"--source-group {source} --region {access.region}")
    where = f"the function reaches the private endpoint in the cluster's VPC {access.vpc_id}"
    if groups is None or isinstance(groups, Unavailable):
        why = f" (cannot read it: {groups.why})" if isinstance(groups, Unavailable) else ""
        return (f"{where}: the cluster security group {target} must admit HTTPS (443) from the "
                f"function's security group{why}, unless it already does: {rule}")
    if _admitted(network, groups, target):
        return (f"{where}, and the cluster security group {target} admits it: check the egress of "
                f"{', '.join(network.security_groups) or 'its security groups'} on 443 and the subnets' "
                "network ACLs.")
    return (f"{where}, and the cluster security group {target} does not admit HTTPS (443) from the "
            f"function's security group {source}: {rule}")


def _admitted(network: FunctionNetwork, groups: list[dict[str, Any]], target: str) -> bool:
    """The cluster security group admits tcp/443 from the function's groups or all its subnets."""
    rules = [r for g in groups for r in rules_from_api(g)]
    if ingress_allows(rules, port=443, source_groups=network.security_groups, group_ids=[target]).allowed:
        return True
    cidrs = list(network.subnet_cidrs.values())
    return any(r.direction == "ingress" and r.matches_traffic("tcp", 443) and cidrs
               and all(_covers(r.cidrs, c) for c in cidrs) for r in rules)


def _in_any(ip: str, cidrs: Sequence[str]) -> bool:
    address = ipaddress.ip_address(ip)
    return any(address in ipaddress.ip_network(c, strict=False) for c in cidrs)


def _covers(cidrs: Sequence[str], subnet: str) -> bool:
    network = ipaddress.ip_network(subnet, strict=False)
    return any(network.subnet_of(ipaddress.ip_network(c, strict=False)) for c in cidrs  # type: ignore[arg-type]
               if ipaddress.ip_network(c, strict=False).version == network.version)
