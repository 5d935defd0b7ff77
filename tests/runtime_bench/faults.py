"""The staged faults: one real failure per cause (and variant), pulled through the CRI."""

from __future__ import annotations

import hashlib
import platform
from dataclasses import dataclass

USER, PASSWORD = "bench", "s3cret-Passw0rd"

# The kubelet's --runtime-request-timeout (2 min by default) bounds most CRI calls but not
# PullImage; a short client deadline stands in for it so a hung pull ends quickly.
HUNG_DEADLINE_S = 10.0
DEFAULT_DEADLINE_S = 30.0


def native_arch() -> str:
    """This machine's OCI architecture."""
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


def other_arch() -> str:
    """An OCI architecture that is not this machine's (for the platform mismatch)."""
    return "arm64" if native_arch() == "amd64" else "amd64"


NO_SUCH_DIGEST = "sha256:" + hashlib.sha256(b"pullmedic: no image has this digest").hexdigest()


@dataclass(frozen=True)
class Fault:
    """One staged fault: what to pull, with which credentials, and what it stands for."""

    cause: str
    variant: str
    image: str  # `{endpoint}` placeholders are filled with the bench's host:port
    description: str
    auth: tuple[str, str] | None = None
    deadline: float = DEFAULT_DEADLINE_S
    deadline_is_the_fault: bool = False  # the message is the client's deadline status
    needs_small_disk: bool = False
    note: str = ""
    alternatives: tuple[str, ...] = ()  # other causes the same text can stand for

    @property
    def id(self) -> str:
        """Test id: cause/variant."""
        return f"{self.cause}/{self.variant}"

    def entry_id(self, runtime_version: str) -> str:
        """Id of the stored message, unique across the message fixture files."""
        return f"bench-containerd-{runtime_version}-{self.cause}-{self.variant}".replace("_", "-")


FAULTS: tuple[Fault, ...] = (
    Fault(
        "image_not_found",
        "tag_missing",
        "{registry}/app:no-such-tag",
        "the repository exists, the tag does not",
    ),
    Fault(
        "image_not_found",
        "repository_missing",
        "{registry}/no-such-repo/app:1",
        "the repository does not exist",
    ),
    Fault(
        "image_not_found",
        "digest_missing",
        "{registry}/app@" + NO_SUCH_DIGEST,
        "pull by a digest the repository does not have",
    ),
    Fault(
        "auth_failed",
        "basic_no_credentials",
        "{registry_basic}/app:1",
        "registry with htpasswd basic auth, pulled without credentials",
    ),
    Fault(
        "auth_failed",
        "basic_wrong_password",
        "{registry_basic}/app:1",
        "registry with htpasswd basic auth, pull secret with a wrong password",
        auth=(USER, "wrong-password"),
    ),
    Fault(
        "auth_failed",
        "token_anonymous_private_repo",
        "{registry_token}/private/app:1",
        "registry with bearer-token auth (Docker Hub style), private repository pulled "
        "without credentials: the token server grants no access (insufficient_scope)",
        note="the same text comes back for a repository that does not exist",
        alternatives=("image_not_found",),
    ),
    Fault(
        "auth_failed",
        "token_wrong_password",
        "{registry_token}/private/app:1",
        "registry with bearer-token auth, pull secret with a wrong password (the token server answers 401)",
        auth=(USER, "wrong-password"),
    ),
    Fault(
        "tls_error",
        "untrusted_ca",
        "{registry_untrusted_tls}/app:1",
        "HTTPS registry whose certificate is signed by a CA the node does not trust",
    ),
    Fault(
        "tls_error",
        "plain_http_registry_as_https",
        "{registry_plain_as_https}/app:1",
        "plain-HTTP registry addressed over HTTPS",
    ),
    Fault(
        "tls_error",
        "https_registry_as_plain_http",
        "{registry_tls_as_http}/app:1",
        "HTTPS registry addressed over plain HTTP (hosts.toml server http://)",
    ),
    Fault(
        "registry_unreachable",
        "connection_refused",
        "{closed}/app:1",
        "nothing listens on the registry port",
    ),
    Fault(
        "registry_unreachable",
        "dns_no_such_host",
        "registry.pullmedic.invalid/app:1",
        "registry host name does not resolve (reserved .invalid TLD)",
    ),
    Fault(
        "pull_timeout",
        "hung_registry_deadline",
        "{hung}/app:1",
        f"registry accepts TCP and never answers; CRI call deadline {HUNG_DEADLINE_S:g} s",
        deadline=HUNG_DEADLINE_S,
        deadline_is_the_fault=True,
        note="DeadlineExceeded is set by the gRPC client when its deadline passes "
        "(grpc-go text: context deadline exceeded); containerd 1.6 itself never times "
        "out such a pull, and the kubelet sets no deadline on PullImage. When containerd's "
        "own answer to the expired call reaches the client first, it reads: rpc error: "
        'code = DeadlineExceeded desc = failed to pull and unpack image "<image>": failed '
        'to resolve reference "<image>": failed to do request: context deadline exceeded. '
        "The text is the same as for a slow transfer that ran out of time, so the message "
        "alone names pull_timeout, with registry_unreachable as the alternative; the network "
        "evidence decides between them.",
        alternatives=("registry_unreachable",),
    ),
    Fault(
        "rate_limited",
        "docker_hub_pull_limit",
        "{hub_rate_limit}/rate-limited/app:1",
        "Docker Hub pull rate limit: HEAD of the tag succeeds, GET of the manifest answers "
        "429 with Docker Hub's TOOMANYREQUESTS body and ratelimit headers",
    ),
    Fault(
        "rate_limited",
        "every_request_429",
        "{rate_limit_all}/app:1",
        "registry answers every request with 429 Too Many Requests",
    ),
    Fault(
        "registry_server_error",
        "status_500",
        "{status_500}/app:1",
        "registry answers 500 Internal Server Error",
    ),
    Fault(
        "registry_server_error",
        "status_502",
        "{status_502}/app:1",
        "proxy in front of the registry answers 502 Bad Gateway",
    ),
    Fault(
        "registry_server_error",
        "status_503",
        "{status_503}/app:1",
        "registry answers 503 Service Unavailable",
    ),
    Fault(
        "registry_server_error",
        "blob_status_500",
        "{blob_500}/blob-error/app:1",
        "manifest served, layer download answers 500 with a registry UNKNOWN error",
    ),
    Fault(
        "platform_mismatch",
        "index_without_node_platform",
        "{registry}/multiarch/app:foreign-arch-only",
        f"image index that lists only linux/{other_arch()}",
    ),
    Fault(
        "node_disk_full",
        "content_store_full",
        "{registry}/big/app:1",
        "containerd content store on a 4 MiB filesystem, image layer of 8 MiB",
        needs_small_disk=True,
    ),
    Fault(
        "invalid_image_name",
        "uppercase_repository",
        "Nginx:Latest",
        "reference with upper-case repository name",
        note="the kubelet rejects such a reference before calling the runtime "
        "(event reason InspectFailed, 'Failed to apply default image tag'); this is "
        "the runtime's own answer",
    ),
    Fault(
        "invalid_image_name",
        "space_in_tag",
        "nginx:bad tag",
        "reference with a space in the tag",
        note="the kubelet rejects such a reference before calling the runtime "
        "(event reason InspectFailed, 'Failed to apply default image tag'); this is "
        "the runtime's own answer",
    ),
)
