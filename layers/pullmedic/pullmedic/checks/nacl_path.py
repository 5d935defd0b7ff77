"""The subnet's network ACL lets HTTPS out and the return traffic back in (stateless, ordered)."""

from __future__ import annotations

from pullmedic.causes import Cause
from pullmedic.checks.base import CheckMeta, Verdict, missing
from pullmedic.evidence import NETWORK_READS, Facts, Network, Subject
from pullmedic.netpath.nacl import connection_allowed, entries_from_api
from pullmedic.netpath.target import HTTPS

META = CheckMeta(
    id="nacl_path", title="The network ACL allows HTTPS out and the replies back in",
    causes=frozenset({Cause.REGISTRY_UNREACHABLE, Cause.PULL_TIMEOUT}), severity="high",
    fix="Allow outbound tcp/443 and inbound tcp/1024-65535 (the return traffic) in the subnet's "
        "network ACL, before any rule that denies them.",
    command="aws ec2 create-network-acl-entry --network-acl-id {acl} {direction} --rule-number "
            "{number} --protocol tcp --port-range From={low},To={high} --cidr-block 0.0.0.0/0 "
            "--rule-action allow",
    permissions=NETWORK_READS,
)


def run(subject: Subject, facts: Facts) -> Verdict | None:
    """First match wins, both directions, return traffic on the Linux ephemeral ports."""
    net = facts.network(subject)
    if not isinstance(net, Network):
        return missing(META, net)
    if net.network_acl is None:
        return Verdict.unavailable(META, f"no network ACL found for subnet {net.host.subnet_id}")
    acl = net.network_acl["NetworkAclId"]
    entries = entries_from_api(net.network_acl)
    decision = connection_allowed(entries, ip=net.target.ip, port=HTTPS)
    if decision.allowed:
        return Verdict.passed(META, f"network ACL {acl}: {decision.reason}")
    entry = decision.entry
    inbound = entry is not None and not entry.egress or "inbound" in decision.reason
    number = max(1, (entry.rule_number - 1) if entry is not None and not entry.is_default else 99)
    command = META.command.format(acl=acl, direction="--ingress" if inbound else "--egress",
                                  number=number, low=1024 if inbound else HTTPS,
                                  high=65535 if inbound else HTTPS)
    return Verdict.confirmed(META, f"{decision.reason} (subnet {net.host.subnet_id}, towards "
                                   f"{net.target.description})", commands=(command,))
