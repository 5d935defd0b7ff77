"""The simulated EKS API, exercised with the official kubernetes client exactly as against EKS."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import urllib3
from kubernetes.client import (
    ApiClient,
    AppsV1Api,
    Configuration,
    CoreV1Api,
    V1DeleteOptions,
    V1Eviction,
    V1ObjectMeta,
    V1Preconditions,
    VersionApi,
)
from kubernetes.client.exceptions import ApiException

from pullmedic_sandbox.kubeapi import SimulatedCluster
from pullmedic_sandbox.tls import make_server_tls

ACCESS_KEY = "AKIASANDBOXTEST00001"
SECRET_KEY = "sandbox-secret-key-0123456789"
CLUSTER = "prod"


def mint(cluster: str) -> str:
    """An EKS token for ``cluster``, made the way EKS clients make it."""
    session = boto3.session.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name="us-east-2"
    )
    sts = session.client("sts", region_name="us-east-2", endpoint_url="http://127.0.0.1:1")

    def add_cluster_header(request: Any, **_: Any) -> None:
        request.headers["x-k8s-aws-id"] = cluster

    sts.meta.events.register("before-sign.sts.GetCallerIdentity", add_cluster_header)
    url = sts.generate_presigned_url(
        "get_caller_identity", Params={}, ExpiresIn=60, HttpMethod="GET"
    )
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def pod(namespace: str, name: str, labels: dict[str, str], phase: str = "Running") -> dict:
    """A pod as a manifest with enough status for the client's models."""
    ready = "True" if phase == "Running" else "False"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "nodeName": "ip-10-0-1-10",
            "containers": [{"name": "app", "image": "nginx:1.27"}],
        },
        "status": {"phase": phase, "conditions": [{"type": "Ready", "status": ready}]},
    }


def event(namespace: str, name: str, kind: str, target: str, reason: str) -> dict:
    """A core v1 Event about ``kind/target``."""
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": namespace},
        "involvedObject": {"kind": kind, "namespace": namespace, "name": target},
        "reason": reason,
        "type": "Warning" if reason != "ScalingReplicaSet" else "Normal",
        "source": {"component": "kubelet"},
    }


def budget(name: str, app: str, allowed: int, healthy: int = 2, desired: int = 1) -> dict:
    """A policy/v1 PodDisruptionBudget for pods labelled ``app``."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"selector": {"matchLabels": {"app": app}}, "minAvailable": desired},
        "status": {
            "disruptionsAllowed": allowed,
            "currentHealthy": healthy,
            "desiredHealthy": desired,
            "expectedPods": healthy,
        },
    }


OBJECTS = [
    pod("shop", "web-1", {"app": "web", "tier": "frontend", "pod-template-hash": "abc"}),
    pod("shop", "web-2", {"app": "web", "tier": "frontend", "pod-template-hash": "abc"}),
    pod("shop", "db-0", {"app": "db", "tier": "backend"}),
    pod("default", "api-1", {"app": "api", "canary": "true"}, phase="Pending"),
    pod("kube-system", "coredns-1", {"k8s-app": "kube-dns"}),
    event("shop", "web-1.failed", "Pod", "web-1", "Failed"),
    event("default", "api-1.failed", "Pod", "api-1", "Failed"),
    event("default", "api-1.backoff", "Pod", "api-1", "BackOff"),
    event("shop", "web.scaled", "Deployment", "web", "ScalingReplicaSet"),
    budget("web-pdb", "web", allowed=1),
    {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "ip-10-0-1-10"}},
    {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": "web-abc",
            "namespace": "shop",
            "labels": {"pod-template-hash": "abc"},
        },
        "spec": {"selector": {"matchLabels": {"app": "web"}}},
    },
]


@pytest.fixture(scope="module")
def token() -> str:
    """A valid token for the cluster under test."""
    return mint(CLUSTER)


@pytest.fixture
def cluster() -> Iterator[SimulatedCluster]:
    """A running cluster seeded with :data:`OBJECTS`."""
    with SimulatedCluster(CLUSTER, {ACCESS_KEY: SECRET_KEY}) as running:
        running.load(OBJECTS)
        yield running


def client_for(
    cluster: SimulatedCluster, ca_pem: bytes, token: str, tmp_path: Path, retries: int | None = None
) -> ApiClient:
    """An ApiClient configured the way EKS clients are: cluster CA file, inline bearer token.

    ``retries`` is urllib3's: by default it retries 3 times, sleeping for any Retry-After."""
    ca_file = tmp_path / f"ca-{len(list(tmp_path.iterdir()))}.pem"
    ca_file.write_bytes(ca_pem)
    configuration = Configuration()
    configuration.host = cluster.endpoint
    configuration.ssl_ca_cert = str(ca_file)
    configuration.verify_ssl = True
    configuration.api_key = {"authorization": "Bearer " + token}
    configuration.retries = retries
    return ApiClient(configuration)


