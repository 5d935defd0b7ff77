"""The pause (sandbox) image comes from this region's EKS registry account."""

from __future__ import annotations

from pullmedic.core.causes import Cause
from pullmedic.diagnosing.checks.base import CheckMeta, Verdict
from pullmedic.diagnosing.checks.facts import Snapshot, Subject

META = CheckMeta(
    id="pause_image_registry", title="The sandbox image is the region's EKS pause image",
    causes=frozenset({Cause.AUTH_FAILED, Cause.IMAGE_NOT_FOUND, Cause.REGISTRY_UNREACHABLE,
                      Cause.PULL_TIMEOUT, Cause.UNKNOWN}), severity="high",
    fix="Point the node's containerd sandbox_image at the pause image of the region's EKS "
        "registry (or use an AMI that caches it), and let the node role pull from ECR.",
    command="aws ecr describe-images --registry-id {account} --region {region} "
            "--repository-name eks/pause",
    permissions=(),
)
# The EKS add-on registry account per region (EKS user guide, "View Amazon container image
# registries for Amazon EKS add-ons"); every other commercial region uses 602401143452.
DEFAULT_ACCOUNT = "602401143452"
EKS_REGISTRY_ACCOUNTS = {
    "af-south-1": "877085696533", "ap-east-1": "800184023465", "ap-east-2": "533267051163",
    "ap-south-2": "900889452093", "ap-southeast-3": "296578399912",
    "ap-southeast-4": "491585149902", "ap-southeast-5": "151610086707",
    "ap-southeast-6": "333609536671", "ap-southeast-7": "121268973566",
    "ca-west-1": "761377655185", "eu-central-2": "900612956339", "eu-south-1": "590381155156",
    "eu-south-2": "455263428931", "il-central-1": "066635153087", "me-south-1": "558608220178",
    "me-central-1": "759879836304", "cn-north-1": "918309763551",
    "cn-northwest-1": "961992271922", "us-gov-east-1": "151742754352",
    "us-gov-west-1": "013241004608",
}


def run(subject: Subject, facts: Snapshot) -> Verdict | None:
    """Only for pod sandboxes whose pause image is an ECR image."""
    image = subject.image
    if subject.finding.container_type != "sandbox" or image is None or image.ecr is None:
        return None
    if not image.repository.endswith("pause"):
        return None
    expected = EKS_REGISTRY_ACCOUNTS.get(image.ecr.region, DEFAULT_ACCOUNT)
    where = f"{image.ecr.account}.dkr.ecr.{image.ecr.region}"
    if image.ecr.region != facts.region:
        return Verdict.confirmed(
            META, f"the pause image {image} is in {image.ecr.region}, not the cluster's region "
                  f"{facts.region}: ECR tokens and VPC endpoints are regional",
            commands=(META.command.format(account=EKS_REGISTRY_ACCOUNTS.get(
                facts.region, DEFAULT_ACCOUNT), region=facts.region),))
    if image.ecr.account != expected:
        return Verdict.confirmed(
            META, f"the pause image comes from {where}, but {image.ecr.region}'s EKS registry is "
                  f"account {expected}",
            commands=(META.command.format(account=expected, region=image.ecr.region),))
    return Verdict.passed(META, f"the pause image comes from {image.ecr.region}'s EKS registry "
                                f"({expected}); the node role must be able to pull from it")
