"""Large sandbox worlds built in code: one VPC, node instances, ECR, and clusters of Deployments.

`build(shape)` returns the Scenario the sandbox loads. Every pod belongs to a Deployment (through
its ReplicaSet) and runs on a Node whose providerID names a seeded EC2 instance. Failing pods wait
in ImagePullBackOff and have one kubelet `Failed` event each, whose message is a real message of
tests/fixtures/messages/public.yaml with only the image changed. The Docker Hub Deployments
that fail as not found or private share a few public images on Docker Hub, Quay and GHCR, whose
sandbox fronts answer the scan's registry probe (Docker Hub's and Quay's realms are known, GHCR's
too: no challenge).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from math import ceil
from pathlib import Path
from typing import Any

import yaml

from pullmedic_sandbox.scenario import ClusterSpec, Scenario

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "messages" / "public.yaml"
REGION = "us-east-2"
PUSHED_TAGS = ("1.0.0", "1.1.0")  # in every repository
MISSING_TAG = "1.2.0"  # asked for, never pushed
HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # the characters Kubernetes uses in generated names

# How a failing Deployment fails: the fixture its event message is copied from.
FIXTURE_OF = {
    "ecr-missing": "ecr-vpc-cni-init-tag-not-found",  # ECR tag never pushed
    "ecr-denied": "ecr-head-401-containerd",  # ECR 401: the node role may not pull
    "hub-missing": "dockerhub-substratus-controller-tag-not-found",  # Docker Hub tag not found
    "hub-private": "dockerhub-unauthorized-private-repo-docker",  # private Docker Hub repository
    "hub-unreachable": "dockerhub-tls-handshake-timeout-containerd",  # Docker Hub unreachable
}
# The public images the failing Docker Hub Deployments share (the n-th Deployment of a kind
# takes image n % len): not found = a tag the repository lacks; private = a login needed. The
# fronts (REGISTRY) hold the repositories with other tags.
PUBLIC_IMAGES = {
    "hub-missing": ("docker.io/library/httpd:9.9", "quay.io/prometheus/node-exporter:v9.9.9",
                    "ghcr.io/acme/tool:v0.0.2", "docker.io/acme/api:v0.0.2-alpha"),
    "hub-private": ("docker.io/acme/internal:20.7", "quay.io/acme/private:1"),
}
REGISTRY = {"images": {"library/httpd": ["2.4"], "acme/api": ["v0.0.1-alpha"]},
            "private": ["acme/internal"],
            "quay": {"images": {"prometheus/node-exporter": ["v1.8.2"]}, "private": ["acme/private"]},
            "ghcr": {"images": {"acme/tool": ["v0.0.1"]}}}
# Failing Deployment i fails the PATTERN[i % 20] way; the first five cover every way.
PATTERN = (("ecr-missing", "ecr-denied", "hub-missing", "hub-private", "hub-unreachable")
           + ("ecr-missing",) * 10 + ("ecr-denied",) * 2 + ("hub-missing",) * 2 + ("hub-private",))


@dataclass(frozen=True)
class Shape:
    """The size of a world: per-cluster pod counts, failing Deployments, shared AWS resources."""

    name: str
    pods: int  # per cluster
    failing: int  # failing pods per cluster, spread over `workloads` Deployments
    workloads: int = 100
    clusters: int = 1
    repositories: int = 20
    namespaces: int = 10
    pods_per_node: int = 30
    max_instances: int = 50  # nodes beyond this reuse the instances
    replicas: int = 25  # pods per healthy Deployment

    @property
    def nodes(self) -> int:
        """Nodes per cluster."""
        return max(1, ceil(self.pods / self.pods_per_node))

    @property
    def instances(self) -> int:
        """EC2 instances seeded (shared by every cluster)."""
        return min(self.nodes, self.max_instances)

    @property
    def cluster_names(self) -> list[str]:
        """The clusters' names."""
        if self.clusters == 1:
            return [self.name]
        return [f"{self.name}-{i:02d}" for i in range(self.clusters)]

    def failing_pods_of(self, workload: int) -> int:
        """Failing pods of failing Deployment `workload` (the remainder goes to the first ones)."""
        base, extra = divmod(self.failing, self.workloads)
        return base + (1 if workload < extra else 0)

    def kind_of(self, workload: int) -> str:
        """How failing Deployment `workload` fails (a key of FIXTURE_OF)."""
        return PATTERN[workload % len(PATTERN)]

    @property
    def aws_resources(self) -> dict[str, int]:
        """The distinct AWS things the failing Deployments' evidence reads."""
        failing = self.failing_workloads
        return {"missing ECR images": len({w % self.repositories for w in failing
                                           if self.kind_of(w) == "ecr-missing"}),
                "node roles": min(self.instances, 2), "VPCs": 1}

    def public_image(self, workload: int) -> str:
        """The shared public image of failing Docker Hub Deployment `workload`."""
        kind = self.kind_of(workload)
        before = sum(1 for w in range(workload) if self.kind_of(w) == kind)
        return PUBLIC_IMAGES[kind][before % len(PUBLIC_IMAGES[kind])]

    @property
    def registry_requests(self) -> dict[str, int]:
        """What one scan asks the registry fronts, in all: a manifest HEAD per distinct public
        image of a not-found or private Deployment, a token request per registry, no challenge."""
        images = {self.public_image(w) for w in self.failing_workloads
                  if self.kind_of(w) in PUBLIC_IMAGES}
        return {"manifests": len(images), "challenges": 0,
                "tokens": len({image.split("/")[0] for image in images})}

    @property
    def probed_pods(self) -> int:
        """Failing pods (over every cluster) whose image the registry probe asks about."""
        return self.clusters * sum(self.failing_pods_of(w) for w in self.failing_workloads
                                   if self.kind_of(w) in PUBLIC_IMAGES)

    @property
    def failing_workloads(self) -> list[int]:
        """The failing Deployments that have at least one pod."""
        return [w for w in range(self.workloads) if self.failing_pods_of(w)]


