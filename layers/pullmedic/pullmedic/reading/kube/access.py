"""Ask the API server what the caller may do: one SelfSubjectAccessReview per permission."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pullmedic.core.deployment import KubeAccess, KubeNeed
from pullmedic.core.unavailable import Unavailable
from pullmedic.reading.kube.reader import CONNECT_TIMEOUT, READ_TIMEOUT, _api_message, _root

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

REVIEW_MAX = 40  # reviews asked of one cluster (retry_pods adds one per namespace)


def review(client: ApiClient, needs: Sequence[KubeNeed], deadline: float | None = None) -> KubeAccess:
    """Each need's answer; a 401, a 403 or an unreachable server stops at the first review.
    Past `deadline` (time.monotonic()), the needs not asked yet are Unavailable."""
    from kubernetes.client import AuthorizationV1Api  # deferred: heavy import
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    api = AuthorizationV1Api(client)
    answers: dict[KubeNeed, bool | Unavailable] = {}
    for need in needs[:REVIEW_MAX]:
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0.05:
            answers[need] = Unavailable("not asked: doctor's time ran out")
            continue
        timeout = (CONNECT_TIMEOUT, READ_TIMEOUT) if left is None else \
            (min(CONNECT_TIMEOUT, left), min(READ_TIMEOUT, left))
        attributes = {"verb": need.verb, "resource": need.resource, "group": need.group}
        attributes.update({k: v for k, v in (("subresource", need.subresource),
                                             ("namespace", need.namespace)) if v})
        body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                "spec": {"resourceAttributes": attributes}}
        try:
            response = api.create_self_subject_access_review(
                body, _preload_content=False, _request_timeout=timeout)
        except ApiException as err:
            if err.status in (401, 403) or not answers:
                return KubeAccess(answers, err.status, _api_message(err))
            answers[need] = Unavailable(_api_message(err))
            continue
        except HTTPError as err:
            return KubeAccess(answers, None, _root(err))
        answers[need] = _allowed(response.data)
    for need in needs[REVIEW_MAX:]:
        answers[need] = Unavailable(f"more than {REVIEW_MAX} permissions to ask")
    return KubeAccess(answers)


def _allowed(data: bytes) -> bool | Unavailable:
    try:
        status = json.loads(data).get("status") or {}
    except (ValueError, AttributeError):
        return Unavailable("the review's answer is not JSON")
    allowed = status.get("allowed") if isinstance(status, dict) else None
    return allowed if isinstance(allowed, bool) else Unavailable("the review has no status.allowed")
