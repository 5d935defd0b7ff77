"""The bench topology: one private containerd, registries and fault fronts on 127.0.0.1.

Every registry process serves the same storage directory, so an image pushed once through
the plain registry is visible behind every endpoint. Each endpoint has a fixed stand-in port
(CANONICAL_PORTS) that replaces its ephemeral port in stored messages.
"""

from __future__ import annotations

import contextlib
import random
import re
import ssl
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from . import images
from .certs import CertificateAuthority
from .containerd import Containerd, containerd_version, start_containerd, tmpfs_works
from .cri_client import CriImageClient, PullResult
from .faults import PASSWORD, USER, native_arch, other_arch
from .fronts import (
    BLOB_PATH,
    DOCKER_HUB_429_BODY,
    DOCKER_HUB_429_HEADERS,
    MANIFEST_PATH,
    FaultFront,
    Rule,
    SilentListener,
    TokenServer,
    status_rule,
)
from .procs import (
    ClosedPort,
    free_port,
    htpasswd_auth,
    registry_config,
    start_registry,
    token_auth,
    write_htpasswd,
)

# Ephemeral port of each endpoint -> this fixed port in stored messages and image names.
CANONICAL_PORTS = {
    "registry": 5000,
    "registry_basic": 5001,
    "registry_token": 5002,
    "registry_plain_as_https": 5080,
    "registry_untrusted_tls": 5443,
    "registry_tls_as_http": 5444,
    "closed": 5009,
    "hung": 5010,
    "token_server": 5100,
    "hub_rate_limit": 5429,
    "rate_limit_all": 5430,
    "status_500": 5500,
    "blob_500": 5501,
    "status_502": 5502,
    "status_503": 5503,
}
CANONICAL_ROOT = "/var/lib/containerd"
CANONICAL_RESOLVER = "10.0.0.2:53"  # a VPC's DNS resolver (base of the VPC CIDR + 2)

TOKEN_SERVICE, TOKEN_ISSUER = "pullmedic-bench-registry", "pullmedic-bench-token-issuer"
CONTENT_TMPFS_KIB = 4096  # the "disk" under containerd's content store
BIG_LAYER_BYTES = 8 << 20  # incompressible, so it cannot fit in the tmpfs

_LOOPBACK_PORT = re.compile(r"127\.0\.0\.1:(\d+)")
_RESOLVER = re.compile(r"(lookup \S+ on )(\[[0-9a-fA-F:]+\]|[0-9.]+):53")


def _image(repo: str, arch: str = "") -> images.Image:
    """A small image unique to `repo` (its layer names the repo, so digests differ)."""
    files = {"hello": b"hello from the pullmedic bench\n", "repo": repo.encode()}
    return images.make_image(arch or native_arch(), (images.make_layer(files),))


@dataclass
class Bench:
    """Handles on everything the fault cases need."""

    workdir: Path
    containerd: Containerd
    client: CriImageClient
    version: str
    full_version: str
    ports: dict[str, int] = field(default_factory=dict)
    disk_full_skip: str | None = None
    untrusted_ca: Path | None = None

    def host(self, endpoint: str) -> str:
        """host:port of a named endpoint."""
        return f"127.0.0.1:{self.ports[endpoint]}"

    def image(self, template: str) -> str:
        """Fill `{endpoint}` placeholders of an image template with real host:port."""
        return template.format(**{name: self.host(name) for name in self.ports})

    def pull(self, image: str, auth: tuple[str, str] | None, timeout: float) -> PullResult:
        """PullImage through the CRI, with kubelet-style credentials when given."""
        cred = self.client.auth(*auth) if auth else None
        return self.client.pull(image, auth=cred, timeout=timeout)

    def canonical(self, text: str) -> str:
        """Replace what changes between runs (ports, temp paths, resolver) by stand-ins."""
        by_port = {port: CANONICAL_PORTS[name] for name, port in self.ports.items()}
        text = _LOOPBACK_PORT.sub(lambda m: f"127.0.0.1:{by_port.get(int(m.group(1)), m.group(1))}", text)
        text = text.replace(str(self.containerd.root), CANONICAL_ROOT)
        return _RESOLVER.sub(rf"\g<1>{CANONICAL_RESOLVER}", text)


def start_bench(workdir: Path, stack: contextlib.ExitStack) -> Bench:
    """Start containerd, the registries and the fronts; push the images. `stack` stops all."""
    disk_full_skip = tmpfs_works(workdir / "tmpfs-probe")
    daemon = start_containerd(
        workdir / "containerd",
        content_tmpfs_kib=None if disk_full_skip else CONTENT_TMPFS_KIB,
    )
    stack.callback(daemon.stop)
    client = CriImageClient(daemon.socket, stub_dir=_mkdir(workdir / "cri-stubs"))
    stack.callback(client.close)
    version, full = containerd_version()
    bench = Bench(workdir, daemon, client, version, full, disk_full_skip=disk_full_skip)
    pki = _mkdir(workdir / "pki")
    trusted = CertificateAuthority.create(pki, "trusted")
    _start_registries(bench, stack, pki)
    _push_images(bench)
    _start_fronts(bench, stack, trusted)
    _start_unreachable(bench, stack)
    return bench


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _registry(bench: Bench, stack: contextlib.ExitStack, name: str, **config: object) -> None:
    port = free_port()
    reg = start_registry(name, bench.workdir, registry_config(port, bench.workdir / "storage", **config))
    stack.callback(reg.stop)
    bench.ports[name] = port


