"""The EKS bearer token: a presigned STS GetCallerIdentity URL bound to one cluster.

Byte-for-byte what `aws eks get-token` (and the eks-token package) makes, built
with the botocore already in the Lambda runtime instead of awscli.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import boto3

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_ID_HEADER = "x-k8s-aws-id"
URL_TIMEOUT_SECONDS = 60


def eks_token(session: boto3.session.Session, cluster: str, region: str) -> str:
    """Mint a token that authenticates this session's identity to `cluster`."""
    sts = session.client("sts", region_name=region)

    def add_cluster_header(request: Any, **_: Any) -> None:
        request.headers[CLUSTER_ID_HEADER] = cluster

    sts.meta.events.register("before-sign.sts.GetCallerIdentity", add_cluster_header)
    url = sts.generate_presigned_url(
        "get_caller_identity", Params={}, ExpiresIn=URL_TIMEOUT_SECONDS, HttpMethod="GET"
    )
    return TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode("utf-8")).decode("utf-8").rstrip("=")
