"""Build a kubernetes API client for one EKS cluster (TLS verified against the cluster CA)."""

from __future__ import annotations

import base64
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kubernetes.client import ApiClient


@contextmanager
def api_client(endpoint: str, ca_data_b64: str, token: str) -> Iterator[ApiClient]:
    """An ApiClient for `endpoint` that trusts only the cluster's CA; cleaned up on exit."""
    from kubernetes.client import ApiClient, Configuration  # deferred: heavy import
    from urllib3.util.retry import Retry

    ca_pem = base64.b64decode(ca_data_b64)
    fd, ca_path = tempfile.mkstemp(prefix="pullmedic-ca-", suffix=".pem")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(ca_pem)
        config = Configuration()
        config.host = endpoint
        config.ssl_ca_cert = ca_path
        config.verify_ssl = True
        config.api_key = {"authorization": "Bearer " + token}
        # Connection failures get one retry here; HTTP 429/5xx are retried by KubeReader,
        # which caps Retry-After (urllib3 would otherwise sleep for whatever the server says).
        config.retries = Retry(total=1, connect=1, read=0, status=0, redirect=0,
                               respect_retry_after_header=False, raise_on_status=False)
        client = ApiClient(config)
        try:
            yield client
        finally:
            client.close()
    finally:
        os.unlink(ca_path)
