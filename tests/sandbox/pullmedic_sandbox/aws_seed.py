"""Create a scenario's AWS resources in moto and resolve `${name}` references to their real ids.

The `aws:` section of a scenario file is plain YAML. Every key is optional; names on the left
(`private-a`, `nodes`, `node-role`...) are symbolic and other entries refer to them by name.

```yaml
aws:
  vpc: {cidr: 10.0.0.0/16, dns_support: true, dns_hostnames: true}
  internet_gateway: true                 # create an IGW and attach it to the VPC
  subnets:
    public-a:  {cidr: 10.0.0.0/24, az: us-east-2a, route_table: public}
    # network_acl: replaces the VPC's default NACL (allow all) for this subnet.
    # fill: use up every free address (AvailableIpAddressCount becomes 0).
    private-a: {cidr: 10.0.1.0/28, az: us-east-2a, route_table: private, network_acl: locked, fill: true}
  nat_gateways: {nat-a: {subnet: public-a}}          # with a new Elastic IP
  route_tables:                          # subnets without route_table use the VPC's main table
    public:  {routes: [{destination: 0.0.0.0/0, gateway: igw}]}
    private: {routes: [{destination: 0.0.0.0/0, nat: nat-a}]}   # [] = no default route
  network_acls:                          # protocol: all | tcp | udp; ports: [from, to]
    locked:
      entries:
        - {rule: 90, egress: true, protocol: tcp, ports: [443, 443], cidr: 0.0.0.0/0, action: deny}
        - {rule: 100, egress: true, protocol: all, cidr: 0.0.0.0/0, action: allow}
        # prefix_list (s3) instead of cidr: one entry per CIDR of the list, numbered from rule.
        - {rule: 80, egress: true, protocol: tcp, ports: [443, 443], prefix_list: s3, action: deny}
  security_groups:
    # egress absent: keep the default allow-all egress; egress: [] = no egress at all.
    # A rule names one of cidr, group (another of these groups) or prefix_list (s3: the
    # region's S3 prefix list).
    nodes: {description: nodes, egress: [{protocol: tcp, ports: [443, 443], cidr: 0.0.0.0/0}]}
    endpoints: {ingress: [{protocol: tcp, ports: [443, 443], group: nodes}]}
  vpc_endpoints:                         # key: the service, as in com.amazonaws.<region>.<key>
    ecr.api: {type: Interface, subnets: [private-a], security_groups: [endpoints], private_dns: true}
    s3:      {type: Gateway, route_tables: [private]}
  iam:
    roles:                               # trust: service principal(s); managed: AWS policy names
      node-role: {trust: ec2.amazonaws.com, managed: [AmazonEKSWorkerNodePolicy],
                  inline: {extra: {Version: "2012-10-17", Statement: [...]}}}
    instance_profiles: {node-profile: node-role}
  instances:                             # arch (amd64 | arm64) picks an AMI of that architecture
    node-a: {subnet: private-a, security_groups: [nodes], profile: node-profile,
             private_ip: 10.0.1.10, arch: arm64, type: m6g.large}
  fargate_profiles:                      # created once the scenario's EKS clusters exist
    default: {cluster: demo, role: fargate-exec, subnets: [private-a], selectors: [{namespace: serverless}]}
  ecr:
    repositories:
      # images: tag -> architecture (an image manifest) or list (an OCI index of those).
      # account: a registry id other than the sandbox's; region: another region.
      # kms_key: enabled | disabled (a new customer managed key, refs "kms.<state>": its ARN,
      # "kms_id.<state>": its id);
      # lifecycle: a lifecycle policy document. vpc_endpoints entries take policy: too.
      team/api: {images: {"1.4.2": amd64, "2.0.0": [amd64, arm64]}, policy: {...},
                 account: "210987654321", region: us-west-2}
    pull_through_cache_rules: {docker-hub: registry-1.docker.io}   # not implemented by moto: skipped
```

`seed` returns `Refs`: `account`, `region`, `vpc`, `igw`, `subnet.<name>`, `rtb.<name>`,
`acl.<name>`, `sg.<name>`, `pl.s3` (when a rule or gateway endpoint uses it), `vpce.<service>`, `nat.<name>`,
`eip.<name>` (the NAT's public IP), `instance.<name>`, `role.<name>` (role name),
`role_arn.<name>`, `profile.<name>`, `repo.<name>`, `repo_uri.<name>`, `digest.<repo>:<tag>`.
`substitute` writes them into the Kubernetes objects wherever a string says `${name}`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Clients = Callable[[str, str | None], Any]

log = logging.getLogger(__name__)

PROTOCOLS = {"all": "-1", "tcp": "6", "udp": "17"}
MACHINE_ARCH = {"amd64": "x86_64", "arm64": "arm64"}
DEFAULT_TYPE = {"amd64": "m5.large", "arm64": "m6g.large"}
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
_TOKEN = re.compile(r"\$\{([^}]+)\}")


class RefError(ValueError):
    """A scenario refers to a name that was never seeded."""


class Refs(dict[str, str]):
    """Symbolic names (`subnet.private-a`) mapped to the real ids moto gave them."""

    def __missing__(self, key: str) -> str:
        raise RefError(f"aws: nothing seeded as {key!r} (seeded: {', '.join(self)})")

    def named(self, kind: str) -> list[str]:
        """Every id of one kind (`subnet`), in the order they were created."""
        return [value for key, value in self.items() if key.startswith(f"{kind}.")]

    def of(self, kind: str, name: str) -> str:
        """The id of `kind.name`, or a RefError that names it."""
        key = f"{kind}.{name}"
        if key not in self:
            known = [k.split(".", 1)[1] for k in self if k.startswith(f"{kind}.")]
            raise RefError(f"aws: unknown {kind} {name!r} (known: {', '.join(known) or 'none'})")
        return self[key]


@dataclass
class _World:
    """What every seeding step needs: clients, the home region and the refs made so far."""

    clients: Clients
    region: str
    refs: Refs
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict)

    def client(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.region)
        if key not in self._cache:
            self._cache[key] = self.clients(service, key[1])
        return self._cache[key]

    @property
    def ec2(self) -> Any:
        return self.client("ec2")


def seed(scenario_aws: dict[str, Any], clients: Clients, region: str, account: str) -> Refs:
    """Create every resource of the `aws:` section in order; return the refs to them."""
    unknown = set(scenario_aws) - {key for key, _ in _STEPS} - {"fargate_profiles"}
    if unknown:
        raise ValueError(f"aws: unknown section(s) {sorted(unknown)}")
    world = _World(clients, region, Refs(account=account, region=region))
    for key, step in _STEPS:
        if key in scenario_aws:
            step(scenario_aws, world)
    return world.refs


def seed_fargate_profiles(scenario_aws: dict[str, Any], clients: Clients, refs: Refs) -> None:
    """Create the Fargate profiles (their EKS clusters must exist by now)."""
    eks = clients("eks", refs["region"])
    for name, spec in (scenario_aws.get("fargate_profiles") or {}).items():
        eks.create_fargate_profile(
            fargateProfileName=name, clusterName=spec["cluster"],
            podExecutionRoleArn=refs.of("role_arn", spec["role"]),
            subnets=[refs.of("subnet", s) for s in spec.get("subnets", [])],
            selectors=spec.get("selectors", []))


def substitute(value: Any, refs: Refs) -> Any:
    """`value` with every `${name}` inside its strings replaced by `refs[name]`."""
    if isinstance(value, dict):
        return {key: substitute(item, refs) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, refs) for item in value]
    if isinstance(value, str):
        return _TOKEN.sub(lambda match: _lookup(match[1], value, refs), value)
    return value


def _lookup(name: str, text: str, refs: Refs) -> str:
    if name not in refs:
        raise RefError(f"unknown reference ${{{name}}} in {text!r}; known: {', '.join(refs)}")
    return refs[name]


# --- one function per resource kind, in dependency order ------------------------------------


def _vpc(aws: dict[str, Any], world: _World) -> None:
    spec = aws["vpc"]
    vpc = world.ec2.create_vpc(CidrBlock=spec["cidr"])["Vpc"]["VpcId"]
    for attribute, key in (("EnableDnsSupport", "dns_support"), ("EnableDnsHostnames", "dns_hostnames")):
        if key in spec:
            world.ec2.modify_vpc_attribute(VpcId=vpc, **{attribute: {"Value": bool(spec[key])}})
    world.refs["vpc"] = vpc


def _internet_gateway(aws: dict[str, Any], world: _World) -> None:
    if aws["internet_gateway"]:
        igw = world.ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        world.ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=world.refs["vpc"])
        world.refs["igw"] = igw


def _subnets(aws: dict[str, Any], world: _World) -> None:
    for name, spec in aws["subnets"].items():
        subnet = world.ec2.create_subnet(VpcId=world.refs["vpc"], CidrBlock=spec["cidr"],
                                         AvailabilityZone=spec.get("az", f"{world.region}a"))
        world.refs[f"subnet.{name}"] = subnet["Subnet"]["SubnetId"]


def _nat_gateways(aws: dict[str, Any], world: _World) -> None:
    for name, spec in aws["nat_gateways"].items():
        address = world.ec2.allocate_address(Domain="vpc")
        nat = world.ec2.create_nat_gateway(SubnetId=world.refs.of("subnet", spec["subnet"]),
                                           AllocationId=address["AllocationId"])
        world.refs[f"nat.{name}"] = nat["NatGateway"]["NatGatewayId"]
        world.refs[f"eip.{name}"] = address["PublicIp"]


def _route_tables(aws: dict[str, Any], world: _World) -> None:
    for name, spec in aws["route_tables"].items():
        table = world.ec2.create_route_table(VpcId=world.refs["vpc"])["RouteTable"]["RouteTableId"]
        world.refs[f"rtb.{name}"] = table
        for route in spec.get("routes") or []:
            target = ({"GatewayId": world.refs["igw"]} if route.get("gateway") == "igw"
                      else {"NatGatewayId": world.refs.of("nat", route["nat"])})
            world.ec2.create_route(RouteTableId=table, DestinationCidrBlock=route["destination"], **target)
        for subnet in _subnets_using(aws, "route_table", name, world):
            world.ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)


def _network_acls(aws: dict[str, Any], world: _World) -> None:
    for name, spec in aws["network_acls"].items():
        acl = world.ec2.create_network_acl(VpcId=world.refs["vpc"])["NetworkAcl"]["NetworkAclId"]
        world.refs[f"acl.{name}"] = acl
        for entry in spec.get("entries") or []:
            ports = ({"PortRange": {"From": entry["ports"][0], "To": entry["ports"][1]}}
                     if "ports" in entry else {})
            cidrs = (_prefix_list_cidrs(entry["prefix_list"], world) if "prefix_list" in entry
                     else [entry["cidr"]])
            for number, cidr in enumerate(cidrs, start=entry["rule"]):
                world.ec2.create_network_acl_entry(
                    NetworkAclId=acl, RuleNumber=number, Protocol=PROTOCOLS[entry["protocol"]],
                    RuleAction=entry["action"], Egress=bool(entry["egress"]), CidrBlock=cidr, **ports)
        for subnet in _subnets_using(aws, "network_acl", name, world):
            current = world.ec2.describe_network_acls(
                Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])["NetworkAcls"][0]
            association = next(a["NetworkAclAssociationId"] for a in current["Associations"]
                               if a["SubnetId"] == subnet)
            world.ec2.replace_network_acl_association(AssociationId=association, NetworkAclId=acl)


def _security_groups(aws: dict[str, Any], world: _World) -> None:
    groups = aws["security_groups"]
    for name, spec in groups.items():  # first all groups, so that rules can name any of them
        world.refs[f"sg.{name}"] = world.ec2.create_security_group(
            GroupName=name, Description=spec.get("description", name), VpcId=world.refs["vpc"])["GroupId"]
    for name, spec in groups.items():
        group = world.refs[f"sg.{name}"]
        if "egress" in spec:
            world.ec2.revoke_security_group_egress(
                GroupId=group, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        for direction, call in (("ingress", world.ec2.authorize_security_group_ingress),
                                ("egress", world.ec2.authorize_security_group_egress)):
            rules = spec.get(direction) or []
            if rules:
                call(GroupId=group, IpPermissions=[_permission(rule, world) for rule in rules])


def _permission(rule: dict[str, Any], world: _World) -> dict[str, Any]:
    protocol = PROTOCOLS[rule.get("protocol", "all")]
    permission: dict[str, Any] = {"IpProtocol": protocol}
    if protocol != "-1":
        permission["FromPort"], permission["ToPort"] = rule["ports"]
    if "cidr" in rule:
        permission["IpRanges"] = [{"CidrIp": rule["cidr"]}]
    if "group" in rule:
        permission["UserIdGroupPairs"] = [{"GroupId": world.refs.of("sg", rule["group"])}]
    if "prefix_list" in rule:
        permission["PrefixListIds"] = [{"PrefixListId": _prefix_list(rule["prefix_list"], world)}]
    return permission


def _prefix_list(service: str, world: _World) -> str:
    name = f"com.amazonaws.{world.region}.{service}"
    (found,) = world.ec2.describe_prefix_lists(
        Filters=[{"Name": "prefix-list-name", "Values": [name]}])["PrefixLists"]
    world.refs[f"pl.{service}"] = found["PrefixListId"]
    return found["PrefixListId"]


def _prefix_list_cidrs(service: str, world: _World) -> list[str]:
    """The CIDRs of the region's `service` prefix list (a NACL takes CIDRs, not lists)."""
    entries = world.ec2.get_managed_prefix_list_entries(PrefixListId=_prefix_list(service, world))
    return [e["Cidr"] for e in entries["Entries"]]


