"""KMS reads: the state of a repository's customer managed key (cached per key)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pullmedic.core.arns import parse_arn
from pullmedic.core.unavailable import Unavailable, guarded
from pullmedic.reading.gather.cache import Memo

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient


class KmsReader:
    """Key states, one DescribeKey per key and scan (safe to share between threads)."""

    def __init__(self, client_for: Callable[[str | None], KMSClient]) -> None:
        self._client_for = client_for  # region -> boto3 KMS client
        self._states: Memo[str, str | Unavailable] = Memo()

    def key_state(self, key_arn: str) -> str | Unavailable:
        """`Enabled`, `Disabled`, `PendingDeletion`, ... of the key."""
        def read() -> str | Unavailable:
            region = parts["region"] if (parts := parse_arn(key_arn)) else None
            client = self._client_for(region)
            result = guarded("kms:DescribeKey", lambda: client.describe_key(KeyId=key_arn))
            return result if isinstance(result, Unavailable) else result["KeyMetadata"]["KeyState"]
        return self._states.get(key_arn, read)