def pages(count: int, limit: int) -> int:
    """List requests for `count` objects at page size `limit` (an empty list takes one)."""
    return max(1, ceil(count / limit))


def kube_requests(shape: Shape, limit: int) -> dict[str, int]:
    """Kubernetes requests one scan makes to one cluster of `shape`, by what they read.

    `pods` + `events` is the page formula: ceil(pods/limit) + ceil(events/limit), with one
    Failed event per failing pod. The rest is the constant: the ReplicaSet list (selected by
    the failing pods' pod-template-hash), the node list (paged like any list) and one
    service-account read per failing Deployment whose image is outside ECR and needs
    credentials (hub-private; every Deployment has its own service account).
    """
    failing = shape.failing_workloads
    return {
        "pods": pages(shape.pods, limit), "events": pages(shape.failing, limit),
        "replicasets": pages(len(failing), limit), "nodes": pages(shape.nodes, limit),
        "service_accounts": sum(1 for w in failing if shape.kind_of(w) == "hub-private"),
    }


def build(shape: Shape) -> Scenario:
    """The scenario of `shape`: AWS resources, and the same objects in every cluster."""
    objects = _objects(shape, datetime.now(UTC))
    clusters = [ClusterSpec(name, objects) for name in shape.cluster_names]
    return Scenario(name=shape.name, description=f"{shape.clusters} x {shape.pods} pods, "
                    f"{shape.failing} failing over {shape.workloads} Deployments",
                    region=REGION, clusters=clusters, aws=_aws(shape), registry=REGISTRY)


def repository(index: int) -> str:
    """The name of ECR repository `index`."""
    return f"shop/svc-{index:02d}"


# --- AWS --------------------------------------------------------------------------------------


def _aws(shape: Shape) -> dict[str, Any]:
    trust = "ec2.amazonaws.com"
    base = ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy"]
    return {
        "vpc": {"cidr": "10.0.0.0/16", "dns_support": True, "dns_hostnames": True},
        "internet_gateway": True,
        "subnets": {
            "public-a": {"cidr": "10.0.0.0/24", "az": f"{REGION}a", "route_table": "public"},
            "private-a": {"cidr": "10.0.16.0/20", "az": f"{REGION}a", "route_table": "private"},
            "private-b": {"cidr": "10.0.32.0/20", "az": f"{REGION}b", "route_table": "private"},
        },
        "nat_gateways": {"nat-a": {"subnet": "public-a"}},
        "route_tables": {"public": {"routes": [{"destination": "0.0.0.0/0", "gateway": "igw"}]},
                         "private": {"routes": [{"destination": "0.0.0.0/0", "nat": "nat-a"}]}},
        "security_groups": {"nodes": {"description": "EKS worker nodes"}},
        "iam": {
            "roles": {"node-role": {"trust": trust,
                                    "managed": [*base, "AmazonEC2ContainerRegistryPullOnly"]},
                      "batch-node-role": {"trust": trust, "managed": base}},
            "instance_profiles": {"node-profile": "node-role", "batch-node-profile": "batch-node-role"},
        },
        "instances": {_instance_name(k): {
            "subnet": _subnet_of(k), "security_groups": ["nodes"],
            "profile": "node-profile" if k % 2 == 0 else "batch-node-profile",
            "private_ip": _instance_ip(k), "arch": "amd64", "type": "m5.xlarge",
        } for k in range(shape.instances)},
        "ecr": {"repositories": {repository(r): {"images": dict.fromkeys(PUSHED_TAGS, "amd64")}
                                 for r in range(shape.repositories)}},
    }


