"""Network ACLs: stateless, ordered by rule number, first match wins, replies need a rule."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pullmedic.core.netpath.nacl import (
    NaclEntry,
    connection_allowed,
    entries_from_api,
    evaluate,
    return_traffic,
)

ANY = "0.0.0.0/0"


def _raw(number: int, egress: bool, action: str, protocol: str = "-1", cidr: str = ANY,
         ports: tuple[int, int] | None = None) -> dict:
    raw = {"RuleNumber": number, "Egress": egress, "RuleAction": action, "Protocol": protocol,
           "CidrBlock": cidr}
    if ports:
        raw["PortRange"] = {"From": ports[0], "To": ports[1]}
    return raw


def _acl(*entries: dict, defaults: bool = True) -> tuple[NaclEntry, ...]:
    rows = list(entries)
    if defaults:
        rows += [_raw(32767, True, "deny"), _raw(32767, False, "deny"),
                 {"RuleNumber": 32768, "Egress": True, "RuleAction": "deny", "Protocol": "-1",
                  "Ipv6CidrBlock": "::/0"}]
    return entries_from_api({"NetworkAclId": "acl-x", "VpcId": "vpc-1", "Entries": rows})


ALLOW_ALL = (_raw(100, True, "allow"), _raw(100, False, "allow"))
DENY_443_FIRST = _acl(_raw(90, True, "deny", "6", ports=(443, 443)), *ALLOW_ALL)
NO_EPHEMERAL_IN = _acl(_raw(100, True, "allow", "6", ports=(443, 443)),
                       _raw(100, False, "allow", "6", ports=(443, 443)))
EPHEMERAL_IN = _acl(_raw(100, True, "allow", "6", ports=(443, 443)),
                    _raw(110, False, "allow", "6", ports=(1024, 65535)))
PARTIAL_IN = _acl(_raw(100, True, "allow", "6", ports=(443, 443)),
                  _raw(110, False, "deny", "6", ports=(40000, 45000)),
                  _raw(120, False, "allow", "6", ports=(1024, 50000)), defaults=False)


def test_entries_from_api() -> None:
    entry = DENY_443_FIRST[0]
    assert entry == NaclEntry("acl-x", 90, True, "6", "deny", ANY, 443, 443)
    assert entry.describe() == "NACL acl-x rule 90 denies outbound tcp/443 to 0.0.0.0/0"
    assert EPHEMERAL_IN[1].describe() == (
        "NACL acl-x rule 110 allows inbound tcp/1024-65535 from 0.0.0.0/0")
    assert DENY_443_FIRST[1].describe() == (
        "NACL acl-x rule 100 allows outbound all traffic to 0.0.0.0/0")
    assert DENY_443_FIRST[3].describe() == (
        "NACL acl-x the default rule (*) denies outbound all traffic to 0.0.0.0/0")
    assert DENY_443_FIRST[5].cidr == "::/0"


@pytest.mark.parametrize(("entries", "egress", "port", "allowed", "rule"), [
    (DENY_443_FIRST, True, 443, False, 90),
    (DENY_443_FIRST, True, 80, True, 100),
    (DENY_443_FIRST, False, 443, True, 100),
    (NO_EPHEMERAL_IN, False, 40000, False, None),
    (EPHEMERAL_IN, False, 40000, True, 110),
    (EPHEMERAL_IN, True, 80, False, None),
    (_acl(defaults=False), True, 443, False, None),
])
def test_evaluate(entries, egress: bool, port: int, allowed: bool, rule: int | None) -> None:
    decision = evaluate(entries, egress=egress, port=port, ip="52.1.2.3")
    assert decision.allowed is allowed
    assert (decision.entry.rule_number if decision.entry else None) == rule


def test_evaluate_default_rule_reason_is_the_same_listed_or_not() -> None:
    inbound_only = _raw(100, False, "allow")
    listed = evaluate(_acl(inbound_only), egress=True, port=443, ip="52.1.2.3")
    unlisted = evaluate(_acl(inbound_only, defaults=False), egress=True, port=443, ip="52.1.2.3")
    assert listed == unlisted
    assert listed.reason == ("NACL acl-x has no outbound rule allowing tcp/443 to 52.1.2.3 "
                             "(the default rule (*) denies it)")


@pytest.mark.parametrize(("entries", "allowed", "reason"), [
    (DENY_443_FIRST, False, "NACL acl-x rule 90 denies outbound tcp/443 to 0.0.0.0/0"),
    (NO_EPHEMERAL_IN, False,
     "NACL acl-x has no inbound rule allowing return traffic on tcp/32768-60999 from 52.1.2.3 "
     "(the default rule (*) denies it)"),
    (EPHEMERAL_IN, True,
     "NACL acl-x allows outbound tcp/443 to 52.1.2.3 and return traffic on tcp/32768-60999 "
     "from 52.1.2.3"),
    (_acl(*ALLOW_ALL), True, None),
    (PARTIAL_IN, False,
     "NACL acl-x rule 110 denies inbound tcp/40000-45000 from 0.0.0.0/0, blocking return "
     "traffic on tcp/40000-45000 from 52.1.2.3; NACL acl-x has no inbound rule allowing return "
     "traffic on tcp/50001-60999 from 52.1.2.3 (the default rule (*) denies it)"),
])
def test_connection_allowed(entries, allowed: bool, reason: str | None) -> None:
    decision = connection_allowed(entries, ip="52.1.2.3")
    assert decision.allowed is allowed
    assert reason is None or decision.reason.startswith(reason)


def test_return_traffic_segments() -> None:
    path = return_traffic(PARTIAL_IN, ip="52.1.2.3", ports=(1024, 65535))
    assert path.allowed_ports == ((1024, 39999), (45001, 50000))
    assert [(lo, hi, e.rule_number if e else None) for lo, hi, e in path.blocked] == [
        (40000, 45000, 110), (50001, 65535, None)]
    assert return_traffic(EPHEMERAL_IN, ip="52.1.2.3").blocked == ()


# Properties: a brute-force model over a small space of addresses and ports.

_IPS = st.integers(0, 255).map(lambda n: f"10.0.0.{n}")


@st.composite
def _entries(draw) -> list[NaclEntry]:
    numbers = draw(st.lists(st.integers(1, 200), unique=True, max_size=8))
    entries = []
    for number in numbers:
        protocol = draw(st.sampled_from(["-1", "6", "17"]))
        low = draw(st.integers(0, 2000))
        high = draw(st.integers(low, 2000))
        ports = (None, None) if protocol == "-1" else (low, high)
        base = draw(st.integers(0, 255))
        length = draw(st.sampled_from([0, 24, 25, 26, 28, 30, 32]))
        network = ipaddress.ip_network(f"10.0.0.{base}/{length}", strict=False)
        entries.append(NaclEntry("acl-p", number, draw(st.booleans()), protocol,
                                 draw(st.sampled_from(["allow", "deny"])), str(network), *ports))
    if draw(st.booleans()):
        entries += [NaclEntry("acl-p", 32767, egress, "-1", "deny", ANY, None, None)
                    for egress in (True, False)]
    return draw(st.permutations(entries))


def _naive(entries, egress: bool, port: int, ip: str, protocol: str) -> NaclEntry | None:
    address = int(ipaddress.IPv4Address(ip))
    for entry in sorted(entries, key=lambda e: e.rule_number):
        network = ipaddress.IPv4Network(entry.cidr)
        in_net = int(network.network_address) <= address <= int(network.broadcast_address)
        proto_ok = entry.protocol in ("-1", protocol)
        port_ok = entry.port_from is None or entry.port_from <= port <= entry.port_to
        if entry.egress == egress and in_net and proto_ok and port_ok:
            return None if entry.rule_number == 32767 else entry
    return None


@settings(max_examples=200, deadline=None)
@given(entries=_entries(), egress=st.booleans(), port=st.integers(0, 2000), ip=_IPS,
       protocol=st.sampled_from(["6", "17"]))
def test_evaluate_matches_brute_force(entries, egress, port, ip, protocol) -> None:
    expected = _naive(entries, egress, port, ip, protocol)
    decision = evaluate(entries, egress=egress, port=port, ip=ip, protocol=protocol)
    assert decision.entry == expected
    assert decision.allowed == (expected is not None and expected.action == "allow")


@settings(max_examples=200, deadline=None)
@given(entries=_entries(), ip=_IPS, low=st.integers(0, 1900), width=st.integers(0, 300))
def test_return_traffic_agrees_with_evaluate(entries, ip, low, width) -> None:
    high = low + width
    path = return_traffic(entries, ip=ip, ports=(low, high))
    segments = [(lo, hi, True, None) for lo, hi in path.allowed_ports]
    segments += [(lo, hi, False, entry) for lo, hi, entry in path.blocked]
    covered = sorted(p for lo, hi, _, _ in segments for p in range(lo, hi + 1))
    assert covered == list(range(low, high + 1))
    for lo, hi, allowed, entry in segments:
        for port in range(lo, hi + 1):
            decision = evaluate(entries, egress=False, port=port, ip=ip)
            assert decision.allowed is allowed
            assert allowed or decision.entry == entry
