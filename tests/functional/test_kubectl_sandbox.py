"""The real kubectl against the simulated EKS API: TLS verified against the cluster's own CA, an
EKS token minted as the scan mints it, and what kubectl prints is what a user would see on EKS."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from pullmedic.reading.aws.token import eks_token
from pullmedic_sandbox.kubeapi import SimulatedCluster
from pullmedic_sandbox.resources import RESOURCE_TYPES
from pullmedic_sandbox.sandbox import Sandbox
from pullmedic_sandbox.scenario import BUNDLED, load
from pullmedic_sandbox.tls import make_server_tls

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed (PATH has none)")

CLUSTER = "demo"
NODE = "ip-192-168-149-143.us-east-2.compute.internal"
STUCK_POD = "nginx-9cc69448d-vgm4m"  # shop: ImagePullBackOff on nginx:stable, one Failed event

DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "storefront", "namespace": "shop", "generation": 4,
                 "labels": {"app": "storefront"}},
    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "storefront"}},
             "template": {"metadata": {"labels": {"app": "storefront"}},
                          "spec": {"containers": [
                              {"name": "nginx", "image": "nginx:stable",
                               "ports": [{"containerPort": 80}]},
                              {"name": "log-shipper", "image": "fluent/fluent-bit:3.1"}]}}},
    "status": {"replicas": 2, "readyReplicas": 0, "updatedReplicas": 2, "availableReplicas": 0},
}
NORMAL_EVENT = {
    "apiVersion": "v1", "kind": "Event",
    "metadata": {"name": "frontend-5d9c7b8f6-abcde.pulled", "namespace": "shop"},
    "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "frontend-5d9c7b8f6-abcde"},
    "reason": "Pulled", "type": "Normal", "count": 1, "source": {"component": "kubelet"},
    "message": 'Successfully pulled image "nginx:1.27" in 1.2s',
    "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:00Z",
}

Kubectl = Callable[..., subprocess.CompletedProcess[str]]


def _kubeconfig(path: Path, endpoint: str, ca_pem: bytes, token: str) -> Path:
    """A kubeconfig as `aws eks update-kubeconfig` writes it, with a static token."""
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": CLUSTER,
        "clusters": [{"name": CLUSTER, "cluster": {
            "server": endpoint,
            "certificate-authority-data": base64.b64encode(ca_pem).decode()}}],
        "users": [{"name": "scanner", "user": {"token": token}}],
        "contexts": [{"name": CLUSTER, "context": {"cluster": CLUSTER, "user": "scanner"}}],
    }
    path.write_text(json.dumps(config))
    return path


def _runner(home: Path, kubeconfig: Path) -> Kubectl:
    """Runs kubectl with a private HOME and discovery cache, never touching the user's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env.update(HOME=str(home), KUBECONFIG=str(kubeconfig))

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        assert KUBECTL is not None
        done = subprocess.run([KUBECTL, f"--cache-dir={home / 'cache'}", *args], env=env,
                              capture_output=True, text=True, timeout=120, check=False)
        if check and done.returncode != 0:
            pytest.fail(f"kubectl {' '.join(args)} failed ({done.returncode}): {done.stderr}")
        return done

    return run


@pytest.fixture(scope="module")
def seeded(sandbox: Sandbox) -> tuple[SimulatedCluster, list[dict[str, Any]]]:
    """The reference-cases world plus a Deployment and a Normal event, seeded once (kubectl only
    changes the simulated cluster, so each test restores that from the snapshot)."""
    sandbox.load(load(BUNDLED / "reference-cases.yaml"))
    simulated = sandbox.clusters[CLUSTER]
    simulated.load([DEPLOYMENT, NORMAL_EVENT])
    return simulated, [obj for rt in RESOURCE_TYPES for obj in simulated.objects(rt.kind)]


@pytest.fixture
def cluster(seeded: tuple[SimulatedCluster, list[dict[str, Any]]]) -> SimulatedCluster:
    """The seeded cluster, as it was before any test changed it."""
    simulated, snapshot = seeded
    simulated.clear()
    simulated.load(snapshot)
    simulated.requests.clear()
    return simulated


def _token(sandbox: Sandbox, cluster_name: str = CLUSTER) -> str:
    """An EKS token minted as the scan mints it, with the sandbox's credentials."""
    with sandbox.activated():
        return eks_token(boto3.session.Session(), cluster_name, sandbox.region)


