"""route_to_registry over in-memory facts: each verdict it can give."""

from __future__ import annotations

import pytest
from casebook import INTERNET, REGION, Case, facts, host, network, route, subject, verify

from pullmedic.core.causes import Cause
from pullmedic.core.netpath.target import S3_STAND_IN, Target
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks import route_to_registry
from pullmedic.diagnosing.checks.base import CONFIRMED, PASSED, UNAVAILABLE
from pullmedic.diagnosing.checks.facts import Endpoint, NatGateway

UNREACHABLE = Cause.REGISTRY_UNREACHABLE
LOCAL = route("10.0.0.0/16", "local")
DKR = Target("endpoint", "10.0.2.5", ("sg-vpce",), "the ecr.dkr endpoint vpce-dkr (10.0.2.5)")
LAYERS = Target("internet", S3_STAND_IN, (), "S3 in us-east-2 for image layers on the internet",
                hop="layers")
S3_GATEWAY = {"s3": Endpoint("vpce-s3", route_tables=("rtb-1",))}
CASES = [
    Case("no host", subject(cause=UNREACHABLE), facts(network=None), None),
    Case("network unreadable", subject(cause=UNREACHABLE), facts(network=Unavailable(
        "ec2:DescribeRouteTables: UnauthorizedOperation: no")), UNAVAILABLE,
        says=("unavailable: ec2:DescribeRouteTables",)),
    Case("no route table", subject(cause=UNREACHABLE), facts(network=network(route_table=None)),
         UNAVAILABLE, says=("no route table found for subnet subnet-a",)),
    Case("NAT route", subject(cause=UNREACHABLE), facts(network=network()), PASSED,
         says=("rtb-1: 0.0.0.0/0 -> nat-1 (active)",)),
    Case("no default route, a NAT gateway in the VPC", subject(cause=UNREACHABLE), facts(network=network(
        routes=(LOCAL,), usable_nat="nat-2")),
         CONFIRMED, says=("route table rtb-1 of subnet subnet-a has no route to the registry on "
                                 "the internet", "and the VPC has no ECR interface endpoints"),
         fix=("aws ec2 create-route --route-table-id rtb-1 --destination-cidr-block 0.0.0.0/0 "
              "--nat-gateway-id nat-2", "through NAT gateway nat-2")),
    Case("no default route, no NAT gateway", subject(cause=UNREACHABLE), facts(network=network(
        routes=(LOCAL,))), CONFIRMED, says=("has no route to the registry on the internet",),
         fix=(f"--service-name com.amazonaws.{REGION}.ecr.dkr --subnet-ids subnet-a",
              f"--service-name com.amazonaws.{REGION}.s3 --route-table-ids rtb-1",
              "VPC vpc-1 has no available NAT gateway")),
    Case("blackhole", subject(cause=UNREACHABLE), facts(network=network(routes=(
        LOCAL, route("0.0.0.0/0", "nat-gone", "blackhole")), usable_nat="nat-2")), CONFIRMED,
        says=("rtb-1: 0.0.0.0/0 -> nat-gone (blackhole): the route's target is gone",),
        fix=("aws ec2 replace-route --route-table-id rtb-1 --destination-cidr-block 0.0.0.0/0 "
             "--nat-gateway-id nat-2",)),
    Case("NAT deleted", subject(cause=UNREACHABLE), facts(network=network(nat_gateways={
        "nat-1": NatGateway("nat-1", "deleted")})), CONFIRMED, says=("NAT gateway nat-1 is deleted",)),
    Case("private NAT", subject(cause=UNREACHABLE), facts(network=network(nat_gateways={
        "nat-1": NatGateway("nat-1", private=True)})), CONFIRMED,
        says=("NAT gateway nat-1 is a private NAT: it gives no internet access",)),
    Case("IGW without a public IP", subject(cause=UNREACHABLE), facts(network=network(routes=(
        LOCAL, route("0.0.0.0/0", "igw-1")))), CONFIRMED,
        says=("the route goes to an internet gateway but instance i-0abc has no public IP address",)),
    Case("IGW with a public IP", subject(cause=UNREACHABLE), facts(network=network(
        host=host(public_ip="3.1.2.3"), routes=(LOCAL, route("0.0.0.0/0", "igw-1")))), PASSED,
        says=("rtb-1: 0.0.0.0/0 -> igw-1 (active)",)),
    Case("layers have no route", subject(cause=UNREACHABLE), facts(network=network(
        hops=(INTERNET, LAYERS), routes=(LOCAL, route("0.0.0.0/0", "nat-1"),
                                         route(f"{S3_STAND_IN}/32", "nat-x", "blackhole")))),
        CONFIRMED, says=("layers hop (S3): rtb-1: 52.216.8.10/32 -> nat-x (blackhole)",),
        fix=("aws ec2 delete-route --route-table-id rtb-1 --destination-cidr-block 52.216.8.10/32",)),
    Case("endpoints and the S3 gateway", subject(cause=UNREACHABLE), facts(network=network(
        target=DKR, hops=(DKR,), routes=(LOCAL,), endpoints=S3_GATEWAY)), PASSED,
        says=("route table rtb-1 uses the ECR endpoints and the S3 gateway endpoint vpce-s3",)),
    Case("endpoints, layers through NAT", subject(cause=UNREACHABLE), facts(network=network(
        target=DKR, hops=(DKR,))), PASSED, says=("layers leave through rtb-1: 0.0.0.0/0 -> nat-1",)),
    Case("endpoints, no way to S3", subject(cause=UNREACHABLE), facts(network=network(
        target=DKR, hops=(DKR,), routes=(LOCAL,))), CONFIRMED,
        says=("layers hop (S3): route table rtb-1 has no route to S3",),
        fix=(f"aws ec2 create-vpc-endpoint --vpc-id vpc-1 --service-name com.amazonaws.{REGION}.s3 "
             "--route-table-ids rtb-1",)),
    Case("endpoints, gateway not on the table", subject(cause=UNREACHABLE), facts(network=network(
        target=DKR, hops=(DKR,), routes=(LOCAL,), endpoints={"s3": Endpoint("vpce-s3")})),
        CONFIRMED, fix=("aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-s3 "
                               "--add-route-table-ids rtb-1",)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_verdict(case: Case) -> None:
    verify(route_to_registry, case)
