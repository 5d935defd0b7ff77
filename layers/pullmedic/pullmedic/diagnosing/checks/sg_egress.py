"""The node's security groups let HTTPS out on every hop of the pull (the union of its groups):
to the registry, to the ECR API endpoint and, for image layers, to S3."""

from __future__ import annotations

from pullmedic.core.causes import Cause
from pullmedic.core.netpath.sg import egress_allows
from pullmedic.core.netpath.target import HTTPS, Target
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks.base import CheckMeta, Verdict, missing
from pullmedic.diagnosing.checks.facts import NETWORK_READS, Fact, Network, Snapshot, Subject

META = CheckMeta(
    id="sg_egress", title="Security groups allow HTTPS out of the node",
    causes=frozenset({Cause.REGISTRY_UNREACHABLE, Cause.PULL_TIMEOUT}), severity="high",
    fix="Allow outbound tcp/443 from the node's security group to the registry, the ECR API "
        "and S3 (image layers).",
    command="aws ec2 authorize-security-group-egress --group-id {group} --ip-permissions "
            "IpProtocol=tcp,FromPort=443,ToPort=443,{peer}",
    permissions=NETWORK_READS,
    needs=frozenset({Fact.NETWORK, Fact.PREFIX_LISTS}),
)


def run(subject: Subject, facts: Snapshot) -> Verdict | None:
    """Evaluate egress tcp/443 to each hop (CIDR, prefix list or the endpoint's groups)."""
    net = facts.network
    if not isinstance(net, Network):
        return missing(META, net)
    groups = net.group_rules
    if isinstance(groups, Unavailable):
        return Verdict.unavailable(META, groups.why)
    rules = [r for gid in net.host.security_groups if gid in groups for r in groups[gid]]
    prefix_lists = facts.prefix_lists
    reasons = []
    for hop in net.paths():
        decision = egress_allows(rules, port=HTTPS, dest_ip=hop.ip, dest_prefix_list=hop.prefix_list,
                                 dest_groups=hop.groups, prefix_list_cidrs=prefix_lists,
                                 group_ids=net.host.security_groups)
        if not decision.allowed:
            group = net.host.security_groups[0] if net.host.security_groups else None
            return Verdict.confirmed(
                META, f"{hop.label}: {decision.reason} ({hop.description})",
                commands=(META.command.format(group=group, peer=_peer(hop)),) if group else (),
                fix=f"Allow outbound tcp/443 from {group or 'the node'} to {_what(hop)}.")
        reasons.append(f"{hop.label}: {decision.reason}")
    return Verdict.passed(META, *reasons)


def _peer(hop: Target) -> str:
    """The --ip-permissions peer that opens the hop: its prefix list, endpoint or the internet."""
    if hop.prefix_list:
        return f"PrefixListIds=[{{PrefixListId={hop.prefix_list}}}]"
    if hop.kind == "endpoint" and hop.groups:
        return f"UserIdGroupPairs=[{{GroupId={hop.groups[0]}}}]"
    cidr = hop.ip + "/32" if hop.kind == "endpoint" else "0.0.0.0/0"
    return f"IpRanges=[{{CidrIp={cidr}}}]"


def _what(hop: Target) -> str:
    if hop.hop == "layers":
        return f"S3 ({hop.prefix_list or 'its public ranges'}), where ECR keeps image layers"
    return "the ECR API endpoint" if hop.hop == "auth" else "the registry"
