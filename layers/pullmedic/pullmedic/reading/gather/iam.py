"""IAM reads: instance profile -> role, and the role's policy documents (cached per policy)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, cast

from pullmedic.core.unavailable import Unavailable, guarded
from pullmedic.reading.gather.cache import Memo

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient

PolicyDocs = list[tuple[str, dict[str, Any]]]
Decisions = dict[tuple[str, str], str]  # (action, resource) -> allowed | explicitDeny | implicitDeny
SIMULATED_RESOURCES = 50  # resource ARNs per SimulatePrincipalPolicy request


class IamReader:
    """Cached reads of roles and policies for one scan (safe to share between threads)."""

    def __init__(self, client: IAMClient) -> None:
        self._iam = client
        self._profiles: Memo[str, str | Unavailable] = Memo()
        self._role_policies: Memo[str, PolicyDocs | Unavailable] = Memo()
        self._managed: Memo[str, dict[str, Any] | Unavailable] = Memo()
        self._simulated: Memo[tuple[str, tuple[str, ...], tuple[str, ...]], Decisions | Unavailable] = Memo()

    def role_of_profile(self, profile_arn: str) -> str | Unavailable:
        """The role ARN behind an instance profile ARN."""
        def read() -> str | Unavailable:
            name = profile_arn.rsplit("/", 1)[-1]
            result = guarded("iam:GetInstanceProfile",
                             lambda: self._iam.get_instance_profile(InstanceProfileName=name))
            if isinstance(result, Unavailable):
                return result
            roles = result["InstanceProfile"].get("Roles", [])
            return roles[0]["Arn"] if roles else Unavailable(f"instance profile {name} has no role")
        return self._profiles.get(profile_arn, read)

    def policies(self, role_arn: str) -> PolicyDocs | Unavailable:
        """(policy name, document) for every attached managed and inline policy of the role."""
        return self._role_policies.get(role_arn, lambda: self._read_policies(role_arn.rsplit("/", 1)[-1]))

    def simulate(self, role_arn: str, actions: tuple[str, ...],
                 resources: tuple[str, ...]) -> Decisions | Unavailable:
        """The IAM policy simulator's decisions (it also weighs SCPs and permission boundaries)
        for every action on every resource: one request per role and SIMULATED_RESOURCES
        resources, so a scan asks once per role for all the repositories its findings name."""
        ordered = sorted(set(resources))
        decisions: Decisions = {}
        for start in range(0, len(ordered), SIMULATED_RESOURCES):
            chunk = tuple(ordered[start:start + SIMULATED_RESOURCES])
            part = self._simulated.get((role_arn, actions, chunk),
                                       partial(self._simulate, role_arn, actions, chunk))
            if isinstance(part, Unavailable):
                return part
            decisions.update(part)
        return decisions

    def _simulate(self, role_arn: str, actions: tuple[str, ...],
                  resources: tuple[str, ...]) -> Decisions | Unavailable:
        result = guarded("iam:SimulatePrincipalPolicy", lambda: [
            r for page in self._iam.get_paginator("simulate_principal_policy").paginate(
                PolicySourceArn=role_arn, ActionNames=list(actions), ResourceArns=list(resources))
            for r in page["EvaluationResults"]])
        if isinstance(result, Unavailable):
            return result
        decisions: Decisions = {}
        for evaluation in result:
            action = evaluation["EvalActionName"]
            # per resource in ResourceSpecificResults; older answers had one result per resource
            for specific in evaluation.get("ResourceSpecificResults") or []:
                decisions[(action, specific["EvalResourceName"])] = specific["EvalResourceDecision"]
            if not evaluation.get("ResourceSpecificResults"):
                named = evaluation.get("EvalResourceName")
                for resource in [named] if named and named in resources else resources:
                    decisions[(action, resource)] = evaluation["EvalDecision"]
        return decisions

    def _read_policies(self, role: str) -> PolicyDocs | Unavailable:
        iam, docs = self._iam, []
        attached = guarded("iam:ListAttachedRolePolicies", lambda: [
            p for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role)
            for p in page["AttachedPolicies"]])
        if isinstance(attached, Unavailable):
            return attached
        for policy in attached:
            document = self._managed_document(policy["PolicyArn"])
            if isinstance(document, Unavailable):
                return document
            docs.append((policy["PolicyName"], document))
        inline = guarded("iam:ListRolePolicies", lambda: [
            n for page in iam.get_paginator("list_role_policies").paginate(RoleName=role)
            for n in page["PolicyNames"]])
        if isinstance(inline, Unavailable):
            return inline
        for name in inline:
            result = guarded("iam:GetRolePolicy",
                             partial(iam.get_role_policy, RoleName=role, PolicyName=name))
            if isinstance(result, Unavailable):
                return result
            docs.append((name, _document(result["PolicyDocument"])))
        return docs

    def _managed_document(self, arn: str) -> dict[str, Any] | Unavailable:
        def read() -> dict[str, Any]:
            version = self._iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
            return _document(self._iam.get_policy_version(PolicyArn=arn, VersionId=version)[
                "PolicyVersion"]["Document"])
        return self._managed.get(arn, lambda: guarded("iam:GetPolicyVersion", read))


def _document(document: object) -> dict[str, Any]:
    """A policy document as boto3 returns it: the URL-encoded JSON decoded into a dict."""
    return cast(dict[str, Any], document)
