"""image_platform over in-memory facts: each verdict it can give."""

from __future__ import annotations

import pytest
from casebook import ECR, Case, facts, host, subject, verify

from pullmedic.core.causes import Cause
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks import image_platform
from pullmedic.diagnosing.checks.base import CONFIRMED, CONTRADICTED, UNAVAILABLE
from pullmedic.diagnosing.checks.facts import Platforms

ARM = host(architecture="arm64")
MISMATCH = Cause.PLATFORM_MISMATCH
CASES = [
    Case("not an ECR image", subject("docker.io/library/nginx:1", MISMATCH), facts(host=ARM), None),
    Case("no host", subject(cause=MISMATCH), facts(host=None), None),
    Case("host unknown", subject(cause=MISMATCH), facts(host=Unavailable(
        "no EC2 instance found for node ip-10-0-1-10")), UNAVAILABLE,
        says=("unavailable: no EC2 instance found for node ip-10-0-1-10",)),
    Case("manifest unreadable", subject(cause=MISMATCH), facts(host=ARM, manifest=Unavailable(
        "ecr:BatchGetImage: AccessDeniedException: no")), UNAVAILABLE,
        says=("unavailable: ecr:BatchGetImage",)),
    Case("single-platform manifest", subject(cause=MISMATCH), facts(host=ARM, manifest=Platforms(False)),
         UNAVAILABLE, says=("single-platform manifest: its architecture is in the config blob",)),
    Case("index has the node's platform", subject(cause=MISMATCH), facts(host=ARM, manifest=Platforms(
        True, ("linux/amd64", "linux/arm64"))), CONTRADICTED,
        says=("(instance i-0abc) is linux/arm64 and the image lists linux/amd64, linux/arm64",)),
    Case("index lacks the node's platform", subject(cause=MISMATCH), facts(host=ARM, manifest=Platforms(
        True, ("linux/amd64",))), CONFIRMED,
        says=("is linux/arm64; the image shop/api:1.4.2 only has linux/amd64",),
        fix=(f"docker buildx build --platform linux/amd64,linux/arm64 -t {ECR}/shop/api:1.4.2 --push .",
             "kubectl -n shop patch deployment/api -p "
             "'{\"spec\":{\"template\":{\"spec\":{\"nodeSelector\":{\"kubernetes.io/arch\":\"amd64\"}}}}}'")),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_verdict(case: Case) -> None:
    verify(image_platform, case)
