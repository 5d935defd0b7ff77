"""The role that pulls (node role, or Fargate pod execution role) may pull from ECR."""

from __future__ import annotations

from dataclasses import replace

from pullmedic.causes import Cause
from pullmedic.checks.base import CheckMeta, Verdict
from pullmedic.evidence import ROLE_READS, Facts, Subject, repository_arn
from pullmedic.gather.unavailable import Unavailable
from pullmedic.iampolicy import evaluate

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
)
TOKEN = "ecr:GetAuthorizationToken"  # on every resource ("*")
PULL = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")  # on the repository
ACTIONS = (TOKEN, *PULL)


def run(subject: Subject, facts: Facts) -> Verdict | None:
    """Evaluate the role's identity policies for the three actions a pull needs."""
    image = subject.image
    if image is None or image.ecr is None:
        return None
    role_arn = facts.pull_role(subject)
    if isinstance(role_arn, Unavailable):
        return Verdict.unavailable(META, role_arn.why)
    policies = facts.iam.policies(role_arn)
    if isinstance(policies, Unavailable):
        return Verdict.unavailable(META, policies.why)
    ecr = image.ecr
    repo_arn = repository_arn(image)
    role = role_arn.rsplit("/", 1)[-1]
    kind = "Fargate pod execution role" if subject.fargate_profile else "node role"
    denied, simulator = [], []
    # One simulation per role for the token, one for every ECR repository the scan's findings
    # name: the request count stays flat however many findings share the role.
    token = facts.iam.simulate(role_arn, (TOKEN,), ("*",))
    pull = facts.iam.simulate(role_arn, PULL, (repo_arn, *facts.repository_arns()))
    for action in ACTIONS:
        resource = "*" if action == TOKEN else repo_arn
        decision = evaluate(policies, action, resource)
        decisions = token if action == TOKEN else pull
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
    note = (f" (decided from the role's policies; {simulator[0]})" if simulator else
            " (the IAM policy simulator agrees)")
    if not denied:
        names = ", ".join(name for name, _ in policies)
        return Verdict.passed(META, f"{kind} {role} allows the ECR pull actions ({names}){note}")
    return Verdict.confirmed(
        META, f"{kind} {role} ({role_arn}) is not allowed " + "; ".join(denied) + note,
        commands=(META.command.format(role=role, partition=ecr.partition,
                                      policy=FARGATE_POLICY if subject.fargate_profile else PULL_ONLY),))
