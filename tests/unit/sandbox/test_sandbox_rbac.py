"""The simulated EKS API's RBAC: what a scenario denies is refused (403), and the
SelfSubjectAccessReview answer agrees with what the API actually does, for each rule."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client import ApiClient, AppsV1Api, AuthorizationV1Api, CoreV1Api
from kubernetes.client.exceptions import ApiException
from test_sandbox_kubeapi import ACCESS_KEY, CLUSTER, OBJECTS, SECRET_KEY, client_for, mint

from pullmedic_sandbox.kubeapi import SimulatedCluster
from pullmedic_sandbox.rbac import Rbac, parse_rule

DENIED = ["list nodes", "list replicasets.apps", "create pods/eviction in shop", "get secrets"]


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiClient]:
    with SimulatedCluster(CLUSTER, {ACCESS_KEY: SECRET_KEY}) as cluster:
        cluster.load(OBJECTS)
        cluster.rbac = Rbac(DENIED)
        client = client_for(cluster, cluster.ca_pem, mint(CLUSTER), tmp_path, retries=0)
        yield client
        client.close()


def allowed(api: ApiClient, verb: str, resource: str, group: str = "", namespace: str = "",
            subresource: str = "") -> bool:
    attributes = {"verb": verb, "resource": resource, "group": group, "namespace": namespace,
                  "subresource": subresource}
    body = {"spec": {"resourceAttributes": {k: v for k, v in attributes.items() if v or k == "group"}}}
    response = AuthorizationV1Api(api).create_self_subject_access_review(body, _preload_content=False)
    assert response.status == 201
    return json.loads(response.data)["status"]["allowed"]


def answered(call: Callable[[], Any]) -> int:
    try:
        call()
    except ApiException as err:
        return err.status
    return 200


def requests(api: ApiClient) -> dict[tuple[str, ...], Callable[[], Any]]:
    core, apps = CoreV1Api(api), AppsV1Api(api)
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction"}
    return {
        ("list", "nodes", "", ""): lambda: core.list_node(_preload_content=False),
        ("list", "replicasets", "apps", ""): lambda: apps.list_replica_set_for_all_namespaces(
            _preload_content=False),
        ("list", "pods", "", ""): lambda: core.list_pod_for_all_namespaces(_preload_content=False),
        ("get", "secrets", "", "shop"): lambda: core.read_namespaced_secret(
            "pull", "shop", _preload_content=False),
        ("create", "pods", "", "shop", "eviction"): lambda: core.create_namespaced_pod_eviction(
            "db-0", "shop", {**eviction, "metadata": {"name": "db-0", "namespace": "shop"}},
            _preload_content=False),
        ("create", "pods", "", "default", "eviction"): lambda: core.create_namespaced_pod_eviction(
            "api-1", "default", {**eviction, "metadata": {"name": "api-1", "namespace": "default"}},
            _preload_content=False),
    }


def test_review_agrees_with_what_the_api_refuses(api: ApiClient) -> None:
    outcomes = {key: (allowed(api, *key), answered(call)) for key, call in requests(api).items()}
    for key, (review, status) in outcomes.items():
        assert review == (status != 403), (key, review, status)
    assert {k[:2] + k[3:4] for k, (review, _) in outcomes.items() if not review} == {
        ("list", "nodes", ""), ("list", "replicasets", ""), ("get", "secrets", "shop"),
        ("create", "pods", "shop")}
    assert outcomes[("get", "secrets", "", "shop")][1] == 403  # denied before "not found"
    with pytest.raises(ApiException) as raised:
        CoreV1Api(api).list_node()
    assert json.loads(raised.value.body)["message"].startswith(
        'nodes is forbidden: User "AKIASANDBOXTEST00001" cannot list resource "nodes" in API group ""')


def test_rules_are_written_as_kubectl_names_them() -> None:
    with pytest.raises(ValueError, match="verb resource"):
        parse_rule("nodes")
    rule = parse_rule("create pods/eviction in team")
    assert (rule.verb, rule.resource, rule.subresource, rule.namespace) == (
        "create", "pods", "eviction", "team")


def test_a_review_without_attributes_is_invalid(api: ApiClient) -> None:
    with pytest.raises(ApiException) as raised:
        AuthorizationV1Api(api).create_self_subject_access_review({"spec": {}}, _preload_content=False)
    assert raised.value.status == 422


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_auth_can_i_gets_the_same_answers(tmp_path: Path) -> None:
    with SimulatedCluster(CLUSTER, {ACCESS_KEY: SECRET_KEY}) as cluster:
        cluster.rbac = Rbac(DENIED)
        ca = tmp_path / "ca.pem"
        ca.write_bytes(cluster.ca_pem)
        answers = {}
        evict = ("create", "pods", "--subresource=eviction", "-n")
        for question in (("list", "nodes"), ("list", "pods", "-A"), (*evict, "shop"), (*evict, "team")):
            done = subprocess.run(["kubectl", "--server", cluster.endpoint, "--certificate-authority",
                                   str(ca), "--token", mint(CLUSTER), "auth", "can-i", *question],
                                  capture_output=True, text=True, timeout=60, check=False)
            answers[question] = done.stdout.strip()
    assert answers == {("list", "nodes"): "no", ("list", "pods", "-A"): "yes",
                       (*evict, "shop"): "no", (*evict, "team"): "yes"}
