"""A scenario's `aws:` section becomes real moto resources, read back the way pullmedic reads them."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from pullmedic_sandbox.aws_seed import RefError, Refs, seed, substitute
from pullmedic_sandbox.sandbox import ACCOUNT, Sandbox
from pullmedic_sandbox.scenario import ClusterSpec, Scenario

OTHER_ACCOUNT = "210987654321"
AWS = yaml.safe_load(f"""
vpc: {{cidr: 10.0.0.0/16, dns_support: true, dns_hostnames: true}}
internet_gateway: true
subnets:
  public-a:  {{cidr: 10.0.0.0/24, az: us-east-2a, route_table: public}}
  private-a: {{cidr: 10.0.1.0/24, az: us-east-2a, route_table: private, network_acl: locked}}
  full-b:    {{cidr: 10.0.2.0/28, az: us-east-2b, route_table: private, fill: true}}
nat_gateways: {{nat-a: {{subnet: public-a}}}}
route_tables:
  public:  {{routes: [{{destination: 0.0.0.0/0, gateway: igw}}]}}
  private: {{routes: [{{destination: 0.0.0.0/0, nat: nat-a}}]}}
network_acls:
  locked:
    entries:
      - {{rule: 90, egress: true, protocol: tcp, ports: [443, 443], cidr: 0.0.0.0/0, action: deny}}
      - {{rule: 100, egress: true, protocol: all, cidr: 0.0.0.0/0, action: allow}}
      - {{rule: 100, egress: false, protocol: tcp, ports: [1024, 65535], cidr: 0.0.0.0/0, action: allow}}
security_groups:
  nodes:
    description: EKS nodes
    egress:
      - {{protocol: tcp, ports: [443, 443], prefix_list: s3}}
      - {{protocol: tcp, ports: [443, 443], group: endpoints}}
  endpoints:
    ingress: [{{protocol: tcp, ports: [443, 443], group: nodes}}]
  closed: {{egress: []}}
vpc_endpoints:
  ecr.api: {{type: Interface, subnets: [private-a], security_groups: [endpoints], private_dns: true}}
  ecr.dkr: {{type: Interface, subnets: [private-a], security_groups: [endpoints], private_dns: false}}
  s3:      {{type: Gateway, route_tables: [private]}}
iam:
  roles:
    node-role:
      trust: ec2.amazonaws.com
      managed: [AmazonEKSWorkerNodePolicy, AmazonEC2ContainerRegistryPullOnly]
      inline:
        extra: {{Version: "2012-10-17", Statement: [{{Effect: Deny, Action: "ecr:*", Resource: "*"}}]}}
    fargate-exec: {{trust: eks-fargate-pods.amazonaws.com, managed: []}}
  instance_profiles: {{node-profile: node-role}}
instances:
  node-a: {{subnet: private-a, security_groups: [nodes], profile: node-profile, private_ip: 10.0.1.10,
           arch: arm64, type: m6g.large}}
  node-b: {{subnet: public-a, security_groups: [nodes], private_ip: 10.0.0.20}}
fargate_profiles:
  default:
    {{cluster: seeded, role: fargate-exec, subnets: [private-a], selectors: [{{namespace: serverless}}]}}
ecr:
  repositories:
    team/api:
      images: {{"1.4.2": amd64, "1.4.1": amd64, "2.0.0": [amd64, arm64]}}
      policy: {{Version: "2012-10-17", Statement: [{{Sid: pull, Effect: Allow,
               Principal: {{AWS: "arn:aws:iam::{ACCOUNT}:root"}}, Action: ["ecr:BatchGetImage"]}}]}}
    shared/base: {{images: {{"1.0": amd64}}, account: "{OTHER_ACCOUNT}"}}
    team/web: {{images: {{"3.1": arm64}}, region: us-west-2}}
  pull_through_cache_rules: {{docker-hub: registry-1.docker.io}}