def _iam(aws: dict[str, Any], world: _World) -> None:
    iam, spec = world.client("iam"), aws["iam"]
    for name, role in (spec.get("roles") or {}).items():
        trust = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": role["trust"]}, "Action": "sts:AssumeRole"}]}
        created = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
        world.refs[f"role.{name}"], world.refs[f"role_arn.{name}"] = name, created["Arn"]
        for policy in role.get("managed") or []:
            iam.attach_role_policy(RoleName=name, PolicyArn=f"arn:aws:iam::aws:policy/{policy}")
        for policy, document in (role.get("inline") or {}).items():
            iam.put_role_policy(RoleName=name, PolicyName=policy, PolicyDocument=json.dumps(document))
    for name, role in (spec.get("instance_profiles") or {}).items():
        iam.create_instance_profile(InstanceProfileName=name)
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=world.refs.of("role", role))
        world.refs[f"profile.{name}"] = name


def _instances(aws: dict[str, Any], world: _World) -> None:
    for name, spec in aws["instances"].items():
        arch = spec.get("arch", "amd64")
        options: dict[str, Any] = {}
        if "private_ip" in spec:
            options["PrivateIpAddress"] = spec["private_ip"]
        if "profile" in spec:
            options["IamInstanceProfile"] = {"Name": world.refs.of("profile", spec["profile"])}
        instance = world.ec2.run_instances(
            ImageId=_ami(arch, world), InstanceType=spec.get("type", DEFAULT_TYPE[arch]),
            MinCount=1, MaxCount=1, SubnetId=world.refs.of("subnet", spec["subnet"]),
            SecurityGroupIds=[world.refs.of("sg", g) for g in spec.get("security_groups", [])],
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}],
            **options)["Instances"][0]
        world.refs[f"instance.{name}"] = instance["InstanceId"]


