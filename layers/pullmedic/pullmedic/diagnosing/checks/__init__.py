"""The explicit registry of diagnostic checks, in the order they run."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from pullmedic.diagnosing.checks import (
    ecr_image_exists,
    ecr_kms_key,
    ecr_pull_permission,
    ecr_repository_policy,
    image_platform,
    nacl_path,
    pause_image_registry,
    public_registry,
    pull_secrets,
    rate_limit_cache,
    route_to_registry,
    sg_egress,
    subnet_free_ips,
    vpc_dns,
    vpc_endpoint_policy,
    vpc_endpoints,
)
from pullmedic.diagnosing.checks.base import Check

REGISTRY: tuple[Check, ...] = (
    ecr_image_exists, ecr_kms_key, ecr_pull_permission, ecr_repository_policy, pause_image_registry,
    route_to_registry, sg_egress, nacl_path, vpc_endpoints, vpc_endpoint_policy, vpc_dns, subnet_free_ips,
    image_platform, pull_secrets, rate_limit_cache, public_registry,
)
CHECKS: Mapping[str, Check] = MappingProxyType({check.META.id: check for check in REGISTRY})
