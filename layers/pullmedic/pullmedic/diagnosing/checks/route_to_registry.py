"""The node's subnet has a working route to the registry (NAT, internet gateway or endpoints)."""

from __future__ import annotations

from collections.abc import Mapping

from pullmedic.core.causes import Cause
from pullmedic.core.netpath.routes import route_for
from pullmedic.core.netpath.sg import ingress_allows
from pullmedic.core.netpath.target import HTTPS, S3_STAND_IN
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks.base import CheckMeta, Verdict, missing
from pullmedic.diagnosing.checks.facts import NETWORK_READS, Fact, Network, Snapshot, Subject

META = CheckMeta(
    id="route_to_registry", title="The node's subnet routes to the registry",
    causes=frozenset({Cause.REGISTRY_UNREACHABLE, Cause.PULL_TIMEOUT}), severity="high",
    fix="Give the node's subnet a route to the internet through a NAT gateway, or create the ECR "
        "interface endpoints (ecr.api, ecr.dkr) and the S3 gateway endpoint.",
    command="aws ec2 create-route --route-table-id {table} --destination-cidr-block 0.0.0.0/0 "
            "--nat-gateway-id {nat}",
    permissions=NETWORK_READS,
    needs=frozenset({Fact.NETWORK, Fact.PREFIX_LISTS}),
)


def run(subject: Subject, facts: Snapshot) -> Verdict | None:
    """Longest-prefix route to the target; NAT state; public IP for IGW routes; S3 for layers."""
    net = facts.network
    if not isinstance(net, Network):
        return missing(META, net)
    if net.route_table is None:
        return Verdict.unavailable(META, f"no route table found for subnet {net.host.subnet_id}")
    if net.target.kind == "endpoint":
        return _s3_layers(net, facts)
    table = net.route_table
    prefix_lists = facts.prefix_lists
    route = route_for(net.routes, net.target.ip, prefix_lists)
    nat = net.usable_nat
    if route is None or route.target_kind in ("local", "vpce"):
        return Verdict.confirmed(
            META, f"route table {table} of subnet {net.host.subnet_id} has no route to "
                  f"{net.target.description}, and the VPC has no ECR interface endpoints",
            commands=(META.command.format(table=table, nat=nat),) if nat else
            _endpoint_commands(net, facts.region), fix=_fix(net, nat))
    if route.state == "blackhole":
        return Verdict.confirmed(META, f"{route.describe()}: the route's target is gone",
                                 commands=(f"aws ec2 replace-route --route-table-id {table} "
                                           f"--destination-{_flag(route.destination)} {route.destination} "
                                           f"--nat-gateway-id {nat}",) if nat else
                                 _endpoint_commands(net, facts.region), fix=_fix(net, nat))
    problem = _gateway_problem(route.target_kind, route.target_id, net)
    if problem:
        return Verdict.confirmed(META, f"{route.describe()}: {problem}")
    layers = _layers_route(net, prefix_lists, facts.region)
    if layers is not None:
        return layers
    return Verdict.passed(META, route.describe())


def _layers_route(net: Network, prefix_lists: Mapping[str, tuple[str, ...]],
                  region: str) -> Verdict | None:
    """The S3 hop can take another route than the registry's (a prefix-list route)."""
    hop = next((h for h in net.paths() if h.hop == "layers"), None)
    if hop is None or net.route_table is None:
        return None
    route = route_for(net.routes, hop.ip, prefix_lists)
    if route is not None and route.state != "blackhole" and route.target_kind != "local":
        return None
    table = net.route_table
    what = f"{route.describe()}: the route's target is gone" if route else f"route table {table} has no route"
    if route is None or route.target_kind == "local":
        command = _s3_gateway(net, table, region)
    else:  # a blackhole: delete it so that the default route carries S3 again
        command = (f"aws ec2 delete-route --route-table-id {table} "
                   f"--destination-{_flag(route.destination)} {route.destination}")
    return Verdict.confirmed(META, f"{hop.label}: {what} to {hop.description}", commands=(command,))


