"""Where a node's pull goes: an ECR interface endpoint in the VPC, or the internet (pure)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from pullmedic.imageref import ImageRef

# A public address standing in for a registry on the internet when rules are evaluated.
INTERNET_STAND_IN = "52.94.133.131"
HTTPS = 443


@dataclass(frozen=True)
class Target:
    """The destination the network checks evaluate."""

    kind: str  # "internet" | "endpoint"
    ip: str
    groups: tuple[str, ...]
    description: str
    endpoint: dict[str, Any] | None = None


def endpoint(endpoints: list[dict[str, Any]], region: str, service: str) -> dict[str, Any] | None:
    """The VPC's endpoint for `ecr.api`, `ecr.dkr` or `s3` in `region`, if any."""
    name = f"com.amazonaws.{region}.{service}"
    return next((e for e in endpoints if e.get("ServiceName") == name), None)


def target_for(image: ImageRef | None, endpoints: list[dict[str, Any]],
               subnets: dict[str, dict[str, Any]], region: str) -> Target:
    """ECR images of this region go to the ecr.dkr endpoint when the VPC has one."""
    ecr = image.ecr if image else None
    dkr = endpoint(endpoints, region, "ecr.dkr") if ecr and ecr.region == region else None
    if dkr is not None:
        subnet = subnets.get(next(iter(dkr.get("SubnetIds") or []), ""), {})
        ip = _sample_ip(subnet.get("CidrBlock")) or INTERNET_STAND_IN
        return Target("endpoint", ip, tuple(g["GroupId"] for g in dkr.get("Groups", [])),
                      f"the ecr.dkr endpoint {dkr['VpcEndpointId']} ({ip})", dkr)
    host = image.registry if image else "the registry"
    return Target("internet", INTERNET_STAND_IN, (),
                  f"{host} on the internet (evaluated as {INTERNET_STAND_IN}, tcp/{HTTPS})")


def _sample_ip(cidr: str | None) -> str | None:
    """An address inside `cidr` (where the endpoint's network interfaces live)."""
    if not cidr:
        return None
    network = ipaddress.ip_network(cidr)
    return str(network.network_address + network.num_addresses // 2)