def _instance_name(k: int) -> str:
    return f"node-{k:02d}"


def _subnet_of(k: int) -> str:
    return "private-a" if k % 4 < 2 else "private-b"


def _instance_ip(k: int) -> str:
    return f"10.0.{16 if _subnet_of(k) == 'private-a' else 32}.{10 + k}"


# --- Kubernetes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Node:
    name: str
    ip: str
    zone: str


def _objects(shape: Shape, now: datetime) -> list[dict[str, Any]]:
    nodes = [_node_of(shape, j) for j in range(shape.nodes)]
    objects: list[dict[str, Any]] = [_namespace(f"team-{n:02d}", now) for n in range(shape.namespaces)]
    objects += [_node(shape, j, node, now) for j, node in enumerate(nodes)]
    placed = 0
    for w in range(shape.workloads):
        count = shape.failing_pods_of(w)
        if count:
            objects += _deployment(shape, f"app-{w:03d}", f"team-{w % shape.namespaces:02d}", w,
                                   count, placed, nodes, now)
            placed += count
    healthy = shape.pods - shape.failing
    for h in range(ceil(healthy / shape.replicas)):
        count = min(shape.replicas, healthy - h * shape.replicas)
        objects += _deployment(shape, f"web-{h:04d}", f"team-{h % shape.namespaces:02d}", None,
                               count, placed, nodes, now)
        placed += count
    return objects


def _node_of(shape: Shape, j: int) -> _Node:
    """Node j runs on instance j % instances; the first `instances` nodes carry its address."""
    k = j % shape.instances
    subnet_base = 16 if _subnet_of(k) == "private-a" else 32
    ip = _instance_ip(k) if j < shape.instances else f"10.0.{subnet_base + 1 + j // 250}.{j % 250 + 1}"
    return _Node(f"ip-{ip.replace('.', '-')}.{REGION}.compute.internal", ip,
                 f"{REGION}{'a' if subnet_base == 16 else 'b'}")


def _uid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


def _suffix(seed: str, length: int) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(HASH_ALPHABET[b % len(HASH_ALPHABET)] for b in digest[:length])


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _namespace(name: str, now: datetime) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "uid": _uid("ns", name), "labels": {
                "kubernetes.io/metadata.name": name},
                "creationTimestamp": _time(now - timedelta(days=90))},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}


def _node(shape: Shape, j: int, node: _Node, now: datetime) -> dict[str, Any]:
    instance = _instance_name(j % shape.instances)
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {
            "name": node.name, "uid": _uid("node", node.name),
            "creationTimestamp": _time(now - timedelta(days=3)),
            "labels": {
                "kubernetes.io/arch": "amd64", "kubernetes.io/os": "linux",
                "kubernetes.io/hostname": node.name, "node.kubernetes.io/instance-type": "m5.xlarge",
                "topology.kubernetes.io/region": REGION, "topology.kubernetes.io/zone": node.zone,
                "eks.amazonaws.com/nodegroup": "general" if j % 2 == 0 else "batch",
                "eks.amazonaws.com/capacityType": "ON_DEMAND",
            },
        },
        "spec": {"providerID": f"aws:///{node.zone}/${{instance.{instance}}}"},
        "status": {
            "addresses": [{"type": "InternalIP", "address": node.ip},
                          {"type": "InternalDNS", "address": node.name},
                          {"type": "Hostname", "address": node.name}],
            "capacity": {"cpu": "4", "memory": "15896744Ki", "pods": "58"},
            "allocatable": {"cpu": "3920m", "memory": "14879912Ki", "pods": "58"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "kubelet is posting ready status",
                            "lastHeartbeatTime": _time(now - timedelta(seconds=30)),
                            "lastTransitionTime": _time(now - timedelta(days=3))}],
            "nodeInfo": {"architecture": "amd64", "operatingSystem": "linux",
                         "kubeletVersion": "v1.31.7-eks-473151a",
                         "containerRuntimeVersion": "containerd://1.7.27",
                         "osImage": "Amazon Linux 2023.7.20250414",
                         "kernelVersion": "6.1.132-147.221.amzn2023.x86_64"},
        },
    }


