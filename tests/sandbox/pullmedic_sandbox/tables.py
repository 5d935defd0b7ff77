"""Server-side printing: ``meta.k8s.io/v1`` ``Table`` responses, as ``kubectl get`` asks for them.

Columns and cells follow kube-apiserver's printers (``pkg/printers/internalversion/printers.go``),
computed with ``Wide`` on: columns with ``priority: 1`` are the ones ``kubectl get -o wide`` adds.
Kinds without a printer here are answered as plain JSON lists, which kubectl prints itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

Obj = dict[str, Any]
Cell = str | int
_Printer = tuple[tuple[tuple[str, str, int], ...], Callable[[Obj, dt.datetime], list[Cell]]]

TABLE_GROUP, TABLE_VERSION = "meta.k8s.io", "v1"


def human_duration(seconds: float) -> str:
    """``duration.HumanDuration`` of apimachinery: ``45s``, ``5m3s``, ``3h20m``, ``12d``..."""
    whole = int(seconds)
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 120:
        return f"{whole}s"
    minutes, hours = whole // 60, whole // 3600
    if minutes < 10:
        return f"{minutes}m" if whole % 60 == 0 else f"{minutes}m{whole % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        return f"{days}d" if hours % 24 == 0 else f"{days}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{days}d"
    years = days // 365
    if hours < 24 * 365 * 8:
        return f"{years}y" if days % 365 == 0 else f"{years}y{days % 365}d"
    return f"{years}y"


def _since(timestamp: Any, now: dt.datetime) -> str:
    """Age of an RFC 3339 timestamp (``<unknown>`` when absent or unreadable)."""
    if not timestamp:
        return "<unknown>"
    try:
        then = dt.datetime.fromisoformat(str(timestamp).replace("Z", "+00:00"))
    except ValueError:
        return "<unknown>"
    if then.tzinfo is None:
        then = then.replace(tzinfo=dt.UTC)
    return human_duration((now - then).total_seconds())


def _get(obj: Mapping[str, Any], *path: str) -> Any:
    """A nested field or None."""
    value: Any = obj
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _pod_template_columns(obj: Obj) -> list[Cell]:
    """Containers, Images and Selector of a workload (the wide columns)."""
    containers = _get(obj, "spec", "template", "spec", "containers") or []
    return [
        ",".join(str(c.get("name", "")) for c in containers) or "<none>",
        ",".join(str(c.get("image", "")) for c in containers) or "<none>",
        _selector_text(_get(obj, "spec", "selector")),
    ]


def _selector_text(selector: Mapping[str, Any] | None) -> str:
    """``metav1.FormatLabelSelector``: ``app=web,tier in (a,b)`` or ``<none>``."""
    if not selector:
        return "<none>"
    terms = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key", ""), expression.get("operator", "")
        values = ",".join(expression.get("values") or [])
        terms.append(
            {
                "In": f"{key} in ({values})",
                "NotIn": f"{key} notin ({values})",
                "Exists": key,
                "DoesNotExist": f"!{key}",
            }.get(operator, f"{key} {operator} ({values})")
        )
    return ",".join(terms) or "<none>"


# -------------------------------------------------------------------------------------- pods


def _pod_cells(pod: Obj, now: dt.datetime) -> list[Cell]:
    """``printPod``: name, ready, status reason, restarts, age and the wide columns."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}
    sidecars = {n for n, c in init_specs.items() if c.get("restartPolicy") == "Always"}
    total = len(spec.get("containers") or []) + len(sidecars)
    ready = restarts = sidecar_restarts = 0
    last_restart = sidecar_last_restart = ""
    initializing = False
    init_statuses = status.get("initContainerStatuses") or []
    for index, container in enumerate(init_statuses):
        restarts += int(container.get("restartCount") or 0)
        finished = _get(container, "lastState", "terminated", "finishedAt") or ""
        last_restart = max(last_restart, finished)
        if container.get("name") in sidecars:
            sidecar_restarts += int(container.get("restartCount") or 0)
            sidecar_last_restart = max(sidecar_last_restart, finished)
        state = container.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated is not None and terminated.get("exitCode", 0) == 0:
            continue
        if container.get("name") in sidecars and container.get("started"):
            ready += 1 if container.get("ready") else 0
            continue
        if terminated is not None:
            if terminated.get("reason"):
                reason = f"Init:{terminated['reason']}"
            elif terminated.get("signal"):
                reason = f"Init:Signal:{terminated['signal']}"
            else:
                reason = f"Init:ExitCode:{terminated.get('exitCode', 0)}"
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = f"Init:{waiting['reason']}"
        else:
            reason = f"Init:{index}/{len(init_specs)}"
        initializing = True
        break
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    if not initializing or conditions.get("Initialized") == "True":
        restarts, last_restart = sidecar_restarts, sidecar_last_restart
        has_running = False
        for container in reversed(status.get("containerStatuses") or []):
            restarts += int(container.get("restartCount") or 0)
            finished = _get(container, "lastState", "terminated", "finishedAt") or ""
            last_restart = max(last_restart, finished)
            state = container.get("state") or {}
            terminated, waiting = state.get("terminated"), state.get("waiting")
            if waiting and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated is not None:
                signal = terminated.get("signal")
                reason = f"Signal:{signal}" if signal else f"ExitCode:{terminated.get('exitCode', 0)}"
            elif container.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if conditions.get("Ready") == "True" else "NotReady"
    deleting = bool(_get(pod, "metadata", "deletionTimestamp"))
    if deleting and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif deleting and phase not in {"Succeeded", "Failed"}:
        reason = "Terminating"
    restarts_text = str(restarts)
    if restarts and last_restart:
        restarts_text = f"{restarts} ({_since(last_restart, now)} ago)"
    pod_ips = status.get("podIPs") or []
    gates = spec.get("readinessGates") or []
    gates_text = "<none>"
    if gates:
        passed = sum(conditions.get(g.get("conditionType")) == "True" for g in gates)
        gates_text = f"{passed}/{len(gates)}"
    return [
        _get(pod, "metadata", "name"),
        f"{ready}/{total}",
        reason,
        restarts_text,
        _since(_get(pod, "metadata", "creationTimestamp"), now),
        (pod_ips[0].get("ip") if pod_ips else "") or "<none>",
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        gates_text,
    ]


