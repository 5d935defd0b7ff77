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

from pullmedic.model import SANDBOX, ContainerFailure, FailureEvent, PodInfo

PULL_SECRETS = "(image pull secrets)"

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


def parse_time(value: str | None) -> datetime | None:
    """Parse a Kubernetes RFC 3339 timestamp (`2024-01-02T03:04:05Z`, with or without micros)."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def pod_info(pod: Mapping[str, Any]) -> PodInfo:
    """The fields of one pod the scan keeps."""
    meta, spec, status = pod.get("metadata", {}), pod.get("spec", {}), pod.get("status", {})
    owner = next((o for o in meta.get("ownerReferences") or [] if o.get("controller")),
                 (meta.get("ownerReferences") or [None])[0]) or {}
    return PodInfo(
        namespace=meta.get("namespace", ""), name=meta.get("name", ""), uid=meta.get("uid", ""),
        created=parse_time(meta.get("creationTimestamp")), node=spec.get("nodeName"),
        host_ip=status.get("hostIP"), pod_ip=status.get("podIP"),
        labels=dict(meta.get("labels") or {}), owner_kind=owner.get("kind"),
        owner_name=owner.get("name"),
        service_account=spec.get("serviceAccountName") or "default",
        pull_secrets=tuple(s.get("name", "") for s in spec.get("imagePullSecrets") or []),
    )


def candidates(pod: Mapping[str, Any], now: datetime, grace: timedelta) -> list[Candidate]:
    """The containers of `pod` waiting on their image, once the pod is older than `grace`.

    Most pods are healthy: their statuses are looked at first, and the pod's other fields
    are read only for the few that match.
    """
    status = pod.get("status", {})
    waiting: list[tuple[dict[str, Any], str, dict[str, Any]]] = []
    creating, any_status = True, False
    for key, ctype in _STATUS_KEYS:
        for cs in status.get(key) or []:
            any_status = True
            state = (cs.get("state") or {}).get("waiting") or {}
            reason = state.get("reason", "")
            if reason in PULL_REASONS:
                waiting.append((cs, ctype, state))
            if reason not in _SANDBOX_WAITING:
                creating = False
    node = (pod.get("spec") or {}).get("nodeName")
    stuck = not waiting and status.get("phase") == "Pending" and node and (creating or not any_status)
    if not waiting and not stuck:
        return []
    info = pod_info(pod)
    if info.created is not None and now - info.created < grace:
        return []
    if stuck:
        return [Candidate(info, SANDBOX, "sandbox", "", "ContainerCreating", "")]
    return [Candidate(info, cs.get("name", ""), ctype, cs.get("image", ""), state.get("reason", ""),
                      state.get("message", "")) for cs, ctype, state in waiting]


def event_key(event: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """(namespace, pod name, container or SANDBOX) for an event worth keeping, else None."""
    reason = event.get("reason")
    if reason not in EVENT_REASONS:
        return None
    obj = event.get("involvedObject") or {}
    message = event.get("message") or ""
    if reason == "Failed":
        match = _FIELD_PATH.match(obj.get("fieldPath") or "")
        if match is None or message.startswith("Error: "):
            return None
        return obj.get("namespace", ""), obj.get("name", ""), match.group(1)
    slot = PULL_SECRETS if reason == "FailedToRetrieveImagePullSecret" else SANDBOX
    return obj.get("namespace", ""), obj.get("name", ""), slot


def failure_event(event: Mapping[str, Any]) -> FailureEvent:
    """The kept part of one event."""
    time = (parse_time((event.get("series") or {}).get("lastObservedTime"))
            or parse_time(event.get("lastTimestamp")) or parse_time(event.get("eventTime"))
            or parse_time((event.get("metadata") or {}).get("creationTimestamp")))
    count = int(event.get("count") or (event.get("series") or {}).get("count") or 1)
    return FailureEvent(event.get("reason", ""), event.get("message") or "", time, count)


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
                                           event.message, "event", event))
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
                                c.waiting_message, "waiting", event)
    if event is not None and not _about_image(event.message, c.image):
        event = None
    for chosen in (event, secrets):
        if chosen is not None:
            return ContainerFailure(cluster, c.pod, c.container, c.container_type, c.image,
                                    c.reason, chosen.message, "event", chosen)
    return ContainerFailure(cluster, c.pod, c.container, c.container_type, c.image, c.reason,
                            c.waiting_message, "none", None)


def _about_image(message: str, image: str) -> bool:
    """False when a `Failed to pull image "X"` event names another image than `image`."""
    match = _PULLED_IMAGE.match(message)
    return match is None or not image or match.group(1) == image
