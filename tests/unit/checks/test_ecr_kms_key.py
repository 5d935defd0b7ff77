"""ecr_kms_key over in-memory facts: each verdict it can give."""

from __future__ import annotations

import pytest
from casebook import REGION, Case, facts, subject, verify

from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks import ecr_kms_key
from pullmedic.diagnosing.checks.base import CONFIRMED, PASSED, UNAVAILABLE
from pullmedic.diagnosing.checks.facts import Encryption

KEY = f"arn:aws:kms:{REGION}:111122223333:key/1234abcd"
CASES = [
    Case("not an ECR image", subject("ghcr.io/acme/api:1"), facts(), None),
    Case("no KMS key (or no repository)", subject(), facts(ecr_encryption=None), None),
    Case("repository unreadable", subject(), facts(ecr_encryption=Unavailable(
        "ecr:DescribeRepositories: AccessDeniedException: no")), UNAVAILABLE,
        says=("unavailable: ecr:DescribeRepositories: AccessDeniedException",)),
    Case("key unreadable", subject(), facts(ecr_encryption=Encryption(KEY, Unavailable(
        "kms:DescribeKey: AccessDeniedException: no"))), UNAVAILABLE,
        says=("kms:DescribeKey: AccessDeniedException: no (the key policy must allow pullmedic's role)",)),
    Case("key enabled", subject(), facts(ecr_encryption=Encryption(KEY, "Enabled")), PASSED,
        says=(f"repository shop/api is encrypted with KMS key {KEY} (Enabled)",)),
    Case("key disabled", subject(), facts(ecr_encryption=Encryption(KEY, "Disabled")), CONFIRMED,
        says=("which is Disabled: ECR cannot decrypt the image's layers",),
        fix=(f"aws kms enable-key --key-id 1234abcd --region {REGION}",)),
    Case("key pending deletion", subject(), facts(ecr_encryption=Encryption(KEY, "PendingDeletion")),
        CONFIRMED, says=("which is PendingDeletion",),
        fix=(f"aws kms cancel-key-deletion --key-id 1234abcd --region {REGION}",)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_verdict(case: Case) -> None:
    verify(ecr_kms_key, case)
