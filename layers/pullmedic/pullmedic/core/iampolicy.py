"""Decide whether IAM identity policies and ECR repository policies allow an action.

Covers the subset that decides image pulls: Effect, Action/NotAction, Resource/NotResource,
Principal/NotPrincipal and * / ? wildcards. Conditions are not evaluated: a statement with
one is reported as conditional.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_ROOT_ARN = re.compile(r"^arn:[\w-]+:iam::(\d{12}):root$")


@dataclass(frozen=True)
class PolicyDecision:
    """The outcome, the statement that decided it, and why."""

    decision: str  # "allowed" | "explicitDeny" | "implicitDeny"
    statement: str | None  # "<policy name>: Sid X" or "<policy name>: statement 2"
    conditional: bool  # the outcome hangs on a Condition that was not evaluated
    reason: str


@dataclass(frozen=True)
class _Hit:
    label: str
    effect: str
    conditional: bool


def load(document: Mapping[str, Any] | str) -> Mapping[str, Any]:
    """A policy document from a dict or its JSON text."""
    return json.loads(document) if isinstance(document, str) else document


def _as_list(value: object) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


@lru_cache(maxsize=1024)
def _pattern(glob: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _any_glob(globs: list[Any], value: str, *, ignore_case: bool) -> bool:
    return any(_pattern(str(g), ignore_case).fullmatch(value) for g in globs)


def _element_matches(statement: Mapping[str, Any], key: str, value: str, *, ignore_case: bool) -> bool:
    """Key ("Action", "Resource") or its Not form; a statement with neither matches all."""
    if key in statement:
        return _any_glob(_as_list(statement[key]), value, ignore_case=ignore_case)
    if f"Not{key}" in statement:
        return not _any_glob(_as_list(statement[f"Not{key}"]), value, ignore_case=ignore_case)
    return True


def _label(name: str, index: int, statement: Mapping[str, Any]) -> str:
    sid = statement.get("Sid")
    return f"{name}: Sid {sid}" if sid else f"{name}: statement {index}"


def _statements(name: str, document: Mapping[str, Any] | str) -> list[tuple[str, Mapping[str, Any]]]:
    raw = _as_list(load(document).get("Statement"))
    return [(_label(name, i, s), s) for i, s in enumerate(raw, start=1)]


def _hit(label: str, statement: Mapping[str, Any]) -> _Hit:
    return _Hit(label, str(statement.get("Effect", "")).lower(), bool(statement.get("Condition")))


def _applies(statement: Mapping[str, Any], action: str, resource: str) -> bool:
    return (_element_matches(statement, "Action", action, ignore_case=True)
            and _element_matches(statement, "Resource", resource, ignore_case=False))


def _decide(hits: Sequence[_Hit], what: str, nobody: str) -> PolicyDecision:
    """Explicit deny, else allow, else implicit deny; conditional denies only cast doubt."""
    denies = [h for h in hits if h.effect == "deny"]
    allows = sorted((h for h in hits if h.effect == "allow"), key=lambda h: h.conditional)
    sure_deny = next((h for h in denies if not h.conditional), None)
    if sure_deny:
        return PolicyDecision("explicitDeny", sure_deny.label, False,
                              f"{sure_deny.label} explicitly denies {what}")
    if not allows:
        return PolicyDecision("implicitDeny", None, False, f"{nobody} allows {what}")
    allow = allows[0]
    reason = f"{allow.label} allows {what}"
    if allow.conditional:
        reason += " under a condition that was not evaluated"
    if denies:
        names = ", ".join(h.label for h in denies)
        reason += f", unless the condition on the Deny in {names} applies"
    return PolicyDecision("allowed", allow.label, allow.conditional or bool(denies), reason)


def evaluate(policies: Sequence[tuple[str, Mapping[str, Any] | str]], action: str,
             resource: str) -> PolicyDecision:
    """Whether (name, document) identity policies allow action on resource."""
    hits = [_hit(label, s) for name, doc in policies for label, s in _statements(name, doc)
            if _applies(s, action, resource)]
    names = ", ".join(name for name, _ in policies)
    nobody = f"no statement in {names}" if names else "no policy"
    return _decide(hits, f"{action} on {resource}", nobody)


def evaluate_all(policies: Sequence[tuple[str, Mapping[str, Any] | str]], actions: Sequence[str],
                 resource: str) -> dict[str, PolicyDecision]:
    """evaluate() for each action on one resource."""
    return {action: evaluate(policies, action, resource) for action in actions}


def _aws_principal_matches(value: str, principal_arn: str, principal_account: str) -> bool:
    if value in ("*", principal_arn, principal_account):
        return True
    root = _ROOT_ARN.match(value)
    return root is not None and root.group(1) == principal_account


def _principal_matches(principal: object, principal_arn: str, principal_account: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    if any(_aws_principal_matches(str(v), principal_arn, principal_account)
           for v in _as_list(principal.get("AWS"))):
        return True
    others = (v for key, vals in principal.items() if key != "AWS" for v in _as_list(vals))
    return principal_arn in others


def _names_principal(statement: Mapping[str, Any], principal_arn: str, principal_account: str) -> bool:
    if "Principal" in statement:
        return _principal_matches(statement["Principal"], principal_arn, principal_account)
    if "NotPrincipal" in statement:
        return not _principal_matches(statement["NotPrincipal"], principal_arn, principal_account)
    return False


def resource_policy_allows(policy: Mapping[str, Any] | str, *, principal_arn: str, principal_account: str,
                           action: str, resource: str = "*") -> PolicyDecision:
    """Whether an ECR repository policy allows a principal an action.

    The principal matches "*", its ARN, its account id or its account's root ARN (which
    leaves the decision to that account's IAM policies). Resource "*" means the repository
    the policy is attached to, so Resource elements are not checked.
    """
    hits = [_hit(label, s) for label, s in _statements("repository policy", policy)
            if _names_principal(s, principal_arn, principal_account)
            and _element_matches(s, "Action", action, ignore_case=True)
            and (resource == "*" or _element_matches(s, "Resource", resource, ignore_case=False))]
    what = f"{action} to {principal_arn}"
    return _decide(hits, what, "no statement in the repository policy")
