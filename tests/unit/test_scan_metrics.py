"""The numbers a scan reports, grouped by the dimensions they are emitted under."""

from __future__ import annotations

from pullmedic.causes import Cause
from pullmedic.metrics import scan_metrics
from pullmedic.model import Finding, ScanError, Workload
from pullmedic.scan import ScanResult


def finding(cluster: str, name: str, cause: Cause, pods: int) -> Finding:
    return Finding(cluster=cluster, namespace="shop", workload=Workload("Deployment", name),
                   container=name, container_type="regular", image=f"{name}:1", cause=cause,
                   rule_id="r", summary="s", alternatives=(), message="m", message_source="event",
                   reasons=("ErrImagePull",), pods=(), pod_count=pods, nodes=(), severity="high")


def test_metrics_by_service_cluster_and_cause_and_event() -> None:
    result = ScanResult(
        clusters=["prod", "dev"],
        findings=[finding("prod", "api", Cause.IMAGE_NOT_FOUND, 3),
                  finding("prod", "web", Cause.IMAGE_NOT_FOUND, 2),
                  finding("dev", "api", Cause.RATE_LIMITED, 1)],
        errors=[ScanError("locked", "pods", "401")], kube_requests={"prod": 4, "dev": 3})
    groups = scan_metrics(result, {"duration_ms": 812, "announced": {"new": 2, "resolved": 1}})
    assert groups[()] == [("FailingWorkloads", "Count", 3), ("FailingPods", "Count", 6),
                          ("ScanErrors", "Count", 1), ("ScanDuration", "Milliseconds", 812),
                          ("KubernetesRequests", "Count", 7)]
    assert groups[(("cluster", "prod"), ("cause", "image_not_found"))] == [
        ("FailingWorkloads", "Count", 2), ("FailingPods", "Count", 5)]
    assert groups[(("cluster", "dev"), ("cause", "rate_limited"))] == [
        ("FailingWorkloads", "Count", 1), ("FailingPods", "Count", 1)]
    events = {dims[0][1]: values[0][2] for dims, values in groups.items()
              if dims and dims[0][0] == "event"}
    assert events == {"new": 2, "changed": 0, "reminder": 0, "resolved": 1}
    assert len(groups) == 1 + 2 + 4
