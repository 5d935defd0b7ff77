"""A KMS-encrypted repository's key still works (ECR decrypts layers with it on every pull)."""

from __future__ import annotations

from pullmedic.core.causes import Cause
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks.base import CheckMeta, Verdict
from pullmedic.diagnosing.checks.facts import Fact, Snapshot, Subject

META = CheckMeta(
    id="ecr_kms_key", title="The repository's KMS key is enabled",
    causes=frozenset({Cause.AUTH_FAILED, Cause.IMAGE_NOT_FOUND, Cause.UNKNOWN}), severity="high",
    fix="Enable the repository's KMS key (or cancel its deletion); do not revoke ECR's grants on it.",
    command="aws kms {verb} --key-id {key} --region {region}",
    permissions=("ecr:DescribeRepositories", "kms:DescribeKey"),
    needs=frozenset({Fact.ECR_ENCRYPTION}),
)
_COMMAND = {"Disabled": "enable-key", "PendingDeletion": "cancel-key-deletion"}


def run(subject: Subject, facts: Snapshot) -> Verdict | None:
    """Only for KMS-encrypted ECR repositories."""
    image, encryption = subject.image, facts.ecr_encryption
    if image is None or image.ecr is None or encryption is None:
        return None
    if isinstance(encryption, Unavailable):
        return Verdict.unavailable(META, encryption.why)
    ecr, key, state = image.ecr, encryption.key, encryption.state
    if isinstance(state, Unavailable):
        return Verdict.unavailable(META, f"{state.why} (the key policy must allow pullmedic's role)")
    if state == "Enabled":
        return Verdict.passed(META, f"repository {image.repository} is encrypted with KMS key {key} "
                                    "(Enabled)")
    verb = _COMMAND.get(state, "enable-key")
    return Verdict.confirmed(
        META, f"repository {image.repository} is encrypted with KMS key {key}, which is {state}: "
              "ECR cannot decrypt the image's layers",
        commands=(META.command.format(verb=verb, key=_key_id(key), region=ecr.region),),
        cause=Cause.AUTH_FAILED)


def _key_id(key: str) -> str:
    """The key's id (`arn:...:key/ID` or an id): with --region it names the key in the account
    the command runs in, the key's own (only it can enable the key)."""
    return key.rsplit(":key/", 1)[-1]
