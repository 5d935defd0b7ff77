"""In a subnet without internet access, the ECR and S3 endpoints exist and let the node in."""

from __future__ import annotations

from pullmedic.core.causes import Cause
from pullmedic.core.netpath.sg import ingress_allows
from pullmedic.core.netpath.target import HTTPS, Target
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks.base import CheckMeta, Verdict, missing
from pullmedic.diagnosing.checks.facts import NETWORK_READS, Fact, Network, Snapshot, Subject

META = CheckMeta(
    id="vpc_endpoints", title="ECR interface endpoints are usable from the node",
    causes=frozenset({Cause.REGISTRY_UNREACHABLE, Cause.PULL_TIMEOUT}), severity="high",
    fix="Create the missing ECR/S3 endpoints, enable private DNS on ecr.dkr, and allow tcp/443 "
        "from the nodes in the endpoints' security group.",
    command="aws ec2 authorize-security-group-ingress --group-id {group} --protocol tcp --port 443 "
            "{source}",
    permissions=NETWORK_READS,
    needs=frozenset({Fact.NETWORK}),
)


def run(subject: Subject, facts: Snapshot) -> Verdict | None:
    """Only for ECR images pulled through the VPC's ecr.dkr endpoint."""
    net = facts.network
    if not isinstance(net, Network):
        return missing(META, net)
    if net.target.kind != "endpoint":
        return None
    problems, commands = _missing(net, facts.region)
    dkr = net.endpoints.get("ecr.dkr")
    if dkr is not None and dkr.private_dns is False:
        problems.append(f"ecr.dkr endpoint {dkr.id} has private DNS disabled: the "
                        "node still resolves the registry to its public address")
        commands.append(f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {dkr.id} "
                        "--private-dns-enabled")
    for hop in net.paths():
        ingress = _ingress(net, hop) if hop.kind == "endpoint" else None
        if ingress is not None:
            problems.append(ingress[0])
            commands.append(ingress[1])
    if problems:
        return Verdict.confirmed(META, *problems, commands=tuple(dict.fromkeys(commands)))
    return Verdict.passed(META, f"ECR endpoints present, private DNS on, {dkr.id if dkr else None} "
                                "accepts tcp/443 from the node")


def _missing(net: Network, region: str) -> tuple[list[str], list[str]]:
    problems, commands = [], []
    for service in ("ecr.api", "ecr.dkr"):
        found = net.endpoints.get(service)
        if found is None or found.state.lower() != "available":
            state = "missing" if found is None else f"{found.id} is {found.state}"
            problems.append(f"{service} endpoint {state} in {net.host.vpc_id}")
            commands.append(f"aws ec2 create-vpc-endpoint --vpc-id {net.host.vpc_id} "
                            f"--vpc-endpoint-type Interface --service-name com.amazonaws.{region}."
                            f"{service} --subnet-ids {net.host.subnet_id} --private-dns-enabled")
    return problems, commands


def _ingress(net: Network, hop: Target) -> tuple[str, str] | None:
    """The endpoint's groups must accept tcp/443 from the node (its groups or its address)."""
    groups = net.group_rules
    if isinstance(groups, Unavailable) or not hop.groups:
        return None
    rules = [r for gid in hop.groups if gid in groups for r in groups[gid]]
    decision = ingress_allows(rules, port=HTTPS, source_ip=net.host.private_ip,
                              source_groups=net.host.security_groups, group_ids=hop.groups)
    if decision.allowed:
        return None
    # the node's group, else (no group: a Fargate ENI without one) its address
    source = (f"--source-group {net.host.security_groups[0]}" if net.host.security_groups
              else f"--cidr {net.host.private_ip}/32")
    service = "ecr.api" if hop.hop == "auth" else "ecr.dkr"
    return (f"{hop.label}: {decision.reason}: the {service} endpoint's security group does not "
            f"accept the node's HTTPS", META.command.format(group=hop.groups[0], source=source))
