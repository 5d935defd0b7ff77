"""The image has a variant for the node's architecture (ECR image indexes)."""

from __future__ import annotations

import json

from pullmedic.causes import Cause
from pullmedic.checks.base import CheckMeta, Verdict
from pullmedic.evidence import HOST_READS, Facts, Subject
from pullmedic.gather.unavailable import Unavailable

META = CheckMeta(
    id="image_platform", title="The image runs on the node's architecture",
    causes=frozenset({Cause.PLATFORM_MISMATCH}), severity="high",
    fix="Build and push a multi-architecture image, or schedule the pod on nodes of the image's "
        "architecture.",
    command="docker buildx build --platform linux/amd64,linux/arm64 -t {uri} --push .",
    permissions=HOST_READS + ("ecr:BatchGetImage",),
)
_ARCH = {"x86_64": "amd64", "arm64": "arm64", "aarch64": "arm64"}
_INDEXES = ("application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json")


def run(subject: Subject, facts: Facts) -> Verdict | None:
    """Node architecture (EC2) against the platforms the image index lists."""
    image = subject.image
    if image is None or image.ecr is None:
        return None
    host = facts.host(subject)
    if host is None or isinstance(host, Unavailable):
        return Verdict.unavailable(META, host.why) if host is not None else None
    arch = _ARCH.get(host.architecture or "", host.architecture)
    manifest = facts.ecr.manifest(image.ecr.account, image.ecr.region, image.repository,
                                  image.digest or image.tag or "latest")
    if isinstance(manifest, Unavailable):
        return Verdict.unavailable(META, manifest.why)
    document = json.loads(manifest.get("imageManifest") or "{}")
    if manifest.get("imageManifestMediaType") not in _INDEXES and "manifests" not in document:
        return Verdict.unavailable(META, "single-platform manifest: its architecture is in the "
                                         "config blob, which pullmedic does not download")
    platforms = sorted({f"{m['platform'].get('os')}/{m['platform'].get('architecture')}"
                        for m in document.get("manifests", []) if m.get("platform")})
    node = f"node {subject.finding.pod_sample.node if subject.finding.pod_sample else '?'} " \
           f"(instance {host.instance_id}) is linux/{arch}"
    if f"linux/{arch}" in platforms:
        return Verdict.contradicted(META, f"{node} and the image lists {', '.join(platforms)}")
    return Verdict.confirmed(META, f"{node}; the image {image.repository}{image.version} only has "
                                   f"{', '.join(platforms) or 'no platforms'}",
                             commands=(META.command.format(uri=f"{image.registry}/{image.repository}"
                                                                f":{image.tag or 'latest'}"),
                                       "kubectl -n {0} patch {1} -p '{{\"spec\":{{\"template\":"
                                       "{{\"spec\":{{\"nodeSelector\":{{\"kubernetes.io/arch\":"
                                       "\"{2}\"}}}}}}}}}}'".format(
                                           subject.finding.namespace,
                                           f"{subject.finding.workload.kind.lower()}/"
                                           f"{subject.finding.workload.name}",
                                           platforms[0].split("/")[1] if platforms else "amd64")))
