"""Where a node's pull goes, hop by hop (pure).

An ECR pull has three: the registry (ecr.dkr: manifests), the ECR API (ecr.api: the auth
token) and S3 (the image layers). Each goes through an endpoint in the VPC or the internet.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from pullmedic.core.imageref import ImageRef

# A public address standing in for a registry on the internet when rules are evaluated.
INTERNET_STAND_IN = "52.94.133.131"
# A public S3 address (in 52.216.0.0/15, one of S3's ranges) standing in for S3 when the
# region's S3 prefix list, which holds its public ranges, could not be read.
S3_STAND_IN = "52.216.8.10"
HTTPS = 443


@dataclass(frozen=True)
class Target:
    """The destination the network checks evaluate."""

    kind: str  # "internet" | "endpoint" | "s3-gateway"
    ip: str
    groups: tuple[str, ...]
    description: str
    endpoint: dict[str, Any] | None = None
    hop: str = "registry"  # "registry" | "auth" | "layers"
    prefix_list: str | None = None  # the S3 prefix list, for the layers hop
    cidrs: tuple[str, ...] = ()  # every range the hop may reach (the prefix list's CIDRs)

    @property
    def label(self) -> str:
        """How evidence names the hop: "layers hop (S3)"."""
        return {"registry": "registry hop (manifests)", "auth": "auth hop (ECR API token)",
                "layers": "layers hop (S3)"}[self.hop]

    def ranges(self) -> tuple[tuple[str, str], ...]:
        """(address, range) for each IPv4 range the hop may reach, as a NACL treats each
        range apart; a hop without ranges is its address, anywhere (0.0.0.0/0)."""
        pairs = tuple((ip, c) for c in self.cidrs if ":" not in c and (ip := _sample_ip(c)))
        return pairs or ((self.ip, "0.0.0.0/0"),)


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


def auth_target(image: ImageRef | None, endpoints: list[dict[str, Any]],
                subnets: dict[str, dict[str, Any]], region: str) -> Target | None:
    """The ECR API hop through the VPC's ecr.api endpoint (None: it shares the registry's path)."""
    ecr = image.ecr if image else None
    api = endpoint(endpoints, region, "ecr.api") if ecr and ecr.region == region else None
    if api is None:
        return None
    subnet = subnets.get(next(iter(api.get("SubnetIds") or []), ""), {})
    ip = _sample_ip(subnet.get("CidrBlock")) or INTERNET_STAND_IN
    return Target("endpoint", ip, tuple(g["GroupId"] for g in api.get("Groups", [])),
                  f"the ecr.api endpoint {api['VpcEndpointId']} ({ip}), where the node gets its "
                  "ECR auth token", api, hop="auth")


def layers_target(image: ImageRef | None, endpoints: list[dict[str, Any]], table_id: str | None,
                  region: str, prefix_list: str | None, cidrs: tuple[str, ...],
                  note: str = "") -> Target | None:
    """The S3 hop of a private ECR pull: through the S3 gateway endpoint when it serves the
    node's route table (its prefix list's ranges), else public S3 through NAT or IGW.

    `prefix_list`/`cidrs` are the region's S3 prefix list; the S3 of an image in another
    region is reached over the internet, evaluated at a stand-in S3 address. `note` says why
    the ranges are unknown, when they are.
    """
    ecr = image.ecr if image else None
    if ecr is None:
        return None
    if ecr.region != region:
        prefix_list, cidrs = None, ()
    ip = next((_sample_ip(c) for c in cidrs if ":" not in c), None) or S3_STAND_IN
    gateway = _s3_gateway(endpoints, region)
    if ecr.region == region and gateway is not None and table_id in (gateway.get("RouteTableIds") or []):
        listed = f"prefix list {prefix_list}" if prefix_list else "the S3 prefix list"
        return Target("s3-gateway", ip, (), f"S3 for image layers through the gateway endpoint "
                      f"{gateway['VpcEndpointId']} ({listed}, evaluated as {ip}, tcp/{HTTPS}{note})",
                      gateway, hop="layers", prefix_list=prefix_list, cidrs=cidrs)
    where = (f"an address of {prefix_list}, S3's public ranges" if cidrs and prefix_list
             else "a representative public S3 address")
    return Target("internet", ip, (), f"S3 in {ecr.region} for image layers on the internet "
                  f"(evaluated as {ip}, {where}, tcp/{HTTPS}{note})", hop="layers",
                  prefix_list=prefix_list, cidrs=cidrs)


def _s3_gateway(endpoints: list[dict[str, Any]], region: str) -> dict[str, Any] | None:
    """The region's S3 gateway endpoint among `endpoints`, if any."""
    return next((e for e in endpoints if e.get("ServiceName") == f"com.amazonaws.{region}.s3"
                 and e.get("VpcEndpointType", "Gateway") == "Gateway"), None)


def _sample_ip(cidr: str | None) -> str | None:
    """An address inside `cidr` (where the endpoint's network interfaces live)."""
    if not cidr:
        return None
    network = ipaddress.ip_network(cidr)
    return str(network.network_address + network.num_addresses // 2)
