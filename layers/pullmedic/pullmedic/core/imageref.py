"""Parse container image references the way the registry client does.

Implements the grammar of the distribution reference package
(github.com/distribution/reference, `regexp.go` and `normalize.go`): a
reference with no registry host is on Docker Hub (`docker.io`), a one-part
Docker Hub name gets `library/`, and a reference with neither tag nor digest
means `:latest`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DOCKER_HUB = "docker.io"
_LEGACY_HUB_HOSTS = frozenset({"index.docker.io", "registry-1.docker.io"})
_NAME_MAX = 255

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|{_IPV6})(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(
    rf"^(?P<name>(?:(?P<domain>{_DOMAIN})/)?(?P<path>{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*))"
    rf"(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?$"
)
_ECR_HOST = re.compile(
    r"^(?P<account>\d{12})\.dkr(?:\.ecr|-ecr)(?P<fips>-fips)?\.(?P<region>[a-z0-9-]+)"
    r"\.(?:amazonaws\.com(?P<china>\.cn)?|on\.aws)$"
)
_REGISTRY_KINDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^docker\.io$"), "dockerhub"),
    (re.compile(r"^public\.ecr\.aws$"), "ecr-public"),
    (re.compile(r"^(?:[a-z0-9-]+\.)?gcr\.io$"), "gcr"),
    (re.compile(r"^[a-z0-9-]+-docker\.pkg\.dev$"), "gar"),
    (re.compile(r"^[a-z0-9-]+\.azurecr\.(?:io|cn|us)$"), "acr"),
    (re.compile(r"^ghcr\.io$"), "ghcr"),
    (re.compile(r"^quay\.io$"), "quay"),
    (re.compile(r"^registry\.k8s\.io$|^k8s\.gcr\.io$"), "k8s"),
)


@dataclass(frozen=True)
class EcrRegistry:
    """The parts of a private ECR registry host."""

    account: str
    region: str
    fips: bool
    partition: str


@dataclass(frozen=True)
class ImageRef:
    """A parsed, normalised image reference."""

    original: str
    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def registry_kind(self) -> str:
        """A short name for the registry: ecr, dockerhub, ghcr, ... or self-hosted."""
        if self.ecr is not None:
            return "ecr"
        for pattern, kind in _REGISTRY_KINDS:
            if pattern.match(self.registry):
                return kind
        return "self-hosted"

    @property
    def ecr(self) -> EcrRegistry | None:
        """The ECR account and region when the registry is a private ECR registry."""
        match = _ECR_HOST.match(self.registry)
        if match is None:
            return None
        region = match["region"]
        partition = "aws-cn" if match["china"] else ("aws-us-gov" if "gov" in region else "aws")
        return EcrRegistry(match["account"], region, bool(match["fips"]), partition)

    @property
    def is_docker_official(self) -> bool:
        """True for Docker Hub official images (`library/...`)."""
        return self.registry == DOCKER_HUB and self.repository.startswith("library/")

    @property
    def version(self) -> str:
        """The tag or digest the reference asks for, as a user would write it."""
        if self.digest:
            return f"@{self.digest}"
        return f":{self.tag or 'latest'}"

    def __str__(self) -> str:
        tag = f":{self.tag}" if self.tag else ""
        digest = f"@{self.digest}" if self.digest else ""
        return f"{self.registry}/{self.repository}{tag}{digest}"


@dataclass(frozen=True)
class InvalidReference:
    """A reference that does not parse, with the reason the runtime would give."""

    original: str
    reason: str


def parse_image(reference: str) -> ImageRef | InvalidReference:
    """Parse and normalise `reference`; never raises."""
    text = reference.strip()
    match = _REFERENCE.match(text)
    if match is None:
        return InvalidReference(reference, _why_invalid(text))
    if len(match["name"]) > _NAME_MAX:
        return InvalidReference(reference, "repository name must not be more than 255 characters")
    domain, path = _split_domain(match["domain"], match["path"])
    tag = match["tag"] or (None if match["digest"] else "latest")
    return ImageRef(reference, domain, path, tag, match["digest"])


def _split_domain(domain: str | None, path: str) -> tuple[str, str]:
    """Apply normalize.go's splitDockerDomain to the regex's domain/path split."""
    if domain is not None and not _looks_like_domain(domain):
        path, domain = f"{domain}/{path}", None
    if domain is None or domain in _LEGACY_HUB_HOSTS:
        domain = DOCKER_HUB
    if domain == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    return domain, path


def _looks_like_domain(first: str) -> bool:
    """A first path part is a registry host if it has a dot or port, or is localhost."""
    return any(c in first for c in ".:") or first == "localhost" or first != first.lower()


def _why_invalid(text: str) -> str:
    """Name the rule a non-matching reference breaks, as the runtime words it."""
    if not text:
        return "repository name must have at least one component"
    name = re.split(r"[@]", text, maxsplit=1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    if name != name.lower() and _REFERENCE.match(text.lower()):
        return "repository name must be lowercase"
    return "invalid reference format"
