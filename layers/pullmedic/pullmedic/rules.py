"""The ordered rule table that names the cause of a pull failure (data, not code).

First match wins, so the most specific rules come first. Each rule is tested
against verbatim messages from real runtimes (tests/fixtures/messages).
Patterns are searched (not anchored) in the whole message, case-sensitively
unless they say `(?i)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pullmedic.causes import Cause as C


@dataclass(frozen=True)
class Rule:
    """One line of the table: when `pattern` (or the waiting `reason`) matches, name `cause`."""

    id: str
    cause: C
    summary: str
    pattern: str | None = None
    reason: str | None = None
    alternatives: tuple[C, ...] = ()
    # Registry kinds (see ImageRef.registry_kind) for which the primary cause differs.
    by_registry: dict[str, C] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.pattern is None) == (self.reason is None):
            raise ValueError(f"rule {self.id}: give exactly one of pattern or reason")

    def compiled(self) -> re.Pattern[str] | None:
        """The compiled pattern (None for reason rules)."""
        return re.compile(self.pattern) if self.pattern else None


_HTTP_5XX = r"(?:500 Internal Server Error|502 Bad Gateway|503 Service Unavailable|504 Gateway Time-?out)"

# Outside Docker Hub, "does not exist or may require a login" is most often a private image.
_PRIVATE_FIRST = {kind: C.AUTH_FAILED for kind in ("ecr", "ecr-public", "gcr", "gar", "acr", "ghcr",
                                                   "quay", "k8s", "self-hosted")}

RULES: tuple[Rule, ...] = (
    # --- the kubelet decided before any pull was tried -----------------------------------
    Rule("never_pull_message", C.NEVER_PULL,
         "imagePullPolicy is Never and the image is not on the node.",
         pattern=r"is not present with pull policy of Never"),
    Rule("never_pull", C.NEVER_PULL, "imagePullPolicy is Never and the image is not on the node.",
         reason="ErrImageNeverPull"),
    Rule("invalid_reference", C.INVALID_IMAGE_NAME, "The image reference does not parse.",
         pattern=r"(?i)invalid reference format|couldn't parse image (?:reference|name)"
                 r"|repository name must (?:be lowercase|have at least one component)"),
    Rule("invalid_image_name_reason", C.INVALID_IMAGE_NAME, "The image reference does not parse.",
         reason="InvalidImageName"),
    # --- pod sandbox: the CNI could not give the pod an address --------------------------
    Rule("cni_ip_exhausted", C.IP_EXHAUSTED,
         "The VPC CNI could not assign an IP address to the pod.",
         pattern=r"(?i)failed to assign an IP address to (?:the )?container"
                 r"|InsufficientFreeAddressesInSubnet|no available IP addresses?"
                 r"|AssignPodIPv4Address: no available|assignPodIPv4AddressUnsafe: no available"),
    # --- the registry or the node said something unambiguous -----------------------------
    Rule("rate_limit", C.RATE_LIMITED, "The registry refused the pull: rate limit reached.",
         pattern=r"(?i)toomanyrequests|too many requests|pull rate limit|rate limit exceeded"
                 r"|\b429\b|ThrottlingException|Rate exceeded"),
    Rule("disk_full", C.NODE_DISK_FULL, "The node ran out of disk space while pulling.",
         pattern=r"(?i)no space left on device|disk quota exceeded"),
    Rule("platform_no_match", C.PLATFORM_MISMATCH,
         "The image has no variant for the node's OS/architecture.",
         pattern=r"(?i)no match for platform in manifest|no matching manifest for"
                 r"|does not match the specified platform"
                 r"|no image found in (?:manifest list|image index) for architecture"),
    Rule("local_pause_image_missing", C.REGISTRY_UNREACHABLE,
         "The node's pre-cached pause image (localhost/kubernetes/pause, EKS AL2023 AMIs) is "
         "gone, so the runtime tries to pull it from localhost: replace the node.",
         pattern=r'failed to get sandbox image "localhost/', alternatives=(C.IMAGE_NOT_FOUND,)),
    # --- the network: DNS, connect, TLS ---------------------------------------------------
    Rule("dns_failure", C.REGISTRY_UNREACHABLE,
         "The registry's name does not resolve from the node (DNS).",
         pattern=r"(?i)\bno such host\b|server misbehaving|Temporary failure in name resolution"
                 r"|Name or service not known|name resolution|lookup \S+ on \S+: "),
    Rule("tls_handshake_timeout", C.REGISTRY_UNREACHABLE,
         "The node could not complete a TLS handshake with the registry in time.",
         pattern=r"TLS handshake timeout"),
    Rule("tls_untrusted", C.TLS_ERROR, "The node does not accept the registry's TLS certificate.",
         pattern=r"(?i)x509:|tls: failed to verify|certificate signed by unknown authority"
                 r"|certificate is (?:not )?valid for|certificate has expired"),
    Rule("tls_scheme_mismatch", C.TLS_ERROR,
         "The registry speaks plain HTTP but was addressed over HTTPS (or the reverse).",
         pattern=r"(?i)server gave HTTP response to HTTPS client"
                 r"|first record does not look like a TLS handshake"
                 r"|tls: (?:unrecognized name|handshake failure|protocol version)"),
    Rule("transfer_interrupted", C.PULL_TIMEOUT,
         "The download started but the connection broke before the image was complete.",
         # The first "failed to copy: " of a line only: one scan per line, not one per repeat.
         pattern=r"(?m:^)(?>[^\n]*?failed to copy: )[^\n]*?(?:connection reset by peer|unexpected EOF)"
                 r"|failed to read expected number of bytes: unexpected EOF",
         alternatives=(C.REGISTRY_UNREACHABLE, C.REGISTRY_SERVER_ERROR)),
    Rule("awaiting_headers_timeout", C.REGISTRY_UNREACHABLE,
         "The registry did not answer in time: nothing was received (network path or proxy).",
         pattern=r"Client\.Timeout exceeded while awaiting headers"
                 r"|request canceled while waiting for connection",
         alternatives=(C.PULL_TIMEOUT,)),
    Rule("connect_failed", C.REGISTRY_UNREACHABLE,
         "The node cannot open a connection to the registry.",
         pattern=r"(?i)connection refused|no route to host|network is unreachable"
                 r"|dial tcp [^\s]*: i/o timeout|dial tcp [^\s]*: connect:|connection reset by peer"),
    Rule("ecr_not_authorized", C.AUTH_FAILED,
         "IAM denies the node (or pod execution) role an ECR pull action.",
         pattern=r"is not authorized to perform: ecr:"),
    # --- ambiguous "not found or not allowed" answers: registry decides the primary cause --
    Rule("docker_pull_access_denied", C.IMAGE_NOT_FOUND,
         "Docker Hub says the repository does not exist or needs a login.",
         pattern=r"pull access denied for \S+, repository does not exist or may require"
                 r" 'docker login'",
         alternatives=(C.AUTH_FAILED,), by_registry=_PRIVATE_FIRST),
    Rule("containerd_pull_access_denied", C.IMAGE_NOT_FOUND,
         "The registry says the repository does not exist or needs authorization.",
         pattern=r"pull access denied, repository does not exist or may require authorization",
         alternatives=(C.AUTH_FAILED,), by_registry=_PRIVATE_FIRST),
    Rule("gar_permission_or_missing", C.AUTH_FAILED,
         "Artifact Registry denied the pull: no permission, or the repository does not exist.",
         pattern=r"denied: Permission \"artifactregistry\.repositories\.downloadArtifacts\" denied",
         alternatives=(C.IMAGE_NOT_FOUND,)),
    # --- authentication and authorization -------------------------------------------------
    Rule("ecr_token_invalid", C.AUTH_FAILED,
         "The ECR credentials the node used are invalid or expired.",
         pattern=r"(?i)security token included in the request is (?:invalid|expired)"
                 r"|Your authorization token has expired|no basic auth credentials"),
    Rule("missing_pull_secret", C.AUTH_FAILED,
         "A referenced imagePullSecret does not exist in the pod's namespace.",
         pattern=r"Unable to retrieve (?:some image )?pull secrets?\b"),
    Rule("quay_unauthorized", C.AUTH_FAILED,
         "Quay refused access; Quay says this both for private and for missing repositories.",
         pattern=r"access to the requested resource is not authorized",
         alternatives=(C.IMAGE_NOT_FOUND,)),
    Rule("registry_auth", C.AUTH_FAILED, "The registry rejected the node's credentials.",
         pattern=r"(?i)\b401 Unauthorized|\b403 Forbidden|unauthorized: |authentication required"
                 r"|failed to authorize|failed to fetch (?:anonymous|oauth) token"
                 r"|insufficient_scope"
                 r"|denied: requested access to the resource is denied|\bdenied: \S"
                 r"|invalid username/password|unauthorized to access repository"),
    # --- the image (tag, digest or repository) does not exist ------------------------------
    Rule("ecr_repository_missing", C.IMAGE_NOT_FOUND,
         "The ECR repository does not exist in that account and region.",
         pattern=r"The repository with name '[^']+' does not exist in the registry"),
    Rule("manifest_unknown", C.IMAGE_NOT_FOUND, "The registry has no such tag or digest.",
         pattern=r"(?i)manifest unknown|manifest for \S+ not found|Requested image not found"
                 r"|\bimage \S+ not found\b"
                 r"|MANIFEST_UNKNOWN|name unknown|NAME_UNKNOWN|repository \S+ not found"
                 r"|reading manifest \S+ in \S+: (?:manifest unknown|name unknown|not found)"),
    Rule("reference_not_found", C.IMAGE_NOT_FOUND, "The registry has no such tag or digest.",
         # The first prefix of a line only: one scan per line, not one per repeat.
         pattern=r"(?m:^)(?>[^\n]*?(?:failed to resolve reference|code = NotFound desc = ))"
                 r"[^\n]*: not found\s*+$"
                 r"|: not found$|\bnot found: not found\b"),
    Rule("http_to_https_port", C.TLS_ERROR,
         "The registry answered 400 Bad Request to a plain-HTTP request: it serves HTTPS there "
         "(the runtime's registry config says http://).",
         # Tried from the text's start and after each "]" only, at the first phrase there: the
         # same matches as the phrase tried everywhere, each character read a bounded number of times.
         pattern=r"(?:\A|(?<=\]))(?>[^\]]*?failed with status code \[manifests )[^\]]+"
                 r"\]: 400 Bad Request"),
    # --- the registry broke ----------------------------------------------------------------
    Rule("registry_5xx", C.REGISTRY_SERVER_ERROR, "The registry answered with a server error.",
         pattern=rf"(?i){_HTTP_5XX}|unexpected status(?: code)?:? 5\d\d|status code 5\d\d"
                 r"|received unexpected HTTP status: 5\d\d"),
    # --- started but did not finish ---------------------------------------------------------
    Rule("pull_deadline", C.PULL_TIMEOUT,
         "The pull did not finish in time (slow transfer, or a registry that never answered).",
         alternatives=(C.REGISTRY_UNREACHABLE,),
         pattern=r"(?i)context deadline exceeded|code = DeadlineExceeded|context canceled"
                 r"|code = Canceled|net/http: request canceled|timeout awaiting response headers"
                 r"|read: connection timed out"),
    # --- nothing left to read ---------------------------------------------------------------
    Rule("backoff_only", C.UNKNOWN,
         "Only the back-off text is left: the event with the registry's error has expired.",
         pattern=r"^Back-off pulling image "),
)