def _gateway_problem(kind: str, target: str, net: Network) -> str | None:
    if kind == "nat":
        nats = net.nat_gateways
        nat = None if isinstance(nats, Unavailable) else nats.get(target)
        if nat is not None and nat.state != "available":
            return f"NAT gateway {target} is {nat.state}"
        if nat is not None and nat.private:
            return f"NAT gateway {target} is a private NAT: it gives no internet access"
    if kind == "igw" and not net.host.public_ip and not net.host.fargate:
        return (f"the route goes to an internet gateway but instance {net.host.instance_id} has "
                "no public IP address, so it cannot use it")
    return None


def _s3_layers(net: Network, facts: Snapshot) -> Verdict:
    """Through the endpoints, image layers still come from S3: the gateway must serve the table."""
    table = net.route_table or "?"
    s3 = net.endpoints.get("s3")
    if s3 is not None and table in s3.route_tables:
        return Verdict.passed(META, f"route table {table} uses the ECR endpoints and the S3 "
                                    f"gateway endpoint {s3.id}")
    hop = next((h for h in net.paths() if h.hop == "layers"), None)
    default = route_for(net.routes, hop.ip if hop else S3_STAND_IN, facts.prefix_lists)
    if default is not None and default.target_kind in ("nat", "igw"):
        return Verdict.passed(META, f"layers hop (S3): layers leave through {default.describe()}")
    return Verdict.confirmed(META, f"layers hop (S3): route table {table} has no route to S3, where "
                                   "ECR keeps image layers: no S3 gateway endpoint on it and no "
                                   "internet route",
                             commands=(_s3_gateway(net, table, facts.region),))


def _s3_gateway(net: Network, table: str, region: str) -> str:
    """Put route table `table` on the VPC's S3 gateway endpoint (created if there is none)."""
    s3 = net.endpoints.get("s3")
    if s3 is not None:
        return f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {s3.id} --add-route-table-ids {table}"
    return (f"aws ec2 create-vpc-endpoint --vpc-id {net.host.vpc_id} --service-name "
            f"com.amazonaws.{region}.s3 --route-table-ids {table}")


def _flag(destination: str) -> str:
    """The create/replace/delete-route option that names `destination`."""
    return "prefix-list-id" if destination.startswith("pl-") else (
        "ipv6-cidr-block" if ":" in destination else "cidr-block")


def _endpoint_commands(net: Network, region: str) -> tuple[str, ...]:
    """The ECR interface endpoints and the S3 gateway endpoint, in the node's security group
    (which must then accept the node's HTTPS: it is opened to itself unless it already is)."""
    subnet, vpc = net.host.subnet_id, net.host.vpc_id
    group = net.host.security_groups[0] if net.host.security_groups else None
    groups = f" --security-group-ids {group}" if group else ""
    table = net.route_table
    return (*(f"aws ec2 create-vpc-endpoint --vpc-id {vpc} --vpc-endpoint-type Interface "
              f"--service-name com.amazonaws.{region}.{service} --subnet-ids {subnet}{groups} "
              "--private-dns-enabled" for service in ("ecr.api", "ecr.dkr")),
            *((_s3_gateway(net, table, region),) if table else ()),
            *((f"aws ec2 authorize-security-group-ingress --group-id {group} --protocol tcp "
               f"--port 443 --source-group {group}",) if group and not _admits_itself(net, group)
              else ()))


def _admits_itself(net: Network, group: str) -> bool:
    """Whether the node's group already accepts tcp/443 from the node (itself or its address)."""
    rules = net.group_rules
    if isinstance(rules, Unavailable) or group not in rules:
        return False
    return ingress_allows(rules[group], port=HTTPS, source_ip=net.host.private_ip,
                          source_groups=net.host.security_groups, group_ids=(group,)).allowed


def _fix(net: Network, nat: str | None) -> str:
    """The advice: through the NAT gateway there is, else through endpoints (a NAT gateway to
    create is a step of its own: it needs a public subnet and an Elastic IP)."""
    if nat:
        return (f"Route the subnet's internet traffic through NAT gateway {nat}, or create the ECR "
                "interface endpoints (ecr.api, ecr.dkr) and the S3 gateway endpoint.")
    return (f"VPC {net.host.vpc_id} has no available NAT gateway: create the ECR interface "
            "endpoints (ecr.api, ecr.dkr) and the S3 gateway endpoint below; or, as a step of "
            "its own, create a NAT gateway in a public subnet (aws ec2 allocate-address, then aws "
            "ec2 create-nat-gateway) and route 0.0.0.0/0 of the node's route table to it.")
