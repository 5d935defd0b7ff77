"""A private containerd (CRI plugin on) with its own config, root, state and socket."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .procs import Managed, spawn, wait_until

CONTAINERD_BIN = "/usr/bin/containerd"
CONTENT_STORE = "io.containerd.content.v1.content"  # under root: blobs, and ingest/ while pulling

_UNUSED_PLUGINS = [
    "io.containerd.snapshotter.v1.btrfs",
    "io.containerd.snapshotter.v1.zfs",
    "io.containerd.snapshotter.v1.devmapper",
    "io.containerd.snapshotter.v1.aufs",
    "io.containerd.tracing.processor.v1.otlp",
    "io.containerd.internal.v1.tracing",
]


def containerd_version() -> tuple[str, str]:
    """(upstream version, full version) from `containerd --version`, e.g. ('1.6.20', ...)."""
    out = subprocess.run(
        [CONTAINERD_BIN, "--version"], check=True, capture_output=True, text=True
    ).stdout.split()
    full = out[2] if len(out) > 2 else "unknown"
    package = out[3] if len(out) > 3 else full
    upstream = re.sub(r"[~+-].*$", "", full.lstrip("v"))
    return upstream, f"{full} (package {package})" if package != full else full


def _toml_str(value: Path | str) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_config(base: Path, hosts_dir: Path, snapshotter: str) -> str:
    """A version-2 containerd config that keeps every path and socket under `base`."""
    disabled = ", ".join(_toml_str(p) for p in _UNUSED_PLUGINS)
    cri = '[plugins."io.containerd.grpc.v1.cri"'
    return "\n".join(
        [
            "version = 2",
            f"root = {_toml_str(base / 'root')}",
            f"state = {_toml_str(base / 'state')}",
            f"disabled_plugins = [{disabled}]",
            "[grpc]",
            f"  address = {_toml_str(base / 'containerd.sock')}",
            "[ttrpc]",
            f"  address = {_toml_str(base / 'containerd.sock.ttrpc')}",
            "[debug]",
            '  level = "info"',
            f"{cri}]",
            '  stream_server_address = "127.0.0.1"',
            '  stream_server_port = "0"',
            f"{cri}.containerd]",
            f"  snapshotter = {_toml_str(snapshotter)}",
            f"{cri}.cni]",
            f"  bin_dir = {_toml_str(base / 'cni-bin')}",
            f"  conf_dir = {_toml_str(base / 'cni-conf')}",
            f"{cri}.registry]",
            f"  config_path = {_toml_str(hosts_dir)}",
            '[plugins."io.containerd.internal.v1.opt"]',
            f"  path = {_toml_str(base / 'opt')}",
            "",
        ]
    )


@dataclass
class Containerd:
    """A running private containerd."""

    base: Path
    hosts_dir: Path
    process: Managed

    @property
    def root(self) -> Path:
        """containerd's root directory (content store, metadata, snapshots)."""
        return self.base / "root"

    @property
    def socket(self) -> Path:
        """The gRPC unix socket the CRI services are served on."""
        return self.base / "containerd.sock"

    def set_host(self, host: str, scheme: str, ca: Path | None = None) -> None:
        """Write certs.d/<host>/hosts.toml: reach `host` (host:port) over `scheme`.

        The CRI plugin reads these files at each pull, so hosts can be added while running.
        """
        directory = self.hosts_dir / host
        directory.mkdir(parents=True, exist_ok=True)
        lines = [
            f'server = "{scheme}://{host}"',
            "",
            f'[host."{scheme}://{host}"]',
            '  capabilities = ["pull", "resolve"]',
        ]
        if ca is not None:
            lines.append(f"  ca = {_toml_str(ca)}")
        (directory / "hosts.toml").write_text("\n".join(lines) + "\n")

    def stop(self) -> None:
        """Stop the daemon (its shims, if any, share its process group)."""
        self.process.stop(grace=10)


def tmpfs_works(probe_dir: Path) -> str | None:
    """None when a private mount namespace with a tmpfs can be made here, else the reason."""
    probe_dir.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            [*_tmpfs_wrapper(probe_dir, 64), "true"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"cannot run unshare/mount: {err}"
    if done.returncode != 0:
        return f"unshare + mount tmpfs failed: {(done.stderr or done.stdout).strip()}"
    return None


def _tmpfs_wrapper(directory: Path, size_kib: int) -> list[str]:
    """argv prefix: in a new mount namespace, mount a tmpfs on `directory`, then exec the rest.

    The mount lives only as long as the process: nothing is left mounted on the host.
    """
    script = 'mount -t tmpfs -o "size=$1k,mode=0711" pullmedic-bench "$2" && shift 2 && exec "$@"'
    return [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
        script,
        "sh",
        str(size_kib),
        str(directory),
    ]


def start_containerd(
    base: Path, snapshotter: str = "native", content_tmpfs_kib: int | None = None
) -> Containerd:
    """Write the config under `base`, start containerd and wait until it has booted.

    With `content_tmpfs_kib`, the content store sits on a tmpfs of that size (a small disk).
    """
    hosts_dir = base / "certs.d"
    for sub in ("root", "state", "cni-bin", "cni-conf", "opt"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    hosts_dir.mkdir(parents=True, exist_ok=True)
    config = base / "config.toml"
    config.write_text(render_config(base, hosts_dir, snapshotter))
    argv = [CONTAINERD_BIN, "--config", str(config)]
    if content_tmpfs_kib:
        content = base / "root" / CONTENT_STORE
        content.mkdir(parents=True, exist_ok=True)
        argv = _tmpfs_wrapper(content, content_tmpfs_kib) + argv
    proc = spawn("containerd", argv, base / "containerd.log")
    daemon = Containerd(base, hosts_dir, proc)
    try:
        wait_until(lambda: daemon.socket.exists() and _serving(daemon), 20, "containerd", proc.proc)
    except Exception as err:
        proc.stop()
        raise RuntimeError(f"{err}\n{proc.tail()}") from err
    return daemon


def _serving(daemon: Containerd) -> bool:
    try:
        return "containerd successfully booted" in daemon.process.log.read_text(errors="replace")
    except OSError:
        return False
