"""What makes a printed command work when pasted: the kube context, real ids, no placeholder."""

from __future__ import annotations

import re
from dataclasses import replace

from test_alert_formats import finding

from pullmedic.announcing.render import Announcement, text
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks import CHECKS
from pullmedic.diagnosing.diagnose import in_context
from pullmedic.reading.gather.ec2 import VpcFacts, usable_nat

ARN = "arn:aws:eks:us-east-1:123456789012:cluster/prod"
PLACEHOLDER = re.compile(r"<[a-z][a-z-]*>")


def test_a_kubectl_fix_names_the_clusters_context() -> None:
    pasted = in_context("kubectl -n shop set image deployment/api api=app:v8", ARN)
    assert pasted == f"kubectl --context {ARN} -n shop set image deployment/api api=app:v8"
    assert in_context(pasted, "arn:aws:eks:eu-west-1:1:cluster/other") == pasted
    assert in_context("aws ec2 delete-route --route-table-id rtb-1", ARN).startswith("aws ec2")
    assert in_context("kubectl get pods", "") == "kubectl get pods"  # no ARN known: as it was


def test_no_check_prints_a_placeholder() -> None:
    assert [c for c, check in CHECKS.items() if PLACEHOLDER.search(check.META.command)] == []


def nat(nat_id: str, subnet: str, state: str = "available", kind: str = "public") -> dict[str, str]:
    return {"NatGatewayId": nat_id, "SubnetId": subnet, "State": state, "ConnectivityType": kind}


def test_the_nat_a_route_can_use_is_available_public_and_near() -> None:
    subnets = {"subnet-a": {"AvailabilityZone": "us-east-1a"}, "subnet-b": {"AvailabilityZone": "us-east-1b"},
               "subnet-a2": {"AvailabilityZone": "us-east-1a"}}
    vpc = VpcFacts("vpc-1", subnets=subnets, nat_gateways={
        "nat-0": nat("nat-0", "subnet-b"), "nat-1": nat("nat-1", "subnet-a2"),
        "nat-2": nat("nat-2", "subnet-a", state="deleted"),
        "nat-3": nat("nat-3", "subnet-a", kind="private")})
    assert usable_nat(vpc, "subnet-a") == "nat-1"  # same zone first
    assert usable_nat(vpc, "subnet-b") == "nat-0"
    assert usable_nat(VpcFacts("vpc-1", nat_gateways={"nat-2": nat("nat-2", "subnet-a", "pending")}),
                      "subnet-a") is None
    assert usable_nat(VpcFacts("vpc-1", nat_gateways=Unavailable("denied")), "subnet-a") is None


def test_the_alert_says_how_to_get_the_kube_context_once_per_cluster() -> None:
    kubectl = f"kubectl --context {ARN} -n shop set image deployment/api api=app:v8"
    one = [Announcement("new", replace(finding(name), fix_commands=(kubectl,))) for name in ("a", "b")]
    body = text(one, [])
    assert body.count("$ aws eks update-kubeconfig --name prod --region us-east-1") == 1
    assert body.index("update-kubeconfig") < body.index(f"$ {kubectl}")
    dev = "arn:aws:eks:eu-west-1:210987654321:cluster/dev"
    other = replace(finding("c", cluster="210987654321/eu-west-1/dev"), region="eu-west-1",
                    fix_commands=(f"kubectl --context {dev} get pods",))
    body = text([*one, Announcement("new", other)], [])
    assert body.count("$ aws eks update-kubeconfig --name prod --region us-east-1") == 2  # per problem
    assert body.count("$ aws eks update-kubeconfig --name dev --region eu-west-1") == 1
    aws_only = replace(finding("d"), fix_commands=("aws ecr describe-images --repository-name d",))
    assert "update-kubeconfig" not in text([Announcement("new", aws_only)], [])


def test_each_problem_has_its_own_console_silence_event() -> None:
    body = text([Announcement("new", finding(name)) for name in ("a", "b")], [])
    assert "<fingerprint>" not in body and body.count('{"silence": {"fingerprint": "') == 2
