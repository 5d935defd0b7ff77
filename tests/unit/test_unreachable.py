"""A cluster or AWS API the function cannot reach: the error names what to set."""

from __future__ import annotations

import pytest
from botocore.exceptions import EndpointConnectionError

from pullmedic.app.reach import Vantage
from pullmedic.app.scan import aws_unreachable_fix, unreachable_fix
from pullmedic.reading.aws.eks import ClusterAccess


def access(**fields: object) -> ClusterAccess:
    base = {"name": "prod", "region": "eu-west-1", "arn": "arn:aws:eks:eu-west-1:1:cluster/prod",
            "endpoint": "https://ABC.gr7.eu-west-1.eks.amazonaws.com", "ca_data": "", "vpc_id": "vpc-0a1",
            "status": "ACTIVE", "security_group": "sg-0c1"}
    return ClusterAccess(**{**base, **fields})  # type: ignore[arg-type]


def test_a_private_endpoint_names_the_parameters_and_the_security_group() -> None:
    text = unreachable_fix(access(public_access=False, private_access=True))
    assert "endpoint is private" in text and "vpc-0a1" in text
    assert "SubnetIds and SecurityGroupIds" in text and "sg-0c1 must accept HTTPS (443)" in text


def test_a_restricted_public_endpoint_names_its_cidrs_and_the_egress_address() -> None:
    text = unreachable_fix(access(public_cidrs=("203.0.113.0/24",), private_access=True))
    assert "admits only 203.0.113.0/24" in text and "NAT gateway's public IP" in text
    assert "SubnetIds" in text  # private access is on: the VPC is the other way in


def test_an_open_public_endpoint_points_at_the_functions_own_path() -> None:
    assert "network path" in unreachable_fix(access())


@pytest.mark.parametrize("service", ["sts", "eks"])
def test_an_unreachable_aws_api_names_the_endpoint_to_add(service: str) -> None:
    err = EndpointConnectionError(endpoint_url=f"https://{service}.eu-west-1.amazonaws.com")
    assert f"add a {service} interface endpoint (or a NAT gateway)" in aws_unreachable_fix(err, service)
    assert aws_unreachable_fix(ValueError("x"), service) == ""


def test_a_checks_aws_command_gets_the_clusters_region_unless_it_names_one() -> None:
    from pullmedic.diagnosing.diagnose import in_region

    pasted = in_region("aws ec2 delete-route --route-table-id rtb-1", "eu-west-1")
    assert pasted.endswith("--region eu-west-1")
    named = "aws ecr describe-images --region us-east-1 --repository-name app"
    assert in_region(named, "eu-west-1") == named
    assert in_region("kubectl -n shop rollout restart deployment/api", "eu-west-1").startswith("kubectl")


def test_a_user_of_the_roles_name_is_not_the_role() -> None:
    from pullmedic.reading.deployment import same_role

    role = "arn:aws:iam::123456789012:role/pullmedic/pullmedic-scan"
    assert same_role(role, "arn:aws:sts::123456789012:assumed-role/pullmedic-scan/session-1")
    assert not same_role(role, "arn:aws:iam::123456789012:user/pullmedic-scan")
    assert not same_role(role, "arn:aws:iam::210987654321:role/pullmedic-scan")


def network(vpc: str | None, **fields: object) -> Vantage:
    from pullmedic.core.deployment import FunctionNetwork

    return Vantage(FunctionNetwork(vpc, **fields))  # type: ignore[arg-type]


def test_outside_any_vpc_a_private_endpoint_names_subnetids_and_securitygroupids() -> None:
    text = unreachable_fix(access(public_access=False, private_access=True), network(None))
    assert text.startswith("its endpoint is private and the function runs outside any VPC: deploy the "
                           "stack with SubnetIds (private subnets of vpc-0a1) and SecurityGroupIds")
    restricted = unreachable_fix(access(public_cidrs=("203.0.113.0/24",)), network(None))
    assert "no fixed egress address" in restricted and "SubnetIds" in restricted


def test_in_another_vpc_a_private_endpoint_names_the_clusters_vpc() -> None:
    text = unreachable_fix(access(public_access=False, private_access=True), network("vpc-0ff"))
    assert ("runs in vpc-0ff, not in the cluster's VPC vpc-0a1: deploy the stack with SubnetIds of "
            "vpc-0a1") in text


def test_a_restricted_endpoint_names_the_nat_address_to_add_with_the_region() -> None:
    seen = network("vpc-0ff", egress_ips=("198.51.100.7",))
    text = unreachable_fix(access(public_cidrs=("203.0.113.0/24",)), seen)
    assert text.endswith("aws eks update-cluster-config --name prod --region eu-west-1 "
                         "--resources-vpc-config publicAccessCidrs=203.0.113.0/24,198.51.100.7/32")
    listed = network("vpc-0ff", egress_ips=("203.0.113.9",))  # listed, yet unreachable: the path
    assert "network path" in unreachable_fix(access(public_cidrs=("203.0.113.0/24",)), listed)


def test_in_the_clusters_vpc_the_missing_security_group_rule_is_named() -> None:
    from pullmedic.core.deployment import FunctionNetwork

    closed = {"GroupId": "sg-0c1", "IpPermissions": [], "IpPermissionsEgress": []}
    place = FunctionNetwork("vpc-0a1", {"subnet-1": "10.0.1.0/24"}, ("sg-0f1",))
    text = unreachable_fix(access(public_access=False, private_access=True), Vantage(place, [closed]))
    assert text.endswith("does not admit HTTPS (443) from the function's security group sg-0f1: aws ec2 "
                         "authorize-security-group-ingress --group-id sg-0c1 --protocol tcp --port 443 "
                         "--source-group sg-0f1 --region eu-west-1")
    by_cidr = {**closed, "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                            "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}]}
    admitted = unreachable_fix(access(public_access=False, private_access=True), Vantage(place, [by_cidr]))
    assert "admits it: check the egress of sg-0f1" in admitted
