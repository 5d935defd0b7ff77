"""Which containers count as failing, and which failure text is kept for them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pullmedic.core.model import SANDBOX
from pullmedic.reading.kube.pods import PULL_SECRETS, candidates, event_key, failure_event, failures, newer

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
GRACE = timedelta(minutes=2)


def pod(*, age: timedelta = timedelta(minutes=10), phase: str = "Pending",
        statuses: dict[str, list[dict[str, Any]]] | None = None, node: str | None = "node-1",
        owner: tuple[str, str] | None = ("ReplicaSet", "web-abc12")) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "web-abc12-x1", "namespace": "shop", "uid": "u1",
                            "creationTimestamp": (NOW - age).strftime("%Y-%m-%dT%H:%M:%SZ")}
    if owner:
        meta["ownerReferences"] = [{"kind": owner[0], "name": owner[1], "controller": True}]
    return {"metadata": meta, "spec": {"nodeName": node} if node else {},
            "status": {"phase": phase, **(statuses or {})}}


def waiting(name: str, reason: str, message: str = "", image: str = "nginx:1") -> dict[str, Any]:
    return {"name": name, "image": image, "state": {"waiting": {"reason": reason, "message": message}}}


@pytest.mark.parametrize(("key", "ctype"), [("initContainerStatuses", "init"),
                                             ("containerStatuses", "regular"),
                                             ("ephemeralContainerStatuses", "ephemeral")])
@pytest.mark.parametrize("reason", ["ErrImagePull", "ImagePullBackOff", "InvalidImageName",
                                    "ErrImageNeverPull"])
def test_every_container_kind_and_reason_is_found(key: str, ctype: str, reason: str) -> None:
    found = candidates(pod(statuses={key: [waiting("c", reason)]}), NOW, GRACE)
    assert [(c.container, c.container_type, c.reason) for c in found] == [("c", ctype, reason)]


@pytest.mark.parametrize("status", [
    {"containerStatuses": [{"name": "c", "image": "x", "state": {"running": {}}}]},
    {"containerStatuses": [waiting("c", "CrashLoopBackOff")]},
    {"containerStatuses": [waiting("c", "CreateContainerConfigError")]},
])
def test_other_states_are_not_pull_failures(status: dict[str, Any]) -> None:
    assert candidates(pod(phase="Running", statuses=status), NOW, GRACE) == []


def test_young_pods_are_within_grace() -> None:
    young = pod(age=timedelta(seconds=30), statuses={"containerStatuses": [waiting("c", "ErrImagePull")]})
    assert candidates(young, NOW, GRACE) == []


def test_pending_pod_on_a_node_may_be_stuck_on_its_sandbox() -> None:
    creating = pod(statuses={"containerStatuses": [waiting("c", "ContainerCreating")]})
    assert [c.container for c in candidates(creating, NOW, GRACE)] == [SANDBOX]
    unscheduled = pod(node=None, statuses={"containerStatuses": [waiting("c", "ContainerCreating")]})
    assert candidates(unscheduled, NOW, GRACE) == []


def event(reason: str, message: str, name: str = "web-abc12-x1", field_path: str = "",
          last: str = "2026-11-27T11:58:00Z") -> dict[str, Any]:
    obj = {"kind": "Pod", "namespace": "shop", "name": name}
    if field_path:
        obj["fieldPath"] = field_path
    return {"reason": reason, "message": message, "involvedObject": obj, "lastTimestamp": last,
            "count": 3}


def test_event_keys() -> None:
    init = event("Failed", 'Failed to pull image "a": x', field_path="spec.initContainers{init}")
    assert event_key(init) == ("shop", "web-abc12-x1", "init")
    assert event_key(event("Failed", "Error: ImagePullBackOff", field_path="spec.containers{c}")) is None
    assert event_key(event("BackOff", "Back-off pulling image", field_path="spec.containers{c}")) is None
    assert event_key(event("FailedCreatePodSandBox", "x"))[2] == SANDBOX
    assert event_key(event("FailedToRetrieveImagePullSecret", "x"))[2] == PULL_SECRETS


def test_newest_event_wins() -> None:
    old = failure_event(event("Failed", "old", last="2026-11-27T11:00:00Z"))
    new = failure_event(event("Failed", "new", last="2026-11-27T11:30:00Z"))
    assert newer(old, new).message == "new" and newer(new, old).message == "new"


def test_waiting_message_kept_when_it_holds_the_error() -> None:
    found = candidates(pod(statuses={"containerStatuses": [
        waiting("c", "ErrImagePull", "rpc error: code = NotFound desc = not found")]}), NOW, GRACE)
    (failure,) = failures("prod", found, {})
    assert (failure.message, failure.message_source) == (
        "rpc error: code = NotFound desc = not found", "waiting")


def test_backoff_text_replaced_by_the_failed_event_for_the_same_image() -> None:
    found = candidates(pod(statuses={"containerStatuses": [
        waiting("c", "ImagePullBackOff", 'Back-off pulling image "nginx:1"')]}), NOW, GRACE)
    stale = failure_event(event("Failed", 'Failed to pull image "nginx:0": old image'))
    current = failure_event(event("Failed", 'Failed to pull image "nginx:1": rpc error: x'))
    (a,) = failures("prod", found, {("shop", "web-abc12-x1", "c"): current})
    assert (a.message_source, a.message) == ("event", current.message)
    (b,) = failures("prod", found, {("shop", "web-abc12-x1", "c"): stale})
    assert (b.message_source, b.message) == ("none", 'Back-off pulling image "nginx:1"')


def test_missing_pull_secret_event_explains_a_silent_backoff() -> None:
    found = candidates(pod(statuses={"containerStatuses": [
        waiting("c", "ImagePullBackOff", 'Back-off pulling image "nginx:1"')]}), NOW, GRACE)
    secret = failure_event(event("FailedToRetrieveImagePullSecret",
                                 'Unable to retrieve some image pull secrets (regcred); attempting '
                                 'to pull the image may not succeed.'))
    (failure,) = failures("prod", found, {("shop", "web-abc12-x1", PULL_SECRETS): secret})
    assert failure.message.startswith("Unable to retrieve some image pull secrets")


def test_sandbox_failure_needs_its_event_and_names_the_pause_image() -> None:
    found = candidates(pod(statuses={"containerStatuses": [waiting("c", "ContainerCreating")]}),
                       NOW, GRACE)
    assert failures("prod", found, {}) == []
    message = ('Failed to create pod sandbox: rpc error: code = Unknown desc = failed to get '
               'sandbox image "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/pause:3.5": x')
    sandbox = failure_event(event("FailedCreatePodSandBox", message))
    (failure,) = failures("prod", found, {("shop", "web-abc12-x1", SANDBOX): sandbox})
    assert failure.image == "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/pause:3.5"
    assert failure.container_type == "sandbox"


MALFORMED_PODS = [
    {"metadata": None, "spec": None, "status": None},
    {"status": {"phase": "Pending", "containerStatuses": None}},
    {"status": {"phase": "Pending", "containerStatuses": [None, 5, "x"]}},
    {"status": {"phase": "Pending", "containerStatuses": [
        {"name": ["c"], "image": {"a": 1}, "state": {"waiting": {"reason": ["ErrImagePull"]}}}]}},
    {"metadata": {"name": 5, "ownerReferences": [None, "x", {"kind": 7}], "labels": ["a"]},
     "spec": {"nodeName": ["n"], "imagePullSecrets": [None, {"name": None}]},
     "status": {"phase": "Pending", "containerStatuses": [waiting("c", "ErrImagePull", message=None)]}},
]


@pytest.mark.parametrize("raw", MALFORMED_PODS)
def test_a_malformed_pod_reads_as_absent_fields_never_a_crash(raw: dict[str, Any]) -> None:
    for found in candidates(raw, NOW, GRACE):
        assert isinstance(found.container, str) and isinstance(found.waiting_message, str)
        assert isinstance(found.pod.name, str) and isinstance(found.pod.labels, dict)


@pytest.mark.parametrize("raw", [
    {"reason": ["Failed"]}, {"reason": "Failed", "involvedObject": None, "message": None},
    {"reason": "Failed", "involvedObject": {"fieldPath": 5}, "message": {"x": 1}},
    {"reason": "FailedCreatePodSandBox", "involvedObject": "pod", "count": "many", "series": None},
])
def test_a_malformed_event_is_skipped_or_read_as_absent_fields(raw: dict[str, Any]) -> None:
    key = event_key(raw)
    assert key is None or all(isinstance(part, str) for part in key)
    event = failure_event(raw)
    assert isinstance(event.message, str) and event.count == 1
