"""Owner chains name the workload; failures fold into one finding per problem."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pullmedic.core.causes import Cause
from pullmedic.core.model import ContainerFailure, FailureEvent, PodInfo, Workload
from pullmedic.diagnosing.findings import fingerprint, group
from pullmedic.reading.kube.workloads import controller_index, needs_jobs, replicaset_selector, workload_of

NOTFOUND = ('Failed to pull image "ghcr.io/acme/api:v9": rpc error: code = NotFound desc = failed '
            'to pull and unpack image "ghcr.io/acme/api:v9": failed to resolve reference '
            '"ghcr.io/acme/api:v9": ghcr.io/acme/api:v9: not found')


def pod_info(name: str, owner: tuple[str, str] | None = ("ReplicaSet", "api-7f9c"),
             labels: dict[str, str] | None = None, namespace: str = "shop") -> PodInfo:
    return PodInfo(namespace, name, name, datetime(2026, 1, 1, tzinfo=UTC), "node-1", None, None,
                   labels if labels is not None else {"pod-template-hash": "7f9c"},
                   owner[0] if owner else None, owner[1] if owner else None, "default", ())


@pytest.mark.parametrize(("owner", "labels", "index", "expected"), [
    (None, {}, None, Workload("Pod", "p")),
    (("StatefulSet", "db"), {}, None, Workload("StatefulSet", "db")),
    (("DaemonSet", "agent"), {}, None, Workload("DaemonSet", "agent")),
    (("ReplicaSet", "api-7f9c"), {"pod-template-hash": "7f9c"},
     {("shop", "api-7f9c"): Workload("Deployment", "api")}, Workload("Deployment", "api")),
    (("ReplicaSet", "solo"), {}, {("shop", "solo"): None}, Workload("ReplicaSet", "solo")),
    (("ReplicaSet", "api-7f9c"), {"pod-template-hash": "7f9c"}, None,
     Workload("Deployment", "api", inferred=True)),
    (("Job", "backup-29012345"), {}, {("shop", "backup-29012345"): Workload("CronJob", "backup")},
     Workload("CronJob", "backup")),
    (("Job", "backup-29012345"), {}, None, Workload("CronJob", "backup", inferred=True)),
    (("Job", "migrate"), {}, None, Workload("Job", "migrate", inferred=True)),
])
def test_workload_of(owner, labels, index, expected) -> None:
    assert workload_of(pod_info("p", owner, labels), index) == expected


def test_owner_lookups_are_one_list_each_and_only_when_needed() -> None:
    pods = [pod_info("a", labels={"pod-template-hash": "b2"}), pod_info("b"),
            pod_info("c", ("StatefulSet", "db"), {})]
    assert replicaset_selector(pods) == "pod-template-hash in (7f9c,b2)"
    assert replicaset_selector([pods[2]]) is None
    assert not needs_jobs(pods) and needs_jobs([pod_info("j", ("Job", "x"), {})])


def test_controller_index_reads_controller_owner() -> None:
    pages = iter([[{"metadata": {"namespace": "shop", "name": "api-7f9c", "ownerReferences": [
        {"kind": "Deployment", "name": "api", "controller": True}]}}],
        [{"metadata": {"namespace": "shop", "name": "solo"}}]])
    assert controller_index(pages) == {("shop", "api-7f9c"): Workload("Deployment", "api"),
                                       ("shop", "solo"): None}


def failure(pod: str, message: str, source: str = "event", reason: str = "ImagePullBackOff",
            image: str = "ghcr.io/acme/api:v9", minute: int = 0) -> ContainerFailure:
    event = FailureEvent("Failed", message, datetime(2026, 1, 1, 0, minute, tzinfo=UTC), 1)
    return ContainerFailure("prod", pod_info(pod), "api", "regular", image, reason, message,
                            source, event)


def test_one_finding_per_workload_container_image_and_cause() -> None:
    failures = [failure("api-7f9c-a", NOTFOUND), failure("api-7f9c-b", NOTFOUND),
                failure("api-7f9c-c", 'Back-off pulling image "ghcr.io/acme/api:v9"', "none")]
    (finding,) = group(failures, lambda f: Workload("Deployment", "api"))
    assert finding.cause is Cause.IMAGE_NOT_FOUND
    assert finding.pod_count == 3 and finding.pods == ("api-7f9c-a", "api-7f9c-b", "api-7f9c-c")
    assert finding.message == NOTFOUND and finding.severity == "high"


def test_different_causes_and_images_split() -> None:
    rate = ('Failed to pull image "ghcr.io/acme/api:v9": rpc error: code = Unknown desc = '
            'toomanyrequests: retry-after: 0s')
    findings = group([failure("a", NOTFOUND), failure("b", rate),
                      failure("c", NOTFOUND, image="ghcr.io/acme/api:v10")],
                     lambda f: Workload("Deployment", "api"))
    assert sorted((f.image, f.cause.value) for f in findings) == [
        ("ghcr.io/acme/api:v10", "image_not_found"), ("ghcr.io/acme/api:v9", "image_not_found"),
        ("ghcr.io/acme/api:v9", "rate_limited")]
    assert findings[0].severity == "high"


def test_fingerprint_is_stable_and_distinct() -> None:
    (a,) = group([failure("a", NOTFOUND)], lambda f: Workload("Deployment", "api"))
    (b,) = group([failure("b", NOTFOUND)], lambda f: Workload("Deployment", "api"))
    (c,) = group([failure("a", NOTFOUND)], lambda f: Workload("Deployment", "api2"))
    assert fingerprint(a) == fingerprint(b) != fingerprint(c)
    assert len(fingerprint(a)) == 16
