"""500 failing workloads: every publish fits SNS's limits and no finding is silently dropped."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest
from factories import finding

from pullmedic.announcing.chat import CHAT_SCHEMA
from pullmedic.announcing.notify import SNS_MESSAGE_MAX, publish
from pullmedic.announcing.render import DOCUMENT_SCHEMA
from pullmedic.core.causes import Cause
from pullmedic.core.model import Announcement, Finding
from pullmedic.diagnosing.findings import fingerprint

CAUSES = [Cause.IMAGE_NOT_FOUND, Cause.AUTH_FAILED, Cause.REGISTRY_UNREACHABLE, Cause.RATE_LIMITED]


def heavy(number: int, cluster: str) -> Finding:
    """A finding with a long message, evidence and fix commands (about 3 KB as text)."""
    name, team = f"service-{number:03d}", f"team-{number % 17}"
    repository = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{team}/{name}"
    image = f"{repository}:release-2026.11.{number}"
    tags = ", ".join(f"v1.{j}" for j in range(12))
    return finding(
        name, cluster=cluster, namespace=team, image=image, cause=CAUSES[number % 4],
        rule_id="ecr_not_found", summary="The registry says the tag does not exist.",
        alternatives=(Cause.AUTH_FAILED,),
        message=(f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed to pull and '
                 f'unpack image "{image}": failed to resolve reference "{image}": {image}: not found '
                 + "x" * 600),
        message_source="event", reasons=("ErrImagePull", "ImagePullBackOff"),
        pods=tuple(f"{name}-7f9c5d-{i}x2x4" for i in range(5)), pod_count=12,
        nodes=tuple(f"ip-10-0-{i}-10.ec2.internal" for i in range(3)), severity="high",
        confidence="confirmed", advice="Push the tag, or point the workload at a tag that exists.",
        evidence=tuple(f"confirmed [ecr_image_exists]: repository {team}/{name} has no tag "
                       f"release-2026.11.{number}; newest tags: {tags}" for _ in range(4)),
        fix_commands=(f"kubectl -n {team} set image deployment/{name} {name}={repository}:v1.11",
                      f"aws ecr describe-images --repository-name {team}/{name} --region us-east-1"),
    )


@pytest.mark.parametrize("clusters", [1, 4])
def test_500_failing_workloads_fit_and_are_all_accounted_for(world, sandbox, clusters: int) -> None:
    world("healthy")
    items = [Announcement("resolved" if n % 10 == 0 else "new", heavy(n, f"prod-{n % clusters}"))
             for n in range(500)]
    ids = publish(sandbox.client("sns"), sandbox.topic_arn, items, [],
                  [f"prod-{c}" for c in range(clusters)])
    published = sandbox.published()
    assert len(published) == len(ids) >= clusters
    shown: list[str] = []
    counted = 0
    for message in published:
        attributes = message["attributes"]
        size = len(message["subject"].encode()) + len(json.dumps(message["message"]).encode()) + sum(
            len(name.encode()) + len(value["Type"].encode()) + len(value["Value"].encode())
            for name, value in attributes.items())
        assert size <= SNS_MESSAGE_MAX
        assert message["subject"].isascii() and len(message["subject"]) < 100
        assert set(message["message"]) == {"default", "email", "sqs", "lambda", "https"}
        document = json.loads(message["message"]["sqs"])
        jsonschema.validate(document, DOCUMENT_SCHEMA)
        jsonschema.validate(json.loads(message["message"]["https"]), CHAT_SCHEMA)
        findings, omitted = document["findings"], document["omitted_findings"]
        events = [f["event"] for f in findings]
        assert events == sorted(events, key=["new", "resolved"].index)
        body = message["message"]["email"]
        assert len(re.findall(r"^\d+\. (?:NEW|RESOLVED) ", body, re.MULTILINE)) == len(findings)
        if omitted:
            assert f"... and {omitted} more problem(s) not shown" in body
            assert f"{omitted} more" in json.loads(message["message"]["https"])["content"]["title"]
        shown += [f["fingerprint"] for f in findings]
        counted += omitted
        assert len({f["cluster"] for f in findings}) == 1
    assert len(shown) == len(set(shown)) and len(shown) + counted == 500
    assert set(shown) <= {fingerprint(a.finding) for a in items}
    assert counted > 0  # 500 of these cannot all be shown in 256 KB
