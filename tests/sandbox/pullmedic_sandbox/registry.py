"""Small HTTPS registry fronts on 127.0.0.1 that answer like Docker Hub, Quay and GHCR.

`HEAD /v2/<repo>/manifests/<ref>` without a token that grants pull on `<repo>`: 401 with a
Bearer challenge naming the registry's real token realm (`https://auth.docker.io/token` for
Docker Hub, which pullmedic's host mapping sends here), service and scope. `GET <realm path>`
with one or several `scope=repository:<repo>:pull` parameters: an anonymous token granting
pull on every public repository that exists among them (as Docker Hub does: no access to a
private or missing repository, and no error for it either). With a token granting the repo:
200 (and a digest) for a known tag, 404 for an unknown one, 429 once the anonymous quota is
spent; every manifest answer carries `ratelimit-limit` / `ratelimit-remaining` as Docker Hub's
do.

The scenario's `registry:` section configures the Docker Hub front, and optionally Quay, GHCR
and GCR fronts (sharing one CA):

```yaml
registry:
  images: {library/httpd: [latest, "2.4"]}   # repository -> tags that exist
  private: [acme/internal]                    # repositories that need a login
  limit: 100                                  # anonymous pulls per window
  remaining: 0                                # left now; 0 answers 429
  scopes: several                             # several scope= per token request: several
                                              # (granted, as by Docker Hub and Quay), first
                                              # (only the first granted) or refuse (HTTP 400)
  token_delay: 0.2                            # seconds before a token is handed out
  quay: {images: {prometheus/node-exporter: [v1.8.2]}}
  ghcr: {images: {acme/tool: [v0.0.1]}}
```
"""

from __future__ import annotations

import hashlib
import json
import secrets
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

from pullmedic_sandbox.tls import ServerTLS, make_server_tls

WINDOW = 21600


@dataclass(frozen=True)
class Flavour:
    """A registry the front stands in for: the hosts it answers for and its token realm."""

    hosts: tuple[str, ...]
    realm: str
    service: str


FLAVOURS = {
    "dockerhub": Flavour(("registry-1.docker.io", "auth.docker.io"), "https://auth.docker.io/token",
                         "registry.docker.io"),
    "quay": Flavour(("quay.io",), "https://quay.io/v2/auth", "quay.io"),
    "ghcr": Flavour(("ghcr.io",), "https://ghcr.io/token", "ghcr.io"),
    "gcr": Flavour(("gcr.io",), "https://gcr.io/v2/token", "gcr.io"),  # a realm pullmedic learns
}


class Seen(NamedTuple):
    """One request the front answered."""

    method: str
    path: str
    authorized: bool  # a HEAD carrying a bearer token (False: a challenge, or a token request)


class RegistryFront:
    """The front's TLS material, its address and the requests it has seen."""

    def __init__(self, spec: dict[str, Any], flavour: str = "dockerhub",
                 tls: ServerTLS | None = None) -> None:
        self.flavour = FLAVOURS[flavour]
        self.images = {repo: {str(t) for t in tags} for repo, tags in (spec.get("images") or {}).items()}
        self.private = set(spec.get("private") or [])
        self.limit, self.remaining = int(spec.get("limit", 100)), int(spec.get("remaining", 100))
        self.scopes = str(spec.get("scopes", "several"))
        self.token_delay = float(spec.get("token_delay", 0))
        self.requests: list[Seen] = []
        self.token_scopes: list[list[str]] = []  # the scopes of each token request
        self._grants: dict[str, frozenset[str]] = {}  # token -> repositories it may pull
        self._lock = threading.Lock()
        self._tls = tls or make_server_tls("sandbox-registry")
        self._dir = tempfile.TemporaryDirectory(prefix="registry-front-")
        self.ca_file = str(Path(self._dir.name, "ca.pem"))
        Path(self.ca_file).write_bytes(self._tls.ca_pem)
        cert, key = Path(self._dir.name, "tls.crt"), Path(self._dir.name, "tls.key")
        cert.write_bytes(self._tls.cert_pem)
        key.write_bytes(self._tls.key_pem)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._server.front = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        """host:port of the front."""
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    @property
    def hosts(self) -> dict[str, str]:
        """The public hosts this front stands in for -> its address (PULLMEDIC_REGISTRY_HOSTS)."""
        return dict.fromkeys(self.flavour.hosts, self.address)

    def count(self) -> dict[str, int]:
        """Requests seen: manifest HEADs with a token, challenges (without one), token requests."""
        with self._lock:
            seen = list(self.requests)
        return {"manifests": sum(1 for r in seen if r.method == "HEAD" and r.authorized),
                "challenges": sum(1 for r in seen if r.method == "HEAD" and not r.authorized),
                "tokens": sum(1 for r in seen if r.method == "GET")}

    def clear(self) -> None:
        """Forget the requests seen (and the tokens handed out)."""
        with self._lock:
            self.requests.clear()
            self.token_scopes.clear()
            self._grants.clear()

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and drop the TLS files."""
        self._server.shutdown()
        self._server.server_close()
        self._dir.cleanup()

    def issue(self, scopes: list[str]) -> tuple[int, dict[str, Any]]:
        """A token request's answer: (HTTP status, body)."""
        repos = [s.split(":")[1] for s in scopes if s.count(":") == 2 and s.startswith("repository:")
                 and s.endswith(":pull")]
        time.sleep(self.token_delay)
        if len(scopes) > 1 and self.scopes == "refuse":
            return 400, {"errors": [{"code": "DENIED", "message": "one scope per request"}]}
        if self.scopes == "first":
            repos = repos[:1]
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.token_scopes.append(list(scopes))
            self._grants[token] = frozenset(r for r in repos if r in self.images
                                            and r not in self.private)
        return 200, {"token": token, "access_token": token, "expires_in": 300}

    def granted(self, authorization: str | None, repo: str) -> bool:
        """Whether the request's bearer token may pull `repo`."""
        token = (authorization or "").removeprefix("Bearer ")
        with self._lock:
            return repo in self._grants.get(token, frozenset())

    def seen(self, method: str, path: str, authorized: bool) -> None:
        """Record a request."""
        with self._lock:
            self.requests.append(Seen(method, path, authorized))


