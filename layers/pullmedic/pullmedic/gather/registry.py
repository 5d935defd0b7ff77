"""Ask a public registry about an image: the anonymous token flow and a HEAD of the manifest.

Only the well-known public registries are asked (never a host taken from a pod as is), each
distinct image once per scan, with a short timeout and a per-scan budget, and never with a
credential: the token is the anonymous one the registry hands to anybody. Docker Hub does not
count a HEAD against the pull limit and reports the quota in `ratelimit-*` headers.
"""

from __future__ import annotations

import http.client
import json
import re
import ssl
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message

from pullmedic.gather.cache import Memo
from pullmedic.gather.unavailable import Unavailable
from pullmedic.imageref import ImageRef

# registry kind (ImageRef.registry_kind) -> the host its API answers on (None: the image's own)
PUBLIC_REGISTRIES: Mapping[str, str | None] = {
    "dockerhub": "registry-1.docker.io", "ghcr": None, "quay": None, "k8s": None, "gcr": None,
    "gar": None, "ecr-public": None}
EXISTS, NOT_FOUND, AUTH_REQUIRED, RATE_LIMITED, UNREACHABLE = (
    "exists", "not found", "needs authentication", "rate limited", "unreachable")
_ACCEPT = ", ".join((
    "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json"))
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')
_TOKEN_BYTES = 65536


@dataclass(frozen=True)
class RegistryAnswer:
    """What the registry said about one image."""

    status: str  # exists | not found | needs authentication | rate limited | unreachable
    host: str
    detail: str  # the HTTP status or the network error, in a few words
    limit: str | None = None  # Docker Hub's ratelimit-limit, e.g. "100;w=21600"
    remaining: str | None = None  # Docker Hub's ratelimit-remaining

    def quota(self) -> str:
        """E.g. "0 of 100 pulls left in the 21600 s window", or "" without the headers."""
        if self.limit is None or self.remaining is None:
            return ""
        limit, _, window = self.limit.partition(";w=")
        left = self.remaining.partition(";")[0]
        return f"{left} of {limit} pulls left" + (f" in the {window} s window" if window else "")


@dataclass
class RegistrySettings:
    """Whether the function may ask registries (it needs the internet), and test overrides."""

    enabled: bool = False
    hosts: dict[str, str] = field(default_factory=dict)  # API host -> host:port; when set, only these
    ca_file: str | None = None  # the CA that signs an overriding host's certificate
    timeout: float = 3.0
    budget: int = 20  # distinct images asked per scan

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RegistrySettings:
        """PULLMEDIC_REGISTRY_PROBE=on, PULLMEDIC_REGISTRY_HOSTS=a=b,..., PULLMEDIC_REGISTRY_CA."""
        hosts = dict(part.strip().split("=", 1) for part in env.get("PULLMEDIC_REGISTRY_HOSTS", "")
                     .split(",") if "=" in part)
        return cls(enabled=env.get("PULLMEDIC_REGISTRY_PROBE", "off").strip().lower() == "on",
                   hosts=hosts, ca_file=env.get("PULLMEDIC_REGISTRY_CA", "").strip() or None)


MAX_REDIRECTS = 3  # registry.k8s.io redirects once or twice; more is not a registry


