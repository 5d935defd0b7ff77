"""Anonymous bearer tokens for the registry probe: one token request per registry per scan.

The token realm of Docker Hub, Quay and GHCR is known (no challenge is needed); another
registry's is read from its first 401 of the scan. One token request covers every repository
the scan plans to ask that registry about, as several `scope=` parameters (the distribution
token spec allows them; Docker Hub and Quay grant each). A registry that refuses such a request,
or that answers 401 to a token of several scopes where a token of one succeeds, is asked one
repository per token from then on. A realm is only followed to HTTPS on the registry's own host
(or its known realm's host): a registry's answer never sends pullmedic elsewhere.
"""

from __future__ import annotations

import re
import threading
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Realm:
    """Where a registry hands out anonymous tokens."""

    url: str
    service: str | None
    several: bool = False  # known to grant several scope= parameters in one request
    scope: str | None = None  # a scope the challenge names that is not a repository's


# API host -> its realm (the hosts answer 401 with these; asking saves a challenge per scan).
KNOWN: Mapping[str, Realm] = {
    "registry-1.docker.io": Realm("https://auth.docker.io/token", "registry.docker.io", True),
    "quay.io": Realm("https://quay.io/v2/auth", "quay.io", True),
    "ghcr.io": Realm("https://ghcr.io/token", "ghcr.io"),
}
_PARAM = re.compile(r'(\w+)="([^"]*)"')


def realm_of(challenge: str, host: str) -> Realm | None:
    """The realm of a `WWW-Authenticate: Bearer realm=...` challenge from `host` (None: not a
    Bearer challenge, or a realm that is not HTTPS on the registry's own or known realm host)."""
    if not challenge.lower().startswith("bearer "):
        return None
    params = dict(_PARAM.findall(challenge))
    url = urllib.parse.urlsplit(params.get("realm", ""))
    known = KNOWN.get(host)
    allowed = {host.partition(":")[0], urllib.parse.urlsplit(known.url).hostname if known else None}
    if url.scheme != "https" or url.hostname not in allowed:
        return None
    scope = params.get("scope")
    return Realm(url.geturl(), params.get("service"), known.several if known else False,
                 scope if scope and not scope.startswith("repository:") else None)


Fetch = Callable[[Realm, Sequence[str]], "str | None"]


@dataclass
class _Host:
    """One registry's tokens in this scan."""

    planned: list[str] = field(default_factory=list)
    tokens: dict[str, tuple[str | None, bool]] = field(default_factory=dict)  # repo -> (token, shared)
    one_each: bool = False  # several scopes refused or ignored: one repository per token
    lock: threading.Lock = field(default_factory=threading.Lock)


class Tokens:
    """The scan's anonymous tokens, per registry host; safe to share between cluster threads
    (a thread that needs a token being fetched waits for it instead of asking again)."""

    def __init__(self, fetch: Fetch, most: int) -> None:
        self._fetch, self._most = fetch, max(1, most)
        self._hosts: dict[str, _Host] = {}
        self._guard = threading.Lock()

    def plan(self, host: str, repository: str) -> None:
        """Note a repository the scan will ask `host` about (one token request covers them)."""
        state = self._host(host)
        with state.lock:
            if repository not in state.planned:
                state.planned.append(repository)

    def token(self, host: str, realm: Realm, repository: str) -> tuple[str | None, bool]:
        """A token for `repository` (None: none handed out), and whether it covers others too."""
        state = self._host(host)
        with state.lock:
            if repository in state.tokens:
                return state.tokens[repository]
            batch = [repository]
            if not state.one_each:
                waiting = (r for r in state.planned if r not in state.tokens and r != repository)
                batch += list(waiting)[:self._most - 1]
            token = self._fetch(realm, batch)
            if token is None and len(batch) > 1:  # several scopes refused: one at a time
                state.one_each, batch = True, [repository]
                token = self._fetch(realm, batch)
            for name in batch:
                state.tokens[name] = (token, len(batch) > 1)
            return state.tokens[repository]

    def alone(self, host: str, realm: Realm, repository: str) -> str | None:
        """A token for `repository` alone (to tell a refused repository from ignored scopes)."""
        state = self._host(host)
        with state.lock:
            token = self._fetch(realm, [repository])
            state.tokens[repository] = (token, False)
            return token

    def one_each(self, host: str) -> None:
        """`host` ignores all but one scope of a token: ask one repository per token (the
        tokens of several scopes it handed out are dropped, not tried)."""
        state = self._host(host)
        with state.lock:
            state.one_each = True
            state.tokens = {name: held for name, held in state.tokens.items() if not held[1]}

    def _host(self, host: str) -> _Host:
        with self._guard:
            return self._hosts.setdefault(host, _Host())
