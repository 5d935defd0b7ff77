"""ecr_image_exists over in-memory facts: each verdict it can give."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from casebook import ACCOUNT, ECR, REGION, Case, facts, subject, verify

from pullmedic.core.causes import Cause
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks import ecr_image_exists
from pullmedic.diagnosing.checks.base import CONFIRMED, CONTRADICTED, UNAVAILABLE
from pullmedic.diagnosing.checks.facts import EcrImages, ImageVersion

EXPIRE = json.dumps({"rules": [{"rulePriority": 1, "action": {"type": "expire"}, "selection": {
    "tagStatus": "tagged", "tagPrefixList": ["1."], "countType": "imageCountMoreThan", "countNumber": 5}}]})
CASES = [
    Case("not an ECR image", subject("docker.io/library/nginx:1.25"), facts(), None),
    Case("repository unreadable", subject(), facts(ecr_images=Unavailable(
        "ecr:DescribeImages: AccessDeniedException: not authorized")), UNAVAILABLE,
        says=("unavailable: ecr:DescribeImages: AccessDeniedException",)),
    Case("repository in another region", subject(), facts(ecr_images=EcrImages(
        False, other_regions=("eu-west-1",), repositories=("shop/apis",))), CONFIRMED,
        says=(f"ECR repository shop/api does not exist in {ACCOUNT}/{REGION}",
              "a repository shop/api exists in eu-west-1", "did you mean shop/apis?"),
        fix=("aws ecr put-replication-configuration --region eu-west-1",
             f'"region":"{REGION}","registryId":"{ACCOUNT}"')),
    Case("tag typo", subject(), facts(ecr_images=EcrImages(True, tags=("1.4.3", "1.4.1", "0.9"))),
        CONFIRMED, says=("no image 1.4.2 in ECR repository shop/api", "did you mean 1.4.3, 1.4.1"),
        fix=(f"kubectl -n shop set image deployment/api api={ECR}/shop/api:1.4.3",)),
    Case("tag expired by a lifecycle rule", subject(), facts(ecr_images=EcrImages(
        True, tags=(), lifecycle=EXPIRE)), CONFIRMED,
        says=("the repository has no tags", "lifecycle policy covers tag 1.4.2 (rule 1 expires all but "
              "the newest 5 images (1.))"),
        fix=("sort_by(imageDetails,&imagePushedAt)[-5:].imageTags",)),
    Case("archived image", subject(), facts(ecr_images=EcrImages(True, ImageVersion(archived=True))),
        CONFIRMED, says=("is ARCHIVED: archived images cannot be pulled",),
        fix=("--image-id imageTag=1.4.2 --target-storage-class STANDARD",
             "Restore the archived image")),
    Case("image exists", subject(), facts(ecr_images=EcrImages(True, ImageVersion(
        pushed_at=datetime(2026, 11, 3, 9, 30)))), CONTRADICTED,
        says=(f"shop/api:1.4.2 exists in {ACCOUNT}/{REGION} (pushed 2026-11-03 09:30 UTC): a pull "
              "that fails for an existing image points at credentials",)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_verdict(case: Case) -> None:
    verify(ecr_image_exists, case)


def test_an_existing_image_names_credentials_as_the_cause() -> None:
    verdict = ecr_image_exists.run(subject(), facts(ecr_images=EcrImages(True, ImageVersion())))
    assert verdict is not None and verdict.rediagnose == Cause.AUTH_FAILED
