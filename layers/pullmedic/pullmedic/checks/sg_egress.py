"""The node's security groups let HTTPS out to the registry (the union of all its groups)."""

from __future__ import annotations

from pullmedic.causes import Cause
from pullmedic.checks.base import CheckMeta, Verdict, missing
from pullmedic.evidence import NETWORK_READS, Facts, Network, Subject
from pullmedic.gather.unavailable import Unavailable
from pullmedic.netpath.sg import egress_allows, rules_from_api
from pullmedic.netpath.target import HTTPS

META = CheckMeta(
    id="sg_egress", title="Security groups allow HTTPS out of the node",
    causes=frozenset({Cause.REGISTRY_UNREACHABLE, Cause.PULL_TIMEOUT}), severity="high",
    fix="Allow outbound tcp/443 from the node's security group to the registry.",
    command="aws ec2 authorize-security-group-egress --group-id {group} --ip-permissions "
            "IpProtocol=tcp,FromPort=443,ToPort=443,IpRanges=[{{CidrIp={cidr}}}]",
    permissions=NETWORK_READS,
)


def run(subject: Subject, facts: Facts) -> Verdict | None:
    """Evaluate egress tcp/443 to the target (CIDR, prefix list or the endpoint's groups)."""
    net = facts.network(subject)
    if not isinstance(net, Network):
        return missing(META, net)
    groups = net.vpc.security_groups
    if isinstance(groups, Unavailable):
        return Verdict.unavailable(META, groups.why)
    rules = [r for gid in net.host.security_groups if gid in groups for r in rules_from_api(groups[gid])]
    prefix_lists = facts.ec2.prefix_lists()
    decision = egress_allows(rules, port=HTTPS, dest_ip=net.target.ip, dest_groups=net.target.groups,
                             prefix_list_cidrs={} if isinstance(prefix_lists, Unavailable) else prefix_lists,
                             group_ids=net.host.security_groups)
    if decision.allowed:
        return Verdict.passed(META, decision.reason)
    cidr = net.target.ip + "/32" if net.target.kind == "endpoint" else "0.0.0.0/0"
    group = net.host.security_groups[0] if net.host.security_groups else "<node-sg>"
    return Verdict.confirmed(META, f"{decision.reason} ({net.target.description})",
                             commands=(META.command.format(group=group, cidr=cidr),))