@pytest.fixture
def api_client(cluster: SimulatedCluster, token: str, tmp_path: Path) -> Iterator[ApiClient]:
    """A client that trusts the cluster's CA and carries a valid token."""
    client = client_for(cluster, cluster.ca_pem, token, tmp_path)
    yield client
    client.close()


@pytest.fixture
def core(api_client: ApiClient) -> CoreV1Api:
    """Core v1 API of the cluster under test."""
    return CoreV1Api(api_client)


def status_of(error: ApiException) -> dict[str, Any]:
    """The Status body of an API error."""
    return json.loads(error.body)


def list_all_pod_pages(core: CoreV1Api, limit: int) -> list[dict[str, Any]]:
    """Every page of an all-namespaces pod list, as raw JSON."""
    pages, token = [], None
    while True:
        response = core.list_pod_for_all_namespaces(
            limit=limit, _continue=token, _preload_content=False
        )
        pages.append(json.loads(response.data))
        token = pages[-1]["metadata"].get("continue")
        if not token:
            return pages


def test_lists_pods_across_namespaces_page_by_page(core: CoreV1Api) -> None:
    pages = list_all_pod_pages(core, limit=2)
    names = [
        f"{p['metadata']['namespace']}/{p['metadata']['name']}" for pg in pages for p in pg["items"]
    ]
    assert names == [
        "default/api-1",
        "kube-system/coredns-1",
        "shop/db-0",
        "shop/web-1",
        "shop/web-2",
    ]
    assert [len(pg["items"]) for pg in pages] == [2, 2, 1]
    assert [pg["metadata"].get("remainingItemCount") for pg in pages] == [3, 1, None]
    assert {pg["kind"] for pg in pages} == {"PodList"}
    assert len({pg["metadata"]["resourceVersion"] for pg in pages}) == 1
    assert all("kind" not in item and "apiVersion" not in item for item in pages[0]["items"])


def test_namespaced_list_and_get_deserialize_into_models(core: CoreV1Api) -> None:
    listed = core.list_namespaced_pod("shop")
    assert [p.metadata.name for p in listed.items] == ["db-0", "web-1", "web-2"]
    web = core.read_namespaced_pod("web-1", "shop")
    assert web.kind == "Pod" and web.metadata.uid and web.metadata.resource_version
    assert web.metadata.creation_timestamp is not None


def test_other_groups_and_cluster_scoped_kinds(api_client: ApiClient, core: CoreV1Api) -> None:
    sets = AppsV1Api(api_client).list_replica_set_for_all_namespaces(
        label_selector="pod-template-hash in (abc,def)"
    )
    assert [rs.metadata.name for rs in sets.items] == ["web-abc"]
    assert core.read_node("ip-10-0-1-10").metadata.name == "ip-10-0-1-10"
    assert [n.metadata.name for n in core.list_node().items] == ["ip-10-0-1-10"]


