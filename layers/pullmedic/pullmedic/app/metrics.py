"""The CloudWatch metrics of one scan (pure): which numbers, under which dimensions.

Without extra dimensions (only `service`): FailingWorkloads, FailingPods, ScanErrors,
ScanDuration (ms), KubernetesRequests. Per `cluster` and `cause`: FailingWorkloads and
FailingPods. Per `event` (new, changed, reminder, resolved): AnnouncedEvents.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from pullmedic.announcing.render import LIFECYCLE_EVENTS
from pullmedic.app.scan import ScanResult

Dimensions = tuple[tuple[str, str], ...]
Metric = tuple[str, str, float]  # name, CloudWatch unit, value


def scan_metrics(result: ScanResult, duration_ms: float,
                 announced: Mapping[str, int]) -> dict[Dimensions, list[Metric]]:
    """Metrics grouped by their extra dimensions (() for the service-wide ones); `announced`
    counts the published announcements by event."""
    groups: dict[Dimensions, list[Metric]] = {(): [
        ("FailingWorkloads", "Count", len(result.findings)),
        ("FailingPods", "Count", sum(f.pod_count for f in result.findings)),
        ("ScanErrors", "Count", len(result.errors)),
        ("ScanDuration", "Milliseconds", duration_ms),
        ("KubernetesRequests", "Count", sum(result.kube_requests.values())),
    ]}
    workloads = Counter((f.cluster, f.cause.value) for f in result.findings)
    pods: Counter[tuple[str, str]] = Counter()
    for finding in result.findings:
        pods[(finding.cluster, finding.cause.value)] += finding.pod_count
    for (cluster, cause), count in sorted(workloads.items()):
        groups[(("cluster", cluster), ("cause", cause))] = [
            ("FailingWorkloads", "Count", count), ("FailingPods", "Count", pods[(cluster, cause)])]
    for event in LIFECYCLE_EVENTS:
        groups[(("event", event),)] = [("AnnouncedEvents", "Count", announced.get(event, 0))]
    return groups
