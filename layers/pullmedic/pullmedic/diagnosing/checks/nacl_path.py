"""The subnet's network ACL lets HTTPS out and the return traffic back in (stateless, ordered),
on every hop of the pull: the registry, the ECR API endpoint and every range of S3 (layers)."""

from __future__ import annotations

from pullmedic.core.causes import Cause
from pullmedic.core.netpath.nacl import NaclDecision, NaclEntry, connection_allowed
from pullmedic.core.netpath.target import HTTPS, Target
from pullmedic.diagnosing.checks.base import CheckMeta, Verdict, missing
from pullmedic.diagnosing.checks.facts import NETWORK_READS, Fact, Network, Snapshot, Subject

META = CheckMeta(
    id="nacl_path", title="The network ACL allows HTTPS out and the replies back in",
    causes=frozenset({Cause.REGISTRY_UNREACHABLE, Cause.PULL_TIMEOUT}), severity="high",
    fix="Allow outbound tcp/443 and inbound tcp/1024-65535 (the return traffic) in the subnet's "
        "network ACL, before any rule that denies them.",
    command="aws ec2 create-network-acl-entry --network-acl-id {acl} {direction} --rule-number "
            "{number} --protocol tcp --port-range From={low},To={high} --cidr-block {cidr} "
            "--rule-action allow",
    permissions=NETWORK_READS,
    needs=frozenset({Fact.NETWORK}),
)


def run(subject: Subject, facts: Snapshot) -> Verdict | None:
    """First match wins, both directions, return traffic on the Linux ephemeral ports."""
    net = facts.network
    if not isinstance(net, Network):
        return missing(META, net)
    if net.acl is None:
        return Verdict.unavailable(META, f"no network ACL found for subnet {net.host.subnet_id}")
    acl, entries = net.acl, net.acl_entries
    reasons = []
    for hop in net.paths():
        ranges = hop.ranges()
        decisions = [(connection_allowed(entries, ip=ip, port=HTTPS), cidr) for ip, cidr in ranges]
        blocked = [(d, cidr) for d, cidr in decisions if not d.allowed]
        if blocked:
            return _blocked(net, acl, hop, blocked, entries)
        decision = decisions[-1][0]
        reasons.append(f"{hop.label}: {decision.reason}" if len(ranges) == 1 else
                       f"{hop.label}: NACL {acl} allows outbound tcp/{HTTPS} and the return traffic "
                       f"for each of {', '.join(c for _, c in ranges)}")
    return Verdict.passed(META, *reasons)


def _blocked(net: Network, acl: str, hop: Target, blocked: list[tuple[NaclDecision, str]],
             entries: tuple[NaclEntry, ...]) -> Verdict:
    """The first blocked range is the evidence; every blocked range gets its entry (each with a
    rule number of its own, before the entry that blocks it)."""
    taken = {(e.egress, e.rule_number) for e in entries}
    commands = []
    for decision, cidr in blocked:
        entry = decision.entry
        inbound = entry is not None and not entry.egress or "inbound" in decision.reason
        number = max(1, (entry.rule_number - 1) if entry is not None and not entry.is_default else 99)
        while (not inbound, number) in taken and number > 1:
            number -= 1
        taken.add((not inbound, number))
        commands.append(META.command.format(acl=acl, direction="--ingress" if inbound else "--egress",
                                            number=number, low=1024 if inbound else HTTPS,
                                            high=65535 if inbound else HTTPS, cidr=cidr))
    decision, cidr = blocked[0]
    where = f" ({cidr} of {hop.prefix_list})" if hop.prefix_list and hop.cidrs else ""
    more = f"; {len(blocked) - 1} more of its ranges likewise" if len(blocked) > 1 else ""
    return Verdict.confirmed(META, f"{hop.label}: {decision.reason}{where}{more} (subnet "
                                   f"{net.host.subnet_id}, towards {hop.description})",
                             commands=tuple(dict.fromkeys(commands)))
