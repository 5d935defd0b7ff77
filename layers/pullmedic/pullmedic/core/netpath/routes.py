"""Route table selection and longest-prefix-match lookup."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

NO_PREFIX_LISTS: Mapping[str, Sequence[str]] = MappingProxyType({})
_GATEWAY_KINDS = (("local", "local"), ("igw-", "igw"), ("vgw-", "vgw"), ("vpce-", "vpce"))
_TARGET_FIELDS = (  # InstanceId before NetworkInterfaceId: AWS reports both for instance routes
    ("NatGatewayId", "nat"),
    ("TransitGatewayId", "tgw"),
    ("VpcPeeringConnectionId", "pcx"),
    ("EgressOnlyInternetGatewayId", "eigw"),
    ("InstanceId", "instance"),
    ("NetworkInterfaceId", "eni"),
)
_OTHER_FIELDS = ("CarrierGatewayId", "LocalGatewayId", "CoreNetworkArn")


@dataclass(frozen=True)
class Route:
    """One route of one route table."""

    table_id: str
    destination: str  # a CIDR, or a prefix list id "pl-..."
    target_kind: str  # local igw nat tgw vpce eni pcx vgw eigw instance other
    target_id: str
    state: str  # "active" | "blackhole"

    def describe(self) -> str:
        """E.g. "rtb-0abc: 0.0.0.0/0 -> nat-0123 (active)"."""
        return f"{self.table_id}: {self.destination} -> {self.target_id} ({self.state})"


def _gateway_kind(gateway_id: str) -> str:
    return next((kind for prefix, kind in _GATEWAY_KINDS if gateway_id.startswith(prefix)), "other")


def _target(raw: Mapping[str, Any]) -> tuple[str, str]:
    if raw.get("GatewayId"):
        return _gateway_kind(raw["GatewayId"]), raw["GatewayId"]
    for field, kind in _TARGET_FIELDS:
        if raw.get(field):
            return kind, raw[field]
    return "other", next((raw[f] for f in _OTHER_FIELDS if raw.get(f)), "unknown")


def _route(table_id: str, raw: Mapping[str, Any]) -> Route:
    destination = (raw.get("DestinationCidrBlock") or raw.get("DestinationIpv6CidrBlock")
                   or raw["DestinationPrefixListId"])
    kind, target = _target(raw)
    return Route(table_id, destination, kind, target, raw.get("State", "active"))


def routes_from_api(table: Mapping[str, Any]) -> tuple[Route, ...]:
    """The routes of one describe_route_tables RouteTables[] item."""
    return tuple(_route(table["RouteTableId"], raw) for raw in table.get("Routes", ()))


def table_for_subnet(tables: Sequence[Mapping[str, Any]], subnet_id: str,
                     vpc_id: str) -> Mapping[str, Any] | None:
    """The subnet's explicitly associated table, else its VPC's main table."""
    for table in tables:
        if any(a.get("SubnetId") == subnet_id for a in table.get("Associations", ())):
            return table
    main = (t for t in tables if t.get("VpcId") == vpc_id
            and any(a.get("Main") for a in t.get("Associations", ())))
    return next(main, None)


def _prefix_length(route: Route, ip: str, prefix_list_cidrs: Mapping[str, Sequence[str]]
                   ) -> int | None:
    """The longest of the route's CIDRs that contains ip, or None."""
    is_list = route.destination.startswith("pl-")
    cidrs = prefix_list_cidrs.get(route.destination, ()) if is_list else (route.destination,)
    address = ipaddress.ip_address(ip)
    networks = (ipaddress.ip_network(c, strict=False) for c in cidrs)
    lengths = [n.prefixlen for n in networks if address in n]
    return max(lengths) if lengths else None


def route_for(routes: Sequence[Route], ip: str,
              prefix_list_cidrs: Mapping[str, Sequence[str]] = NO_PREFIX_LISTS) -> Route | None:
    """The route that carries traffic to ip: the longest prefix wins, blackholes included.

    A prefix-list route matches through the list's CIDRs; on equal length a CIDR route
    beats a prefix-list route, as AWS gives static CIDR routes priority.
    """
    best: tuple[int, int] | None = None
    chosen: Route | None = None
    for route in routes:
        length = _prefix_length(route, ip, prefix_list_cidrs)
        if length is None:
            continue
        rank = (length, 0 if route.destination.startswith("pl-") else 1)
        if best is None or rank > best:
            best, chosen = rank, route
    return chosen