@pytest.fixture
def kubectl(cluster: SimulatedCluster, sandbox: Sandbox, tmp_path: Path) -> Kubectl:
    """kubectl pointed at the cluster, authenticated with an EKS token minted against moto."""
    config = _kubeconfig(tmp_path / "config", cluster.endpoint, cluster.ca_pem, _token(sandbox))
    return _runner(tmp_path, config)


def _rows(table: str) -> list[dict[str, str]]:
    """kubectl's column output as dicts, cut at the header's column starts ("LAST SEEN" is one
    column: names inside a header are separated by one space, columns by at least three)."""
    lines = [line for line in table.splitlines() if line.strip()]
    starts = [m.start() for m in re.finditer(r"\S+(?: \S+)*", lines[0])]
    ends = [*starts[1:], None]
    names = [lines[0][a:b].strip() for a, b in zip(starts, ends, strict=True)]
    return [{n: line[a:b].strip() for n, a, b in zip(names, starts, ends, strict=True)}
            for line in lines[1:]]


def _pods(cluster: SimulatedCluster) -> list[tuple[str, str]]:
    return [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in cluster.objects("Pod")]


def test_get_pods_prints_the_stuck_pods_status(kubectl: Kubectl, cluster: SimulatedCluster) -> None:
    out = kubectl("get", "pods", "-A").stdout
    assert out.splitlines()[0].split() == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS",
                                           "AGE"]
    rows = {(r["NAMESPACE"], r["NAME"]): r for r in _rows(out)}
    assert sorted(rows) == _pods(cluster)
    assert rows["shop", STUCK_POD]["STATUS"] == "ImagePullBackOff"
    assert rows["shop", STUCK_POD]["READY"] == "0/1"
    assert rows["shop", "frontend-5d9c7b8f6-abcde"]["STATUS"] == "Running"
    assert rows["shop", "report-28930110-q2w3e"]["STATUS"] == "Completed"
    assert rows["default", "nginx-6bf9f7cf5d-22q48"]["STATUS"] == "ContainerCreating"


def test_discovery_is_aggregated_for_kubectl_1_30_and_later(
    kubectl: Kubectl, cluster: SimulatedCluster
) -> None:
    """kubectl 1.30+ asks for apidiscovery.k8s.io/v2 and needs nothing else; older ones ask for
    v2beta1 (not served) and fall back to one resource list per group version."""
    client = json.loads(kubectl("version", "-o", "json").stdout)["clientVersion"]
    kubectl("get", "pods", "-A")
    legacy = ["/api/v1", "/apis/apps/v1", "/apis/batch/v1", "/apis/policy/v1"]
    discovery = [r.path for r in cluster.requests if r.path in {"/api", "/apis", *legacy}]
    if int(client["minor"].rstrip("+")) >= 30:
        assert discovery == ["/api", "/apis"]
    else:
        assert sorted(discovery) == sorted(["/api", "/apis", *legacy])
    resources = kubectl("api-resources", "-o", "name").stdout.split()
    assert {"pods", "events", "nodes", "deployments.apps", "replicasets.apps", "jobs.batch",
            "poddisruptionbudgets.policy"} <= set(resources)


def test_legacy_discovery_lists_the_eviction_subresource(kubectl: Kubectl) -> None:
    core = json.loads(kubectl("get", "--raw", "/api/v1").stdout)
    assert core["kind"] == "APIResourceList" and core["groupVersion"] == "v1"
    eviction = next(r for r in core["resources"] if r["name"] == "pods/eviction")
    assert (eviction["group"], eviction["version"], eviction["kind"]) == ("policy", "v1", "Eviction")
    apps = json.loads(kubectl("get", "--raw", "/apis/apps/v1").stdout)
    assert {r["name"] for r in apps["resources"]} >= {"deployments", "replicasets"}


def test_get_pods_as_json_lists_every_pod(kubectl: Kubectl, cluster: SimulatedCluster) -> None:
    listing = json.loads(kubectl("get", "pods", "-A", "-o", "json").stdout)
    assert listing["kind"] == "List"
    assert [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in listing["items"]] == (
        _pods(cluster))
    stuck = next(i for i in listing["items"] if i["metadata"]["name"] == STUCK_POD)
    assert stuck["kind"] == "Pod"
    assert stuck["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == (
        "ImagePullBackOff")