def _ami(arch: str, world: _World) -> str:
    """An Amazon Linux 2023 AMI of moto's catalogue (the instance's Architecture comes from it)."""
    images = world.ec2.describe_images(Owners=["amazon"], Filters=[
        {"Name": "architecture", "Values": [MACHINE_ARCH[arch]]},
        {"Name": "name", "Values": ["al2023-ami-2023*"]}])["Images"]
    if not images:
        raise ValueError(f"aws: moto has no {arch} Amazon Linux 2023 AMI in {world.region}")
    return min(images, key=lambda image: image["Name"])["ImageId"]


def _vpc_endpoints(aws: dict[str, Any], world: _World) -> None:
    for service, spec in aws["vpc_endpoints"].items():
        kind = spec.get("type", "Interface")
        if kind == "Interface":
            options = {"SubnetIds": [world.refs.of("subnet", s) for s in spec.get("subnets", [])],
                       "SecurityGroupIds": [world.refs.of("sg", g) for g in spec.get("security_groups", [])],
                       "PrivateDnsEnabled": bool(spec.get("private_dns", True))}
        else:
            options = {"RouteTableIds": [world.refs.of("rtb", t) for t in spec.get("route_tables", [])]}
        if "policy" in spec:
            options["PolicyDocument"] = json.dumps(spec["policy"])
        endpoint = world.ec2.create_vpc_endpoint(
            VpcId=world.refs["vpc"], ServiceName=f"com.amazonaws.{world.region}.{service}",
            VpcEndpointType=kind, **options)["VpcEndpoint"]
        world.refs[f"vpce.{service}"] = endpoint["VpcEndpointId"]
        if kind == "Gateway":  # its route goes to the service's prefix list
            _prefix_list(service, world)