def test_missing_object_is_a_not_found_status(core: CoreV1Api) -> None:
    with pytest.raises(ApiException) as error:
        core.read_namespaced_pod("nope", "shop")
    assert error.value.status == 404
    assert status_of(error.value) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'pods "nope" not found',
        "reason": "NotFound",
        "details": {"name": "nope", "kind": "pods"},
        "code": 404,
    }


def test_unknown_path_is_not_found(api_client: ApiClient) -> None:
    with pytest.raises(ApiException) as error:
        api_client.call_api(
            "/api/v1/widgets", "GET", auth_settings=["BearerToken"], _preload_content=False
        )
    assert error.value.status == 404
    assert status_of(error.value)["message"] == "the server could not find the requested resource"


def test_event_field_selector(core: CoreV1Api) -> None:
    events = core.list_event_for_all_namespaces(
        field_selector="involvedObject.kind=Pod,reason=Failed"
    )
    assert [e.metadata.name for e in events.items] == ["api-1.failed", "web-1.failed"]


def test_unsupported_field_selector_is_a_bad_request(core: CoreV1Api) -> None:
    with pytest.raises(ApiException) as error:
        core.list_pod_for_all_namespaces(field_selector="status.hostIP=10.0.0.1")
    assert error.value.status == 400
    body = status_of(error.value)
    assert body["reason"] == "BadRequest"
    assert body["message"] == "field label not supported: status.hostIP"


def test_set_based_label_selectors(core: CoreV1Api) -> None:
    selected = core.list_pod_for_all_namespaces(label_selector="app in (web,api),!canary")
    assert [p.metadata.name for p in selected.items] == ["web-1", "web-2"]
    selected = core.list_pod_for_all_namespaces(label_selector="tier notin (backend)")
    assert [p.metadata.name for p in selected.items] == ["api-1", "coredns-1", "web-1", "web-2"]


def test_filtered_pages_carry_no_remaining_count(core: CoreV1Api) -> None:
    response = core.list_pod_for_all_namespaces(
        limit=1, label_selector="app=web", _preload_content=False
    )
    page = json.loads(response.data)
    assert page["metadata"]["continue"] and "remainingItemCount" not in page["metadata"]


def test_bad_continue_token_is_a_bad_request(core: CoreV1Api) -> None:
    with pytest.raises(ApiException) as error:
        core.list_pod_for_all_namespaces(limit=2, _continue="not-a-token")
    assert error.value.status == 400
    assert status_of(error.value)["message"].startswith("invalid continue token:")


def test_token_for_another_cluster_is_unauthorized(
    cluster: SimulatedCluster, tmp_path: Path
) -> None:
    client = client_for(cluster, cluster.ca_pem, mint("staging"), tmp_path)
    with pytest.raises(ApiException) as error:
        CoreV1Api(client).list_namespaced_pod("shop")
    client.close()
    assert error.value.status == 401
    assert status_of(error.value) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Unauthorized",
        "reason": "Unauthorized",
        "code": 401,
    }
    assert cluster.requests[-1].status == 401


def test_client_trusting_another_ca_fails_tls(
    cluster: SimulatedCluster, token: str, tmp_path: Path
) -> None:
    client = client_for(cluster, make_server_tls().ca_pem, token, tmp_path, retries=0)
    with pytest.raises(urllib3.exceptions.MaxRetryError) as error:
        CoreV1Api(client).list_namespaced_pod("shop")
    client.close()
    assert isinstance(error.value.reason, urllib3.exceptions.SSLError)
    assert "CERTIFICATE_VERIFY_FAILED" in str(error.value.reason)
    assert cluster.requests == []


def test_injected_forbidden_once(cluster: SimulatedCluster, core: CoreV1Api) -> None:
    cluster.inject(403, path_contains="/api/v1/pods", times=1)
    with pytest.raises(ApiException) as error:
        core.list_pod_for_all_namespaces()
    assert error.value.status == 403
    assert status_of(error.value)["message"] == (
        f'pods is forbidden: User "{ACCESS_KEY}" cannot list resource "pods"'
        ' in API group "" at the cluster scope'
    )
    assert len(core.list_pod_for_all_namespaces().items) == 5


