"""Attach AmazonEC2ContainerRegistryPullOnly to the role that pulls, once IAM proves it cannot."""

from __future__ import annotations

from pullmedic.core.arns import parse_arn
from pullmedic.core.causes import Cause
from pullmedic.core.model import Finding
from pullmedic.core.unavailable import Unavailable, guarded
from pullmedic.diagnosing.checks.base import CONFIRMED
from pullmedic.diagnosing.evidence import subject_of
from pullmedic.diagnosing.findings import fingerprint
from pullmedic.remediating.actions.base import (
    ALREADY_DONE,
    ActionMeta,
    Call,
    Context,
    Outcome,
    Plan,
    Step,
    attempt,
    evidence_digest,
    proven,
)

POLICY = "AmazonEC2ContainerRegistryPullOnly"
META = ActionMeta(
    id="grant_ecr_pull", title=f"Attach {POLICY} to the role that pulls",
    causes=frozenset({Cause.AUTH_FAILED}), evidence=(("ecr_pull_permission", CONFIRMED),),
    changes=f"attaches the AWS managed policy {POLICY} (ECR pull actions on every repository) to "
            "the node role or Fargate pod execution role: every pod on those nodes may then pull "
            "from this account's ECR repositories",
    calls=(f"iam:AttachRolePolicy RoleName={{role}} PolicyArn=arn:{{partition}}:iam::aws:policy/{POLICY}",),
    undo=f"aws iam detach-role-policy --role-name {{role}} --policy-arn "
         f"arn:{{partition}}:iam::aws:policy/{POLICY}",
    permissions=("iam:AttachRolePolicy",), kube_verbs=(),
)


def applies(finding: Finding) -> bool:
    """IAM evaluation proved that the pulling role lacks the ECR pull actions."""
    return proven(META, finding)


def plan(context: Context) -> Plan | None:
    """The role and policy to attach (done when it is attached already)."""
    finding = context.finding
    role_arn = context.facts.pull_role(subject_of(finding))
    if isinstance(role_arn, Unavailable):
        why = f"cannot tell which role pulls: {role_arn.why}"
        return _plan(finding, "?", "aws", blocker=why) if applies(finding) else None
    role, partition = role_arn.rsplit("/", 1)[-1], (parse_arn(role_arn) or {}).get("partition", "aws")
    policies = context.facts.iam.policies(role_arn)
    attached = not isinstance(policies, Unavailable) and POLICY in {name for name, _ in policies}
    if not attached and not applies(finding):
        return None
    return _plan(finding, role, partition, role_arn=role_arn, in_place=attached)


def apply(plan: Plan, context: Context) -> Outcome:
    """Attach the policy unless the role has it already (read first: a second approval is a no-op)."""
    (call,) = plan.calls
    iam = context.client_for("iam", None)
    role, policy_arn = call.params["RoleName"], call.params["PolicyArn"]
    attached = guarded("iam:ListAttachedRolePolicies", lambda: [
        p["PolicyArn"] for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role)
        for p in page["AttachedPolicies"]])
    if not isinstance(attached, Unavailable) and policy_arn in attached:
        return Outcome((Step(call, ALREADY_DONE, f"{POLICY} is attached to role {role} already"),))
    return Outcome((attempt(call, lambda: iam.attach_role_policy(RoleName=role, PolicyArn=policy_arn),
                            f"attached {policy_arn} to role {role}"),))


def _plan(finding: Finding, role: str, partition: str, *, role_arn: str = "",
          blocker: str | None = None, in_place: bool = False) -> Plan:
    policy_arn = f"arn:{partition}:iam::aws:policy/{POLICY}"
    call = Call("iam:AttachRolePolicy", f"role {role}", {"RoleName": role, "PolicyArn": policy_arn})
    return Plan(
        action=META.id, fingerprint=fingerprint(finding), cluster=finding.cluster,
        namespace=finding.namespace, resources=(role_arn or role, policy_arn), calls=(call,),
        undo=(META.undo.format(role=role, partition=partition),),
        evidence_digest=evidence_digest(META, finding, role_arn or role, policy_arn),
        blocker=blocker, in_place=in_place)