def _fill_subnets(aws: dict[str, Any], world: _World) -> None:
    """One network interface holding every free address of each `fill: true` subnet."""
    for name, spec in aws["subnets"].items():
        if not spec.get("fill"):
            continue
        subnet = world.refs[f"subnet.{name}"]
        free = world.ec2.describe_subnets(SubnetIds=[subnet])["Subnets"][0]["AvailableIpAddressCount"]
        if free > 0:
            world.ec2.create_network_interface(SubnetId=subnet, SecondaryPrivateIpAddressCount=free - 1,
                                               Description="addresses used by other workloads")


def _ecr(aws: dict[str, Any], world: _World) -> None:
    spec = aws["ecr"]
    for name, repo in (spec.get("repositories") or {}).items():
        ecr = world.client("ecr", repo.get("region"))
        registry = {"registryId": str(repo["account"])} if "account" in repo else {}
        created = ecr.create_repository(repositoryName=name, **registry, **_encryption(repo, world))[
            "repository"]
        world.refs[f"repo.{name}"], world.refs[f"repo_uri.{name}"] = name, created["repositoryUri"]
        if "policy" in repo:
            ecr.set_repository_policy(repositoryName=name, policyText=json.dumps(repo["policy"]), **registry)
        if "lifecycle" in repo:
            ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=json.dumps(repo["lifecycle"]),
                                     **registry)
        for tag, platforms in (repo.get("images") or {}).items():
            world.refs[f"digest.{name}:{tag}"] = _push(ecr, name, str(tag), platforms)
    for prefix, upstream in (spec.get("pull_through_cache_rules") or {}).items():
        log.warning("moto does not implement ECR pull-through cache rules: rule %s -> %s not created",
                    prefix, upstream)


