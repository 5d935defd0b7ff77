"""What the simulated API server refuses (a scenario's `deny` list), and the review API that
reports the same answers: authorization.k8s.io/v1 SelfSubjectAccessReview.

A rule is written as kubectl names it: ``"list nodes"``, ``"get secrets"``,
``"create pods/eviction in team"``, ``"list replicasets.apps"``; ``*`` matches any verb or
resource. Everything not denied is allowed (the sandbox's identity is cluster-admin-like).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

REVIEW_PREFIX = "/apis/authorization.k8s.io/v1/"
_SSAR = "selfsubjectaccessreviews"


@dataclass(frozen=True)
class Rule:
    """One denied verb on one resource (and subresource), in one namespace or all."""

    verb: str
    resource: str
    subresource: str
    group: str
    namespace: str  # "": every namespace and cluster scope

    def matches(self, verb: str, group: str, resource: str, subresource: str, namespace: str) -> bool:
        """Whether the request falls under this rule."""
        return (self.verb in ("*", verb) and self.resource in ("*", resource)
                and self.subresource == subresource and self.group in ("*", group)
                and self.namespace in ("", namespace))


def parse_rule(text: str) -> Rule:
    """``"verb resource[/sub][.group] [in namespace]"`` (ValueError otherwise)."""
    words = text.split()
    if len(words) not in (2, 4) or (len(words) == 4 and words[2] != "in"):
        raise ValueError(f"deny rule {text!r}: write 'verb resource[/subresource][.group] [in namespace]'")
    name, _, group = words[1].partition(".")
    resource, _, subresource = name.partition("/")
    return Rule(words[0], resource, subresource, group, words[3] if len(words) == 4 else "")


class Rbac:
    """The denied rules of one cluster."""

    def __init__(self, denied: Iterable[str] = ()) -> None:
        self.rules = tuple(parse_rule(text) for text in denied)

    def allows(self, verb: str, group: str, resource: str, subresource: str = "",
               namespace: str = "") -> bool:
        """Whether a request (or a review's question) is allowed."""
        return not any(r.matches(verb, group, resource, subresource, namespace) for r in self.rules)


def is_review(path: str) -> bool:
    """Whether the path is one of the review APIs."""
    return path.startswith(REVIEW_PREFIX)


def review(method: str, path: str, body: bytes, rbac: Rbac) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of a review request, as kube-apiserver answers it."""
    if path.rstrip("/") != REVIEW_PREFIX + _SSAR:
        return 404, _status(404, "NotFound", "the server could not find the requested resource")
    if method != "POST":
        return 405, _status(405, "MethodNotAllowed",
                            "the server does not allow this method on the requested resource")
    try:
        request = json.loads(body or b"{}")
    except ValueError as error:
        return 400, _status(400, "BadRequest", f"the body of the request was in an unknown format: {error}")
    spec = request.get("spec") if isinstance(request, dict) else None
    attributes = (spec or {}).get("resourceAttributes") if isinstance(spec, dict) else None
    non_resource = (spec or {}).get("nonResourceAttributes") if isinstance(spec, dict) else None
    if (attributes is None) == (non_resource is None):
        return 422, _status(422, "Invalid", 'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: '
                            "spec.resourceAttributes: Invalid value: \"null\": exactly one of "
                            "nonResourceAttributes or resourceAttributes must be specified")
    if attributes is not None:
        allowed = rbac.allows(str(attributes.get("verb", "")), str(attributes.get("group", "")),
                              str(attributes.get("resource", "")), str(attributes.get("subresource", "")),
                              str(attributes.get("namespace", "")))
    else:
        allowed = True
    status: dict[str, Any] = {"allowed": allowed}
    if allowed:
        status["reason"] = "EKS Access Policy: allowed by ClusterRoleBinding of the sandbox"
    return 201, {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
                 "metadata": {"creationTimestamp": None}, "spec": spec, "status": status}


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}