def _image(shape: Shape, kind: str | None, index: int) -> tuple[str, str | None]:
    """(image, HEAD URL host/v2/repo/manifests/tag for the messages that print it)."""
    repo = repository(index % shape.repositories)
    if kind == "ecr-missing":
        return f"${{repo_uri.{repo}}}:{MISSING_TAG}", None
    if kind == "ecr-denied":
        tag = PUSHED_TAGS[-1]
        return (f"${{repo_uri.{repo}}}:{tag}",
                f"${{account}}.dkr.ecr.${{region}}.amazonaws.com/v2/{repo}/manifests/{tag}")
    if kind in PUBLIC_IMAGES:
        return shape.public_image(index), None
    if kind == "hub-unreachable":
        return _fixtures()[FIXTURE_OF[kind]]["image"], None
    return (f"${{repo_uri.{repo}}}:{PUSHED_TAGS[-1]}" if index % 2 == 0
            else "docker.io/library/nginx:1.27.4"), None


@cache
def _fixtures() -> dict[str, dict[str, Any]]:
    return {entry["id"]: entry for entry in yaml.safe_load(FIXTURES.read_text())}


def real_message(kind: str, image: str, url: str | None = None) -> str:
    """The fixture message of `kind` with its image (and the image's HEAD URL) replaced."""
    entry = _fixtures()[FIXTURE_OF[kind]]
    text = entry["message"].replace(entry["image"], image)
    if url is not None:
        registry, _, rest = entry["image"].partition("/")
        repo, _, tag = rest.rpartition(":")
        old = f"{registry}/v2/{repo}/manifests/{tag}"
        assert old in text, f"{entry['id']} has no HEAD URL {old}"
        text = text.replace(old, url)
    return text


def _deployment(shape: Shape, name: str, namespace: str, failing: int | None, count: int,
                first: int, nodes: list[_Node], now: datetime) -> list[dict[str, Any]]:
    """A Deployment, its ReplicaSet and service account, `count` pods (and their events)."""
    kind = None if failing is None else shape.kind_of(failing)
    image, url = _image(shape, kind, failing if failing is not None else first)
    template_hash = _suffix(f"{namespace}/{name}", 10)
    rs_name = f"{name}-{template_hash}"
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "shop"}
    created = now - timedelta(hours=2)
    spec = _pod_spec(name, image)
    deploy_uid, rs_uid = _uid("deploy", namespace, name), _uid("rs", namespace, rs_name)
    objects: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": name, "namespace": namespace, "uid": _uid("sa", namespace, name),
                      "creationTimestamp": _time(now - timedelta(days=30))}},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": name, "namespace": namespace, "uid": deploy_uid, "generation": 4,
                      "labels": labels, "creationTimestamp": _time(now - timedelta(days=30)),
                      "annotations": {"deployment.kubernetes.io/revision": "4"}},
         "spec": {"replicas": count, "selector": {"matchLabels": labels},
                  "strategy": {"type": "RollingUpdate",
                               "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                  "template": {"metadata": {"labels": labels}, "spec": spec}},
         "status": {"replicas": count, "updatedReplicas": count,
                    "readyReplicas": 0 if kind else count,
                    "availableReplicas": 0 if kind else count, "observedGeneration": 4}},
        {"apiVersion": "apps/v1", "kind": "ReplicaSet",
         "metadata": {"name": rs_name, "namespace": namespace, "uid": rs_uid,
                      "labels": {**labels, "pod-template-hash": template_hash},
                      "creationTimestamp": _time(created),
                      "annotations": {"deployment.kubernetes.io/revision": "4"},
                      "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                                           "uid": deploy_uid, "controller": True,
                                           "blockOwnerDeletion": True}]},
         "spec": {"replicas": count, "selector": {"matchLabels": {
             **labels, "pod-template-hash": template_hash}}},
         "status": {"replicas": count, "readyReplicas": 0 if kind else count}},
    ]
    for p in range(count):
        index = first + p
        node = nodes[index % len(nodes)]
        pod_name = f"{rs_name}-{_suffix(f'{namespace}/{rs_name}/{p}', 5)}"
        pod = _pod(pod_name, namespace, {**labels, "pod-template-hash": template_hash},
                   (rs_name, rs_uid), spec, node, index, image, kind is not None, created)
        objects.append(pod)
        if kind is not None:
            objects.append(_event(pod, name, node, real_message(kind, image, url), now))
    return objects