def test_injected_throttling_carries_retry_after(
    cluster: SimulatedCluster, token: str, tmp_path: Path
) -> None:
    client = client_for(cluster, cluster.ca_pem, token, tmp_path, retries=0)
    core = CoreV1Api(client)
    cluster.inject(429, retry_after=7)
    with pytest.raises(ApiException) as error:
        core.list_namespaced_pod("shop")
    client.close()
    assert error.value.status == 429
    assert error.value.headers["Retry-After"] == "7"
    body = status_of(error.value)
    assert body["reason"] == "TooManyRequests" and body["details"] == {"retryAfterSeconds": 7}
    cluster.clear_faults()
    assert len(core.list_namespaced_pod("shop").items) == 3


def test_default_client_retries_throttled_requests_itself(
    cluster: SimulatedCluster, core: CoreV1Api
) -> None:
    """urllib3's default Retry honours Retry-After on 429/503 before the caller sees anything."""
    cluster.inject(429, times=1, retry_after=1)
    assert len(core.list_namespaced_pod("shop").items) == 3
    assert [r.status for r in cluster.requests] == [429, 200]


def test_injected_server_errors_can_target_later_pages(
    cluster: SimulatedCluster, core: CoreV1Api
) -> None:
    cluster.inject(500, path_contains="continue=", times=1)
    cluster.inject(503, path_contains="/namespaces/default/")
    with pytest.raises(ApiException) as error:
        list_all_pod_pages(core, limit=2)
    assert error.value.status == 500 and status_of(error.value)["reason"] == "InternalError"
    assert len(list_all_pod_pages(core, limit=2)) == 3
    with pytest.raises(ApiException) as error:
        core.list_namespaced_pod("default")
    assert error.value.status == 503 and status_of(error.value)["reason"] == "ServiceUnavailable"


def evict(core: CoreV1Api, namespace: str, name: str) -> dict[str, Any]:
    """POST a policy/v1 Eviction for a pod; the response body as JSON."""
    body = V1Eviction(metadata=V1ObjectMeta(name=name, namespace=namespace))
    response = core.create_namespaced_pod_eviction(name, namespace, body, _preload_content=False)
    return json.loads(response.data)


def test_eviction_consumes_the_disruption_budget(
    cluster: SimulatedCluster, core: CoreV1Api
) -> None:
    result = evict(core, "shop", "web-1")
    assert result == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "code": 201,
    }
    assert cluster.requests[-1].status == 201
    assert cluster.get("Pod", "shop", "web-1") is None
    pdb = cluster.get("PodDisruptionBudget", "shop", "web-pdb")
    assert pdb is not None and pdb["status"]["disruptionsAllowed"] == 0
    assert "web-1" in pdb["status"]["disruptedPods"]

    with pytest.raises(ApiException) as error:
        evict(core, "shop", "web-2")
    assert error.value.status == 429
    assert status_of(error.value) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Cannot evict pod as it would violate the pod's disruption budget.",
        "reason": "TooManyRequests",
        "details": {
            "causes": [
                {
                    "reason": "DisruptionBudget",
                    "message": "The disruption budget web-pdb needs 1 healthy pods"
                    " and has 2 currently",
                }
            ]
        },
        "code": 429,
    }
    assert cluster.get("Pod", "shop", "web-2") is not None


def test_dry_run_eviction_changes_nothing(cluster: SimulatedCluster, core: CoreV1Api) -> None:
    body = V1Eviction(metadata=V1ObjectMeta(name="web-1", namespace="shop"))
    response = core.create_namespaced_pod_eviction(
        "web-1", "shop", body, dry_run="All", _preload_content=False
    )
    assert json.loads(response.data)["status"] == "Success"
    assert cluster.get("Pod", "shop", "web-1") is not None
    pdb = cluster.get("PodDisruptionBudget", "shop", "web-pdb")
    assert pdb is not None and pdb["status"]["disruptionsAllowed"] == 1


