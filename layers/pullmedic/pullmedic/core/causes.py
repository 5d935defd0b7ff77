"""The cause vocabulary: a stable API (CLI JSON, SNS attributes, metric dimensions)."""

from __future__ import annotations

from enum import StrEnum


class Cause(StrEnum):
    """Why an image cannot be pulled (or a pod sandbox cannot start)."""

    IMAGE_NOT_FOUND = "image_not_found"
    AUTH_FAILED = "auth_failed"
    REGISTRY_UNREACHABLE = "registry_unreachable"
    RATE_LIMITED = "rate_limited"
    TLS_ERROR = "tls_error"
    INVALID_IMAGE_NAME = "invalid_image_name"
    PLATFORM_MISMATCH = "platform_mismatch"
    NODE_DISK_FULL = "node_disk_full"
    PULL_TIMEOUT = "pull_timeout"
    NEVER_PULL = "never_pull"
    REGISTRY_SERVER_ERROR = "registry_server_error"
    IP_EXHAUSTED = "ip_exhausted"
    UNKNOWN = "unknown"


# What a person should do first, per cause; checks (evidence) refine this with real ids.
ADVICE: dict[Cause, str] = {
    Cause.IMAGE_NOT_FOUND: "Check the image name and tag; push the image or fix the reference.",
    Cause.AUTH_FAILED: (
        "Give the node role (ECR) or the pod's imagePullSecrets (other registries) "
        "permission to pull this image."
    ),
    Cause.REGISTRY_UNREACHABLE: (
        "Open the network path from the node to the registry: DNS, route (NAT, internet "
        "gateway or VPC endpoints), security group egress and network ACLs."
    ),
    Cause.RATE_LIMITED: (
        "Authenticate pulls or use an ECR pull-through cache so nodes stop sharing the "
        "anonymous quota; if the message says 'pull QPS exceeded', the node's own kubelet "
        "throttled the pulls: raise registryPullQPS/registryBurst in the kubelet configuration."
    ),
    Cause.TLS_ERROR: (
        "Make the node trust the registry's certificate, or address the registry with "
        "the scheme it serves."
    ),
    Cause.INVALID_IMAGE_NAME: "Fix the image reference: it does not parse.",
    Cause.PLATFORM_MISMATCH: (
        "Build the image for the node's architecture (multi-arch), or schedule the pod "
        "on nodes of the image's architecture."
    ),
    Cause.NODE_DISK_FULL: "Free or enlarge the node's disk, or move the pod to another node.",
    Cause.PULL_TIMEOUT: (
        "The pull started but did not finish in time: check bandwidth to the registry, "
        "image size and the kubelet's runtime-request-timeout."
    ),
    Cause.NEVER_PULL: (
        "imagePullPolicy is Never and the image is not on the node: preload it or "
        "change the pull policy."
    ),
    Cause.REGISTRY_SERVER_ERROR: "The registry answered with a server error: check its status.",
    Cause.IP_EXHAUSTED: (
        "Free IP addresses: add subnets or a secondary CIDR, enable prefix delegation, "
        "or use larger instance types."
    ),
    Cause.UNKNOWN: "Read the failing message below; pullmedic has no rule for it yet.",
}