class RegistryReader:
    """Cached registry answers for one scan."""

    def __init__(self, settings: RegistrySettings | None = None) -> None:
        self.settings = settings or RegistrySettings()
        self._answers: Memo[str, RegistryAnswer | Unavailable] = Memo()  # shared by cluster threads
        self._asked = 0
        self._budget_lock = threading.Lock()
        context = ssl.create_default_context(cafile=self.settings.ca_file)
        self._open = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context), _KeepHead()).open

    def answer(self, image: ImageRef) -> RegistryAnswer | Unavailable | None:
        """The registry's answer for a public-registry image (None: not asked, by design)."""
        if not self.settings.enabled or image.registry_kind not in PUBLIC_REGISTRIES:
            return None
        host = PUBLIC_REGISTRIES[image.registry_kind] or image.registry
        if self.settings.hosts and host not in self.settings.hosts:
            return None  # with a host mapping (the sandbox), only mapped hosts are asked
        key = f"{image.registry}/{image.repository}{image.version}"
        return self._answers.get(key, lambda: self._ask_within_budget(image))

    def _ask_within_budget(self, image: ImageRef) -> RegistryAnswer | Unavailable:
        with self._budget_lock:
            spent, self._asked = self._asked >= self.settings.budget, self._asked + 1
        if spent:
            return Unavailable(f"not asked: the scan's budget of {self.settings.budget} registry "
                               "look-ups is spent")
        return self._ask(image)

    def _ask(self, image: ImageRef) -> RegistryAnswer:
        host = PUBLIC_REGISTRIES[image.registry_kind] or image.registry
        reference = image.digest or image.tag or "latest"
        url = (f"https://{self._connect(host)}/v2/{urllib.parse.quote(image.repository)}"
               f"/manifests/{urllib.parse.quote(reference)}")
        status, headers = self._head(url, {})
        if status == 401 and headers is not None:
            token = self._token(headers.get("WWW-Authenticate", ""), image.repository)
            if token:
                status, headers = self._head(url, {"Authorization": f"Bearer {token}"})
        if headers is None:
            return RegistryAnswer(UNREACHABLE, host, str(status))
        limit, remaining = headers.get("ratelimit-limit"), headers.get("ratelimit-remaining")
        verdict = {200: EXISTS, 404: NOT_FOUND, 401: AUTH_REQUIRED, 403: AUTH_REQUIRED,
                   429: RATE_LIMITED}.get(int(status))
        if verdict is None:
            return RegistryAnswer(UNREACHABLE, host, f"HTTP {status}", limit, remaining)
        return RegistryAnswer(verdict, host, f"HTTP {status}", limit, remaining)

    def _token(self, challenge: str, repository: str) -> str | None:
        """The anonymous bearer token the challenge's realm hands out (None: none)."""
        if not challenge.lower().startswith("bearer "):
            return None
        params = dict(_CHALLENGE.findall(challenge))
        realm = urllib.parse.urlsplit(params.get("realm", ""))
        if realm.scheme != "https" or not realm.hostname:
            return None
        query = urllib.parse.urlencode({k: v for k, v in (
            ("service", params.get("service")),
            ("scope", params.get("scope") or f"repository:{repository}:pull")) if v})
        url = realm._replace(netloc=self._connect(realm.netloc), query=query).geturl()
        try:
            with self._open(urllib.request.Request(url), timeout=self.settings.timeout) as reply:
                body = json.loads(reply.read(_TOKEN_BYTES))
        except (OSError, ValueError, http.client.HTTPException):
            return None
        token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        return token if isinstance(token, str) else None

    def _head(self, url: str, headers: dict[str, str]) -> tuple[int | str, Message | None]:
        """(HTTP status, headers), or (the network error, None)."""
        request = urllib.request.Request(url, method="HEAD", headers={"Accept": _ACCEPT, **headers})
        try:
            with self._open(request, timeout=self.settings.timeout) as reply:
                return reply.status, reply.headers
        except urllib.error.HTTPError as err:
            err.close()
            return err.code, err.headers
        except (OSError, ValueError, http.client.HTTPException) as err:
            reason = getattr(err, "reason", err)
            return f"{type(reason).__name__}: {reason}"[:200], None

    def _connect(self, host: str) -> str:
        """Where to connect for `host` (the sandbox maps public hosts to its own front)."""
        return self.settings.hosts.get(host, host)


class _KeepHead(urllib.request.HTTPRedirectHandler):
    """Follow redirects (registry.k8s.io sends them) as HEAD, without the bearer token, over
    HTTPS only and at most MAX_REDIRECTS times."""

    max_redirections = MAX_REDIRECTS

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        if urllib.parse.urlsplit(newurl).scheme != "https":
            raise urllib.error.HTTPError(newurl, code, "a redirect away from HTTPS is not followed",
                                         headers, fp)
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and req.get_method() == "HEAD":
            new = urllib.request.Request(new.full_url, method="HEAD",
                                         headers={"Accept": _ACCEPT})
        return new
