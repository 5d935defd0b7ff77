"""Small loopback servers standing in front of the registry to stage registry-side faults."""

from __future__ import annotations

import base64
import http.client
import json
import re
import socket
import ssl
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from .certs import CertificateAuthority, ServerCert

# Docker Hub's answer once the pull rate limit is reached (GET of a manifest; HEAD requests
# are not counted, so the resolve step still succeeds). Body and headers as Docker documents
# them: https://docs.docker.com/docker-hub/usage/pulls/
DOCKER_HUB_429_BODY = (
    b'{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit. '
    b"You may increase the limit by authenticating and upgrading: "
    b'https://www.docker.com/increase-rate-limit"}]}\n'
)
DOCKER_HUB_429_HEADERS = {
    "Content-Type": "application/json",
    "ratelimit-limit": "100;w=21600",
    "ratelimit-remaining": "0;w=21600",
    "docker-ratelimit-source": "192.0.2.10",
}

MANIFEST_PATH = re.compile(r"^/v2/.+/manifests/[^/]+$")
BLOB_PATH = re.compile(r"^/v2/.+/blobs/sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class Rule:
    """Answer requests matching `methods` and `path` with a canned response."""

    methods: frozenset[str]
    path: re.Pattern[str]
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    def matches(self, method: str, path: str) -> bool:
        """True when this rule answers the request."""
        return method in self.methods and bool(self.path.match(path.split("?", 1)[0]))


EVERYTHING = re.compile(r"^/")


def status_rule(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Rule:
    """A rule answering every GET and HEAD with `status`."""
    return Rule(frozenset({"GET", "HEAD"}), EVERYTHING, status, body, headers or {})


def _serve(server: ThreadingHTTPServer, tls: ServerCert | None) -> threading.Thread:
    """Optionally wrap the listening socket in TLS, then serve in a daemon thread."""
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls.cert, tls.key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


def _send(
    req: BaseHTTPRequestHandler,
    status: int,
    headers: dict[str, str],
    body: bytes,
    length: str | None = None,
) -> None:
    """Write one complete response (no body for HEAD)."""
    req.send_response(status)
    for key, value in headers.items():
        req.send_header(key, value)
    req.send_header("Content-Length", length if length is not None else str(len(body)))
    req.end_headers()
    if req.command != "HEAD":
        req.wfile.write(body)


class FaultFront:
    """An HTTPS (or HTTP) server on 127.0.0.1: applies rules, proxies the rest to `upstream`."""

    def __init__(
        self,
        rules: list[Rule],
        upstream_port: int | None = None,
        tls: ServerCert | None = None,
    ) -> None:
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802
                front.handle(self)

            def do_HEAD(self) -> None:  # noqa: N802
                front.handle(self)

        self.rules = rules
        self.upstream_port = upstream_port
        self.requests: list[tuple[str, str]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self._thread = _serve(self.server, tls)

    def handle(self, req: BaseHTTPRequestHandler) -> None:
        """Serve one request from the first matching rule, else from the upstream registry."""
        self.requests.append((req.command, req.path))
        for rule in self.rules:
            if rule.matches(req.command, req.path):
                _send(req, rule.status, rule.headers, rule.body)
                return
        if self.upstream_port is None:
            _send(req, 404, {"Content-Type": "text/plain"}, b"404 page not found\n")
            return
        self._proxy(req)

    def _proxy(self, req: BaseHTTPRequestHandler) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=10)
        headers = {k: v for k, v in req.headers.items() if k.lower() not in ("host", "connection")}
        conn.request(req.command, req.path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        skip = ("connection", "transfer-encoding", "content-length")
        out = {k: v for k, v in resp.getheaders() if k.lower() not in skip}
        conn.close()
        _send(req, resp.status, out, body, length=resp.getheader("Content-Length"))

    def close(self) -> None:
        """Stop serving and release the port."""
        self.server.shutdown()
        self.server.server_close()


class SilentListener:
    """Accepts TCP connections on 127.0.0.1 and never sends a byte (a hung registry)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._held.append(conn)

    def close(self) -> None:
        """Drop every held connection and stop listening."""
        self._stop.set()
        self._thread.join(timeout=2)
        for conn in self._held:
            conn.close()
        self.sock.close()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    """A registry token server (Docker token auth): signs ES256 JWTs the registry verifies.

    The signing certificate is the self-signed CA given; the registry's `rootcertbundle` is
    that CA's PEM. Known users get pull access to what they ask for; anonymous callers get a
    token with no access (the registry then answers insufficient_scope), as Docker Hub does
    for private or missing repositories. Wrong passwords get Docker Hub's 401 answer.
    """

    def __init__(
        self, signer: CertificateAuthority, users: dict[str, str], service: str, issuer: str
    ) -> None:
        self.signer, self.users, self.service, self.issuer = signer, users, service, issuer
        # x5c holds standard (not URL-safe) base64 DER, as RFC 7515 asks.
        self._x5c = base64.b64encode(_load_cert_der(signer.pem)).decode()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                owner.answer(self, query, _basic_credentials(self.headers.get("Authorization")))

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                creds = None
                if form.get("grant_type") == ["password"]:
                    creds = (form.get("username", [""])[0], form.get("password", [""])[0])
                owner.answer(self, form, creds)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.realm = f"http://127.0.0.1:{self.port}/token"
        self._thread = _serve(self.server, None)

    def answer(
        self,
        req: BaseHTTPRequestHandler,
        params: dict[str, list[str]],
        creds: tuple[str, str] | None,
    ) -> None:
        """Issue a token for the requested scopes, or refuse wrong credentials."""
        if creds is not None and self.users.get(creds[0]) != creds[1]:
            body = b'{"details":"incorrect username or password"}\n'
            _send(req, 401, {"Content-Type": "application/json"}, body)
            return
        user = creds[0] if creds else ""
        scopes = [s for value in params.get("scope", []) for s in value.split(" ") if s]
        access = [a for a in (_parse_scope(s) for s in scopes) if a and user]
        token = self.sign(user, access)
        body = json.dumps(
            {
                "token": token,
                "access_token": token,
                "expires_in": 300,
                "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
        ).encode()
        _send(req, 200, {"Content-Type": "application/json"}, body)

    def sign(self, subject: str, access: list[dict[str, object]]) -> str:
        """A compact JWS (ES256) with the claims distribution's token auth checks."""
        now = int(time.time())
        header = {"typ": "JWT", "alg": "ES256", "x5c": [self._x5c]}
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.service,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        signing_input = ".".join(
            _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        der = self.signer.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return signing_input + "." + _b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))

    def close(self) -> None:
        """Stop serving and release the port."""
        self.server.shutdown()
        self.server.server_close()


def _load_cert_der(pem: Path) -> bytes:
    cert = x509.load_pem_x509_certificate(pem.read_bytes())
    return cert.public_bytes(serialization.Encoding.DER)


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.startswith("Basic "):
        return None
    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return user, password


def _parse_scope(scope: str) -> dict[str, object] | None:
    """`repository:<name>:pull` -> a JWT access entry granting exactly those actions."""
    kind, _, rest = scope.partition(":")
    name, _, actions = rest.rpartition(":")
    if kind != "repository" or not name:
        return None
    return {"type": kind, "name": name, "actions": [a for a in actions.split(",") if a == "pull"]}
