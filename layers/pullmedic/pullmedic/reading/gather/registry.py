"""Ask a public registry about an image: the anonymous token flow and a HEAD of the manifest.

Only the well-known public registries are asked (never a host taken from a pod as is), with a
short timeout and a per-scan budget, and never with a credential: the token is the anonymous
one the registry hands to anybody. A scan makes one manifest HEAD per distinct image, one token
request per registry for all the repositories it plans to ask about (registry_auth.py), and a
challenge only for a registry whose token realm is not known. Docker Hub does not count a HEAD
against the pull limit and reports the quota in `ratelimit-*` headers.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.message import Message

from pullmedic.core.causes import Cause
from pullmedic.core.imageref import ImageRef
from pullmedic.core.settings import RegistrySettings
from pullmedic.core.unavailable import Unavailable
from pullmedic.reading.gather.cache import Memo
from pullmedic.reading.gather.registry_auth import KNOWN, Realm, Tokens, realm_of

# registry kind (ImageRef.registry_kind) -> the host its API answers on (None: the image's own)
PUBLIC_REGISTRIES: Mapping[str, str | None] = {
    "dockerhub": "registry-1.docker.io", "ghcr": None, "quay": None, "k8s": None, "gcr": None,
    "gar": None, "ecr-public": None}
# The causes the registry's answer can confirm or contradict (the images planned for a token).
ASKED_FOR = frozenset({Cause.IMAGE_NOT_FOUND, Cause.AUTH_FAILED, Cause.RATE_LIMITED})
EXISTS, NOT_FOUND, AUTH_REQUIRED, RATE_LIMITED, UNREACHABLE = (
    "exists", "not found", "needs authentication", "rate limited", "unreachable")
_ACCEPT = ", ".join((
    "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json"))
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


MAX_REDIRECTS = 3  # registry.k8s.io redirects once or twice; more is not a registry


class RegistryReader:
    """Cached registry answers for one scan."""

    def __init__(self, settings: RegistrySettings | None = None) -> None:
        self.settings = settings or RegistrySettings()
        self._answers: Memo[str, RegistryAnswer | Unavailable] = Memo()  # shared by cluster threads
        self._realms: Memo[str, Realm | None] = Memo()  # API host -> realm (None: no token flow)
        self._tokens = Tokens(self._fetch_token, self.settings.budget)
        self._asked = 0
        self._budget_lock = threading.Lock()
        context = ssl.create_default_context(cafile=self.settings.ca_file)
        self._open = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context), _KeepHead()).open

    def plan(self, images: Iterable[ImageRef | None]) -> None:
        """Note the images the scan may ask about: one token request covers a registry's."""
        for image in images:
            host = self._host(image) if image is not None else None
            if host is not None and image is not None:
                self._tokens.plan(host, image.repository)

    def answer(self, image: ImageRef) -> RegistryAnswer | Unavailable | None:
        """The registry's answer for a public-registry image (None: not asked, by design)."""
        host = self._host(image)
        if host is None:
            return None
        key = f"{image.registry}/{image.repository}{image.version}"
        return self._answers.get(key, lambda: self._ask_within_budget(host, image))

    def _host(self, image: ImageRef) -> str | None:
        """The API host to ask about `image` (None: not asked, by design)."""
        if not self.settings.enabled or image.registry_kind not in PUBLIC_REGISTRIES:
            return None
        host = PUBLIC_REGISTRIES[image.registry_kind] or image.registry
        if self.settings.hosts and host not in self.settings.hosts:
            return None  # with a host mapping (the sandbox), only mapped hosts are asked
        return host

    def _ask_within_budget(self, host: str, image: ImageRef) -> RegistryAnswer | Unavailable:
        with self._budget_lock:
            spent, self._asked = self._asked >= self.settings.budget, self._asked + 1
        if spent:
            return Unavailable(f"not asked: the scan's budget of {self.settings.budget} registry "
                               "look-ups is spent")
        return self._ask(host, image)

    def _ask(self, host: str, image: ImageRef) -> RegistryAnswer:
        """One manifest HEAD (plus, once per registry, the token; once per unknown host, the
        challenge, which is this image's own HEAD without a token)."""
        reference = image.digest or image.tag or "latest"
        url = (f"https://{self._connect(host) or host}/v2/{urllib.parse.quote(image.repository)}"
               f"/manifests/{urllib.parse.quote(reference)}")
        first: list[tuple[int | str, Message | None]] = []
        realm = KNOWN.get(host) or self._realm(host, url, first)
        if realm is None:
            status, headers = first[0] if first else self._head(url, {})
        else:
            status, headers = self._head_with_token(host, realm, image.repository, url)
        return _verdict(host, status, headers)

    def _realm(self, host: str, url: str, first: list[tuple[int | str, Message | None]]
               ) -> Realm | None:
        """The host's token realm, from a HEAD without a token (once per host per scan: the
        first image's HEAD, kept in `first`, is its challenge)."""
        def challenge() -> Realm | None:
            status, headers = self._head(url, {})
            first.append((status, headers))
            if headers is None:
                raise _Unreachable  # learn nothing: the next image of the host asks again
            return realm_of(headers.get("WWW-Authenticate", ""), host) if status == 401 else None
        try:
            return self._realms.get(host, challenge)
        except _Unreachable:
            return None

    def _head_with_token(self, host: str, realm: Realm, repository: str, url: str
                         ) -> tuple[int | str, Message | None]:
        token, shared = self._tokens.token(host, realm, repository)
        status, headers = self._head(url, _bearer(token))
        if status != 401 or not shared or realm.several:
            return status, headers
        # a token of several scopes from a registry not known to grant them all: is it this
        # repository, or the scopes? A token of this repository alone tells.
        alone = self._tokens.alone(host, realm, repository)
        retried, again = self._head(url, _bearer(alone))
        if retried != 401 and again is not None:
            self._tokens.one_each(host)
            return retried, again
        return status, headers

    def _fetch_token(self, realm: Realm, repositories: Sequence[str]) -> str | None:
        """The anonymous bearer token the realm hands out for `repositories` (None: none)."""
        split = urllib.parse.urlsplit(realm.url)
        netloc = self._connect(split.netloc)
        if netloc is None:
            return None
        query = urllib.parse.urlencode(
            ([("service", realm.service)] if realm.service else [])
            + [("scope", f"repository:{name}:pull") for name in repositories]
            + ([("scope", realm.scope)] if realm.scope else []))
        url = split._replace(netloc=netloc, query="&".join(filter(None, (split.query, query))))
        try:
            with self._open(urllib.request.Request(url.geturl()),
                            timeout=self.settings.timeout) as reply:
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

    def _connect(self, host: str) -> str | None:
        """Where to connect for `host` (the sandbox maps public hosts to its fronts; with a
        mapping, an unmapped host is not asked: None)."""
        if self.settings.hosts:
            return self.settings.hosts.get(host)
        return host


class _Unreachable(Exception):
    """A registry's challenge could not be read (nothing is cached for its host)."""


def _bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def _verdict(host: str, status: int | str, headers: Message | None) -> RegistryAnswer:
    """The answer a manifest HEAD's status and headers make."""
    if headers is None:
        return RegistryAnswer(UNREACHABLE, host, str(status))
    limit, remaining = headers.get("ratelimit-limit"), headers.get("ratelimit-remaining")
    verdict = {200: EXISTS, 404: NOT_FOUND, 401: AUTH_REQUIRED, 403: AUTH_REQUIRED,
               429: RATE_LIMITED}.get(int(status), UNREACHABLE)
    return RegistryAnswer(verdict, host, f"HTTP {status}", limit, remaining)


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
