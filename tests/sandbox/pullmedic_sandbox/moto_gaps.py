"""What moto leaves out of an API that a printed fix calls, filled in as AWS behaves.

Applied to the moto server of this process (it serves from the same backends) before it starts.
"""

from __future__ import annotations

from typing import Any

from moto.ec2.responses.vpcs import VPCs

_PATCHED = "_pullmedic_sandbox"


def apply() -> None:
    """ModifyVpcEndpoint with --private-dns-enabled / --no-private-dns-enabled: moto ignores it."""
    original = VPCs.modify_vpc_endpoint
    if getattr(original, _PATCHED, False):
        return

    def modify_vpc_endpoint(self: Any) -> Any:
        result = original(self)
        enabled = self._get_bool_param("PrivateDnsEnabled")
        if enabled is not None:
            (endpoint,) = self.ec2_backend.describe_vpc_endpoints(
                vpc_end_point_ids=[self._get_param("VpcEndpointId")])
            endpoint.private_dns_enabled = enabled
        return result

    setattr(modify_vpc_endpoint, _PATCHED, True)
    VPCs.modify_vpc_endpoint = modify_vpc_endpoint  # type: ignore[method-assign]
