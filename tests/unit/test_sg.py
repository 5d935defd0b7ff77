"""Security groups: the union of allow rules across groups, matched on protocol, port, peer."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pullmedic.core.netpath.sg import SgRule, egress_allows, ingress_allows, rules_from_api

S3_PL = "pl-63a5400a"
S3_CIDRS = {S3_PL: ["52.216.0.0/15", "3.5.0.0/19"]}


def _perm(protocol: str, low: int | None = None, high: int | None = None, *, cidrs=(),
          v6=(), prefix_lists=(), groups=()) -> dict:
    perm: dict = {"IpProtocol": protocol,
                  "IpRanges": [{"CidrIp": c} for c in cidrs],
                  "Ipv6Ranges": [{"CidrIpv6": c} for c in v6],
                  "PrefixListIds": [{"PrefixListId": p} for p in prefix_lists],
                  "UserIdGroupPairs": [{"GroupId": g, "UserId": "111122223333"} for g in groups]}
    if low is not None:
        perm |= {"FromPort": low, "ToPort": high if high is not None else low}
    return perm


def _group(group_id: str, egress=(), ingress=()) -> dict:
    return {"GroupId": group_id, "GroupName": group_id, "VpcId": "vpc-1",
            "IpPermissionsEgress": list(egress), "IpPermissions": list(ingress)}


NODE_S3_AND_443 = _group("sg-node", egress=[
    _perm("tcp", 443, cidrs=["0.0.0.0/0"]), _perm("tcp", 443, prefix_lists=[S3_PL])])
NODE_S3_ONLY = _group("sg-node", egress=[_perm("tcp", 443, prefix_lists=[S3_PL])])
NODE_NO_EGRESS = _group("sg-node", ingress=[_perm("-1", groups=["sg-node"])])
NODE_TO_ENDPOINT_SG = _group("sg-node", egress=[_perm("6", 443, groups=["sg-endpoint"])])
DEFAULT_SG = _group("sg-default", egress=[_perm("-1", cidrs=["0.0.0.0/0"], v6=["::/0"])])
ENDPOINT = _group("sg-endpoint", ingress=[_perm("tcp", 443, groups=["sg-node"]),
                                          _perm("tcp", 443, cidrs=["10.0.0.0/16"])])


def test_rules_from_api_flattens_permissions() -> None:
    rules = rules_from_api(_group("sg-a", egress=[_perm("6", 1024, 65535, cidrs=["10.0.0.0/8"])],
                                  ingress=[_perm("-1", groups=["sg-b"])]))
    assert rules == (
        SgRule("sg-a", "egress", "tcp", 1024, 65535, ("10.0.0.0/8",), (), ()),
        SgRule("sg-a", "ingress", "-1", None, None, (), (), ("sg-b",)),
    )
    assert rules[0].describe() == "sg-a egress tcp/1024-65535 to 10.0.0.0/8"
    assert rules[1].describe() == "sg-a ingress all traffic from sg-b"


@pytest.mark.parametrize(("groups", "kwargs", "allowed", "reason"), [
    ([NODE_S3_AND_443], {"dest_ip": "52.1.2.3"}, True,
     "sg-node egress tcp/443 to 0.0.0.0/0 allows tcp/443 to 52.1.2.3"),
    ([NODE_S3_AND_443], {"dest_ip": "52.1.2.3", "port": 80}, False,
     "no egress rule in sg-node allows tcp/80 to 52.1.2.3"),
    ([NODE_S3_ONLY], {"dest_prefix_list": S3_PL}, True,
     f"sg-node egress tcp/443 to {S3_PL} allows tcp/443 to {S3_PL}"),
    ([NODE_S3_ONLY], {"dest_ip": "52.217.9.9"}, True,
     f"sg-node egress tcp/443 to {S3_PL} allows tcp/443 to 52.217.9.9"),
    ([NODE_S3_ONLY], {"dest_ip": "54.1.2.3"}, False,
     "no egress rule in sg-node allows tcp/443 to 54.1.2.3"),
    ([NODE_NO_EGRESS], {"dest_ip": "52.1.2.3"}, False,
     "no egress rule in sg-node allows tcp/443 to 52.1.2.3"),
    ([NODE_TO_ENDPOINT_SG], {"dest_ip": "10.0.3.7", "dest_groups": ["sg-endpoint"]}, True,
     "sg-node egress tcp/443 to sg-endpoint allows tcp/443 to 10.0.3.7 (an ENI in sg-endpoint)"),
    ([NODE_TO_ENDPOINT_SG], {"dest_ip": "52.1.2.3"}, False,
     "no egress rule in sg-node allows tcp/443 to 52.1.2.3"),
    ([NODE_NO_EGRESS, DEFAULT_SG], {"dest_ip": "52.1.2.3"}, True,
     "sg-default egress all traffic to 0.0.0.0/0, ::/0 allows tcp/443 to 52.1.2.3"),
    ([DEFAULT_SG], {"dest_ip": "2600:1f18::1", "protocol": "udp", "port": 53}, True,
     "sg-default egress all traffic to 0.0.0.0/0, ::/0 allows udp/53 to 2600:1f18::1"),
])
def test_egress(groups: list[dict], kwargs: dict, allowed: bool, reason: str) -> None:
    rules = [rule for group in groups for rule in rules_from_api(group)]
    decision = egress_allows(rules, **{"port": 443, "prefix_list_cidrs": S3_CIDRS} | kwargs)
    assert (decision.allowed, decision.reason) == (allowed, reason)
    assert (decision.rule is not None) == allowed


def test_egress_names_groups_without_rules() -> None:
    decision = egress_allows([], port=443, dest_ip="52.1.2.3", group_ids=["sg-a", "sg-b"])
    assert decision.reason == "no egress rule in sg-a, sg-b allows tcp/443 to 52.1.2.3"


@pytest.mark.parametrize(("kwargs", "allowed"), [
    ({"source_groups": ["sg-node"]}, True),
    ({"source_ip": "10.0.9.9"}, True),
    ({"source_ip": "10.1.0.1"}, False),
    ({"source_ip": "10.0.9.9", "port": 80}, False),
    ({"source_ip": "10.0.9.9", "protocol": "udp"}, False),
])
def test_endpoint_ingress(kwargs: dict, allowed: bool) -> None:
    decision = ingress_allows(rules_from_api(ENDPOINT), **{"port": 443} | kwargs)
    assert decision.allowed is allowed
    if not allowed:
        assert decision.reason.startswith("no ingress rule in sg-endpoint allows")


# Property: egress_allows equals "some egress rule matches", computed naively.

_NETS = ["10.0.0.0/24", "10.0.0.0/26", "10.0.0.64/27", "10.0.0.128/25", "10.0.0.7/32",
         "0.0.0.0/0"]
_PLS = {"pl-a": ["10.0.0.32/28"], "pl-b": ["10.0.0.200/29", "10.0.0.0/30"]}


def _naive_port_ok(rule: SgRule, protocol: str, port: int) -> bool:
    if rule.protocol == "-1":
        return True
    if rule.protocol != protocol:
        return False
    return rule.from_port is None or rule.from_port <= port <= rule.to_port


def _naive_in(ip: str | None, cidrs) -> bool:
    if ip is None:
        return False
    value = int(ipaddress.IPv4Address(ip))
    for cidr in cidrs:
        base, length = cidr.split("/")
        shift = 32 - int(length)
        if value >> shift == int(ipaddress.IPv4Address(base)) >> shift:
            return True
    return False


def _naive_allows(rules, protocol, port, ip, prefix_list, groups) -> bool:
    return any(
        r.direction == "egress" and _naive_port_ok(r, protocol, port)
        and (_naive_in(ip, r.cidrs) or prefix_list in r.prefix_lists
             or any(_naive_in(ip, _PLS[p]) for p in r.prefix_lists) or set(groups) & set(r.groups))
        for r in rules)


@st.composite
def _rules(draw) -> SgRule:
    protocol = draw(st.sampled_from(["-1", "tcp", "udp"]))
    low = None if protocol == "-1" else draw(st.none() | st.integers(0, 2000))
    high = None if low is None else draw(st.integers(low, 2000))
    return SgRule(
        group_id=draw(st.sampled_from(["sg-1", "sg-2"])),
        direction=draw(st.sampled_from(["egress", "ingress"])),
        protocol=protocol, from_port=low, to_port=high,
        cidrs=tuple(draw(st.lists(st.sampled_from(_NETS), max_size=2))),
        prefix_lists=tuple(draw(st.lists(st.sampled_from(sorted(_PLS)), max_size=1))),
        groups=tuple(draw(st.lists(st.sampled_from(["sg-x", "sg-y"]), max_size=1))),
    )


@settings(max_examples=200, deadline=None)
@given(rules=st.lists(_rules(), max_size=6),
       protocol=st.sampled_from(["tcp", "udp"]), port=st.integers(0, 2000),
       ip=st.none() | st.integers(0, 255).map(lambda n: f"10.0.0.{n}"),
       prefix_list=st.none() | st.sampled_from(sorted(_PLS)),
       groups=st.lists(st.sampled_from(["sg-x", "sg-y", "sg-z"]), max_size=2))
def test_egress_matches_naive_model(rules, protocol, port, ip, prefix_list, groups) -> None:
    decision = egress_allows(rules, port=port, protocol=protocol, dest_ip=ip,
                             dest_prefix_list=prefix_list, dest_groups=groups,
                             prefix_list_cidrs=_PLS)
    assert decision.allowed == _naive_allows(rules, protocol, port, ip, prefix_list, groups)
    if decision.rule is not None:
        assert _naive_allows([decision.rule], protocol, port, ip, prefix_list, groups)
