"""EKS control-plane reads: which clusters, and how to reach each one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient


@dataclass(frozen=True)
class ClusterAccess:
    """What is needed to talk to one cluster's Kubernetes API, plus where it lives."""

    name: str
    region: str
    arn: str
    endpoint: str
    ca_data: str
    vpc_id: str | None
    status: str
    public_access: bool = True  # endpointPublicAccess
    private_access: bool = False  # endpointPrivateAccess
    public_cidrs: tuple[str, ...] = ("0.0.0.0/0",)  # publicAccessCidrs
    security_group: str | None = None  # the cluster security group (EKS-created)


def list_clusters(eks: EKSClient, limit: int | None = None) -> list[str]:
    """Every cluster name in the client's region (paginated); with `limit`, no page is read past
    the first `limit` names."""
    names: list[str] = []
    paginator = eks.get_paginator("list_clusters")
    pages = paginator.paginate(PaginationConfig={"MaxItems": limit}) if limit is not None \
        else paginator.paginate()
    for page in pages:
        names.extend(page.get("clusters", []))
    return sorted(names)


def describe(eks: EKSClient, name: str) -> ClusterAccess:
    """The endpoint, CA and VPC of `name` (raises botocore ClientError when it cannot)."""
    cluster = eks.describe_cluster(name=name)["cluster"]
    vpc = cluster.get("resourcesVpcConfig") or {}
    return ClusterAccess(
        name=name, region=eks.meta.region_name, arn=cluster.get("arn", ""),
        endpoint=cluster.get("endpoint", ""),
        ca_data=(cluster.get("certificateAuthority") or {}).get("data", ""),
        vpc_id=vpc.get("vpcId"), status=cluster.get("status", ""),
        public_access=vpc.get("endpointPublicAccess", True) is not False,
        private_access=vpc.get("endpointPrivateAccess") is True,
        public_cidrs=tuple(vpc.get("publicAccessCidrs") or ("0.0.0.0/0",)),
        security_group=vpc.get("clusterSecurityGroupId"),
    )