""")


@pytest.fixture(scope="module")
def seeded(sandbox: Sandbox) -> tuple[Sandbox, Refs]:
    sandbox.load(Scenario("seeded", "", "us-east-2", [ClusterSpec("seeded", [])], aws=AWS))
    return sandbox, sandbox.refs


@pytest.fixture
def ec2(seeded: tuple[Sandbox, Refs]) -> Any:
    return seeded[0].client("ec2")


@pytest.fixture
def refs(seeded: tuple[Sandbox, Refs]) -> Refs:
    return seeded[1]


def test_refs_name_every_resource(refs: Refs) -> None:
    assert refs["account"] == ACCOUNT and refs["region"] == "us-east-2"
    prefixes = {"vpc": "vpc-", "igw": "igw-", "subnet.private-a": "subnet-", "rtb.private": "rtb-",
                "acl.locked": "acl-", "sg.nodes": "sg-", "pl.s3": "pl-", "vpce.ecr.dkr": "vpce-",
                "nat.nat-a": "nat-", "instance.node-a": "i-", "digest.team/api:1.4.2": "sha256:"}
    assert {k: refs[k][:len(v)] for k, v in prefixes.items()} == prefixes
    assert refs["role.node-role"] == "node-role"
    assert refs["role_arn.node-role"] == f"arn:aws:iam::{ACCOUNT}:role/node-role"
    assert refs["profile.node-profile"] == "node-profile" and refs["repo.team/api"] == "team/api"
    assert refs["repo_uri.team/api"] == f"{ACCOUNT}.dkr.ecr.us-east-2.amazonaws.com/team/api"
    assert refs.named("subnet") == [refs["subnet.public-a"], refs["subnet.private-a"], refs["subnet.full-b"]]


def test_vpc_dns_attributes_and_eks_cluster_in_the_scenario_subnets(seeded, ec2, refs) -> None:
    for attribute, key in (("enableDnsSupport", "EnableDnsSupport"),
                           ("enableDnsHostnames", "EnableDnsHostnames")):
        assert ec2.describe_vpc_attribute(VpcId=refs["vpc"], Attribute=attribute)[key]["Value"] is True
    cluster = seeded[0].client("eks").describe_cluster(name="seeded")["cluster"]
    assert cluster["resourcesVpcConfig"]["subnetIds"] == refs.named("subnet")


def test_route_tables_nat_with_its_public_ip_and_the_s3_prefix_list_route(ec2, refs) -> None:
    (table,) = ec2.describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": [refs["subnet.private-a"]]}])["RouteTables"]
    assert table["RouteTableId"] == refs["rtb.private"]
    routes = {r.get("DestinationCidrBlock") or r["DestinationPrefixListId"]: r for r in table["Routes"]}
    assert routes["0.0.0.0/0"]["NatGatewayId"] == refs["nat.nat-a"]
    assert routes[refs["pl.s3"]]["GatewayId"] == refs["vpce.s3"]  # the gateway endpoint's route
    (public,) = ec2.describe_route_tables(RouteTableIds=[refs["rtb.public"]])["RouteTables"]
    assert any(r.get("GatewayId") == refs["igw"] for r in public["Routes"])
    (nat,) = ec2.describe_nat_gateways(NatGatewayIds=[refs["nat.nat-a"]])["NatGateways"]
    assert nat["State"] == "available" and nat["SubnetId"] == refs["subnet.public-a"]
    assert nat["NatGatewayAddresses"][0]["PublicIp"] == refs["eip.nat-a"]
    (igw,) = ec2.describe_internet_gateways(InternetGatewayIds=[refs["igw"]])["InternetGateways"]
    assert igw["Attachments"] == [{"State": "available", "VpcId": refs["vpc"]}]


def test_network_acl_entries_and_association(ec2, refs) -> None:
    (acl,) = ec2.describe_network_acls(
        Filters=[{"Name": "association.subnet-id", "Values": [refs["subnet.private-a"]]}])["NetworkAcls"]
    assert acl["NetworkAclId"] == refs["acl.locked"]
    entries = {(e["RuleNumber"], e["Egress"]): e for e in acl["Entries"]}
    assert entries[(90, True)] == {"RuleNumber": 90, "Egress": True, "Protocol": "6", "RuleAction": "deny",
                                   "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 443, "To": 443}}
    assert entries[(100, False)]["PortRange"] == {"From": 1024, "To": 65535}
    # moto lists no catch-all 32767 deny for a custom NACL (AWS does); the default NACL has it.
    assert set(entries) == {(90, True), (100, True), (100, False)}
    (default,) = ec2.describe_network_acls(
        Filters=[{"Name": "association.subnet-id", "Values": [refs["subnet.public-a"]]}])["NetworkAcls"]
    assert default["IsDefault"] and {e["RuleNumber"] for e in default["Entries"]} == {100, 32767}


def test_security_groups_rules_by_prefix_list_and_group(ec2, refs) -> None:
    groups = {g["GroupId"]: g for g in ec2.describe_security_groups(
        GroupIds=[refs["sg.nodes"], refs["sg.endpoints"], refs["sg.closed"]])["SecurityGroups"]}
    (s3_list,) = ec2.describe_prefix_lists(
        Filters=[{"Name": "prefix-list-name", "Values": ["com.amazonaws.us-east-2.s3"]}])["PrefixLists"]
    (egress,) = groups[refs["sg.nodes"]]["IpPermissionsEgress"]  # the default allow-all is gone
    assert (egress["IpProtocol"], egress["FromPort"], egress["ToPort"]) == ("tcp", 443, 443)
    assert egress["PrefixListIds"] == [{"PrefixListId": s3_list["PrefixListId"]}] == [
        {"PrefixListId": refs["pl.s3"]}]
    assert [p["GroupId"] for p in egress["UserIdGroupPairs"]] == [refs["sg.endpoints"]]
    (ingress,) = groups[refs["sg.endpoints"]]["IpPermissions"]
    assert [p["GroupId"] for p in ingress["UserIdGroupPairs"]] == [refs["sg.nodes"]]
    assert groups[refs["sg.endpoints"]]["IpPermissionsEgress"][0]["IpProtocol"] == "-1"  # kept
    assert groups[refs["sg.closed"]]["IpPermissionsEgress"] == []


def test_vpc_endpoints_groups_subnets_route_tables_and_private_dns(ec2, refs) -> None:
    endpoints = ec2.describe_vpc_endpoints(
        Filters=[{"Name": "vpc-id", "Values": [refs["vpc"]]}])["VpcEndpoints"]
    found = {e["ServiceName"].removeprefix("com.amazonaws.us-east-2."): e for e in endpoints}
    assert set(found) == {"ecr.api", "ecr.dkr", "s3"}
    for service, private_dns in (("ecr.api", True), ("ecr.dkr", False)):
        endpoint = found[service]
        assert endpoint["VpcEndpointId"] == refs[f"vpce.{service}"]
        assert endpoint["VpcEndpointType"] == "Interface" and endpoint["State"] == "available"
        assert endpoint["PrivateDnsEnabled"] is private_dns
        assert endpoint["SubnetIds"] == [refs["subnet.private-a"]]
        assert [g["GroupId"] for g in endpoint["Groups"]] == [refs["sg.endpoints"]]
    assert found["s3"]["VpcEndpointType"] == "Gateway"
    assert found["s3"]["RouteTableIds"] == [refs["rtb.private"]]


def test_instance_profile_groups_ip_architecture_and_subnet(seeded, ec2, refs) -> None:
    (reservation,) = ec2.describe_instances(InstanceIds=[refs["instance.node-a"]])["Reservations"]
    (instance,) = reservation["Instances"]
    assert instance["IamInstanceProfile"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:instance-profile/node-profile"
    assert instance["SecurityGroups"] == [{"GroupId": refs["sg.nodes"], "GroupName": "nodes"}]
    assert instance["PrivateIpAddress"] == "10.0.1.10"
    assert instance["PrivateDnsName"] == "ip-10-0-1-10.us-east-2.compute.internal"
    assert instance["Architecture"] == "arm64" and instance["InstanceType"] == "m6g.large"
    assert instance["SubnetId"] == refs["subnet.private-a"]
    assert instance["Placement"]["AvailabilityZone"] == "us-east-2a"
    (other,) = ec2.describe_instances(InstanceIds=[refs["instance.node-b"]])["Reservations"][0]["Instances"]
    assert other["Architecture"] == "x86_64" and "IamInstanceProfile" not in other
    iam = seeded[0].client("iam")
    profile = iam.get_instance_profile(InstanceProfileName="node-profile")["InstanceProfile"]
    assert [r["RoleName"] for r in profile["Roles"]] == ["node-role"]


def test_roles_trust_managed_and_inline_policies(seeded, refs) -> None:
    iam = seeded[0].client("iam")
    role = iam.get_role(RoleName=refs["role.node-role"])["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    attached = iam.list_attached_role_policies(RoleName="node-role")["AttachedPolicies"]
    assert sorted(p["PolicyName"] for p in attached) == ["AmazonEC2ContainerRegistryPullOnly",
                                                         "AmazonEKSWorkerNodePolicy"]
    pull_only = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly"
    version = iam.get_policy(PolicyArn=pull_only)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=pull_only, VersionId=version)["PolicyVersion"]["Document"]
    assert "ecr:BatchGetImage" in document["Statement"][0]["Action"]  # the real managed policy
    assert iam.list_role_policies(RoleName="node-role")["PolicyNames"] == ["extra"]
    inline = iam.get_role_policy(RoleName="node-role", PolicyName="extra")["PolicyDocument"]
    assert inline["Statement"][0]["Effect"] == "Deny"
    assert iam.list_attached_role_policies(RoleName="fargate-exec")["AttachedPolicies"] == []


def test_fill_leaves_no_free_address(ec2, refs) -> None:
    subnets = {s["SubnetId"]: s for s in ec2.describe_subnets(SubnetIds=refs.named("subnet"))["Subnets"]}
    assert subnets[refs["subnet.full-b"]]["AvailableIpAddressCount"] == 0
    assert subnets[refs["subnet.private-a"]]["AvailableIpAddressCount"] > 200


def test_fargate_profile(seeded, refs) -> None:
    profile = seeded[0].client("eks").describe_fargate_profile(
        clusterName="seeded", fargateProfileName="default")["fargateProfile"]
    assert profile["podExecutionRoleArn"] == refs["role_arn.fargate-exec"]
    assert profile["subnets"] == [refs["subnet.private-a"]]
    assert profile["selectors"] == [{"namespace": "serverless"}] and profile["status"] == "ACTIVE"


def test_ecr_images_single_platform_and_index_with_digests_from_put_image(seeded, refs) -> None:
    ecr = seeded[0].client("ecr")
    details = {d["imageDigest"]: d for d in ecr.describe_images(repositoryName="team/api")["imageDetails"]}
    tagged = {t: d for d in details.values() for t in d.get("imageTags", [])}
    assert {t: d["imageDigest"] for t, d in tagged.items()} == {
        t: refs[f"digest.team/api:{t}"] for t in ("1.4.2", "1.4.1", "2.0.0")}
    assert tagged["1.4.2"]["imageManifestMediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert tagged["2.0.0"]["imageManifestMediaType"] == "application/vnd.oci.image.index.v1+json"
    (image,) = ecr.batch_get_image(repositoryName="team/api", imageIds=[{"imageTag": "2.0.0"}])["images"]
    index = json.loads(image["imageManifest"])
    assert [m["platform"]["architecture"] for m in index["manifests"]] == ["amd64", "arm64"]
    assert all(m["digest"] in details and "imageTags" not in details[m["digest"]] for m in index["manifests"])
    (child,) = ecr.batch_get_image(repositoryName="team/api",
                                   imageIds=[{"imageDigest": index["manifests"][1]["digest"]}])["images"]
    config = json.loads(child["imageManifest"])["config"]
    assert config["mediaType"] == "application/vnd.oci.image.config.v1+json"
    with pytest.raises(ecr.exceptions.ImageNotFoundException):
        ecr.describe_images(repositoryName="team/api", imageIds=[{"imageTag": "1.4.3"}])
    policy = json.loads(ecr.get_repository_policy(repositoryName="team/api")["policyText"])
    assert policy["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}


def test_ecr_repository_of_another_account_and_another_region(seeded, refs) -> None:
    ecr = seeded[0].client("ecr")
    (shared,) = ecr.describe_repositories(registryId=OTHER_ACCOUNT, repositoryNames=["shared/base"])[
        "repositories"]
    assert shared["repositoryArn"] == f"arn:aws:ecr:us-east-2:{OTHER_ACCOUNT}:repository/shared/base"
    assert refs["repo_uri.shared/base"] == f"{OTHER_ACCOUNT}.dkr.ecr.us-east-2.amazonaws.com/shared/base"
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException):
        ecr.describe_repositories(repositoryNames=["team/web"])
    west = seeded[0].client("ecr", "us-west-2")
    (web,) = west.describe_repositories(repositoryNames=["team/web"])["repositories"]
    assert web["repositoryUri"] == refs["repo_uri.team/web"]
    assert refs["repo_uri.team/web"] == f"{ACCOUNT}.dkr.ecr.us-west-2.amazonaws.com/team/web"
    (image,) = west.describe_images(repositoryName="team/web")["imageDetails"]
    assert image["imageDigest"] == refs["digest.team/web:3.1"]


def test_substitute_replaces_tokens_in_every_string(refs: Refs) -> None:
    objects = [{"kind": "Node", "spec": {"providerID": "aws:///us-east-2a/${instance.node-a}"},
                "status": {"images": ["${repo_uri.team/api}:1.4.3"], "count": 3}},
               "Failed to pull image \"${repo_uri.team/api}:1.4.3\" from ${account}"]
    node, message = substitute(objects, refs)
    assert node["spec"]["providerID"] == f"aws:///us-east-2a/{refs['instance.node-a']}"
    assert node["status"] == {"images": [f"{refs['repo_uri.team/api']}:1.4.3"], "count": 3}
    assert message == f"Failed to pull image \"{refs['repo_uri.team/api']}:1.4.3\" from {ACCOUNT}"


def test_unknown_reference_is_a_clear_error(refs: Refs) -> None:
    with pytest.raises(RefError, match=r"unknown reference \$\{instance.node-z\} in 'i: \$\{instance"):
        substitute({"a": ["i: ${instance.node-z}"]}, refs)


def test_bad_sections_and_names_are_clear_errors(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match=r"unknown section\(s\) \['subnet'\]"):
        seed({"subnet": {}}, sandbox.client, "us-east-2", ACCOUNT)
    aws = {"vpc": {"cidr": "10.9.0.0/16"}, "subnets": {"a": {"cidr": "10.9.0.0/24"}},
           "instances": {"n": {"subnet": "b"}}}
    with pytest.raises(RefError, match=r"unknown subnet 'b' \(known: a\)"):
        seed(aws, sandbox.client, "us-east-2", ACCOUNT)
    aws = {"vpc": {"cidr": "10.9.0.0/16"},
           "route_tables": {"public": {"routes": [{"destination": "0.0.0.0/0", "gateway": "igw"}]}}}
    with pytest.raises(RefError, match=r"nothing seeded as 'igw'"):
        seed(aws, sandbox.client, "us-east-2", ACCOUNT)
