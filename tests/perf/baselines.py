"""What a scan is compared with: the floor, and the typical tool's approach (the peer).

floor: per cluster, DescribeCluster, an EKS token, then the same paginated pod and Warning-event
lists the scan makes (same field selectors, same page size) over one HTTPS connection, each
page only json.loads'ed. No scan can read the cluster with less.
peer: per cluster, DescribeCluster, a token, the kubernetes client's typed
list_pod_for_all_namespaces (one unpaginated request, deserialized into models), then one
event list per pod waiting in ErrImagePull/ImagePullBackOff. With a sample, only that many
event lists (and clusters) are timed and the rest extrapolated from their mean.
Both run in scan_child.py's process with the scan's environment; both report wall seconds.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import ssl
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

import boto3

from pullmedic.reading.aws.eks import ClusterAccess, describe
from pullmedic.reading.aws.token import eks_token
from pullmedic.reading.kube.client import api_client
from pullmedic.reading.kube.pods import EVENT_FIELD_SELECTOR, POD_FIELD_SELECTOR

PULL_WAITING = frozenset({"ErrImagePull", "ImagePullBackOff"})


def floor() -> dict[str, Any]:
    """Time the least reading a scan needs: the two lists, pages only parsed."""
    import kubernetes.client  # noqa: F401  (the scan's timing starts after its imports too)

    started = time.perf_counter()
    session, requests, items = boto3.session.Session(), 0, 0
    eks = session.client("eks")
    page_size = os.environ.get("PULLMEDIC_PAGE_SIZE", "500")
    for name in _clusters():
        access = describe(eks, name)
        token = eks_token(session, name, session.region_name)
        connection = _connect(access)
        try:
            for path, selector in (("/api/v1/pods", POD_FIELD_SELECTOR),
                                   ("/api/v1/events", EVENT_FIELD_SELECTOR)):
                after = ""
                while True:
                    query = {"fieldSelector": selector, "limit": page_size}
                    if after:
                        query["continue"] = after
                    connection.request("GET", f"{path}?{urlencode(query)}", headers={
                        "Authorization": f"Bearer {token}", "Accept": "application/json"})
                    response = connection.getresponse()
                    body = json.loads(response.read())
                    requests += 1
                    if response.status != 200:
                        raise RuntimeError(f"{name} {path}: HTTP {response.status}: {body.get('message')}")
                    items += len(body.get("items") or [])
                    after = (body.get("metadata") or {}).get("continue") or ""
                    if not after:
                        break
        finally:
            connection.close()
    return {"wall_s": time.perf_counter() - started, "kube_requests": requests, "items": items}


def peer(sample: int = 0, sample_clusters: int = 0) -> dict[str, Any]:
    """Time the typical tool's way; extrapolate past `sample` event lists / `sample_clusters`."""
    from kubernetes.client import CoreV1Api

    started = time.perf_counter()
    session, names = boto3.session.Session(), _clusters()
    eks = session.client("eks")
    timed = names[:sample_clusters] if sample_clusters else names
    estimate, requests, failing_pods, sampled = 0.0, 0, 0, False
    for name in timed:
        began = time.perf_counter()
        access = describe(eks, name)
        token = eks_token(session, name, session.region_name)
        with api_client(access.endpoint, access.ca_data, token) as client:
            core = CoreV1Api(client)
            pods = core.list_pod_for_all_namespaces().items
            failing = [pod for pod in pods if any(
                status.state and status.state.waiting and status.state.waiting.reason in PULL_WAITING
                for status in pod.status.container_statuses or [])]
            listed = time.perf_counter()
            asked = failing[:sample] if sample else failing
            for pod in asked:
                core.list_namespaced_event(pod.metadata.namespace,
                                           field_selector=f"involvedObject.name={pod.metadata.name}")
            events = time.perf_counter() - listed
        estimate += listed - began + (events * len(failing) / len(asked) if asked else 0.0)
        requests += 1 + len(failing)
        failing_pods += len(failing)
        sampled = sampled or len(asked) < len(failing)
    scale = len(names) / len(timed)
    return {"wall_s": estimate * scale, "measured_s": time.perf_counter() - started,
            "kube_requests": round(requests * scale), "failing_pods": round(failing_pods * scale),
            "extrapolated": scale > 1 or sampled,
            "timed_clusters": len(timed), "sample": sample}


def _clusters() -> list[str]:
    return [name for name in os.environ["PULLMEDIC_CLUSTERS"].split(",") if name]


def _connect(access: ClusterAccess) -> http.client.HTTPSConnection:
    context = ssl.create_default_context(cadata=base64.b64decode(access.ca_data).decode())
    url = urlsplit(access.endpoint)
    return http.client.HTTPSConnection(url.hostname or "", url.port, context=context, timeout=60)