def _encryption(repo: dict[str, Any], world: _World) -> dict[str, Any]:
    """`kms_key: enabled | disabled`: encrypt with a new customer managed key in that state."""
    state = repo.get("kms_key")
    if state is None:
        return {}
    kms = world.client("kms", repo.get("region"))
    key = kms.create_key(Description=f"ECR repository key ({state})")["KeyMetadata"]
    if state == "disabled":
        kms.disable_key(KeyId=key["KeyId"])
    world.refs[f"kms.{state}"] = key["Arn"]
    world.refs[f"kms_id.{state}"] = key["KeyId"]
    return {"encryptionConfiguration": {"encryptionType": "KMS", "kmsKey": key["Arn"]}}


def _push(ecr: Any, repo: str, tag: str, platforms: str | list[str]) -> str:
    """Push one tag: an image manifest, or an OCI index after its per-platform manifests."""
    if isinstance(platforms, str):
        return _put(ecr, repo, _manifest(repo, tag, platforms), tag)
    children = []
    for arch in platforms:
        manifest = _manifest(repo, tag, arch)
        children.append({"mediaType": OCI_MANIFEST, "digest": _put(ecr, repo, manifest, None),
                         "size": len(manifest), "platform": {"architecture": arch, "os": "linux"}})
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children})
    return _put(ecr, repo, index, tag)


def _put(ecr: Any, repo: str, manifest: str, tag: str | None) -> str:
    """put_image; the digest is moto's answer (moto does not hash the manifest as ECR does)."""
    tagged = {"imageTag": tag} if tag else {}
    image = ecr.put_image(repositoryName=repo, imageManifest=manifest, **tagged)["image"]
    return image["imageId"]["imageDigest"]


def _manifest(repo: str, tag: str, arch: str) -> str:
    config = json.dumps({"architecture": arch, "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    layer = f"{repo}:{tag} linux/{arch}\n".encode()
    return json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **_blob(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **_blob(layer)}]})


def _blob(data: bytes) -> dict[str, Any]:
    return {"digest": f"sha256:{hashlib.sha256(data).hexdigest()}", "size": len(data)}


def _subnets_using(aws: dict[str, Any], key: str, name: str, world: _World) -> list[str]:
    return [world.refs[f"subnet.{subnet}"] for subnet, spec in (aws.get("subnets") or {}).items()
            if spec.get(key) == name]


_STEPS: tuple[tuple[str, Callable[[dict[str, Any], _World], None]], ...] = (
    ("vpc", _vpc), ("internet_gateway", _internet_gateway), ("subnets", _subnets),
    ("nat_gateways", _nat_gateways), ("route_tables", _route_tables), ("network_acls", _network_acls),
    ("security_groups", _security_groups), ("iam", _iam), ("instances", _instances),
    ("vpc_endpoints", _vpc_endpoints), ("subnets", _fill_subnets), ("ecr", _ecr),
)
