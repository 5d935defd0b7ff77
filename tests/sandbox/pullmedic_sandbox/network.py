"""The network between the scan function and a cluster's API endpoint, routed as AWS would.

A scenario cluster with an `endpoint:` section gets EKS endpoint access settings, and
describe-cluster answers, each time it is asked, the address the function would reach from where
it runs (`PULLMEDIC_SUBNET_IDS` / `PULLMEDIC_SECURITY_GROUP_IDS`, as the stack sets them; none:
outside any VPC): the cluster's simulated API server when the path is open, else a black hole,
an address that drops every SYN, as an unlisted source address, a private IP that is not routed
or a security group without the rule does. The client then times out connecting.

```yaml
clusters:
  - name: private-only
    endpoint: {public: false, private: true, cidrs: [203.0.113.0/24], security_group: cluster,
               subnets: [private-a, private-b]}   # names of the `aws:` section (default: all)
```

The path is open when (evaluated here independently of pullmedic's own checks):
- the function is in the cluster's VPC and private access is on: the cluster security group
  admits tcp/443 from one of the function's groups (or from a CIDR holding its subnets), and
  one of the function's groups lets tcp/443 out to it (or to a CIDR holding the cluster's
  subnets, or anywhere);
- otherwise, public access is on and the function's egress address is in publicAccessCidrs:
  outside any VPC that is LAMBDA_EGRESS; in a VPC, the public IP of the NAT gateway on its
  first subnet's default route (no NAT: no way out).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Iterable
from typing import Any

LAMBDA_EGRESS = "3.12.0.10"  # a function outside any VPC leaves from an address of AWS's fleet
ANYWHERE = "0.0.0.0/0"

Client = Callable[[str], Any]


class BlackHole:
    """A listening socket whose accept queue is full: the kernel drops every further SYN, so a
    client's connect times out as it does towards a filtered address."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(0)
        self._fillers: list[socket.socket] = []
        for _ in range(2):  # backlog 0 still queues one connection: fill it
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(self._socket.getsockname())
            self._fillers.append(filler)

    @property
    def endpoint(self) -> str:
        return f"https://127.0.0.1:{self._socket.getsockname()[1]}"

    def close(self) -> None:
        for sock in (*self._fillers, self._socket):
            sock.close()


def route(record: Any, hole: BlackHole, client: Client) -> None:
    """Make moto's cluster `record` answer its endpoint as seen from the function's network."""
    real = record.endpoint
    record.__class__ = _routed(type(record))
    record.routing, record.real_endpoint = (hole, client), real


_ROUTED: dict[type, type] = {}


def _routed(base: type) -> type:
    if base in _ROUTED.values():
        return base
    if base not in _ROUTED:
        def endpoint(self: Any) -> str:
            hole, client = self.routing
            config = self.resources_vpc_config
            return self.real_endpoint if reachable(config, _placement(), client) else hole.endpoint

        def set_endpoint(self: Any, value: str) -> None:
            self.real_endpoint = value

        _ROUTED[base] = type(f"Routed{base.__name__}", (base,),
                             {"endpoint": property(endpoint, set_endpoint)})
    return _ROUTED[base]


def _placement() -> tuple[list[str], list[str]]:
    def split(name: str) -> list[str]:
        return [part.strip() for part in os.environ.get(name, "").split(",") if part.strip()]
    return split("PULLMEDIC_SUBNET_IDS"), split("PULLMEDIC_SECURITY_GROUP_IDS")


def reachable(config: dict[str, Any], placement: tuple[list[str], list[str]], client: Client) -> bool:
    """Whether a function placed in (subnets, groups) opens a connection to the endpoint."""
    subnets, groups = placement
    ec2 = client("ec2")
    mine = ec2.describe_subnets(SubnetIds=subnets)["Subnets"] if subnets else []
    vpc = mine[0]["VpcId"] if mine else None
    if vpc is not None and vpc == config.get("vpcId") and config.get("endpointPrivateAccess"):
        theirs = ec2.describe_subnets(SubnetIds=config.get("subnetIds") or [])["Subnets"]
        return _private_path(ec2, groups, [s["CidrBlock"] for s in mine],
                             [s["CidrBlock"] for s in theirs], config)
    if not config.get("endpointPublicAccess", True):
        return False
    egress = _nat_ip(ec2, mine[0]) if mine else LAMBDA_EGRESS
    return egress is not None and _inside(egress, config.get("publicAccessCidrs") or [ANYWHERE])


def _private_path(ec2: Any, groups: list[str], mine: list[str], theirs: list[str],
                  config: dict[str, Any]) -> bool:
    cluster = [g for g in [config.get("clusterSecurityGroupId"), *(config.get("securityGroupIds") or [])]
               if g]
    described = ec2.describe_security_groups(GroupIds=cluster + groups)["SecurityGroups"]
    by_id = {g["GroupId"]: g for g in described}
    admitted = any(_allows(p, groups, mine) for g in cluster for p in by_id[g].get("IpPermissions", []))
    leaves = any(_allows(p, cluster, theirs or [ANYWHERE])
                 for g in groups for p in by_id[g].get("IpPermissionsEgress", []))
    return admitted and leaves


def _allows(permission: dict[str, Any], peers: Iterable[str], cidrs: list[str]) -> bool:
    """The rule lets tcp/443 to or from one of `peers` (groups) or from addresses holding `cidrs`."""
    if permission.get("IpProtocol") not in ("-1", "tcp"):
        return False
    if permission.get("IpProtocol") == "tcp" and not (
            permission.get("FromPort", 0) <= 443 <= permission.get("ToPort", 65535)):
        return False
    if {pair.get("GroupId") for pair in permission.get("UserIdGroupPairs", [])} & set(peers):
        return True
    ranges = [r["CidrIp"] for r in permission.get("IpRanges", [])]
    return bool(cidrs) and all(any(_holds(r, c) for r in ranges) for c in cidrs)


def _nat_ip(ec2: Any, subnet: dict[str, Any]) -> str | None:
    tables = ec2.describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [subnet["VpcId"]]}])["RouteTables"]
    table = next((t for t in tables if any(a.get("SubnetId") == subnet["SubnetId"]
                                           for a in t.get("Associations", []))), None) or \
        next((t for t in tables if any(a.get("Main") for a in t.get("Associations", []))), {})
    nat = next((r["NatGatewayId"] for r in table.get("Routes", [])
                if r.get("DestinationCidrBlock") == ANYWHERE and r.get("NatGatewayId")), None)
    if nat is None:
        return None
    found = ec2.describe_nat_gateways(NatGatewayIds=[nat])["NatGateways"]
    return next((a["PublicIp"] for n in found for a in n.get("NatGatewayAddresses", []) if a.get("PublicIp")),
                None)


def _inside(ip: str, cidrs: Iterable[str]) -> bool:
    return any(ipaddress.ip_address(ip) in ipaddress.ip_network(c, strict=False) for c in cidrs)


def _holds(outer: str, inner: str) -> bool:
    return ipaddress.ip_network(inner, strict=False).subnet_of(ipaddress.ip_network(outer, strict=False))  # type: ignore[arg-type]