def test_warning_events_only(kubectl: Kubectl, cluster: SimulatedCluster) -> None:
    everything = _rows(kubectl("get", "events", "-A").stdout)
    assert any(r["REASON"] == "Pulled" for r in everything)
    warnings = _rows(kubectl("get", "events", "-A", "--field-selector", "type=Warning").stdout)
    expected = [e for e in cluster.objects("Event") if e["type"] == "Warning"]
    assert len(warnings) == len(expected) and {r["TYPE"] for r in warnings} == {"Warning"}
    stuck = next(r for r in warnings if r["OBJECT"] == f"pod/{STUCK_POD}")
    assert stuck["MESSAGE"].startswith('Failed to pull image "nginx:stable": rpc error')
    assert "Client.Timeout exceeded while awaiting headers" in stuck["MESSAGE"]


def test_describe_pod_shows_the_waiting_reason_and_the_pull_failure(kubectl: Kubectl) -> None:
    out = kubectl("describe", "pod", "-n", "shop", STUCK_POD).stdout
    assert f"Name:           {STUCK_POD}" in out
    assert "Controlled By:  ReplicaSet/storefront-9cc69448d" in out
    assert "State:          Waiting\n      Reason:       ImagePullBackOff" in out
    events = out.split("\nEvents:\n", 1)[1]
    assert "Warning  Failed" in events and "(x3 over" in events
    assert 'Failed to pull image "nginx:stable"' in events


def test_chunked_listing_pages_one_pod_at_a_time(kubectl: Kubectl, cluster: SimulatedCluster) -> None:
    whole = [(r["NAMESPACE"], r["NAME"], r["STATUS"]) for r in _rows(
        kubectl("get", "pods", "-A").stdout)]
    cluster.requests.clear()
    chunked = [(r["NAMESPACE"], r["NAME"], r["STATUS"]) for r in _rows(
        kubectl("get", "pods", "-A", "--chunk-size=1").stdout)]
    assert chunked == whole
    pages = [r for r in cluster.requests if r.path == "/api/v1/pods"]
    assert len(pages) == len(whole) and all(p.query["limit"] == "1" for p in pages)
    assert sum("continue" in p.query for p in pages) == len(whole) - 1


def test_label_selector(kubectl: Kubectl) -> None:
    rows = _rows(kubectl("get", "pods", "-n", "default", "-l", "app=nginx").stdout)
    assert {r["NAME"]: r["STATUS"] for r in rows} == {
        "nginx-7cdbb5f49f-2p6p2": "ImagePullBackOff", "nginx-7cdbb5f49f-x8k2m": "ErrImagePull"}


def test_set_image_patches_one_container_of_the_deployment(
    kubectl: Kubectl, cluster: SimulatedCluster
) -> None:
    done = kubectl("set", "image", "-n", "shop", "deployment/storefront", "nginx=nginx:1.27")
    assert done.stdout.strip() == "deployment.apps/storefront image updated"
    rows = _rows(kubectl("get", "deploy", "-n", "shop", "-o", "wide").stdout)
    assert rows[0]["IMAGES"] == "nginx:1.27,fluent/fluent-bit:3.1"
    stored = cluster.get("Deployment", "shop", "storefront")
    assert stored is not None and stored["metadata"]["generation"] == 5
    assert stored["spec"]["template"]["spec"]["containers"][0]["ports"] == [{"containerPort": 80}]


def test_patch_types(kubectl: Kubectl, cluster: SimulatedCluster) -> None:
    kubectl("patch", "-n", "shop", "deploy", "storefront", "-p", '{"spec":{"replicas":3}}')
    kubectl("patch", "-n", "shop", "deploy", "storefront", "--type=merge",
            "-p", '{"metadata":{"labels":{"team":"web"}}}')
    kubectl("patch", "-n", "shop", "deploy", "storefront", "--type=json",
            "-p", '[{"op":"replace","path":"/spec/template/spec/containers/1/image",'
                  '"value":"fluent/fluent-bit:3.2"}]')
    out = kubectl("get", "deploy", "-n", "shop", "storefront", "-o",
                  "jsonpath={.spec.replicas} {.metadata.labels.team}"
                  " {.spec.template.spec.containers[*].image}").stdout
    assert out == "3 web nginx:stable fluent/fluent-bit:3.2"
    again = kubectl("patch", "-n", "shop", "deploy", "storefront", "-p", '{"spec":{"replicas":3}}')
    assert again.stdout.strip() == "deployment.apps/storefront patched (no change)"


