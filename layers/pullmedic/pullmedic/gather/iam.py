"""IAM reads: instance profile -> role, and the role's policy documents (cached per policy)."""

from __future__ import annotations

from typing import Any

from pullmedic.gather.unavailable import Unavailable, guarded

PolicyDocs = list[tuple[str, dict[str, Any]]]


class IamReader:
    """Cached reads of roles and policies for one scan."""

    def __init__(self, client: Any) -> None:
        self._iam = client
        self._profiles: dict[str, str | Unavailable] = {}
        self._role_policies: dict[str, PolicyDocs | Unavailable] = {}
        self._managed: dict[str, dict[str, Any] | Unavailable] = {}
        self._simulated: dict[tuple[str, str, str], str | Unavailable] = {}

    def role_of_profile(self, profile_arn: str) -> str | Unavailable:
        """The role ARN behind an instance profile ARN."""
        if profile_arn not in self._profiles:
            name = profile_arn.rsplit("/", 1)[-1]
            result = guarded("iam:GetInstanceProfile",
                             lambda: self._iam.get_instance_profile(InstanceProfileName=name))
            if isinstance(result, Unavailable):
                self._profiles[profile_arn] = result
            else:
                roles = result["InstanceProfile"].get("Roles", [])
                self._profiles[profile_arn] = roles[0]["Arn"] if roles else Unavailable(
                    f"instance profile {name} has no role")
        return self._profiles[profile_arn]

    def policies(self, role_arn: str) -> PolicyDocs | Unavailable:
        """(policy name, document) for every attached managed and inline policy of the role."""
        if role_arn not in self._role_policies:
            self._role_policies[role_arn] = self._read_policies(role_arn.rsplit("/", 1)[-1])
        return self._role_policies[role_arn]

    def simulate(self, role_arn: str, action: str, resource: str) -> str | Unavailable:
        """The IAM policy simulator's decision (it also weighs SCPs and permission boundaries)."""
        key = (role_arn, action, resource)
        if key not in self._simulated:
            result = guarded("iam:SimulatePrincipalPolicy", lambda: self._iam.simulate_principal_policy(
                PolicySourceArn=role_arn, ActionNames=[action], ResourceArns=[resource]))
            self._simulated[key] = result if isinstance(result, Unavailable) else \
                result["EvaluationResults"][0]["EvalDecision"]
        return self._simulated[key]

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
                             lambda n=name: iam.get_role_policy(RoleName=role, PolicyName=n))
            if isinstance(result, Unavailable):
                return result
            docs.append((name, result["PolicyDocument"]))
        return docs

    def _managed_document(self, arn: str) -> dict[str, Any] | Unavailable:
        if arn not in self._managed:
            def read() -> dict[str, Any]:
                version = self._iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
                return self._iam.get_policy_version(PolicyArn=arn, VersionId=version)[
                    "PolicyVersion"]["Document"]
            self._managed[arn] = guarded("iam:GetPolicyVersion", read)
        return self._managed[arn]
