"""One scan's Readers used by several threads at once (one per cluster) make each AWS call once."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from perf.world import MISSING_TAG, PUSHED_TAGS, Shape, build, repository

from pullmedic.diagnosing.evidence import Readers
from pullmedic_sandbox.sandbox import ACCOUNT, Sandbox

THREADS = 8
SHAPE = Shape("threads", pods=40, failing=10, workloads=5, repositories=3, pods_per_node=10)


def test_readers_shared_by_threads_call_aws_once_per_fact(sandbox: Sandbox) -> None:
    sandbox.load(build(SHAPE))
    calls: Counter[str] = Counter()
    asked: Counter[str] = Counter()  # instance ids named in DescribeInstances requests
    lock = threading.Lock()

    def count(model: Any, **_: Any) -> None:
        with lock:
            calls[f"{model.service_model.service_name}:{model.name}"] += 1

    def ids(params: dict[str, Any], **_: Any) -> None:
        with lock:
            asked.update(value for where in params.get("Filters", []) for value in where["Values"])

    with sandbox.activated():
        session = boto3.session.Session()
        session.events.register("before-call", count)
        session.events.register("before-parameter-build.ec2.DescribeInstances", ids)
        clients: dict[tuple[str, str | None], Any] = {}

        def client_for(service: str, region: str | None) -> Any:
            key = (service, region or sandbox.region)
            if key not in clients:
                clients[key] = session.client(service, region_name=key[1])
            return clients[key]

        readers = Readers(client_for)
        region, vpc_id = sandbox.region, sandbox.refs["vpc"]
        instance_ids = sandbox.refs.named("instance")
        repos = [repository(r) for r in range(SHAPE.repositories)]
        start = threading.Barrier(THREADS)

        def one_cluster(number: int) -> tuple[Any, ...]:
            start.wait()
            ec2 = readers.ec2(region)
            hosts = ec2.instances(instance_ids[number % 2:])  # overlapping sets of ids
            assert not isinstance(hosts, Exception) and hosts, hosts
            role = readers.iam.role_of_profile(hosts[instance_ids[1]].profile_arn)
            arns = tuple(f"arn:aws:ecr:{region}:{ACCOUNT}:repository/{r}" for r in repos)
            return (ec2.vpc(vpc_id).subnets, ec2.prefix_lists(), sorted(hosts), role,
                    readers.iam.policies(role), readers.iam.simulate(role, ("ecr:BatchGetImage",), arns),
                    [readers.ecr.images(ACCOUNT, region, r, (*PUSHED_TAGS, MISSING_TAG)) for r in repos],
                    [readers.ecr.policy(ACCOUNT, region, r) for r in repos],
                    [readers.ecr.lifecycle(ACCOUNT, region, r) for r in repos])

        with ThreadPoolExecutor(THREADS) as pool:
            results = list(pool.map(one_cluster, range(THREADS)))

    first = results[0]
    assert all(result[:2] == first[:2] and result[3:] == first[3:] for result in results)
    assert first[0] and first[2] == sorted(instance_ids) and first[3].endswith("role/batch-node-role")
    assert all(result.found for result in first[6])  # every repository has the pushed tags
    # Every fact was read by one thread only: each instance id asked once (in one or two
    # requests), everything else exactly once (the simulator: one request for all repositories).
    assert asked == Counter(instance_ids) and calls["ec2:DescribeInstances"] <= 2
    once = {api: n for api, n in calls.items() if api != "ec2:DescribeInstances"}
    managed = len(first[4])  # the role's managed policies (it has no inline one), each read once
    assert once == {
        "ec2:DescribeVpcs": 1, "ec2:DescribeSubnets": 1, "ec2:DescribeRouteTables": 1,
        "ec2:DescribeNetworkAcls": 1, "ec2:DescribeSecurityGroups": 1, "ec2:DescribeVpcEndpoints": 1,
        "ec2:DescribeNatGateways": 1, "ec2:DescribeVpcAttribute": 1, "ec2:DescribePrefixLists": 1,
        "iam:GetInstanceProfile": 1, "iam:ListAttachedRolePolicies": 1, "iam:ListRolePolicies": 1,
        "iam:GetPolicy": managed, "iam:GetPolicyVersion": managed,
        "iam:SimulatePrincipalPolicy": 1,
        "ecr:DescribeImages": 2 * len(repos),  # the ids, then the listing the missing tag needs
        "ecr:GetRepositoryPolicy": len(repos), "ecr:GetLifecyclePolicy": len(repos),
    }, calls
