"""Plain facts for the checks' unit tests: a finding, its subject and frozen snapshots, built in
memory (no reader, no client, no sandbox), and the assertion every case makes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pullmedic.core.causes import Cause
from pullmedic.core.model import Finding, PodInfo, Workload
from pullmedic.core.netpath.nacl import NaclEntry
from pullmedic.core.netpath.routes import Route
from pullmedic.core.netpath.sg import SgRule
from pullmedic.core.netpath.target import INTERNET_STAND_IN, Target
from pullmedic.core.vocab import VerdictStatus
from pullmedic.diagnosing.checks.base import Check
from pullmedic.diagnosing.checks.facts import Network, Snapshot, Subject, subject_of
from pullmedic.reading.gather.ec2 import Host

REGION, ACCOUNT, OTHER_ACCOUNT = "us-east-2", "111122223333", "444455556666"
ECR = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
ECR_IMAGE = f"{ECR}/shop/api:1.4.2"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/eks-nodes"
INTERNET = Target("internet", INTERNET_STAND_IN, (), f"the registry on the internet (evaluated as "
                  f"{INTERNET_STAND_IN}, tcp/443)")


def pod(**changes: Any) -> PodInfo:
    """A pod of deployment shop/api on node ip-10-0-1-10, in subnet-a."""
    base = PodInfo("shop", "api-7d9f-abcde", "uid-1", None, "ip-10-0-1-10.us-east-2.compute.internal",
                   "10.0.1.10", "10.0.1.55", {}, "ReplicaSet", "api-7d9f", "default", ())
    return replace(base, **changes)


def finding(image: str = ECR_IMAGE, cause: Cause = Cause.IMAGE_NOT_FOUND, rule_id: str = "not_found",
            **changes: Any) -> Finding:
    """A finding of deployment shop/api's container `api`."""
    base = Finding(
        cluster="prod", namespace="shop", workload=Workload("Deployment", "api"), container="api",
        container_type="container", image=image, cause=cause, rule_id=rule_id, summary="",
        alternatives=(), message="", message_source="waiting", reasons=("ErrImagePull",),
        pods=("api-7d9f-abcde",), pod_count=1, nodes=(), severity="high", pod_sample=pod())
    return replace(base, **changes)


def subject(image: str = ECR_IMAGE, cause: Cause = Cause.IMAGE_NOT_FOUND, **changes: Any) -> Subject:
    """The finding's subject, its image parsed once."""
    return subject_of(finding(image, cause, **changes))


def host(**changes: Any) -> Host:
    """Instance i-0abc in subnet-a of vpc-1, behind group sg-node."""
    base = Host("i-0abc", "10.0.1.10", None, "subnet-a", "vpc-1", ("sg-node",), "x86_64", "m5.large",
                f"arn:aws:iam::{ACCOUNT}:instance-profile/eks-nodes")
    return replace(base, **changes)


def route(destination: str, target: str, state: str = "active", table: str = "rtb-1") -> Route:
    kind = {"nat-": "nat", "igw-": "igw", "vpce": "vpce", "local": "local"}
    return Route(table, destination, next((k for p, k in kind.items() if target.startswith(p)), "other"),
                 target, state)


def acl_entry(number: int, egress: bool, action: str = "allow", ports: tuple[int, int] | None = None,
              cidr: str = "0.0.0.0/0") -> NaclEntry:
    return NaclEntry("acl-1", number, egress, "6" if ports else "-1", action, cidr,
                     ports[0] if ports else None, ports[1] if ports else None)


OPEN_ACL = (acl_entry(100, True), acl_entry(100, False), acl_entry(32767, True, "deny"),
            acl_entry(32767, False, "deny"))
OPEN_EGRESS = {"sg-node": (SgRule("sg-node", "egress", "-1", None, None, ("0.0.0.0/0",)),)}


def network(**changes: Any) -> Network:
    """A private subnet with 200 free addresses, a NAT route and an open ACL and group."""
    base = Network(host(), INTERNET, (INTERNET,), "10.0.1.0/24", 200, "rtb-1",
                   (route("10.0.0.0/16", "local"), route("0.0.0.0/0", "nat-1")), "acl-1", OPEN_ACL,
                   group_rules=OPEN_EGRESS)
    return replace(base, **changes)


def facts(**fields: Any) -> Snapshot:
    """The snapshot of a cluster in REGION of ACCOUNT with `fields` set."""
    return Snapshot(REGION, ACCOUNT, **fields)


@dataclass(frozen=True)
class Case:
    """One row of a check's table: what it sees, and what the user must read."""

    name: str
    subject: Subject
    facts: Snapshot
    status: VerdictStatus | None  # None: the check does not apply
    says: tuple[str, ...] = ()  # in the evidence
    fix: tuple[str, ...] = ()  # in the fix commands (or the advice)


def verify(check: Check, case: Case) -> None:
    """The verdict, and the decisive text and fix a user would see."""
    verdict = check.run(case.subject, case.facts)
    if case.status is None:
        assert verdict is None, verdict
        return
    assert verdict is not None, f"{case.name}: no verdict"
    assert verdict.check == check.META.id
    assert verdict.status == case.status, (verdict.status, verdict.text())
    text = "\n".join(verdict.text())
    for said in case.says:
        assert said in text, f"{said!r} not in {text!r}"
    fixes = "\n".join((*verdict.commands, verdict.fix))
    for fix in case.fix:
        assert fix in fixes, f"{fix!r} not in {fixes!r}"
