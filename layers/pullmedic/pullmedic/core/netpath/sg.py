"""Security group evaluation: stateful allow-lists, the union of every group on the ENI."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

_PROTOCOL_NAMES = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}
_PORTED = frozenset({"tcp", "udp"})
NO_PREFIX_LISTS: Mapping[str, Sequence[str]] = MappingProxyType({})


def normalise_protocol(protocol: str | int) -> str:
    """The protocol as a name where one exists: "6" -> "tcp", "17" -> "udp"; "-1" stays."""
    text = str(protocol).lower()
    return _PROTOCOL_NAMES.get(text, text)


def _port(value: int | None) -> int | None:
    return None if value is None or value == -1 else value


def traffic_text(protocol: str, port: int) -> str:
    """How a connection is named in sentences: "tcp/443"."""
    name = normalise_protocol(protocol)
    return f"{name}/{port}" if name in _PORTED else name


@dataclass(frozen=True)
class SgRule:
    """One IpPermission of one security group, flattened."""

    group_id: str
    direction: str  # "egress" | "ingress"
    protocol: str  # "-1" (all), "tcp", "udp", "icmp" or a protocol number
    from_port: int | None
    to_port: int | None
    cidrs: tuple[str, ...] = ()
    prefix_lists: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()

    def describe(self) -> str:
        """E.g. "sg-0abc egress tcp/443 to 0.0.0.0/0"."""
        peers = ", ".join(self.cidrs + self.prefix_lists + self.groups) or "no peer"
        word = "to" if self.direction == "egress" else "from"
        return f"{self.group_id} {self.direction} {self._traffic()} {word} {peers}"

    def _traffic(self) -> str:
        if self.protocol == "-1":
            return "all traffic"
        if self.protocol not in _PORTED:
            return self.protocol
        low, high = _port(self.from_port), _port(self.to_port)
        if low is None:
            return f"{self.protocol}/all ports"
        return f"{self.protocol}/{low}" if low == high else f"{self.protocol}/{low}-{high}"

    def matches_traffic(self, protocol: str, port: int) -> bool:
        """Protocol "-1" matches everything; ports only restrict tcp and udp."""
        if self.protocol == "-1":
            return True
        if self.protocol != normalise_protocol(protocol):
            return False
        low, high = _port(self.from_port), _port(self.to_port)
        if self.protocol not in _PORTED or low is None:
            return True
        return low <= port <= (high if high is not None else low)


def _rule_from_permission(group_id: str, direction: str, perm: Mapping[str, Any]) -> SgRule:
    return SgRule(
        group_id=group_id,
        direction=direction,
        protocol=normalise_protocol(perm.get("IpProtocol", "-1")),
        from_port=_port(perm.get("FromPort")),
        to_port=_port(perm.get("ToPort")),
        cidrs=tuple(r["CidrIp"] for r in perm.get("IpRanges", ()))
        + tuple(r["CidrIpv6"] for r in perm.get("Ipv6Ranges", ())),
        prefix_lists=tuple(p["PrefixListId"] for p in perm.get("PrefixListIds", ())),
        groups=tuple(g["GroupId"] for g in perm.get("UserIdGroupPairs", ()) if "GroupId" in g),
    )


def rules_from_api(group: Mapping[str, Any]) -> tuple[SgRule, ...]:
    """The egress and ingress rules of one describe_security_groups SecurityGroups[] item."""
    fields = (("egress", "IpPermissionsEgress"), ("ingress", "IpPermissions"))
    return tuple(_rule_from_permission(group["GroupId"], direction, perm)
                 for direction, field in fields for perm in group.get(field, ()))


@dataclass(frozen=True)
class Decision:
    """Whether the groups allow a connection, the rule that does, and why in one sentence."""

    allowed: bool
    rule: SgRule | None
    reason: str


@dataclass(frozen=True)
class _Peer:
    ip: str | None
    prefix_list: str | None
    groups: frozenset[str]

    def text(self) -> str:
        base = self.ip or ""
        if self.prefix_list:
            base = f"{self.prefix_list} ({self.ip})" if self.ip else self.prefix_list
        if not self.groups:
            return base or "any peer"
        members = "an ENI in " + ", ".join(sorted(self.groups))
        return f"{base} ({members})" if base else members


def _in_cidrs(ip: str | None, cidrs: Sequence[str]) -> bool:
    if ip is None:
        return False
    address = ipaddress.ip_address(ip)
    return any(address in ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def _matches_peer(rule: SgRule, peer: _Peer,
                  prefix_list_cidrs: Mapping[str, Sequence[str]]) -> bool:
    if _in_cidrs(peer.ip, rule.cidrs) or peer.groups.intersection(rule.groups):
        return True
    if peer.prefix_list in rule.prefix_lists:
        return True
    return any(_in_cidrs(peer.ip, prefix_list_cidrs.get(pl, ())) for pl in rule.prefix_lists)


def _group_names(rules: Sequence[SgRule], group_ids: Sequence[str]) -> str:
    names = list(dict.fromkeys([*group_ids, *(r.group_id for r in rules)]))
    return ", ".join(names) if names else "no security group"


def _decide(rules: Sequence[SgRule], direction: str, protocol: str, port: int, peer: _Peer,
            prefix_list_cidrs: Mapping[str, Sequence[str]], group_ids: Sequence[str]) -> Decision:
    word = "to" if direction == "egress" else "from"
    wanted = f"{traffic_text(protocol, port)} {word} {peer.text()}"
    for rule in rules:
        if (rule.direction == direction and rule.matches_traffic(protocol, port)
                and _matches_peer(rule, peer, prefix_list_cidrs)):
            return Decision(True, rule, f"{rule.describe()} allows {wanted}")
    names = _group_names(rules, group_ids)
    return Decision(False, None, f"no {direction} rule in {names} allows {wanted}")


def egress_allows(rules: Sequence[SgRule], *, port: int, protocol: str = "tcp",
                  dest_ip: str | None = None, dest_prefix_list: str | None = None,
                  dest_groups: Sequence[str] = (),
                  prefix_list_cidrs: Mapping[str, Sequence[str]] = NO_PREFIX_LISTS,
                  group_ids: Sequence[str] = ()) -> Decision:
    """Whether any egress rule allows protocol/port to the destination.

    The destination is an IP, a prefix list, the peer ENI's groups, or several of these;
    `group_ids` names the groups on the ENI even when they have no rules at all.
    """
    peer = _Peer(dest_ip, dest_prefix_list, frozenset(dest_groups))
    return _decide(rules, "egress", protocol, port, peer, prefix_list_cidrs, group_ids)


def ingress_allows(rules: Sequence[SgRule], *, port: int, protocol: str = "tcp",
                   source_ip: str | None = None, source_groups: Sequence[str] = (),
                   prefix_list_cidrs: Mapping[str, Sequence[str]] = NO_PREFIX_LISTS,
                   group_ids: Sequence[str] = ()) -> Decision:
    """Whether any ingress rule allows protocol/port from the source IP or source groups."""
    peer = _Peer(source_ip, None, frozenset(source_groups))
    return _decide(rules, "ingress", protocol, port, peer, prefix_list_cidrs, group_ids)