def _start_registries(bench: Bench, stack: contextlib.ExitStack, pki: Path) -> None:
    htpasswd = bench.workdir / "htpasswd"
    write_htpasswd(htpasswd, USER, PASSWORD)
    signer = CertificateAuthority.create(pki, "token-signer")
    tokens = TokenServer(signer, {USER: PASSWORD}, TOKEN_SERVICE, TOKEN_ISSUER)
    stack.callback(tokens.close)
    bench.ports["token_server"] = tokens.port
    untrusted = CertificateAuthority.create(pki, "untrusted")
    bench.untrusted_ca = untrusted.pem
    tls = untrusted.issue_server_cert(pki, "registry")

    _registry(bench, stack, "registry")
    _registry(bench, stack, "registry_basic", auth=htpasswd_auth(htpasswd))
    _registry(
        bench,
        stack,
        "registry_token",
        auth=token_auth(tokens.realm, TOKEN_SERVICE, TOKEN_ISSUER, signer.pem),
    )
    _registry(bench, stack, "registry_plain_as_https")
    _registry(bench, stack, "registry_untrusted_tls", tls=tls)
    _registry(bench, stack, "registry_tls_as_http", tls=tls)

    set_host = bench.containerd.set_host
    for name in ("registry", "registry_basic", "registry_token", "registry_tls_as_http"):
        set_host(bench.host(name), "http")
    for name in ("registry_plain_as_https", "registry_untrusted_tls"):
        set_host(bench.host(name), "https")  # no `ca`: containerd trusts only system CAs


def _push_images(bench: Bench) -> None:
    push = images.RegistryPusher(f"http://{bench.host('registry')}")
    # Images whose content a fault lets containerd fetch are never pulled by another case, so
    # no earlier pull can leave their blobs in the content store.
    repos = ("app", "private/app", "rate-limited/app", "blob-error/app")
    for repo in (*repos, "sanity/plain", "sanity/basic", "sanity/token"):
        push.push_image(repo, "1", _image(repo))
    big = images.make_layer({"big.bin": random.Random(0).randbytes(BIG_LAYER_BYTES)})
    base = _image("big/app")
    push.push_image("big/app", "1", images.make_image(native_arch(), (*base.layers, big)))
    arch = other_arch()
    push.push_index("multiarch/app", "foreign-arch-only", {arch: _image("multiarch/app", arch=arch)})


def _start_fronts(bench: Bench, stack: contextlib.ExitStack, trusted: CertificateAuthority) -> None:
    """HTTPS fronts (a CA containerd is told to trust) that answer with registry faults."""
    get_only = frozenset({"GET"})
    upstream = bench.ports["registry"]
    unknown = b'{"errors":[{"code":"UNKNOWN","message":"unknown error","detail":{}}]}\n'
    json_ct = {"Content-Type": "application/json"}
    gateway = (
        b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
        b"<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
    )
    fronts = {
        "hub_rate_limit": [Rule(get_only, MANIFEST_PATH, 429, DOCKER_HUB_429_BODY, DOCKER_HUB_429_HEADERS)],
        "rate_limit_all": [status_rule(429, DOCKER_HUB_429_BODY, DOCKER_HUB_429_HEADERS)],
        "status_500": [status_rule(500, unknown, json_ct)],
        "status_502": [status_rule(502, gateway, {"Content-Type": "text/html"})],
        "status_503": [status_rule(503, b"Service Unavailable\n", {"Content-Type": "text/plain"})],
        "blob_500": [Rule(get_only, BLOB_PATH, 500, unknown, json_ct)],
    }
    pki = trusted.pem.parent
    for name, rules in fronts.items():
        front = FaultFront(rules, upstream_port=upstream, tls=trusted.issue_server_cert(pki, name))
        stack.callback(front.close)
        bench.ports[name] = front.port
        bench.containerd.set_host(bench.host(name), "https", ca=trusted.pem)


def _start_unreachable(bench: Bench, stack: contextlib.ExitStack) -> None:
    closed = ClosedPort()
    stack.callback(closed.close)
    hung = SilentListener()
    stack.callback(hung.close)
    bench.ports["closed"], bench.ports["hung"] = closed.port, hung.port
    for name in ("closed", "hung"):
        bench.containerd.set_host(bench.host(name), "https")


def tls_registry_serves(bench: Bench) -> int:
    """HTTP status of the untrusted-TLS registry's /v2/ when its CA *is* trusted."""
    context = ssl.create_default_context(cafile=str(bench.untrusted_ca))
    url = f"https://{bench.host('registry_untrusted_tls')}/v2/"
    with urllib.request.urlopen(url, timeout=5, context=context) as resp:
        return resp.status
