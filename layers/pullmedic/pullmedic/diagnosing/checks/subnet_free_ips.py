"""The pod's subnet (or the node's ENIs) still has IP addresses to give a new pod."""

from __future__ import annotations

from pullmedic.core.causes import Cause
from pullmedic.diagnosing.checks.base import CheckMeta, Verdict, missing
from pullmedic.diagnosing.checks.facts import NETWORK_READS, Fact, Network, Snapshot, Subject

META = CheckMeta(
    id="subnet_free_ips", title="The subnet has free IP addresses",
    causes=frozenset({Cause.IP_EXHAUSTED}), severity="high",
    fix="Add subnets (or a secondary CIDR with custom networking), or turn on prefix delegation "
        "so each ENI slot carries a /28.",
    command="kubectl -n kube-system set env daemonset aws-node ENABLE_PREFIX_DELEGATION=true",
    permissions=NETWORK_READS + ("ec2:DescribeInstanceTypes",),
    needs=frozenset({Fact.NETWORK, Fact.NODE_IP_LIMIT}),
)


def run(subject: Subject, facts: Snapshot) -> Verdict | None:
    """Subnet free addresses first; otherwise the instance type's per-node IP ceiling."""
    net = facts.network
    if not isinstance(net, Network):
        return missing(META, net)
    subnet, free, cidr = net.host.subnet_id, net.free_ips, net.subnet_cidr
    if free == 0:
        return Verdict.confirmed(
            META, f"subnet {subnet} ({cidr}) has 0 free IP addresses",
            commands=(META.command, f"aws ec2 associate-vpc-cidr-block --vpc-id {net.host.vpc_id} "
                                    "--cidr-block 100.64.0.0/16"))
    limit = facts.node_ip_limit
    evidence = f"subnet {subnet} ({cidr}) has {free} free IP addresses"
    if limit:
        evidence += f"; {net.host.instance_type} takes at most {limit} pod IPs without prefix delegation"
    return Verdict.passed(META, evidence + ": the subnet is not the limit; the node's ENI slots "
                                           "probably are (prefix delegation raises them)")

