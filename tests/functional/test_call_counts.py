"""What a real scan's request counts grow with: pods and events pages, clusters; never failing pods.

Small worlds from tests/perf/world.py (the bench's large ones, scaled down), scanned through
bootstrap + run_scan (dry run) with a boto3 session whose `before-call` events are counted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import boto3
from perf.world import Shape, build, kube_requests, pages

from pullmedic.app.bootstrap import bootstrap
from pullmedic.app.event import ScanOrder
from pullmedic.app.service import run_scan
from pullmedic.core.settings import load
from pullmedic_sandbox.sandbox import Sandbox

# Five failing Deployments: ECR tag missing, ECR 401, Docker Hub tag missing, private Docker Hub
# repository, Docker Hub unreachable; so ECR, IAM, EC2 (VPC) and service-account reads all happen.
SMALL = Shape("calls", pods=60, failing=20, workloads=5, repositories=3, pods_per_node=40)


@dataclass(frozen=True)
class Counts:
    """What one scan cost and found."""

    aws: Counter[str]
    kube: dict[str, int]  # per cluster, counted by the simulated API servers
    kube_paths: Counter[str]
    findings: int
    failing_pods: int


def scan(sandbox: Sandbox, clusters: list[str] | None = None, page_size: int = 500) -> Counts:
    """One dry-run scan of `clusters` (default: all) of the loaded world."""
    for cluster in sandbox.clusters.values():
        cluster.requests.clear()
    aws: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        aws[f"{model.service_model.service_name}:{model.name}"] += 1

    with sandbox.activated():
        session = boto3.session.Session()
        session.events.register("before-call", count)
        settings = replace(load(), page_size=page_size)
        order = ScanOrder("on-demand", tuple(clusters) if clusters else None, None, dry_run=True)
        result = run_scan(order, settings, bootstrap(settings, session=session)).result
    assert result.errors == []
    return Counts(aws, {name: len(c.requests) for name, c in sandbox.clusters.items() if c.requests},
                  Counter(r.path for c in sandbox.clusters.values() for r in c.requests),
                  len(result.findings), sum(f.pod_count for f in result.findings))


def test_doubling_failing_pods_keeps_every_aws_call_count(sandbox: Sandbox) -> None:
    sandbox.load(build(SMALL))
    before = scan(sandbox)
    doubled = replace(SMALL, pods=SMALL.pods + SMALL.failing, failing=2 * SMALL.failing)
    assert doubled.nodes == SMALL.nodes
    sandbox.load(build(doubled))
    after = scan(sandbox)

    assert (before.failing_pods, after.failing_pods) == (20, 40)
    assert before.findings == after.findings == 5
    assert {api.split(":")[0] for api in before.aws} >= {"ecr", "iam", "ec2", "eks"}
    assert after.aws == before.aws


def test_doubling_clusters_doubles_kube_requests_and_at_most_aws_calls(sandbox: Sandbox) -> None:
    sandbox.load(build(replace(SMALL, clusters=2)))
    first, _ = sandbox.clusters
    one, two = scan(sandbox, [first]), scan(sandbox)

    assert (one.findings, two.findings) == (5, 10)
    assert sum(two.kube.values()) == 2 * sum(one.kube.values())
    assert set(two.kube.values()) == {sum(kube_requests(SMALL, 500).values())}
    assert (one.aws["eks:DescribeCluster"], two.aws["eks:DescribeCluster"]) == (1, 2)
    assert all(two.aws[api] <= 2 * n for api, n in one.aws.items())
    assert set(two.aws) == set(one.aws)


def test_kube_requests_follow_the_page_formula(sandbox: Sandbox) -> None:
    shape = replace(SMALL, pods=23, failing=7, workloads=4)
    sandbox.load(build(shape))
    for page_size in (1, 7, 500):
        counts = scan(sandbox, page_size=page_size)

        assert counts.kube_paths["/api/v1/pods"] == pages(23, page_size), page_size
        assert counts.kube_paths["/api/v1/events"] == pages(7, page_size), page_size
        assert counts.kube == {shape.name: sum(kube_requests(shape, page_size).values())}, page_size
