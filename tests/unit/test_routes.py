"""Route tables: explicit association else main table; the longest prefix wins."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pullmedic.core.netpath.routes import Route, route_for, routes_from_api, table_for_subnet

S3_PL = "pl-63a5400a"
S3_CIDRS = {S3_PL: ["52.216.0.0/15", "3.5.0.0/19"]}
LOCAL = {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active",
         "Origin": "CreateRouteTable"}


def _table(table_id: str, *routes: dict, subnets=(), main: bool = False, vpc: str = "vpc-1"
           ) -> dict:
    associations = [{"RouteTableId": table_id, "SubnetId": s, "Main": False} for s in subnets]
    if main:
        associations.append({"RouteTableId": table_id, "Main": True})
    return {"RouteTableId": table_id, "VpcId": vpc, "Associations": associations,
            "Routes": [LOCAL, *routes]}


PRIVATE = _table("rtb-private",
                 {"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-0123",
                  "State": "active"},
                 {"DestinationPrefixListId": S3_PL, "GatewayId": "vpce-0s3", "State": "active"},
                 subnets=["subnet-a"])
PUBLIC = _table("rtb-public",
                {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-0abc", "State": "active"},
                {"DestinationIpv6CidrBlock": "::/0", "EgressOnlyInternetGatewayId": "eigw-1",
                 "State": "active"},
                main=True)
BLACKHOLE = _table("rtb-bh",
                   {"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-0123",
                    "State": "active"},
                   {"DestinationCidrBlock": "52.0.0.0/8", "NatGatewayId": "nat-gone",
                    "State": "blackhole"},
                   {"DestinationCidrBlock": "172.16.0.0/12", "InstanceId": "i-0nat",
                    "NetworkInterfaceId": "eni-0nat", "State": "active"},
                   {"DestinationCidrBlock": "192.168.0.0/16", "TransitGatewayId": "tgw-1"},
                   subnets=["subnet-c"])
OTHER_VPC_MAIN = _table("rtb-other", main=True, vpc="vpc-2")


def test_routes_from_api() -> None:
    assert routes_from_api(PRIVATE) == (
        Route("rtb-private", "10.0.0.0/16", "local", "local", "active"),
        Route("rtb-private", "0.0.0.0/0", "nat", "nat-0123", "active"),
        Route("rtb-private", S3_PL, "vpce", "vpce-0s3", "active"),
    )
    kinds = [(r.target_kind, r.target_id) for r in routes_from_api(BLACKHOLE)[1:]]
    assert kinds == [("nat", "nat-0123"), ("nat", "nat-gone"), ("instance", "i-0nat"),
                     ("tgw", "tgw-1")]
    assert routes_from_api(PUBLIC)[2].target_kind == "eigw"
    assert routes_from_api(PRIVATE)[1].describe() == "rtb-private: 0.0.0.0/0 -> nat-0123 (active)"


@pytest.mark.parametrize(("subnet", "vpc", "table"), [
    ("subnet-a", "vpc-1", "rtb-private"),
    ("subnet-c", "vpc-1", "rtb-bh"),
    ("subnet-b", "vpc-1", "rtb-public"),
    ("subnet-z", "vpc-2", "rtb-other"),
    ("subnet-z", "vpc-3", None),
])
def test_table_for_subnet(subnet: str, vpc: str, table: str | None) -> None:
    found = table_for_subnet([OTHER_VPC_MAIN, PUBLIC, PRIVATE, BLACKHOLE], subnet, vpc)
    assert (found["RouteTableId"] if found else None) == table


@pytest.mark.parametrize(("table", "ip", "expected"), [
    (PRIVATE, "52.1.2.3", "rtb-private: 0.0.0.0/0 -> nat-0123 (active)"),
    (PRIVATE, "52.217.10.1", f"rtb-private: {S3_PL} -> vpce-0s3 (active)"),
    (PRIVATE, "10.0.7.9", "rtb-private: 10.0.0.0/16 -> local (active)"),
    (PUBLIC, "52.1.2.3", "rtb-public: 0.0.0.0/0 -> igw-0abc (active)"),
    (PUBLIC, "2600:1f18::1", "rtb-public: ::/0 -> eigw-1 (active)"),
    (BLACKHOLE, "52.1.2.3", "rtb-bh: 52.0.0.0/8 -> nat-gone (blackhole)"),
    (BLACKHOLE, "54.1.2.3", "rtb-bh: 0.0.0.0/0 -> nat-0123 (active)"),
    (BLACKHOLE, "172.20.0.1", "rtb-bh: 172.16.0.0/12 -> i-0nat (active)"),
    (_table("rtb-isolated"), "52.1.2.3", None),
])
def test_route_for(table: dict, ip: str, expected: str | None) -> None:
    route = route_for(routes_from_api(table), ip, S3_CIDRS)
    assert (route.describe() if route else None) == expected


def test_cidr_route_beats_prefix_list_route_of_equal_length() -> None:
    routes = (Route("rtb-1", S3_PL, "vpce", "vpce-1", "active"),
              Route("rtb-1", "52.216.0.0/15", "nat", "nat-1", "active"))
    assert route_for(routes, "52.216.1.1", S3_CIDRS) == routes[1]
    assert route_for(routes[:1], "52.216.1.1") is None  # prefix list CIDRs unknown


# Property: route_for equals "filter the containing CIDRs, keep the longest".

_LISTS = {"pl-a": ["10.0.0.32/28", "10.0.0.128/25"], "pl-b": ["10.0.0.0/30"]}


@st.composite
def _routes(draw) -> list[Route]:
    cidrs = draw(st.lists(st.tuples(st.integers(0, 255), st.integers(0, 32)), max_size=8))
    destinations = {str(ipaddress.ip_network(f"10.0.0.{b}/{n}", strict=False)) for b, n in cidrs}
    destinations |= set(draw(st.lists(st.sampled_from(sorted(_LISTS)), max_size=2)))
    return [Route("rtb-p", d, "other", f"t-{i}", draw(st.sampled_from(["active", "blackhole"])))
            for i, d in enumerate(draw(st.permutations(sorted(destinations))))]


def _naive_length(route: Route, ip: str) -> int:
    cidrs = _LISTS.get(route.destination, [route.destination])
    return max((int(c.split("/")[1]) for c in cidrs
                if ipaddress.ip_address(ip) in ipaddress.ip_network(c)), default=-1)


@settings(max_examples=200, deadline=None)
@given(routes=_routes(), last=st.integers(0, 255))
def test_route_for_matches_naive_model(routes: list[Route], last: int) -> None:
    ip = f"10.0.0.{last}"
    lengths = {r: _naive_length(r, ip) for r in routes}
    best = max(lengths.values(), default=-1)
    route = route_for(routes, ip, _LISTS)
    if best < 0:
        assert route is None
        return
    assert route is not None and lengths[route] == best
    winners = [r for r in routes if lengths[r] == best]
    cidr_winners = [r for r in winners if not r.destination.startswith("pl-")]
    assert route in (cidr_winners or winners)