def test_pending_pods_are_evicted_without_consulting_budgets(
    cluster: SimulatedCluster, core: CoreV1Api
) -> None:
    """Like the real server: Pending (e.g. image-pull-stuck) pods bypass PDBs."""
    cluster.load(
        [
            {
                **budget("api-pdb", "api", allowed=0),
                "metadata": {"name": "api-pdb", "namespace": "default"},
            }
        ]
    )
    assert evict(core, "default", "api-1")["status"] == "Success"
    assert cluster.get("Pod", "default", "api-1") is None


def test_pod_under_two_budgets_gets_a_failure_status(
    cluster: SimulatedCluster, core: CoreV1Api
) -> None:
    """Like the real server: HTTP 201 whose body is a Failure Status with code 500."""
    cluster.load([budget("web-pdb-2", "web", allowed=1)])
    result = evict(core, "shop", "web-1")
    assert cluster.requests[-1].status == 201
    assert result["status"] == "Failure" and result["code"] == 500
    assert cluster.get("Pod", "shop", "web-1") is not None


def test_evicting_a_missing_pod_is_not_found(core: CoreV1Api) -> None:
    with pytest.raises(ApiException) as error:
        evict(core, "shop", "ghost")
    assert error.value.status == 404


def test_requests_are_recorded(cluster: SimulatedCluster, core: CoreV1Api) -> None:
    cluster.requests.clear()
    core.list_pod_for_all_namespaces(label_selector="app=web")
    core.read_namespaced_pod("web-1", "shop")
    with pytest.raises(ApiException):
        core.read_namespaced_pod("ghost", "shop")
    assert [(r.method, r.path, r.status) for r in cluster.requests] == [
        ("GET", "/api/v1/pods", 200),
        ("GET", "/api/v1/namespaces/shop/pods/web-1", 200),
        ("GET", "/api/v1/namespaces/shop/pods/ghost", 404),
    ]
    assert cluster.requests[0].query == {"labelSelector": "app=web"}


def test_version_looks_like_eks(api_client: ApiClient) -> None:
    info = VersionApi(api_client).get_code()
    assert info.git_version.startswith("v1.31.") and "-eks-" in info.git_version
    assert info.minor == "31+"


def test_connections_are_kept_alive(cluster: SimulatedCluster, core: CoreV1Api) -> None:
    """HTTP/1.1 with Content-Length: every request reuses the one pooled connection."""
    for _ in range(5):
        response = core.list_namespaced_pod("shop", _preload_content=False)
        assert response.version == 11
        assert response.headers["Content-Length"] == str(len(response.data))
        assert response.headers["Content-Type"] == "application/json"
    pool = core.api_client.rest_client.pool_manager.connection_from_url(cluster.endpoint)
    assert pool.num_connections == 1


def test_ten_thousand_pods_page_quickly(cluster: SimulatedCluster, core: CoreV1Api) -> None:
    cluster.load(
        pod(f"team-{i % 50:02d}", f"worker-{i:05d}", {"app": "worker"}) for i in range(10_000)
    )
    slowest, token, listed = 0.0, None, 0
    while True:
        started = time.perf_counter()
        response = core.list_pod_for_all_namespaces(
            limit=500, _continue=token, _preload_content=False
        )
        slowest = max(slowest, time.perf_counter() - started)
        page = json.loads(response.data)
        listed += len(page["items"])
        token = page["metadata"].get("continue")
        if not token:
            break
    assert listed == 10_005
    # The slowest page took 0.06 s here, idle and with two busy loops on the two cores; 2 s
    # leaves room for a busier CI machine.
    assert slowest < 2.0


