"""Pick the failing containers out of raw pod and event JSON (pure: no I/O).

Works on the dicts of the API server's JSON (not the client's typed models, which
are several times slower to build for large lists), keeping only what the scan needs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from pullmedic.core.limits import IMAGE_MAX, MESSAGE_MAX, NAME_MAX, clean
from pullmedic.core.model import SANDBOX, ContainerFailure, FailureEvent, PodInfo
from pullmedic.core.vocab import MessageSource

PULL_SECRETS = "(image pull secrets)"
# The labels the scan reads (owner lookup, Fargate profile); the others are not kept.
KEPT_LABELS = frozenset({"pod-template-hash", "eks.amazonaws.com/fargate-profile"})

PULL_REASONS = frozenset({"ErrImagePull", "ImagePullBackOff", "InvalidImageName",
                          "ErrImageNeverPull"})
EVENT_REASONS = frozenset({"Failed", "FailedCreatePodSandBox", "FailedToRetrieveImagePullSecret"})
# Completed pods are never reported; the API server drops them before they are sent.
POD_FIELD_SELECTOR = "status.phase!=Succeeded,status.phase!=Failed"
EVENT_FIELD_SELECTOR = "involvedObject.kind=Pod,type=Warning"

_STATUS_KEYS = (("initContainerStatuses", "init"), ("containerStatuses", "regular"),
                ("ephemeralContainerStatuses", "ephemeral"))
_FIELD_PATH = re.compile(r"^spec\.(?:initContainers|containers|ephemeralContainers)\{(.+)\}$")
_BACKOFF = "Back-off pulling image "
_SANDBOX_IMAGE = re.compile(r'failed to get sandbox image "([^"]+)"')
_PULLED_IMAGE = re.compile(r'^Failed to pull image "([^"]*)"')
_SANDBOX_WAITING = frozenset({"ContainerCreating", "PodInitializing"})


@dataclass(frozen=True)
class Candidate:
    """A container waiting on its image (or a pod that may be stuck on its sandbox)."""

    pod: PodInfo
    container: str
    container_type: str
    image: str
    reason: str
    waiting_message: str


def _map(value: Any) -> Mapping[str, Any]:
    """`value` if it is an object, else an empty one (a malformed field reads as absent)."""
    return value if isinstance(value, Mapping) else {}


def _maps(value: Any) -> list[Mapping[str, Any]]:
    """The objects of a list field; anything else (null, a string, null items) is skipped."""
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _name(value: Any) -> str:
    """A name read from an object: cut to Kubernetes' longest, redacted; not a string: empty."""
    return clean(value, NAME_MAX)


def parse_time(value: Any) -> datetime | None:
    """Parse a Kubernetes RFC 3339 timestamp (`2024-01-02T03:04:05Z`, with or without micros)."""
    if not value or not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def pod_info(pod: Mapping[str, Any]) -> PodInfo:
    """The fields of one pod the scan keeps, each bounded (limits.py)."""
    meta, spec, status = _map(pod.get("metadata")), _map(pod.get("spec")), _map(pod.get("status"))
    owners = _maps(meta.get("ownerReferences"))
    owner = next((o for o in owners if o.get("controller") is True), owners[0] if owners else {})
    return PodInfo(
        namespace=_name(meta.get("namespace")), name=_name(meta.get("name")), uid=_name(meta.get("uid")),
        created=parse_time(meta.get("creationTimestamp")), node=_name(spec.get("nodeName")) or None,
        host_ip=_name(status.get("hostIP")) or None, pod_ip=_name(status.get("podIP")) or None,
        labels={k: _name(v) for k, v in _map(meta.get("labels")).items() if k in KEPT_LABELS},
        owner_kind=_name(owner.get("kind")) or None, owner_name=_name(owner.get("name")) or None,
        service_account=_name(spec.get("serviceAccountName")) or "default",
        pull_secrets=tuple(_name(s.get("name")) for s in _maps(spec.get("imagePullSecrets"))),
    )


def candidates(pod: Mapping[str, Any], now: datetime, grace: timedelta) -> list[Candidate]:
    """The containers of `pod` waiting on their image, once the pod is older than `grace`.

    Most pods are healthy: their statuses are looked at first, and the pod's other fields
    are read only for the few that match.
    """
    status = _map(pod.get("status"))
    waiting, creating, any_status = _waiting(status)
    node = _map(pod.get("spec")).get("nodeName")
    stuck = not waiting and status.get("phase") == "Pending" and node and (creating or not any_status)
    if not waiting and not stuck:
        return []
    info = pod_info(pod)
    if info.created is not None and now - info.created < grace:
        return []
    if stuck:
        return [Candidate(info, SANDBOX, "sandbox", "", "ContainerCreating", "")]
    return [Candidate(info, _name(cs.get("name")), ctype, clean(cs.get("image"), IMAGE_MAX),
                      _name(state.get("reason")), clean(state.get("message"), MESSAGE_MAX))
            for cs, ctype, state in waiting]


