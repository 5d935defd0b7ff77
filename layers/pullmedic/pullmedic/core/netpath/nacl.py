"""Network ACL evaluation: stateless, ordered by rule number, first match wins."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

DEFAULT_RULE = 32767  # the "*" rule AWS adds to every NACL (32768 for IPv6)
_NUMBERS = {"all": "-1", "tcp": "6", "udp": "17", "icmp": "1", "icmpv6": "58"}
_NAMES = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}
_PORTED = frozenset({"6", "17"})


def protocol_number(protocol: str | int) -> str:
    """The protocol as the NACL API spells it: "tcp" -> "6"; "-1" is all traffic."""
    text = str(protocol).lower()
    return _NUMBERS.get(text, text)


@lru_cache(maxsize=4096)
def _network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(cidr, strict=False)


def _traffic(protocol: str, ports: tuple[int, int] | None) -> str:
    if protocol == "-1":
        return "all traffic"
    name = _NAMES.get(protocol, f"protocol {protocol}")
    if protocol not in _PORTED:
        return name
    if ports is None:
        return f"{name}/all ports"
    low, high = ports
    return f"{name}/{low}" if low == high else f"{name}/{low}-{high}"


@dataclass(frozen=True)
class NaclEntry:
    """One entry of a network ACL."""

    acl_id: str
    rule_number: int
    egress: bool
    protocol: str  # "-1", "6", "17", "1" as the API gives it
    action: str  # "allow" | "deny"
    cidr: str
    port_from: int | None
    port_to: int | None

    @property
    def is_default(self) -> bool:
        """Whether this is the "*" rule AWS adds (it always denies)."""
        return self.rule_number >= DEFAULT_RULE

    def describe(self) -> str:
        """E.g. "NACL acl-0abc rule 90 denies outbound tcp/443 to 0.0.0.0/0"."""
        label = "the default rule (*)" if self.is_default else f"rule {self.rule_number}"
        verb = "allows" if self.action == "allow" else "denies"
        way = "outbound" if self.egress else "inbound"
        word = "to" if self.egress else "from"
        traffic = _traffic(self.protocol, self.ports)
        return f"NACL {self.acl_id} {label} {verb} {way} {traffic} {word} {self.cidr}"

    @property
    def ports(self) -> tuple[int, int] | None:
        """The inclusive port range, or None when the entry covers every port."""
        if self.protocol not in _PORTED or self.port_from is None:
            return None
        return self.port_from, self.port_to if self.port_to is not None else self.port_from

    def matches(self, protocol: str, port: int, ip: str) -> bool:
        """Whether a packet of this protocol, to or from ip on port, hits this entry."""
        if self.protocol not in ("-1", protocol):
            return False
        if self.ports and not self.ports[0] <= port <= self.ports[1]:
            return False
        return ipaddress.ip_address(ip) in _network(self.cidr)


def _entry(acl_id: str, raw: Mapping[str, Any]) -> NaclEntry:
    ports = raw.get("PortRange") or {}
    return NaclEntry(
        acl_id=acl_id,
        rule_number=int(raw["RuleNumber"]),
        egress=bool(raw["Egress"]),
        protocol=protocol_number(raw.get("Protocol", "-1")),
        action=str(raw["RuleAction"]).lower(),
        cidr=raw.get("CidrBlock") or raw["Ipv6CidrBlock"],
        port_from=ports.get("From"),
        port_to=ports.get("To"),
    )


def entries_from_api(acl: Mapping[str, Any]) -> tuple[NaclEntry, ...]:
    """The entries of one describe_network_acls NetworkAcls[] item."""
    return tuple(_entry(acl["NetworkAclId"], raw) for raw in acl.get("Entries", ()))


@dataclass(frozen=True)
class NaclDecision:
    """The first matching entry (None: the default deny) and a sentence naming it."""

    allowed: bool
    entry: NaclEntry | None
    reason: str


def _acl(entries: Iterable[NaclEntry]) -> str:
    names = list(dict.fromkeys(e.acl_id for e in entries))
    return "NACL " + ", ".join(names) if names else "the NACL"


def first_match(entries: Sequence[NaclEntry], *, egress: bool, port: int, ip: str,
                protocol: str = "6") -> NaclEntry | None:
    """The deciding entry, or None when only the default rule (listed or not) matches."""
    number = protocol_number(protocol)
    ordered = sorted((e for e in entries if e.egress == egress), key=lambda e: e.rule_number)
    hit = next((e for e in ordered if e.matches(number, port, ip)), None)
    return None if hit is None or hit.is_default else hit


def evaluate(entries: Sequence[NaclEntry], *, egress: bool, port: int, ip: str,
             protocol: str = "6") -> NaclDecision:
    """Whether the NACL lets one packet out to (or in from) ip on port."""
    hit = first_match(entries, egress=egress, port=port, ip=ip, protocol=protocol)
    traffic = _traffic(protocol_number(protocol), (port, port))
    way, word = ("outbound", "to") if egress else ("inbound", "from")
    if hit is None:
        return NaclDecision(False, None, f"{_acl(entries)} has no {way} rule allowing {traffic} "
                                         f"{word} {ip} (the default rule (*) denies it)")
    return NaclDecision(hit.action == "allow", hit, f"{hit.describe()} ({traffic} {word} {ip})")


@dataclass(frozen=True)
class ReturnPath:
    """Which inbound port ranges are allowed, and which are blocked by which entry."""

    allowed_ports: tuple[tuple[int, int], ...]
    blocked: tuple[tuple[int, int, NaclEntry | None], ...]
    reason: str


def _cuts(entries: Sequence[NaclEntry], low: int, high: int) -> list[int]:
    edges = {low, high + 1}
    for entry in entries:
        if entry.ports:
            edges.update((entry.ports[0], entry.ports[1] + 1))
    return sorted(p for p in edges if low <= p <= high + 1)


def _segments(entries: Sequence[NaclEntry], ip: str, ports: tuple[int, int],
              protocol: str) -> list[tuple[int, int, bool, NaclEntry | None]]:
    """Maximal runs of ports with one outcome (blocked runs also share the blocking entry)."""
    inbound = [e for e in entries if not e.egress]
    cuts = _cuts(inbound, *ports)
    runs: list[tuple[int, int, bool, NaclEntry | None]] = []
    for start, stop in zip(cuts, cuts[1:], strict=False):
        entry = first_match(inbound, egress=False, port=start, ip=ip, protocol=protocol)
        allowed = entry is not None and entry.action == "allow"
        if runs and runs[-1][2] == allowed and (allowed or runs[-1][3] == entry):
            runs[-1] = (runs[-1][0], stop - 1, allowed, runs[-1][3])
        else:
            runs.append((start, stop - 1, allowed, entry))
    return runs


def _blocked_text(acl: str, entry: NaclEntry | None, what: str) -> str:
    if entry is None:
        return f"{acl} has no inbound rule allowing {what} (the default rule (*) denies it)"
    return f"{entry.describe()}, blocking {what}"


def return_traffic(entries: Sequence[NaclEntry], *, ip: str,
                   ports: tuple[int, int] = (1024, 65535), protocol: str = "6") -> ReturnPath:
    """Inbound first-match over a port range, split at entry boundaries."""
    number = protocol_number(protocol)
    runs = _segments(entries, ip, ports, number)
    allowed = tuple((lo, hi) for lo, hi, ok, _ in runs if ok)
    blocked = tuple((lo, hi, entry) for lo, hi, ok, entry in runs if not ok)
    acl = _acl(entries)
    if not blocked:
        return ReturnPath(allowed, blocked,
                          f"{acl} allows return traffic on {_traffic(number, ports)} from {ip}")
    reason = "; ".join(
        _blocked_text(acl, entry, f"return traffic on {_traffic(number, (lo, hi))} from {ip}")
        for lo, hi, entry in blocked)
    return ReturnPath(allowed, blocked, reason)


def connection_allowed(entries: Sequence[NaclEntry], *, ip: str, port: int = 443,
                       ephemeral: tuple[int, int] = (32768, 60999)) -> NaclDecision:
    """Whether a TCP connection to ip:port gets out and its replies get back in."""
    out = evaluate(entries, egress=True, port=port, ip=ip)
    if not out.allowed:
        return out
    back = return_traffic(entries, ip=ip, ports=ephemeral)
    if back.blocked:
        return NaclDecision(False, back.blocked[0][2], back.reason)
    low, high = ephemeral
    return NaclDecision(True, out.entry, f"{_acl(entries)} allows outbound tcp/{port} to {ip} "
                                         f"and return traffic on tcp/{low}-{high} from {ip}")
