"""A repository in another account lets this cluster's pulling role in (repository policy)."""

from __future__ import annotations

import json

from pullmedic.core.causes import Cause
from pullmedic.core.iampolicy import resource_policy_allows
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks.base import CheckMeta, Verdict
from pullmedic.diagnosing.checks.facts import ROLE_READS, Fact, Snapshot, Subject

META = CheckMeta(
    id="ecr_repository_policy", title="A cross-account repository policy allows the pulling role",
    causes=frozenset({Cause.AUTH_FAILED}), severity="high",
    fix="Add a statement to the repository policy (merge it with the existing statements) that "
        "allows the pulling role ecr:BatchGetImage and ecr:GetDownloadUrlForLayer.",
    command="aws ecr set-repository-policy --registry-id {account} --region {region} "
            "--repository-name {repo} --policy-text '{policy}'",
    permissions=ROLE_READS + ("ecr:GetRepositoryPolicy",),
    needs=frozenset({Fact.PULL_ROLE, Fact.ECR_POLICY}),
)
ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
# Reads the policy in place (a failure stops the chain: nothing is written).
MERGE = ("aws ecr get-repository-policy --registry-id {account} --region {region} "
         "--repository-name {repo} --query policyText --output text")


def run(subject: Subject, facts: Snapshot) -> Verdict | None:
    """Only for images in another account than the cluster's."""
    image, role_arn, policy = subject.image, facts.pull_role, facts.ecr_policy
    if image is None or image.ecr is None or image.ecr.account == facts.account or role_arn is None:
        return None
    ecr = image.ecr
    if isinstance(role_arn, Unavailable):
        return Verdict.unavailable(META, role_arn.why)
    if isinstance(policy, Unavailable):
        return Verdict.unavailable(META, f"{policy.why} (account {ecr.account} must allow "
                                         "ecr:GetRepositoryPolicy to pullmedic's role)")
    where = f"repository {image.repository} in account {ecr.account}"
    if policy is None:
        return _fix(META, subject, role_arn, f"{where} has no repository policy, so no other "
                                             f"account (including {facts.account}) may pull from it",
                    merge=False)
    denied = [a for a in ACTIONS if resource_policy_allows(
        policy, principal_arn=role_arn, principal_account=facts.account, action=a).decision
        != "allowed"]
    if not denied:
        return Verdict.passed(META, f"the policy of {where} allows {role_arn}")
    return _fix(META, subject, role_arn, f"the policy of {where} does not allow {role_arn} "
                                         f"{', '.join(denied)}")


def _fix(meta: CheckMeta, subject: Subject, role_arn: str, evidence: str, merge: bool = True) -> Verdict:
    """The statement to add. With a policy in place, the command reads it, adds the statement
    (replacing an earlier PullFromEks one) and writes the merged policy: setting the statement
    alone would drop every other grant of the repository."""
    image = subject.image
    assert image is not None and image.ecr is not None
    statement = {"Sid": "PullFromEks", "Effect": "Allow", "Principal": {"AWS": role_arn},
                 "Action": [*ACTIONS, "ecr:BatchCheckLayerAvailability"]}
    where = dict(account=image.ecr.account, region=image.ecr.region, repo=image.repository)
    if not merge:
        policy = {"Version": "2012-10-17", "Statement": [statement]}
        return Verdict.confirmed(meta, evidence, commands=(meta.command.format(
            **where, policy=json.dumps(policy, separators=(",", ":"))),))
    add = ('import json,sys; p=json.load(sys.stdin); p["Statement"]=[s for s in p["Statement"] '
           f'if s.get("Sid")!="PullFromEks"]+[{json.dumps(statement, separators=(",", ":"))}]; '
           "print(json.dumps(p))")
    command = (MERGE.format(**where) + f" | python3 -c '{add}' > pullmedic-ecr-policy.json && "
               + meta.command.format(**where, policy="").replace("--policy-text ''",
                                                                 "--policy-text file://pullmedic-ecr-policy.json"))
    return Verdict.confirmed(meta, evidence, commands=(command,))
