"""Doctor's verdicts from facts (pure): the network, access entry and identity lines, and the
doctor event."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pullmedic.app.event import DoctorOrder, InvalidEvent, parse_event
from pullmedic.core.deployment import (
    AccessEntry,
    ClusterFacts,
    DeploymentFacts,
    FunctionNetwork,
    KubeAccess,
    Line,
)
from pullmedic.core.unavailable import Unavailable
from pullmedic.doctor.verdicts import cluster_lines, scan_needs
from pullmedic.reading.deployment import identity_of, same_role

EVENTS = Path(__file__).resolve().parents[2] / "events"
ROLE = "arn:aws:iam::123456789012:role/service-role/pullmedic-ScanFunctionRole-AB12"
VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
NEEDS = scan_needs(False, None)


def deployment(network: Any = None, clusters: list[ClusterFacts] | None = None) -> DeploymentFacts:
    identity = identity_of("arn:aws:sts::123456789012:assumed-role/pullmedic-ScanFunctionRole-AB12/x", ROLE)
    return DeploymentFacts("eu-west-1", identity, "fn", network, None, None, None, None, None,
                           clusters or [])


def cluster(vpc: dict[str, Any] | None = None, entry: Any = None, groups: Any = None,
            kube: KubeAccess | None = None) -> ClusterFacts:
    config = {"vpcId": "vpc-1", "clusterSecurityGroupId": "sg-cluster", "endpointPublicAccess": True,
              "endpointPrivateAccess": False, "publicAccessCidrs": ["0.0.0.0/0"], **(vpc or {})}
    return ClusterFacts("prod", {"accessConfig": {"authenticationMode": "API"}, "resourcesVpcConfig": config},
                        entry=entry, security_groups=groups or [],
                        kube=kube or KubeAccess({need: True for need in NEEDS}))


def line(lines: list[Line], check: str) -> Line:
    (found,) = [x for x in lines if x.check == check]
    return found


def sg(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"GroupId": "sg-cluster", "IpPermissions": rules, "IpPermissionsEgress": []}]


def test_assumed_role_maps_back_to_its_role_and_entries_match_without_the_path() -> None:
    identity = identity_of("arn:aws-cn:sts::123456789012:assumed-role/scan/session")
    assert not isinstance(identity, Unavailable)
    assert identity.role_arn == "arn:aws-cn:iam::123456789012:role/scan" and identity.partition == "aws-cn"
    assert same_role(ROLE, "arn:aws:iam::123456789012:role/pullmedic-ScanFunctionRole-AB12")
    assert not same_role(ROLE, "arn:aws:iam::210987654321:role/pullmedic-ScanFunctionRole-AB12")
    user = identity_of("arn:aws:iam::123456789012:user/alice")
    assert not isinstance(user, Unavailable) and user.role_arn is None
    assert isinstance(identity_of("not-an-arn"), Unavailable)


def test_private_endpoint_in_the_functions_vpc_needs_the_cluster_group_to_admit_443() -> None:
    network = FunctionNetwork("vpc-1", {"subnet-1": "10.0.1.0/24"}, ("sg-fn",), ())
    private = {"endpointPublicAccess": False, "endpointPrivateAccess": True}
    closed = cluster(private, groups=sg([]))
    lines = cluster_lines(deployment(network), closed, NEEDS)
    assert line(lines, "endpoint").verdict == "ok"
    blocked = line(lines, "cluster security group")
    assert blocked.verdict == "problem"
    assert blocked.fix == ("aws ec2 authorize-security-group-ingress --group-id sg-cluster --protocol tcp "
                           "--port 443 --source-group sg-fn")
    by_group = sg([{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                    "UserIdGroupPairs": [{"GroupId": "sg-fn"}]}])
    assert line(cluster_lines(deployment(network), cluster(private, groups=by_group), NEEDS),
                "cluster security group").verdict == "ok"
    by_cidr = sg([{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
    assert line(cluster_lines(deployment(network), cluster(private, groups=by_cidr), NEEDS),
                "cluster security group").verdict == "ok"


def test_private_only_endpoint_from_another_vpc_or_outside_is_a_problem() -> None:
    private = {"endpointPublicAccess": False, "endpointPrivateAccess": True}
    for network in (FunctionNetwork(None), FunctionNetwork("vpc-2", {"s": "10.9.0.0/24"}, ("sg-fn",))):
        endpoint = line(cluster_lines(deployment(network), cluster(private), NEEDS), "endpoint")
        assert endpoint.verdict == "problem" and "SubnetIds" in endpoint.fix


def test_restricted_cidrs_need_the_nat_address_of_the_functions_subnets() -> None:
    restricted = {"publicAccessCidrs": ["203.0.113.0/24"]}
    behind_nat = FunctionNetwork("vpc-2", {"s": "10.9.0.0/24"}, ("sg-fn",), ("198.51.100.7",))
    endpoint = line(cluster_lines(deployment(behind_nat), cluster(restricted), NEEDS), "endpoint")
    assert endpoint.verdict == "problem" and "198.51.100.7 is not in publicAccessCidrs" in endpoint.detail
    assert endpoint.fix.endswith("publicAccessCidrs=203.0.113.0/24,198.51.100.7/32")
    listed = FunctionNetwork("vpc-2", {"s": "10.9.0.0/24"}, ("sg-fn",), ("203.0.113.9",))
    assert line(cluster_lines(deployment(listed), cluster(restricted), NEEDS), "endpoint").verdict == "ok"
    unknown = line(cluster_lines(deployment(None), cluster(restricted), NEEDS), "endpoint")
    assert unknown.verdict == "unknown" and "--function" in unknown.fix


def test_access_entry_needs_a_view_policy_on_the_whole_cluster() -> None:
    namespaced = AccessEntry(ROLE, "STANDARD", ("pullmedic-readers",), ((VIEW, "namespace", ("team",)),))
    entry = line(cluster_lines(deployment(), cluster(entry=namespaced), NEEDS), "access entry")
    assert entry.verdict == "problem" and "scoped to namespaces team" in entry.detail
    assert "--access-scope type=cluster" in entry.fix
    admin_view = AccessEntry(ROLE, "STANDARD", (), (
        ("arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy", "cluster", ()),))
    assert line(cluster_lines(deployment(), cluster(entry=admin_view), NEEDS), "access entry").verdict == "ok"
    none = line(cluster_lines(deployment(), cluster(entry=None), NEEDS), "access entry")
    assert none.verdict == "problem" and f"--principal-arn {ROLE} --type STANDARD" in none.fix
    unreadable = Unavailable("eks:ListAccessEntries: AccessDeniedException: no")
    refused = cluster(entry=unreadable, kube=KubeAccess(status=401, error="Unauthorized"))
    assert line(cluster_lines(deployment(), refused, NEEDS), "access entry").verdict == "unknown"


def test_retry_pods_asks_for_eviction_in_each_allowed_namespace() -> None:
    needs = scan_needs(True, ("team", "web"))
    texts = [n.text() for n in needs]
    assert "create pods/eviction in namespace team" in texts and "get secrets in all namespaces" in texts
    assert texts.count("create pods/eviction in namespace web") == 1
    assert "create pods/eviction in all namespaces" in [n.text() for n in scan_needs(False, ())]


def test_doctor_event() -> None:
    assert parse_event(json.loads((EVENTS / "doctor.json").read_text())) == DoctorOrder(None)
    assert parse_event({"doctor": {"clusters": ["prod", "prod"]}}) == DoctorOrder(("prod",))
    with pytest.raises(InvalidEvent) as raised:
        parse_event({"doctor": {"clusters": ["bad name"], "fix": True}, "dry_run": True})
    assert len(raised.value.problems) == 3
    with pytest.raises(InvalidEvent, match="'doctor' must be an object"):
        parse_event({"doctor": "all"})


def test_report_bounds_and_redacts_what_servers_said() -> None:
    from pullmedic.doctor.run import LINE_MAX, report

    hostile = Line("kubernetes api", "prod", "unknown", "x" * 100_000 + " AKIAIOSFODNN7EXAMPLE", "")
    (doc,) = report([hostile])["doctor"]["lines"]
    assert len(doc["detail"]) <= LINE_MAX and "characters in all" in doc["detail"]
    leaked = report([Line("access entry", "prod", "unknown", "token k8s-aws-v1.aHR0cHM6Ly9zdHMu", "")])
    assert "aHR0cHM6Ly9zdHMu" not in leaked["doctor"]["lines"][0]["detail"]
    assert report([hostile])["doctor"]["ok"] is False


def test_aws_lists_an_unconfirmed_subscription_without_an_arn() -> None:
    """ListSubscriptionsByTopic shows SubscriptionArn "PendingConfirmation" until the link is
    clicked (moto confirms at once, so the sandbox marks its attribute instead)."""
    from pullmedic.reading.deployment import DoctorReader

    assert DoctorReader._pending(None, {"SubscriptionArn": "PendingConfirmation"}) is True
    assert DoctorReader._pending(None, {"SubscriptionArn": "Deleted"}) is False


def test_function_egress_must_let_443_out_to_the_cluster_or_anywhere() -> None:
    closed = [{"GroupId": "sg-fn", "IpPermissions": [], "IpPermissionsEgress": [
        {"IpProtocol": "tcp", "FromPort": 53, "ToPort": 53, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}]
    private = {"endpointPublicAccess": False, "endpointPrivateAccess": True}
    in_vpc = FunctionNetwork("vpc-1", {"s": "10.0.1.0/24"}, ("sg-fn",), (), closed)
    egress = line(cluster_lines(deployment(in_vpc), cluster(private), NEEDS), "function egress")
    assert egress.verdict == "problem"
    assert egress.fix == ("aws ec2 authorize-security-group-egress --group-id sg-fn --ip-permissions "
                          "'IpProtocol=tcp,FromPort=443,ToPort=443,UserIdGroupPairs=[{GroupId=sg-cluster}]'")
    elsewhere = FunctionNetwork("vpc-2", {"s": "10.9.0.0/24"}, ("sg-fn",), (), closed)
    public = line(cluster_lines(deployment(elsewhere), cluster(), NEEDS), "function egress")
    assert public.verdict == "problem" and public.fix.endswith("IpRanges=[{CidrIp=0.0.0.0/0}]'")
    default = [{"GroupId": "sg-fn", "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [
        {"CidrIp": "0.0.0.0/0"}]}]}]
    opened = FunctionNetwork("vpc-1", {"s": "10.0.1.0/24"}, ("sg-fn",), (), default)
    assert line(cluster_lines(deployment(opened), cluster(private), NEEDS), "function egress").verdict == "ok"


def test_a_topic_with_more_subscriptions_than_read_says_what_was_cut() -> None:
    from dataclasses import replace

    from pullmedic.core.deployment import SUBSCRIPTIONS_MAX, Subscription
    from pullmedic.doctor.verdicts import checklist

    read = [Subscription("email", f"team{n}@example.com", pending=False)
            for n in range(SUBSCRIPTIONS_MAX + 1)]  # the listing stops one past the cap
    facts = replace(deployment(), topic_arn="arn:aws:sns:eu-west-1:123456789012:alerts", subscriptions=read)
    topic = line(checklist(facts, NEEDS), "alert topic")
    assert topic.verdict == "ok"
    assert topic.detail == (f"{SUBSCRIPTIONS_MAX} confirmed subscription(s) (email); the topic has more "
                            f"than {SUBSCRIPTIONS_MAX} subscriptions, the first {SUBSCRIPTIONS_MAX} were "
                            "looked at")