def test_pod_spec_is_immutable_except_images(kubectl: Kubectl, cluster: SimulatedCluster) -> None:
    moved = kubectl("patch", "pod", "-n", "shop", STUCK_POD, "-p",
                    '{"spec":{"nodeName":"elsewhere"}}', check=False)
    assert moved.returncode == 1
    assert f'The Pod "{STUCK_POD}" is invalid: spec: Forbidden: pod updates may not change' in (
        moved.stderr)
    kubectl("set", "image", "-n", "shop", f"pod/{STUCK_POD}", "nginx=nginx:1.27")
    pod = cluster.get("Pod", "shop", STUCK_POD)
    assert pod is not None and pod["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert pod["spec"]["nodeName"] == NODE


def test_delete_pod(kubectl: Kubectl, cluster: SimulatedCluster) -> None:
    done = kubectl("delete", "pod", "-n", "shop", STUCK_POD)
    assert done.stdout.strip() == f'pod "{STUCK_POD}" deleted'
    assert cluster.get("Pod", "shop", STUCK_POD) is None
    missing = kubectl("delete", "pod", "-n", "shop", STUCK_POD, check=False)
    assert f'pods "{STUCK_POD}" not found' in missing.stderr


def test_drain_cordons_and_evicts_through_the_budget(
    kubectl: Kubectl, cluster: SimulatedCluster
) -> None:
    frontend = cluster.get("Pod", "shop", "frontend-5d9c7b8f6-abcde")
    assert frontend is not None
    frontend["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
    cluster.load([
        frontend,
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": NODE},
         "status": {"conditions": [{"type": "Ready", "status": "True"}]}},
        {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
         "metadata": {"name": "frontend", "namespace": "shop", "generation": 1},
         "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "frontend"}}},
         "status": {"disruptionsAllowed": 1, "currentHealthy": 2, "desiredHealthy": 1,
                    "observedGeneration": 1, "expectedPods": 2}},
    ])
    on_node = [p for p in cluster.objects("Pod") if p["spec"].get("nodeName") == NODE]
    done = kubectl("drain", NODE, "--ignore-daemonsets", "--force", "--timeout=60s")
    assert f"node/{NODE} cordoned" in done.stdout and f"node/{NODE} drained" in done.stdout
    assert "pod/frontend-5d9c7b8f6-abcde evicted" in done.stdout
    assert len(on_node) > 1 and not [p for p in cluster.objects("Pod")
                                     if p["spec"].get("nodeName") == NODE]
    budget = cluster.get("PodDisruptionBudget", "shop", "frontend")
    assert budget is not None and budget["status"]["disruptionsAllowed"] == 0
    assert _rows(kubectl("get", "nodes").stdout)[0]["STATUS"] == "Ready,SchedulingDisabled"


def test_kinds_without_a_server_printer_fall_back_to_names(
    kubectl: Kubectl, cluster: SimulatedCluster
) -> None:
    cluster.load([{"apiVersion": "batch/v1", "kind": "Job",
                   "metadata": {"name": "report-28930110", "namespace": "shop"}}])
    rows = _rows(kubectl("get", "jobs", "-n", "shop").stdout)
    assert [r["NAME"] for r in rows] == ["report-28930110"]


def test_watch_is_refused_after_the_listing(kubectl: Kubectl) -> None:
    done = kubectl("get", "pods", "-n", "shop", "--watch", "--request-timeout=20s", check=False)
    assert done.returncode == 1 and STUCK_POD in done.stdout
    assert "MethodNotAllowed" in done.stderr


def test_another_clusters_ca_is_refused(
    kubectl: Kubectl, cluster: SimulatedCluster, sandbox: Sandbox, tmp_path: Path
) -> None:
    token = _token(sandbox)
    stranger = make_server_tls().ca_pem
    config = _kubeconfig(tmp_path / "other-ca", cluster.endpoint, stranger, token)
    done = _runner(tmp_path, config)("get", "pods", "-A", check=False)
    assert done.returncode == 1
    assert "x509: certificate signed by unknown authority" in done.stderr


def test_token_for_another_cluster_is_unauthorized(
    cluster: SimulatedCluster, sandbox: Sandbox, tmp_path: Path
) -> None:
    token = _token(sandbox, "some-other-cluster")
    config = _kubeconfig(tmp_path / "config", cluster.endpoint, cluster.ca_pem, token)
    done = _runner(tmp_path, config)("get", "pods", "-A", check=False)
    assert done.returncode == 1
    assert "You must be logged in to the server" in done.stderr
