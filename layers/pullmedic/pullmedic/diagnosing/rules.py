"""The ordered rule table that names the cause of a pull failure (data, not code).

First match wins, so the most specific rules come first. Each rule is tested
against verbatim messages from real runtimes (tests/fixtures/messages).
Patterns are searched (not anchored) in the whole message, case-sensitively
unless they say `(?i)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pullmedic.core.causes import Cause as C


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
    Rule("kubelet_pull_qps", C.RATE_LIMITED,
         "The kubelet throttled its own pulls (registryPullQPS/registryBurst): too many image "
         "pulls started at once on this node; the registry did not refuse anything.",
         pattern=r"pull QPS exceeded"),
    Rule("image_gc_failed", C.NODE_DISK_FULL,
         "The node's image filesystem is full and the kubelet's image garbage collection could "
         "not free enough space (images in use, or the disk is full of other data).",
         pattern=r"[Ff]ailed to garbage collect required amount of images"
                 r"|The node was low on resource: (?:nodefs|imagefs|ephemeral-storage)"
                 r"|Insufficient free disk space on the node's image filesystem"),
    Rule("local_snapshot_missing", C.UNKNOWN,
         "The runtime's own snapshot store lost a parent layer (not the registry): restart "
         "containerd or clean its content store on that node.",
         pattern=r"failed to prepare extraction snapshot|parent snapshot \S+ does not exist"),
    Rule("invalid_reference", C.INVALID_IMAGE_NAME, "The image reference does not parse.",
         pattern=r"(?i)invalid reference format|couldn't parse image (?:reference|name)"
                 r"|repository name must (?:be lowercase|have at least one component)"),
    Rule("invalid_image_name_reason", C.INVALID_IMAGE_NAME, "The image reference does not parse.",
         reason="InvalidImageName"),
    Rule("short_name_unresolved", C.INVALID_IMAGE_NAME,
         "The image has no registry in its name and the runtime will not guess one (CRI-O "
         "short-name policy): write the full name, e.g. docker.io/library/nginx:1.27.",
         pattern=r"short name mode is enforcing, but image name \S+ returns ambiguous list"
                 r'|short-name "[^"\n]{0,300}" did not resolve to an alias'
                 r'|Invalid image name "[^"\n]{0,300}", (?:expected colon-separated transport'
                 r"|unknown transport)|failed to parse image reference"),
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
    Rule("platform_missing_in_index", C.PLATFORM_MISMATCH,
         "The image has no variant for the node's OS/architecture.",
         pattern=r"in the manifest list entries|no supported platform found in manifest list"),
    Rule("layer_write_io_error", C.NODE_DISK_FULL,
         "Writing a layer to the node's disk failed (input/output error): the disk is full or "
         "failing.",
         pattern=r"failed to register layer: write \S{1,300}: input/output error"
                 r"|failed to mount \S{1,300}: input/output error"),
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
    Rule("tls_remote_alert", C.TLS_ERROR,
         "The registry (or a proxy) rejected the TLS handshake: it wants a client certificate, "
         "another TLS version, or it does not speak TLS on that port.",
         pattern=r'remote error: tls: [a-z]|malformed HTTP response "\\x15\\x03'
                 r"|tls: oversized record received"),
    Rule("transfer_interrupted", C.PULL_TIMEOUT,
         "The download started but the connection broke before the image was complete.",
         # The first "failed to copy: " of a line only: one scan per line, not one per repeat.
         pattern=r"(?m:^)(?>[^\n]*?failed to copy: )[^\n]*?(?:connection reset by peer|unexpected EOF)"
                 r"|failed to read expected number of bytes: unexpected EOF",
         alternatives=(C.REGISTRY_UNREACHABLE, C.REGISTRY_SERVER_ERROR)),
    Rule("blob_read_interrupted", C.PULL_TIMEOUT,
         "A layer download was cut off midway (the connection dropped or stalled).",
         pattern=r"happened during read: (?:\([^()\n]{0,200}\): )?unexpected EOF"
                 r"|(?:happened during read|storing blob to file(?: \"[^\"\n]{0,200}\")?): read tcp "
                 r"\S{1,120}: read: (?:connection reset by peer|connection timed out)"
                 r"|storing blob to file: unexpected EOF",
         alternatives=(C.REGISTRY_UNREACHABLE,)),
    Rule("digest_mismatch", C.REGISTRY_SERVER_ERROR,
         "The content downloaded does not match its digest: the registry, a mirror or a proxy "
         "served wrong or truncated data.",
         pattern=r"Digest did not match, expected|digest mismatch, expected"
                 r"|unexpected commit digest|Manifest does not match provided manifest digest",
         alternatives=(C.PULL_TIMEOUT,)),
    Rule("awaiting_headers_timeout", C.REGISTRY_UNREACHABLE,
         "The registry did not answer in time: nothing was received (network path or proxy).",
         pattern=r"Client\.Timeout exceeded while awaiting headers"
                 r"|request canceled while waiting for connection",
         alternatives=(C.PULL_TIMEOUT,)),
    Rule("connect_failed", C.REGISTRY_UNREACHABLE,
         "The node cannot open a connection to the registry.",
         pattern=r"(?i)connection refused|no route to host|network is unreachable"
                 r"|dial tcp [^\s]*: i/o timeout|dial tcp [^\s]*: connect:|connection reset by peer"),
    Rule("connect_failed_more", C.REGISTRY_UNREACHABLE,
         "The node cannot open a connection to the registry.",
         pattern=r"dial tcp: i/o timeout|connectex: "),
    Rule("connection_closed", C.REGISTRY_UNREACHABLE,
         "The registry (or a proxy in between) closed the connection without an answer.",
         pattern=r': EOF$|: EOF\\?"',
         alternatives=(C.TLS_ERROR, C.REGISTRY_SERVER_ERROR, C.PULL_TIMEOUT)),
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
    Rule("distribution_denied", C.IMAGE_NOT_FOUND,
         "The registry denied access (Docker Hub says this for missing repositories and tags "
         "too; other registries when the credentials lack permission).",
         pattern=r"requested access to the resource is denied",
         alternatives=(C.AUTH_FAILED,), by_registry=_PRIVATE_FIRST),
    Rule("registry_status_auth", C.AUTH_FAILED,
         "The registry refused the node's credentials (HTTP 401/403).",
         pattern=r"Requesting bear(?:er)? token: (?:invalid status code from registry|received "
                 r"unexpected HTTP status:) 4\d\d|invalid status code from registry 40[13]\b"
                 r"|received unexpected HTTP status: 40[13]\b|Status 40[13] trying to pull repository"
                 r"|error parsing HTTP 40[13] response body|StatusCode: 40[13]\b"
                 r"|unsupported status code 40[13]\b|error from registry: unauthorized\b|: Forbidden$",
         alternatives=(C.IMAGE_NOT_FOUND, C.REGISTRY_UNREACHABLE)),
    Rule("gar_permission_or_missing", C.AUTH_FAILED,
         "Artifact Registry denied the pull: no permission, or the repository does not exist.",
         pattern=r"denied: Permission \"artifactregistry\.repositories\.downloadArtifacts\" denied",
         alternatives=(C.IMAGE_NOT_FOUND,)),
    Rule("gar_permission_denied", C.AUTH_FAILED,
         "Artifact Registry denied the pull: no permission, or the repository does not exist.",
         pattern=r'Permission "artifactregistry\.repositories\.downloadArtifacts" denied'
                 r'|do not have permission "artifactregistry\.repositories\.downloadArtifacts"',
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
    Rule("registry_status_not_found", C.IMAGE_NOT_FOUND,
         "The registry has no such image, tag or layer (HTTP 404).",
         pattern=r"invalid status code from registry 404\b|received unexpected HTTP status: 404\b"
                 r"|StatusCode: 404\b|unsupported status code 404\b|\bartifact \S+ not found\b"
                 r"|Project '[^'\n]{1,200}' not found or deleted|\bunknown blob\b|BLOB_UNKNOWN",
         alternatives=(C.REGISTRY_SERVER_ERROR,)),
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
    Rule("registry_5xx_more", C.REGISTRY_SERVER_ERROR, "The registry answered with a server error.",
         pattern=r"invalid status code from registry 5\d\d|status code \[5\d\d\]|\b5\d\d Server Error\b"
                 r"|StatusCode: 5\d\d|error parsing HTTP 5\d\d response body|\b[Ss]ervice [Uu]navailable\b"),
    Rule("registry_bad_request", C.REGISTRY_SERVER_ERROR,
         "The registry (or a mirror/proxy in front of it) rejected the request (HTTP 400).",
         pattern=r"\b400 Bad Request\b|: Bad Request$",
         alternatives=(C.TLS_ERROR, C.REGISTRY_UNREACHABLE)),
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