def _pod_spec(name: str, image: str) -> dict[str, Any]:
    volume = f"kube-api-access-{_suffix(name, 5)}"
    return {
        "containers": [{
            "name": name, "image": image, "imagePullPolicy": "IfNotPresent",
            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
            "env": [{"name": "LOG_LEVEL", "value": "info"},
                    {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1",
                                                                     "fieldPath": "metadata.name"}}}],
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
            "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
                               "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1,
                               "failureThreshold": 3},
            "volumeMounts": [{"name": volume, "readOnly": True,
                              "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}],
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
        }],
        "dnsPolicy": "ClusterFirst", "enableServiceLinks": True, "restartPolicy": "Always",
        "schedulerName": "default-scheduler", "securityContext": {}, "priority": 0,
        "preemptionPolicy": "PreemptLowerPriority", "terminationGracePeriodSeconds": 30,
        "serviceAccount": name, "serviceAccountName": name,
        "tolerations": [{"key": f"node.kubernetes.io/{taint}", "operator": "Exists",
                         "effect": "NoExecute", "tolerationSeconds": 300}
                        for taint in ("not-ready", "unreachable")],
        "volumes": [{"name": volume, "projected": {"defaultMode": 420, "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
                "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}]}}],
    }


def _pod(name: str, namespace: str, labels: dict[str, str], owner: tuple[str, str],
         spec: dict[str, Any], node: _Node, index: int, image: str, failing: bool,
         created: datetime) -> dict[str, Any]:
    container = spec["containers"][0]["name"]
    started = _time(created + timedelta(seconds=5))
    if failing:
        # Fixture aws-runbook-backoff-only (reference.yaml), image substituted.
        state: dict[str, Any] = {"waiting": {"reason": "ImagePullBackOff",
                                             "message": f'Back-off pulling image "{image}"'}}
        status = {"name": container, "image": image, "imageID": "", "ready": False,
                  "restartCount": 0, "started": False, "state": state}
    else:
        status = {"name": container, "image": image, "ready": True, "restartCount": 0,
                  "started": True, "state": {"running": {"startedAt": started}},
                  "imageID": f"{image.split(':')[0]}@sha256:{hashlib.sha256(image.encode()).hexdigest()}",
                  "containerID": f"containerd://{hashlib.sha256(name.encode()).hexdigest()}"}
    ready = "False" if failing else "True"
    pod_ip = f"100.64.{index // 250}.{index % 250 + 1}"
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "generateName": f"{owner[0]}-", "namespace": namespace,
            "uid": _uid("pod", namespace, name), "labels": labels,
            "creationTimestamp": _time(created),
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": owner[0],
                                 "uid": owner[1], "controller": True, "blockOwnerDeletion": True}],
        },
        "spec": {**spec, "nodeName": node.name},
        "status": {
            "phase": "Pending" if failing else "Running", "qosClass": "Burstable",
            "hostIP": node.ip, "hostIPs": [{"ip": node.ip}], "podIP": pod_ip, "podIPs": [{"ip": pod_ip}],
            "startTime": _time(created),
            "conditions": [{"type": kind, "status": value, "lastProbeTime": None,
                            "lastTransitionTime": started} for kind, value in (
                ("PodReadyToStartContainers", "True"), ("Initialized", "True"), ("Ready", ready),
                ("ContainersReady", ready), ("PodScheduled", "True"))],
            "containerStatuses": [status],
        },
    }


def _event(pod: dict[str, Any], container: str, node: _Node, message: str,
           now: datetime) -> dict[str, Any]:
    meta = pod["metadata"]
    return {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": f"{meta['name']}.{hashlib.sha256(meta['uid'].encode()).hexdigest()[:16]}",
                     "namespace": meta["namespace"], "uid": _uid("event", meta["uid"]),
                     "creationTimestamp": _time(now - timedelta(minutes=50))},
        "involvedObject": {"kind": "Pod", "namespace": meta["namespace"], "name": meta["name"],
                           "uid": meta["uid"], "apiVersion": "v1",
                           "fieldPath": f"spec.containers{{{container}}}"},
        "reason": "Failed", "type": "Warning", "message": message,
        "source": {"component": "kubelet", "host": node.name},
        "firstTimestamp": _time(now - timedelta(minutes=50)),
        "lastTimestamp": _time(now - timedelta(minutes=2)), "count": 11,
        "reportingComponent": "kubelet", "reportingInstance": node.name,
    }
