"""The VPC endpoints' policies let the pulling role read the repository and S3 serve the layers."""

from __future__ import annotations

import json

from pullmedic.core.causes import Cause
from pullmedic.core.iampolicy import resource_policy_allows
from pullmedic.core.imageref import ImageRef
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks.base import CheckMeta, Verdict, missing
from pullmedic.diagnosing.checks.facts import NETWORK_READS, ROLE_READS, Fact, Network, Snapshot, Subject

META = CheckMeta(
    id="vpc_endpoint_policy", title="VPC endpoint policies allow the pull",
    causes=frozenset({Cause.AUTH_FAILED}), severity="high",
    fix="Let the endpoint policies allow the pulling role on the repository (ecr.dkr, ecr.api) "
        "and s3:GetObject on the region's ECR layer bucket (S3 gateway endpoint).",
    # reads the policy in place, adds the statement and writes the merge (a failed read writes
    # nothing; an endpoint policy replaced by the statement alone would drop every other grant)
    command="aws ec2 describe-vpc-endpoints --vpc-endpoint-ids {endpoint} --query "
            "'VpcEndpoints[0].PolicyDocument' --output text | python3 -c '{add}' > "
            "pullmedic-endpoint-policy.json && aws ec2 modify-vpc-endpoint --vpc-endpoint-id "
            "{endpoint} --policy-document file://pullmedic-endpoint-policy.json",
    permissions=NETWORK_READS + ROLE_READS,
    needs=frozenset({Fact.NETWORK, Fact.PULL_ROLE}),
)
PULL_ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability")


def run(subject: Subject, facts: Snapshot) -> Verdict | None:
    """Only for ECR images pulled through the VPC's ecr.dkr endpoint."""
    net = facts.network
    if not isinstance(net, Network):
        return missing(META, net)
    image, role = subject.image, facts.pull_role
    if net.target.kind != "endpoint" or image is None or image.ecr is None or role is None:
        return None
    if isinstance(role, Unavailable):
        return Verdict.unavailable(META, role.why)
    blocked, checked = _blocks(net, facts, role, image)
    if blocked:
        return Verdict.confirmed(META, *(text for text, _, _ in blocked),
                                 commands=tuple(_merge(e, role, grant) for _, e, grant in blocked))
    return Verdict.passed(META, f"endpoint policies ({', '.join(checked) or 'none set'}) allow the pull")


def _merge(endpoint_id: str, role: str, grant: tuple[tuple[str, ...], str]) -> str:
    """The command that adds the statement the pull needs to the endpoint's policy."""
    actions, resource = grant
    statement = {"Sid": "PullFromEks", "Effect": "Allow", "Principal": {"AWS": role},
                 "Action": list(actions), "Resource": resource}
    add = ('import json,sys; p=json.load(sys.stdin); p["Statement"]=[s for s in p["Statement"] '
           f'if s.get("Sid")!="PullFromEks"]+[{json.dumps(statement, separators=(",", ":"))}]; '
           "print(json.dumps(p))")
    return META.command.format(endpoint=endpoint_id, add=add)


Blocked = tuple[str, str, tuple[tuple[str, ...], str]]  # evidence, endpoint, (actions, resource)


def _blocks(net: Network, facts: Snapshot, role: str,
            image: ImageRef) -> tuple[list[Blocked], list[str]]:
    ecr = image.ecr
    assert ecr is not None
    repo_arn = f"arn:{ecr.partition}:ecr:{ecr.region}:{ecr.account}:repository/{image.repository}"
    layers = f"arn:{ecr.partition}:s3:::prod-{ecr.region}-starport-layer-bucket/layer"
    wanted = (("ecr.dkr", "ecr:BatchGetImage", repo_arn), ("ecr.api", "ecr:GetAuthorizationToken", "*"),
              ("s3", "s3:GetObject", layers))
    grants = {"ecr.dkr": PULL_ACTIONS, "ecr.api": ("ecr:GetAuthorizationToken",),
              "s3": ("s3:GetObject",)}
    blocked: list[Blocked] = []
    checked: list[str] = []
    for service, action, resource in wanted:
        found = net.endpoints.get(service)
        if found is None or not found.policy:
            continue
        checked.append(found.id)
        decision = resource_policy_allows(found.policy, principal_arn=role,
                                          principal_account=facts.account, action=action,
                                          resource=resource)
        if decision.decision != "allowed":
            blocked.append((f"the policy of {service} endpoint {found.id} does not allow "
                            f"{action} on {resource} ({decision.reason})", found.id,
                            (grants[service], resource)))
    return blocked, checked