def fronts(spec: dict[str, Any]) -> dict[str, RegistryFront]:
    """The fronts a scenario's `registry:` section asks for, sharing one CA: Docker Hub always,
    Quay, GHCR and GCR when their sections are there."""
    tls = make_server_tls("sandbox-registry")
    made = {"dockerhub": RegistryFront(spec, "dockerhub", tls)}
    for flavour in ("quay", "ghcr", "gcr"):
        if isinstance(spec.get(flavour), dict):
            made[flavour] = RegistryFront(spec[flavour], flavour, tls)
    return made


def hosts_setting(made: dict[str, RegistryFront]) -> str:
    """PULLMEDIC_REGISTRY_HOSTS for `made`: every public host each front stands in for."""
    return ",".join(f"{host}={address}" for front in made.values()
                    for host, address in front.hosts.items())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    @property
    def front(self) -> RegistryFront:
        return self.server.front  # type: ignore[attr-defined,no-any-return]

    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        url = urlsplit(self.path)
        self.front.seen("GET", url.path, False)
        if url.path != urlsplit(self.front.flavour.realm).path:
            self._send(404, {"errors": [{"code": "NOT_FOUND"}]})
            return
        query = parse_qs(url.query)
        if query.get("service") != [self.front.flavour.service]:
            self._send(400, {"errors": [{"code": "UNSUPPORTED", "message": "unknown service"}]})
            return
        self._send(*self.front.issue(query.get("scope", [])))

    def do_HEAD(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path
        authorization = self.headers.get("Authorization")
        self.front.seen("HEAD", path, authorization is not None)
        repo, _, ref = path.removeprefix("/v2/").rpartition("/manifests/")
        if not path.startswith("/v2/") or not repo:
            self._send(404, None)
            return
        if not self.front.granted(authorization, repo):
            flavour = self.front.flavour
            error = ',error="insufficient_scope"' if authorization else ""
            self._send(401, None, {"WWW-Authenticate": f'Bearer realm="{flavour.realm}",service='
                                   f'"{flavour.service}",scope="repository:{repo}:pull"{error}'})
            return
        quota = {"ratelimit-limit": f"{self.front.limit};w={WINDOW}",
                 "ratelimit-remaining": f"{self.front.remaining};w={WINDOW}"}
        if self.front.remaining <= 0:
            self._send(429, None, quota)
        elif ref in self.front.images.get(repo, set()):
            digest = "sha256:" + hashlib.sha256(f"{repo}:{ref}".encode()).hexdigest()
            self._send(200, None, {**quota, "Docker-Content-Digest": digest, "Content-Type":
                                   "application/vnd.oci.image.index.v1+json"})
        else:
            self._send(404, None, quota)

    def _send(self, status: int, body: dict[str, Any] | None, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
