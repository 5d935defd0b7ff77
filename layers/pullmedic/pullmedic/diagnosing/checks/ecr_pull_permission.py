"""The role that pulls (node role, or Fargate pod execution role) may pull from ECR."""

from __future__ import annotations

from dataclasses import replace

from pullmedic.core.causes import Cause
from pullmedic.core.iampolicy import evaluate
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks.base import CheckMeta, Verdict
from pullmedic.diagnosing.checks.facts import (
    ROLE_READS,
    Fact,
    RolePermissions,
    Snapshot,
    Subject,
    repository_arn,
)

PULL_ONLY = "AmazonEC2ContainerRegistryPullOnly"
FARGATE_POLICY = "AmazonEKSFargatePodExecutionRolePolicy"  # what EKS documents for Fargate
META = CheckMeta(
    id="ecr_pull_permission", title="The pulling role may pull from ECR",
    causes=frozenset({Cause.AUTH_FAILED}), severity="high",
    fix=f"Attach the AWS managed policy {PULL_ONLY} to the node role ({FARGATE_POLICY} to a "
        "Fargate pod execution role).",
    command="aws iam attach-role-policy --role-name {role} --policy-arn "
            "arn:{partition}:iam::aws:policy/{policy}",
    permissions=ROLE_READS + ("iam:ListAttachedRolePolicies", "iam:GetPolicy", "iam:GetPolicyVersion",
                              "iam:ListRolePolicies", "iam:GetRolePolicy",
                              "iam:SimulatePrincipalPolicy"),
    needs=frozenset({Fact.PULL_ROLE, Fact.ROLE_PERMISSIONS}),
)
TOKEN = "ecr:GetAuthorizationToken"  # on every resource ("*")
PULL = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")  # on the repository
ACTIONS = (TOKEN, *PULL)


def run(subject: Subject, facts: Snapshot) -> Verdict | None:
    """Evaluate the role's identity policies for the three actions a pull needs."""
    image, role_arn, permissions = subject.image, facts.pull_role, facts.role_permissions
    if image is None or image.ecr is None or role_arn is None:
        return None
    if isinstance(role_arn, Unavailable):
        return Verdict.unavailable(META, role_arn.why)
    if permissions is None:
        return None
    if isinstance(permissions, Unavailable):
        return Verdict.unavailable(META, permissions.why)
    ecr, policies = image.ecr, permissions.policies
    repo_arn = repository_arn(image)
    role = role_arn.rsplit("/", 1)[-1]
    kind = "Fargate pod execution role" if subject.fargate_profile else "node role"
    denied, simulator = _denied(permissions, repo_arn)
    note = (f" (decided from the role's policies; {simulator[0]})" if simulator else
            " (the IAM policy simulator agrees)")
    if not denied:
        names = ", ".join(name for name, _ in policies)
        return Verdict.passed(META, f"{kind} {role} allows the ECR pull actions ({names}){note}")
    return Verdict.confirmed(
        META, f"{kind} {role} ({role_arn}) is not allowed " + "; ".join(denied) + note,
        commands=(META.command.format(role=role, partition=ecr.partition,
                                      policy=FARGATE_POLICY if subject.fargate_profile else PULL_ONLY),))


def _denied(permissions: RolePermissions, repo_arn: str) -> tuple[list[str], list[str]]:
    """The actions the role may not take (its policies, overruled by the simulator's denial),
    and why the simulator could not decide, when it could not."""
    denied, simulator = [], []
    for action in ACTIONS:
        resource = "*" if action == TOKEN else repo_arn
        decision = evaluate(permissions.policies, action, resource)
        decisions = permissions.token if action == TOKEN else permissions.pull
        simulated = decisions if isinstance(decisions, Unavailable) else decisions.get(
            (action, resource), Unavailable(f"iam:SimulatePrincipalPolicy: no decision for {action}"))
        if isinstance(simulated, Unavailable):
            simulator.append(simulated.why)
        elif simulated != "allowed" and decision.decision == "allowed":
            decision = replace(decision, decision=simulated,
                               reason="the IAM policy simulator denies it (an SCP or a permissions "
                                      "boundary, which the role's own policies do not show)")
        if decision.decision != "allowed":
            denied.append(f"{action} ({decision.decision}: {decision.reason})")
    return denied, simulator
