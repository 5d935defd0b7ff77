"""The image has a variant for the node's architecture (ECR image indexes)."""

from __future__ import annotations

import json

from pullmedic.core.causes import Cause
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks.base import CheckMeta, Verdict, missing
from pullmedic.diagnosing.checks.facts import HOST_READS, Fact, Snapshot, Subject
from pullmedic.reading.gather.ec2 import Host

META = CheckMeta(
    id="image_platform", title="The image runs on the node's architecture",
    causes=frozenset({Cause.PLATFORM_MISMATCH}), severity="high",
    fix="Build and push a multi-architecture image, or schedule the pod on nodes of the image's "
        "architecture.",
    command="docker buildx build --platform linux/amd64,linux/arm64 -t {uri} --push .",
    permissions=HOST_READS + ("ecr:BatchGetImage",),
    needs=frozenset({Fact.HOST, Fact.MANIFEST}),
)
_ARCH = {"x86_64": "amd64", "arm64": "arm64", "aarch64": "arm64"}


def run(subject: Subject, facts: Snapshot) -> Verdict | None:
    """Node architecture (EC2) against the platforms the image index lists."""
    image, host, manifest = subject.image, facts.host, facts.manifest
    if image is None or image.ecr is None:
        return None
    if not isinstance(host, Host):
        return missing(META, host)
    arch = _ARCH.get(host.architecture or "", host.architecture)
    if manifest is None:
        return None
    if isinstance(manifest, Unavailable):
        return Verdict.unavailable(META, manifest.why)
    if not manifest.index:
        return Verdict.unavailable(META, "single-platform manifest: its architecture is in the "
                                         "config blob, which pullmedic does not download")
    platforms = list(manifest.platforms)
    node = f"node {subject.finding.pod_sample.node if subject.finding.pod_sample else '?'} " \
           f"(instance {host.instance_id}) is linux/{arch}"
    if f"linux/{arch}" in platforms:
        return Verdict.contradicted(META, f"{node} and the image lists {', '.join(platforms)}")
    finding = subject.finding
    arch_wanted = platforms[0].split("/")[1] if platforms else "amd64"
    selector = {"spec": {"template": {"spec": {"nodeSelector": {"kubernetes.io/arch": arch_wanted}}}}}
    return Verdict.confirmed(
        META, f"{node}; the image {image.repository}{image.version} only has "
              f"{', '.join(platforms) or 'no platforms'}",
        commands=(META.command.format(uri=f"{image.registry}/{image.repository}:{image.tag or 'latest'}"),
                  f"kubectl -n {finding.namespace} patch {finding.workload.kind.lower()}/"
                  f"{finding.workload.name} -p '{json.dumps(selector, separators=(',', ':'))}'"))
