"""A KMS-encrypted repository's key still works (ECR decrypts layers with it on every pull)."""

from __future__ import annotations

from pullmedic.causes import Cause
from pullmedic.checks.base import CheckMeta, Verdict, missing
from pullmedic.evidence import Facts, Subject
from pullmedic.gather.unavailable import Unavailable

META = CheckMeta(
    id="ecr_kms_key", title="The repository's KMS key is enabled",
    causes=frozenset({Cause.AUTH_FAILED, Cause.IMAGE_NOT_FOUND, Cause.UNKNOWN}), severity="high",
    fix="Enable the repository's KMS key (or cancel its deletion); do not revoke ECR's grants on it.",
    command="aws kms {verb} --key-id {key} --region {region}",
    permissions=("ecr:DescribeRepositories", "kms:DescribeKey"),
)
_COMMAND = {"Disabled": "enable-key", "PendingDeletion": "cancel-key-deletion"}


def run(subject: Subject, facts: Facts) -> Verdict | None:
    """Only for KMS-encrypted ECR repositories."""
    image = subject.image
    if image is None or image.ecr is None:
        return None
    ecr = image.ecr
    repo = facts.ecr.repository(ecr.account, ecr.region, image.repository)
    if not isinstance(repo, dict):
        return missing(META, repo)
    encryption = repo.get("encryptionConfiguration") or {}
    key = encryption.get("kmsKey")
    if not encryption.get("encryptionType", "").startswith("KMS") or not key:
        return None
    state = facts.kms.key_state(key)
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
