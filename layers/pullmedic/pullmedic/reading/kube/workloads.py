"""Name the workload (Deployment, CronJob, StatefulSet, ...) behind each failing pod."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pullmedic.core.limits import NAME_MAX, clean
from pullmedic.core.model import PodInfo, Workload

_CRONJOB_JOB_NAME = re.compile(r"^(?P<cronjob>.+)-\d{8,}$")
HASH_LABEL = "pod-template-hash"


def replicaset_selector(pods: Iterable[PodInfo]) -> str | None:
    """A label selector matching the ReplicaSets of RS-owned pods, or None if there are none."""
    hashes = sorted({p.labels[HASH_LABEL] for p in pods
                     if p.owner_kind == "ReplicaSet" and HASH_LABEL in p.labels})
    return f"{HASH_LABEL} in ({','.join(hashes)})" if hashes else None


def needs_jobs(pods: Iterable[PodInfo]) -> bool:
    """True when a pod is owned by a Job (whose CronJob must be looked up)."""
    return any(p.owner_kind == "Job" for p in pods)


def controller_index(pages: Iterator[list[dict[str, Any]]]) -> dict[tuple[str, str], Workload | None]:
    """(namespace, name) -> the object's controlling owner, or None when it has none."""
    index: dict[tuple[str, str], Workload | None] = {}
    for page in pages:
        for item in page:
            meta = item.get("metadata") if isinstance(item, dict) else None
            if not isinstance(meta, dict):
                continue
            owners = meta.get("ownerReferences")
            owner = next((o for o in owners if isinstance(o, dict) and o.get("controller") is True
                          and isinstance(o.get("kind"), str) and isinstance(o.get("name"), str)),
                         None) if isinstance(owners, list) else None
            index[(clean(meta.get("namespace"), NAME_MAX), clean(meta.get("name"), NAME_MAX))] = (
                Workload(clean(owner["kind"], NAME_MAX), clean(owner["name"], NAME_MAX)) if owner else None)
    return index


def workload_of(pod: PodInfo, owners: Mapping[tuple[str, str], Workload | None] | None) -> Workload:
    """Follow the pod's owner chain one more step where needed (RS -> Deployment, Job -> CronJob).

    `owners` is the controller index of the pod's owner kind, or None when it could not
    be read; then the owner is inferred from the names controllers give.
    """
    if pod.owner_kind is None or pod.owner_name is None:
        return Workload("Pod", pod.name)
    if pod.owner_kind not in ("ReplicaSet", "Job"):
        return Workload(pod.owner_kind, pod.owner_name)
    key = (pod.namespace, pod.owner_name)
    if owners is not None and key in owners:
        return owners[key] or Workload(pod.owner_kind, pod.owner_name)
    return _inferred(pod)


def _inferred(pod: PodInfo) -> Workload:
    """Deployment from `<deployment>-<pod-template-hash>`, CronJob from `<cronjob>-<minutes>`."""
    name = pod.owner_name or pod.name
    if pod.owner_kind == "ReplicaSet":
        suffix = "-" + pod.labels.get(HASH_LABEL, "\0")
        if name.endswith(suffix):
            return Workload("Deployment", name[: -len(suffix)], inferred=True)
    elif pod.owner_kind == "Job" and (match := _CRONJOB_JOB_NAME.match(name)):
        return Workload("CronJob", match["cronjob"], inferred=True)
    return Workload(pod.owner_kind or "Pod", name, inferred=True)
