"""The hops of a pull: registry, ECR API and S3 (layers), each through an endpoint or the internet."""

from __future__ import annotations

from pullmedic.core.imageref import ImageRef, parse_image
from pullmedic.core.netpath.nacl import connection_allowed, entries_from_api
from pullmedic.core.netpath.sg import egress_allows, rules_from_api
from pullmedic.core.netpath.target import S3_STAND_IN, auth_target, layers_target

REGION = "us-east-2"
S3_PL, S3_CIDRS = "pl-7ba54012", ("52.219.80.0/20", "3.5.128.0/21", "2600:1ffd::/40")
ECR = parse_image(f"123456789012.dkr.ecr.{REGION}.amazonaws.com/team/api:1.4.2")
ELSEWHERE = parse_image("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api:1.4.2")
HUB = parse_image("httpd:latest")
GATEWAY = {"VpcEndpointId": "vpce-0s3", "ServiceName": f"com.amazonaws.{REGION}.s3",
           "VpcEndpointType": "Gateway", "RouteTableIds": ["rtb-private"]}
API = {"VpcEndpointId": "vpce-0api", "ServiceName": f"com.amazonaws.{REGION}.ecr.api",
       "VpcEndpointType": "Interface", "SubnetIds": ["subnet-a"], "Groups": [{"GroupId": "sg-endpoints"}]}
SUBNETS = {"subnet-a": {"SubnetId": "subnet-a", "CidrBlock": "10.0.1.0/24"}}


def _image(parsed: object) -> ImageRef:
    assert isinstance(parsed, ImageRef)
    return parsed


def test_layers_go_through_the_gateway_prefix_list_when_it_serves_the_table() -> None:
    hop = layers_target(_image(ECR), [GATEWAY], "rtb-private", REGION, S3_PL, S3_CIDRS)
    assert hop is not None and hop.kind == "s3-gateway" and hop.prefix_list == S3_PL
    assert "vpce-0s3" in hop.description and S3_PL in hop.description
    assert hop.ranges() == (("52.219.88.0", "52.219.80.0/20"), ("3.5.132.0", "3.5.128.0/21"))


def test_layers_go_over_the_internet_when_the_gateway_does_not_serve_the_table() -> None:
    hop = layers_target(_image(ECR), [GATEWAY], "rtb-other", REGION, S3_PL, S3_CIDRS)
    assert hop is not None and hop.kind == "internet" and hop.ip == "52.219.88.0"
    assert "on the internet" in hop.description and S3_PL in hop.description


def test_unknown_s3_ranges_and_other_regions_use_the_stated_stand_in() -> None:
    unknown = layers_target(_image(ECR), [GATEWAY], "rtb-private", REGION, None, ())
    assert unknown is not None and unknown.kind == "s3-gateway" and unknown.ip == S3_STAND_IN
    assert unknown.ranges() == ((S3_STAND_IN, "0.0.0.0/0"),)
    # a gateway endpoint serves its own region's S3 only: another region's is on the internet
    other = layers_target(_image(ELSEWHERE), [GATEWAY], "rtb-private", REGION, S3_PL, S3_CIDRS)
    assert other is not None and other.kind == "internet" and other.ip == S3_STAND_IN
    assert "S3 in eu-west-1" in other.description
    assert "a representative public S3 address" in other.description


def test_only_private_ecr_pulls_have_an_s3_or_api_hop() -> None:
    assert layers_target(_image(HUB), [GATEWAY], "rtb-private", REGION, S3_PL, S3_CIDRS) is None
    assert auth_target(_image(HUB), [API], SUBNETS, REGION) is None
    assert auth_target(_image(ECR), [], SUBNETS, REGION) is None
    auth = auth_target(_image(ECR), [API], SUBNETS, REGION)
    assert auth is not None and auth.groups == ("sg-endpoints",) and auth.ip == "10.0.1.128"


def test_a_group_open_only_to_the_endpoints_blocks_the_layers_hop() -> None:
    group = {"GroupId": "sg-nodes", "IpPermissionsEgress": [
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "UserIdGroupPairs": [{"GroupId": "sg-endpoints"}]}]}
    hop = layers_target(_image(ECR), [GATEWAY], "rtb-private", REGION, S3_PL, S3_CIDRS)
    assert hop is not None
    decision = egress_allows(rules_from_api(group), port=443, dest_ip=hop.ip,
                             dest_prefix_list=hop.prefix_list, prefix_list_cidrs={S3_PL: S3_CIDRS})
    assert not decision.allowed and "sg-nodes" in decision.reason and S3_PL in decision.reason


def test_a_nacl_denying_one_s3_range_blocks_that_range_only() -> None:
    acl = {"NetworkAclId": "acl-1", "Entries": [
        {"RuleNumber": 80, "Egress": True, "Protocol": "6", "RuleAction": "deny",
         "CidrBlock": "3.5.128.0/21", "PortRange": {"From": 443, "To": 443}},
        *({"RuleNumber": 100, "Egress": egress, "Protocol": "-1", "RuleAction": "allow",
           "CidrBlock": "0.0.0.0/0"} for egress in (True, False))]}
    hop = layers_target(_image(ECR), [GATEWAY], "rtb-private", REGION, S3_PL, S3_CIDRS)
    assert hop is not None
    results = {cidr: connection_allowed(entries_from_api(acl), ip=ip).allowed for ip, cidr in hop.ranges()}
    assert results == {"52.219.80.0/20": True, "3.5.128.0/21": False}
