"""The ECR repository and tag (or digest) exist, are not archived, and are in this region."""

from __future__ import annotations

import difflib

from pullmedic.core.causes import Cause
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks.base import CheckMeta, Verdict
from pullmedic.diagnosing.checks.facts import EcrImages, Fact, Snapshot, Subject
from pullmedic.diagnosing.ecrlifecycle import rules_covering

META = CheckMeta(
    id="ecr_image_exists", title="The image exists in ECR",
    causes=frozenset({Cause.IMAGE_NOT_FOUND, Cause.UNKNOWN}), severity="high",
    fix="Push the image, or point the workload at a tag that exists.",
    command="kubectl -n {namespace} set image {workload} {container}={uri}:{tag}",
    permissions=("ecr:DescribeImages", "ecr:DescribeRepositories", "ecr:GetLifecyclePolicy",
                 "ec2:DescribeRegions"),
    needs=frozenset({Fact.ECR_IMAGES}),
)


def run(subject: Subject, facts: Snapshot) -> Verdict | None:
    """Confirm a missing repository/tag, or contradict a "not found" for an image that exists."""
    image = subject.image
    found = facts.ecr_images
    if image is None or image.ecr is None or found is None:
        return None
    ecr, version = image.ecr, image.digest or image.tag or "latest"
    if isinstance(found, Unavailable):
        return Verdict.unavailable(META, found.why)
    where = f"{ecr.account}/{ecr.region}"
    if not found.exists:
        return _missing_repository(subject, found, where)
    detail = found.version
    if detail is None:
        return _missing_tag(subject, version, found.tags, _expired_by(found.lifecycle, version))
    if detail.archived:
        return Verdict.confirmed(
            META, f"{image.repository}{image.version} exists in {where} but is ARCHIVED: "
                  "archived images cannot be pulled",
            commands=(f"aws ecr update-image-storage-class --registry-id {ecr.account} --region "
                      f"{ecr.region} --repository-name {image.repository} --image-id "
                      f"imageTag={version} --target-storage-class STANDARD",),
            fix="Restore the archived image to the standard storage class.",
            cause=Cause.IMAGE_NOT_FOUND)
    pushed = detail.pushed_at
    return Verdict.contradicted(
        META, f"{image.repository}{image.version} exists in {where}"
              + (f" (pushed {pushed:%Y-%m-%d %H:%M} UTC)" if pushed is not None else "")
              + ": a pull that fails for an existing image points at credentials or permissions",
        cause=Cause.AUTH_FAILED)


def _expired_by(policy: str | Unavailable | None, version: str) -> str:
    """Why the tag may be gone: lifecycle rules of the repository that select it."""
    if isinstance(policy, Unavailable) or policy is None or version.startswith("sha256:"):
        return ""
    rules = rules_covering(policy, version)
    return (f"the repository's lifecycle policy covers tag {version} ({'; '.join(rules)}): it may "
            "have expired it (CloudTrail PolicyExecutionEvent lists what it expired)") if rules else ""


def _missing_tag(subject: Subject, version: str, tags: tuple[str, ...], expired: str) -> Verdict:
    image, f = subject.image, subject.finding
    assert image is not None and image.ecr is not None
    close = difflib.get_close_matches(version, tags, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else (
        f"; newest tags: {', '.join(tags[:3])}" if tags else "; the repository has no tags")
    uri = f"{image.registry}/{image.repository}"
    commands = [f"aws ecr describe-images --registry-id {image.ecr.account} --region "
                f"{image.ecr.region} --repository-name {image.repository} --query "
                "'sort_by(imageDetails,&imagePushedAt)[-5:].imageTags'"]
    if close:
        commands.insert(0, META.command.format(
            namespace=f.namespace, workload=f"{f.workload.kind.lower()}/{f.workload.name}",
            container=f.container, uri=uri, tag=close[0]))
    evidence = [f"no image {version} in ECR repository {image.repository} "
                f"({image.ecr.account}/{image.ecr.region}){hint}", expired]
    return Verdict.confirmed(META, *[e for e in evidence if e], commands=tuple(commands),
                             cause=Cause.IMAGE_NOT_FOUND)


def _missing_repository(subject: Subject, found: EcrImages, where: str) -> Verdict:
    image = subject.image
    assert image is not None and image.ecr is not None
    evidence = [f"ECR repository {image.repository} does not exist in {where}"]
    commands: list[str] = []
    elsewhere = found.other_regions
    if elsewhere:
        evidence.append(f"a repository {image.repository} exists in {', '.join(elsewhere)}: the "
                        "image was pushed to another region (ECR tokens and VPC endpoints are "
                        "regional)")
        commands.append(
            "aws ecr put-replication-configuration --region " + elsewhere[0]
            + " --replication-configuration '{\"rules\":[{\"destinations\":[{\"region\":\""
            + image.ecr.region + "\",\"registryId\":\"" + image.ecr.account + "\"}]}]}'")
    names = found.repositories
    if not isinstance(names, Unavailable):
        close = difflib.get_close_matches(image.repository, names, n=3, cutoff=0.6)
        if close:
            evidence.append(f"did you mean {', '.join(close)}?")
    return Verdict.confirmed(META, *evidence, commands=tuple(commands),
                             fix="Push the image to this region's registry, replicate it, or fix "
                                 "the repository name.", cause=Cause.IMAGE_NOT_FOUND)

