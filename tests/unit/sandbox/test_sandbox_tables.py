"""Server-side printing and content negotiation of the simulated API."""

from __future__ import annotations

import datetime as dt

import pytest

from pullmedic_sandbox import discovery, media, tables

NOW = dt.datetime(2026, 1, 10, 12, 0, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(("seconds", "text"), [
    (-5, "<invalid>"), (-1, "0s"), (0, "0s"), (119, "119s"), (120, "2m"), (185, "3m5s"),
    (600, "10m"), (10_799, "179m"), (3 * 3600, "3h"), (3 * 3600 + 60 * 20, "3h20m"),
    (47 * 3600, "47h"), (50 * 3600, "2d2h"), (8 * 86400, "8d"), (800 * 86400, "2y70d"),
    (9 * 365 * 86400, "9y"),
])
def test_human_duration_matches_apimachinery(seconds: int, text: str) -> None:
    assert tables.human_duration(seconds) == text


def _pod(**status: object) -> dict:
    return {"kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": "p", "creationTimestamp": "2026-01-10T11:55:00Z"},
            "spec": {"containers": [{"name": "a"}, {"name": "b"}], "nodeName": "n1"},
            "status": status}


def _cells(pod: dict) -> list:
    return tables.table("Pod", [pod], {}, "None", NOW)["rows"][0]["cells"]


def test_pod_status_is_the_waiting_reason_of_the_first_stuck_container() -> None:
    pod = _pod(phase="Pending", containerStatuses=[
        {"name": "a", "ready": False, "restartCount": 0,
         "state": {"waiting": {"reason": "ImagePullBackOff"}}},
        {"name": "b", "ready": True, "restartCount": 2, "state": {"running": {}},
         "lastState": {"terminated": {"finishedAt": "2026-01-10T11:58:00Z"}}}])
    assert _cells(pod)[:5] == ["p", "1/2", "ImagePullBackOff", "2 (2m ago)", "5m"]
    assert _cells(pod)[5:7] == ["<none>", "n1"]


@pytest.mark.parametrize(("status", "shown"), [
    ({"phase": "Running", "initContainerStatuses": [
        {"name": "init", "state": {"waiting": {"reason": "ErrImagePull"}}}]}, "Init:ErrImagePull"),
    ({"phase": "Failed", "reason": "Evicted"}, "Evicted"),
    ({"phase": "Running", "containerStatuses": [
        {"name": "a", "state": {"terminated": {"exitCode": 137, "signal": 9}}}]}, "Signal:9"),
    ({"phase": "Running", "containerStatuses": [
        {"name": "a", "state": {"terminated": {"exitCode": 3}}}]}, "ExitCode:3"),
])
def test_pod_status_variants(status: dict, shown: str) -> None:
    pod = _pod(**status)
    pod["spec"]["initContainers"] = [{"name": "init"}]
    assert _cells(pod)[2] == shown


def test_terminating_pod() -> None:
    pod = _pod(phase="Running")
    pod["metadata"]["deletionTimestamp"] = "2026-01-10T11:59:00Z"
    assert _cells(pod)[2] == "Terminating"


def test_event_row_and_row_objects() -> None:
    event = {"kind": "Event", "apiVersion": "v1", "metadata": {"name": "e1"},
             "involvedObject": {"kind": "Pod", "name": "p", "fieldPath": "spec.containers{a}"},
             "type": "Warning", "reason": "Failed", "message": " Failed to pull image \"x\" \n",
             "count": 4, "source": {"component": "kubelet", "host": "n1"},
             "firstTimestamp": "2026-01-10T11:00:00Z", "lastTimestamp": "2026-01-10T11:59:30Z"}
    table = tables.table("Event", [event], {"resourceVersion": "7"}, "Object", NOW)
    assert table["rows"][0]["cells"] == ["30s", "Warning", "Failed", "pod/p", "spec.containers{a}",
                                         "kubelet, n1", 'Failed to pull image "x"', "60m", 4, "e1"]
    assert table["rows"][0]["object"] is event and table["metadata"] == {"resourceVersion": "7"}
    partial = tables.table("Event", [event], {}, "", NOW)["rows"][0]["object"]
    assert partial == {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                       "metadata": {"name": "e1"}}
    wide = [c["name"] for c in table["columnDefinitions"] if c["priority"] == 1]
    assert wide == ["Subobject", "Source", "First Seen", "Count", "Name"]


def test_workload_rows() -> None:
    template = {"spec": {"nodeSelector": {"kubernetes.io/os": "linux"},
                         "containers": [{"name": "agent", "image": "fluent-bit:3.1"}]}}
    daemonset = {"metadata": {"name": "logs", "creationTimestamp": "2026-01-09T12:00:00Z"},
                 "spec": {"selector": {"matchLabels": {"app": "logs"}}, "template": template},
                 "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3,
                            "numberReady": 2, "updatedNumberScheduled": 3, "numberAvailable": 2}}
    assert tables.table("DaemonSet", [daemonset], {}, "None", NOW)["rows"][0]["cells"] == [
        "logs", 3, 3, 2, 3, 2, "kubernetes.io/os=linux", "24h", "agent", "fluent-bit:3.1",
        "app=logs"]
    statefulset = {"metadata": {"name": "db"}, "spec": {"replicas": 3, "template": template},
                   "status": {"readyReplicas": 1}}
    table = tables.table("StatefulSet", [statefulset], {}, "None", NOW)
    assert table["rows"][0]["cells"] == ["db", "1/3", "<unknown>", "agent", "fluent-bit:3.1"]
    assert len(table["columnDefinitions"]) == 5


def test_accept_negotiation() -> None:
    table = ("Table", "meta.k8s.io", "v1")
    kubectl = ("application/json;as=Table;v=v1;g=meta.k8s.io,"
               "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json")
    assert media.choose(kubectl, table).header() == "application/json;g=meta.k8s.io;v=v1;as=Table"
    assert media.choose(kubectl, None).header() == "application/json"
    assert media.choose("", table).header() == "application/json"
    assert media.choose("application/vnd.kubernetes.protobuf", table) is None


def test_discovery_documents() -> None:
    core = discovery.resource_list("", "v1")
    assert core is not None
    pods = next(r for r in core["resources"] if r["name"] == "pods")
    assert pods["shortNames"] == ["po"] and pods["namespaced"] and "watch" not in pods["verbs"]
    assert discovery.resource_list("apps", "v2") is None
    groups = [g["name"] for g in discovery.group_list()["groups"]]
    assert groups == ["apps", "batch", "policy"]
    aggregated = discovery.aggregated(core=False)
    assert [i["metadata"]["name"] for i in aggregated["items"]] == groups
    core_items = discovery.aggregated(core=True)["items"]
    assert len(core_items) == 1 and "name" not in core_items[0]["metadata"]
    pods_v2 = core_items[0]["versions"][0]["resources"][0]
    assert pods_v2["subresources"][0]["responseKind"] == {
        "group": "policy", "version": "v1", "kind": "Eviction"}
