"""The numbers a scan reports, grouped by the dimensions they are emitted under."""

from __future__ import annotations

from factories import finding

from pullmedic.app.metrics import scan_metrics
from pullmedic.app.scan import ScanResult
from pullmedic.core.causes import Cause
from pullmedic.core.model import ScanError


def test_metrics_by_service_cluster_and_cause_and_event() -> None:
    result = ScanResult(
        clusters=["prod", "dev"],
        findings=[finding("api", cluster="prod", cause=Cause.IMAGE_NOT_FOUND, pod_count=3),
                  finding("web", cluster="prod", cause=Cause.IMAGE_NOT_FOUND, pod_count=2),
                  finding("api", cluster="dev", cause=Cause.RATE_LIMITED, pod_count=1)],
        errors=[ScanError("locked", "pods", "401")], kube_requests={"prod": 4, "dev": 3})
    groups = scan_metrics(result, 812, {"new": 2, "resolved": 1})
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