Waiting = list[tuple[Mapping[str, Any], str, Mapping[str, Any]]]  # (status, container type, waiting)


def _waiting(status: Mapping[str, Any]) -> tuple[Waiting, bool, bool]:
    """The container statuses waiting on their image; whether every container waits for its
    sandbox (ContainerCreating); whether there is any container status at all."""
    waiting: Waiting = []
    creating, any_status = True, False
    for key, ctype in _STATUS_KEYS:
        for cs in _maps(status.get(key)):
            any_status = True
            state = _map(_map(cs.get("state")).get("waiting"))
            reason = state.get("reason") if isinstance(state.get("reason"), str) else ""
            if reason in PULL_REASONS:
                waiting.append((cs, ctype, state))
            if reason not in _SANDBOX_WAITING:
                creating = False
    return waiting, creating, any_status


def event_key(event: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """(namespace, pod name, container or SANDBOX) for an event worth keeping, else None."""
    reason = event.get("reason")
    if not isinstance(reason, str) or reason not in EVENT_REASONS:
        return None
    obj = _map(event.get("involvedObject"))
    message = event.get("message")
    if reason == "Failed":
        match = _FIELD_PATH.match(_name(obj.get("fieldPath")))
        if match is None or not isinstance(message, str) or message.startswith("Error: "):
            return None
        return _name(obj.get("namespace")), _name(obj.get("name")), match.group(1)
    slot = PULL_SECRETS if reason == "FailedToRetrieveImagePullSecret" else SANDBOX
    return _name(obj.get("namespace")), _name(obj.get("name")), slot


def failure_event(event: Mapping[str, Any]) -> FailureEvent:
    """The kept part of one event."""
    series = _map(event.get("series"))
    time = (parse_time(series.get("lastObservedTime"))
            or parse_time(event.get("lastTimestamp")) or parse_time(event.get("eventTime"))
            or parse_time(_map(event.get("metadata")).get("creationTimestamp")))
    count = event.get("count") or series.get("count") or 1
    return FailureEvent(_name(event.get("reason")), clean(event.get("message"), MESSAGE_MAX), time,
                        count if isinstance(count, int) and not isinstance(count, bool) else 1)


def newer(a: FailureEvent | None, b: FailureEvent) -> FailureEvent:
    """The more recent of two events (b wins ties and unknown times)."""
    if a is None or a.time is None or (b.time is not None and b.time >= a.time):
        return b
    return a


def failures(cluster: str, found: Iterable[Candidate],
             events: Mapping[tuple[str, str, str], FailureEvent]) -> list[ContainerFailure]:
    """Attach the best failure text to each candidate; drop pods not stuck on their sandbox."""
    result: list[ContainerFailure] = []
    for c in found:
        key = (c.pod.namespace, c.pod.name)
        if c.container_type == "sandbox":
            event = events.get((*key, SANDBOX))
            if event is None:
                continue
            match = _SANDBOX_IMAGE.search(event.message)
            result.append(ContainerFailure(cluster, c.pod, SANDBOX, "sandbox",
                                           match.group(1) if match else "", event.reason,
                                           event.message, MessageSource.EVENT, event))
            continue
        secrets = events.get((*key, PULL_SECRETS))
        failure = _with_message(cluster, c, events.get((*key, c.container)), secrets)
        result.append(replace(failure, secret_warning=secrets.message) if secrets else failure)
    return result


def _with_message(cluster: str, c: Candidate, event: FailureEvent | None,
                  secrets: FailureEvent | None) -> ContainerFailure:
    """Waiting message if it holds the error, else the newest Failed event, else say so."""
    if c.waiting_message and not c.waiting_message.startswith(_BACKOFF):
        return ContainerFailure(cluster, c.pod, c.container, c.container_type, c.image, c.reason,
                                c.waiting_message, MessageSource.WAITING, event)
    if event is not None and not _about_image(event.message, c.image):
        event = None
    for chosen in (event, secrets):
        if chosen is not None:
            return ContainerFailure(cluster, c.pod, c.container, c.container_type, c.image,
                                    c.reason, chosen.message, MessageSource.EVENT, chosen)
    return ContainerFailure(cluster, c.pod, c.container, c.container_type, c.image, c.reason,
                            c.waiting_message, MessageSource.NONE, None)


def _about_image(message: str, image: str) -> bool:
    """False when a `Failed to pull image "X"` event names another image than `image`."""
    match = _PULLED_IMAGE.match(message)
    return match is None or not image or match.group(1) == image
