"""A small HTTPS registry front on 127.0.0.1 that answers like Docker Hub's registry API.

`HEAD /v2/<repo>/manifests/<ref>` without a token: 401 with a Bearer challenge naming the
front's own `/token` realm, service and scope. `GET /token`: an anonymous token. With the
token: 200 (and a digest) for a known repo:tag, 404 MANIFEST_UNKNOWN for an unknown one,
401 for a private repository, 429 once the anonymous quota is spent; every manifest answer
carries `ratelimit-limit` / `ratelimit-remaining` as Docker Hub's do.

The scenario's `registry:` section configures it:

```yaml
registry:
  images: {library/httpd: [latest, "2.4"]}   # repository -> tags that exist
  private: [acme/internal]                    # repositories that need a login
  limit: 100                                  # anonymous pulls per window
  remaining: 0                                # left now; 0 answers 429
```
"""

from __future__ import annotations

import hashlib
import json
import ssl
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pullmedic_sandbox.tls import make_server_tls

WINDOW = 21600
TOKEN = "sandbox-anonymous-token"


class RegistryFront:
    """The front's TLS material, its address and the requests it has seen."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.images = {repo: {str(t) for t in tags} for repo, tags in (spec.get("images") or {}).items()}
        self.private = set(spec.get("private") or [])
        self.limit, self.remaining = int(spec.get("limit", 100)), int(spec.get("remaining", 100))
        self.requests: list[tuple[str, str]] = []
        self._tls = make_server_tls("sandbox-registry")
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

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and drop the TLS files."""
        self._server.shutdown()
        self._server.server_close()
        self._dir.cleanup()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    @property
    def front(self) -> RegistryFront:
        return self.server.front  # type: ignore[attr-defined,no-any-return]

    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        url = urlsplit(self.path)
        self.front.requests.append(("GET", url.path))
        if url.path != "/token":
            self._send(404, {"errors": [{"code": "NOT_FOUND"}]})
            return
        scope = parse_qs(url.query).get("scope", [""])[0]
        self._send(200, {"token": TOKEN, "access_token": TOKEN, "expires_in": 300, "scope": scope})

    def do_HEAD(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path
        self.front.requests.append(("HEAD", path))
        repo, _, ref = path.removeprefix("/v2/").rpartition("/manifests/")
        if not path.startswith("/v2/") or not repo:
            self._send(404, None)
            return
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            host = self.front.address
            self._send(401, None, {"WWW-Authenticate": f'Bearer realm="https://{host}/token",'
                                   f'service="registry.docker.io",scope="repository:{repo}:pull"'})
            return
        quota = {"ratelimit-limit": f"{self.front.limit};w={WINDOW}",
                 "ratelimit-remaining": f"{self.front.remaining};w={WINDOW}"}
        if repo in self.front.private:
            self._send(401, None, quota)
        elif self.front.remaining <= 0:
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