# ------------------------------------------------------------------------------------ events


def _event_cells(event: Obj, now: dt.datetime) -> list[Cell]:
    """``printEvent``: last seen, type, reason, object, subobject, source, message..."""
    first = event.get("firstTimestamp") or event.get("eventTime")
    last = event.get("lastTimestamp") or first
    count = event.get("count") or 1
    series = event.get("series")
    if series:
        last, count = series.get("lastObservedTime"), series.get("count") or count
    involved = event.get("involvedObject") or {}
    kind = str(involved.get("kind") or "").lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    source = event.get("source") or {}
    component = source.get("component") or event.get("reportingComponent") or ""
    instance = source.get("host") or event.get("reportingInstance") or ""
    return [
        _since(last, now),
        event.get("type") or "",
        event.get("reason") or "",
        target,
        involved.get("fieldPath") or "",
        f"{component}, {instance}" if instance else component,
        str(event.get("message") or "").strip(),
        _since(first, now),
        int(count),
        _get(event, "metadata", "name"),
    ]


# ------------------------------------------------------------------------------ other kinds


def _node_cells(node: Obj, now: dt.datetime) -> list[Cell]:
    """``printNode``: status from the Ready condition, roles from ``node-role`` labels."""
    conditions = {c.get("type"): c.get("status") for c in _get(node, "status", "conditions") or []}
    ready = conditions.get("Ready")
    states = ["Ready" if ready == "True" else "NotReady" if ready else "Unknown"]
    if _get(node, "spec", "unschedulable"):
        states.append("SchedulingDisabled")
    labels = _get(node, "metadata", "labels") or {}
    prefix = "node-role.kubernetes.io/"
    roles = {k.removeprefix(prefix) for k in labels if k.startswith(prefix)}
    if labels.get("kubernetes.io/role"):
        roles.add(labels["kubernetes.io/role"])
    addresses = {a.get("type"): a.get("address") for a in _get(node, "status", "addresses") or []}
    info = _get(node, "status", "nodeInfo") or {}
    return [
        _get(node, "metadata", "name"),
        ",".join(states),
        ",".join(sorted(r for r in roles if r)) or "<none>",
        _since(_get(node, "metadata", "creationTimestamp"), now),
        info.get("kubeletVersion") or "",
        addresses.get("InternalIP") or "<none>",
        addresses.get("ExternalIP") or "<none>",
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


def _deployment_cells(obj: Obj, now: dt.datetime) -> list[Cell]:
    """``printDeployment``: ready/desired, up-to-date, available."""
    status = obj.get("status") or {}
    desired = _get(obj, "spec", "replicas")
    return [
        _get(obj, "metadata", "name"),
        f"{status.get('readyReplicas', 0)}/{1 if desired is None else desired}",
        int(status.get("updatedReplicas", 0)),
        int(status.get("availableReplicas", 0)),
        _since(_get(obj, "metadata", "creationTimestamp"), now),
        *_pod_template_columns(obj),
    ]


def _replicaset_cells(obj: Obj, now: dt.datetime) -> list[Cell]:
    """``printReplicaSet``: desired, current, ready."""
    status = obj.get("status") or {}
    desired = _get(obj, "spec", "replicas")
    return [
        _get(obj, "metadata", "name"),
        int(1 if desired is None else desired),
        int(status.get("replicas", 0)),
        int(status.get("readyReplicas", 0)),
        _since(_get(obj, "metadata", "creationTimestamp"), now),
        *_pod_template_columns(obj),
    ]


def _statefulset_cells(obj: Obj, now: dt.datetime) -> list[Cell]:
    """``printStatefulSet``: ready/desired (wide: containers and images, no selector)."""
    desired = _get(obj, "spec", "replicas")
    return [
        _get(obj, "metadata", "name"),
        f"{_get(obj, 'status', 'readyReplicas') or 0}/{1 if desired is None else desired}",
        _since(_get(obj, "metadata", "creationTimestamp"), now),
        *_pod_template_columns(obj)[:2],
    ]


def _daemonset_cells(obj: Obj, now: dt.datetime) -> list[Cell]:
    """``printDaemonSet``: scheduled counts and the pod template's node selector."""
    status = obj.get("status") or {}
    node_selector = _get(obj, "spec", "template", "spec", "nodeSelector") or {}
    return [
        _get(obj, "metadata", "name"),
        *(int(status.get(key, 0)) for key in ("desiredNumberScheduled", "currentNumberScheduled",
                                               "numberReady", "updatedNumberScheduled",
                                               "numberAvailable")),
        ",".join(f"{k}={v}" for k, v in sorted(node_selector.items())) or "<none>",
        _since(_get(obj, "metadata", "creationTimestamp"), now),
        *_pod_template_columns(obj),
    ]


def _namespace_cells(obj: Obj, now: dt.datetime) -> list[Cell]:
    """``printNamespace``: phase."""
    return [
        _get(obj, "metadata", "name"),
        _get(obj, "status", "phase") or "",
        _since(_get(obj, "metadata", "creationTimestamp"), now),
    ]


def _secret_cells(obj: Obj, now: dt.datetime) -> list[Cell]:
    """``printSecret``: type and number of data keys (never the values)."""
    data = obj.get("data") or {}
    return [
        _get(obj, "metadata", "name"),
        obj.get("type") or "",
        len(data),
        _since(_get(obj, "metadata", "creationTimestamp"), now),
    ]


def _service_account_cells(obj: Obj, now: dt.datetime) -> list[Cell]:
    """``printServiceAccount``: number of secrets."""
    return [
        _get(obj, "metadata", "name"),
        len(obj.get("secrets") or []),
        _since(_get(obj, "metadata", "creationTimestamp"), now),
    ]


def _budget_cells(obj: Obj, now: dt.datetime) -> list[Cell]:
    """``printPodDisruptionBudget``: min available, max unavailable, allowed disruptions."""
    spec = obj.get("spec") or {}
    return [
        _get(obj, "metadata", "name"),
        str(spec["minAvailable"]) if spec.get("minAvailable") is not None else "N/A",
        str(spec["maxUnavailable"]) if spec.get("maxUnavailable") is not None else "N/A",
        int(_get(obj, "status", "disruptionsAllowed") or 0),
        _since(_get(obj, "metadata", "creationTimestamp"), now),
    ]


_NAME = ("Name", "string", 0)
_AGE = ("Age", "string", 0)
_TEMPLATE = (("Containers", "string", 1), ("Images", "string", 1), ("Selector", "string", 1))
PRINTERS: dict[str, _Printer] = {
    "Pod": (
        (_NAME, ("Ready", "string", 0), ("Status", "string", 0), ("Restarts", "string", 0), _AGE,
         ("IP", "string", 1), ("Node", "string", 1), ("Nominated Node", "string", 1),
         ("Readiness Gates", "string", 1)),
        _pod_cells,
    ),
    "Event": (
        (("Last Seen", "string", 0), ("Type", "string", 0), ("Reason", "string", 0),
         ("Object", "string", 0), ("Subobject", "string", 1), ("Source", "string", 1),
         ("Message", "string", 0), ("First Seen", "string", 1), ("Count", "integer", 1),
         ("Name", "string", 1)),
        _event_cells,
    ),
    "Node": (
        (_NAME, ("Status", "string", 0), ("Roles", "string", 0), _AGE, ("Version", "string", 0),
         ("Internal-IP", "string", 1), ("External-IP", "string", 1), ("OS-Image", "string", 1),
         ("Kernel-Version", "string", 1), ("Container-Runtime", "string", 1)),
        _node_cells,
    ),
    "Deployment": (
        (_NAME, ("Ready", "string", 0), ("Up-to-date", "integer", 0),
         ("Available", "integer", 0), _AGE, *_TEMPLATE),
        _deployment_cells,
    ),
    "ReplicaSet": (
        (_NAME, ("Desired", "integer", 0), ("Current", "integer", 0), ("Ready", "integer", 0),
         _AGE, *_TEMPLATE),
        _replicaset_cells,
    ),
    "StatefulSet": ((_NAME, ("Ready", "string", 0), _AGE, *_TEMPLATE[:2]), _statefulset_cells),
    "DaemonSet": (
        (_NAME, ("Desired", "integer", 0), ("Current", "integer", 0), ("Ready", "integer", 0),
         ("Up-to-date", "integer", 0), ("Available", "integer", 0),
         ("Node Selector", "string", 0), _AGE, *_TEMPLATE),
        _daemonset_cells,
    ),
    "Namespace": ((_NAME, ("Status", "string", 0), _AGE), _namespace_cells),
    "Secret": ((_NAME, ("Type", "string", 0), ("Data", "string", 0), _AGE), _secret_cells),
    "ServiceAccount": ((_NAME, ("Secrets", "string", 0), _AGE), _service_account_cells),
    "PodDisruptionBudget": (
        (_NAME, ("Min Available", "string", 0), ("Max Unavailable", "string", 0),
         ("Allowed Disruptions", "integer", 0), _AGE),
        _budget_cells,
    ),
}


def has_printer(kind: str) -> bool:
    """Whether ``kind`` objects can be answered as a Table."""
    return kind in PRINTERS


def table(
    kind: str,
    objects: list[Obj],
    list_metadata: Obj,
    include_object: str,
    now: dt.datetime | None = None,
) -> Obj:
    """A ``Table`` of ``objects`` (typed, with ``kind``/``apiVersion``) under ``list_metadata``.

    ``include_object`` is the request's ``includeObject``: ``Object``, ``None`` or (default)
    ``Metadata`` -- each row then carries the object, nothing, or its ``PartialObjectMetadata``.
    """
    columns, cells = PRINTERS[kind]
    moment = now or dt.datetime.now(dt.UTC)
    rows = []
    for obj in objects:
        row: Obj = {"cells": cells(obj, moment)}
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = {
                "kind": "PartialObjectMetadata",
                "apiVersion": f"{TABLE_GROUP}/{TABLE_VERSION}",
                "metadata": obj.get("metadata") or {},
            }
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": f"{TABLE_GROUP}/{TABLE_VERSION}",
        "metadata": list_metadata,
        "columnDefinitions": [
            {"name": name, "type": type_, "format": "name" if name == "Name" and index == 0
             else "", "description": "", "priority": priority}
            for index, (name, type_, priority) in enumerate(columns)
        ],
        "rows": rows,
    }