# ------------------------------------------------------------------ writes and negotiation


def test_patch_changes_the_image_and_the_resource_version_once(
    cluster: SimulatedCluster, core: CoreV1Api
) -> None:
    before = cluster.get("Pod", "shop", "web-1")
    assert before is not None
    body = {"spec": {"containers": [{"name": "app", "image": "nginx:1.28"}]},
            "status": {"phase": "Failed"}}
    patched = core.patch_namespaced_pod("web-1", "shop", body)
    assert patched.spec.containers[0].image == "nginx:1.28"
    assert patched.status.phase == "Running"  # status changes through /status only
    assert patched.metadata.resource_version != before["metadata"]["resourceVersion"]
    again = core.patch_namespaced_pod("web-1", "shop", body)
    assert again.metadata.resource_version == patched.metadata.resource_version


def raw(api_client: ApiClient, method: str, path: str, body: Any = None, **headers: str) -> Any:
    """One authenticated request with explicit headers (``Content_Type`` for Content-Type)."""
    header_params = {k.replace("_", "-"): v for k, v in headers.items()}
    return api_client.call_api(path, method, header_params=header_params, body=body,
                               auth_settings=["BearerToken"], _preload_content=False)[0]


POD_PATH = "/api/v1/namespaces/shop/pods/web-1"


def test_patch_with_a_stale_resource_version_conflicts(api_client: ApiClient) -> None:
    body = {"metadata": {"resourceVersion": "999999", "labels": {"x": "y"}}}
    with pytest.raises(ApiException) as raised:
        raw(api_client, "PATCH", POD_PATH, body, Content_Type="application/merge-patch+json")
    assert raised.value.status == 409
    assert "the object has been modified" in status_of(raised.value)["message"]


def test_server_side_apply_is_an_unsupported_media_type(api_client: ApiClient) -> None:
    with pytest.raises(ApiException) as raised:
        raw(api_client, "PATCH", POD_PATH, {"metadata": {}},
            Content_Type="application/apply-patch+yaml")
    assert raised.value.status == 415
    assert status_of(raised.value)["reason"] == "UnsupportedMediaType"


def test_delete_honours_preconditions_and_dry_run(
    cluster: SimulatedCluster, core: CoreV1Api
) -> None:
    with pytest.raises(ApiException) as raised:
        core.delete_namespaced_pod("web-1", "shop", body=V1DeleteOptions(
            preconditions=V1Preconditions(uid="not-the-uid")))
    assert raised.value.status == 409 and "Precondition failed: UID" in raised.value.body
    core.delete_namespaced_pod("web-1", "shop", dry_run="All")
    assert cluster.get("Pod", "shop", "web-1") is not None
    deleted = core.delete_namespaced_pod("web-1", "shop", _preload_content=False)
    assert json.loads(deleted.data)["metadata"]["name"] == "web-1"
    assert cluster.get("Pod", "shop", "web-1") is None


def test_tables_and_unacceptable_media_types(api_client: ApiClient) -> None:
    def get(path: str, accept: str) -> Any:
        return raw(api_client, "GET", path, Accept=accept)

    table = get("/api/v1/namespaces/shop/pods", "application/json;as=Table;v=v1;g=meta.k8s.io")
    body = json.loads(table.data)
    assert body["kind"] == "Table" and [r["cells"][0] for r in body["rows"]] == [
        "db-0", "web-1", "web-2"]
    assert table.headers["Content-Type"] == "application/json;g=meta.k8s.io;v=v1;as=Table"
    plain = get("/apis/batch/v1/jobs", "application/json;as=Table;v=v1;g=meta.k8s.io,*/*")
    assert json.loads(plain.data)["kind"] == "JobList"  # no printer for jobs: plain JSON
    with pytest.raises(ApiException) as raised:
        get("/api/v1/pods", "application/vnd.kubernetes.protobuf")
    assert raised.value.status == 406
