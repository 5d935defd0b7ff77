"""Start and stop the bench's own processes (registries, containerd) on loopback only."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .certs import ServerCert

REGISTRY_BIN = "/usr/bin/docker-registry"


def free_port() -> int:
    """An ephemeral loopback port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ClosedPort:
    """A loopback port held bound but never listening: connections to it are refused."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def close(self) -> None:
        """Release the port."""
        self.sock.close()


def wait_until(check, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    """Poll `check()` until true; fail early if `proc` exits, or after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode}")
        time.sleep(0.05)
    raise TimeoutError(f"{what} not ready after {timeout} s")


def tcp_open(port: int) -> bool:
    """True when something accepts connections on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass
class Managed:
    """A child process with its log file; stop() ends it and its process group."""

    name: str
    proc: subprocess.Popen
    log: Path

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM the process group, then SIGKILL after `grace` seconds."""
        if self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=grace)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=grace)

    def tail(self, lines: int = 20) -> str:
        """The last lines of the process log (for failure messages)."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child: get SIGKILL if the test process dies without cleaning up."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def spawn(name: str, argv: list[str], log: Path) -> Managed:
    """Start argv in its own process group with stdout and stderr sent to `log`."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    return Managed(name, proc, log)


def registry_config(
    port: int,
    storage: Path,
    *,
    tls: ServerCert | None = None,
    auth: dict[str, object] | None = None,
) -> dict[str, object]:
    """A distribution 2.x configuration serving `storage` on 127.0.0.1:port."""
    http: dict[str, object] = {"addr": f"127.0.0.1:{port}", "secret": "pullmedic-bench"}
    if tls:
        http["tls"] = {"certificate": str(tls.cert), "key": str(tls.key)}
    config: dict[str, object] = {
        "version": 0.1,
        "log": {"level": "warn", "accesslog": {"disabled": True}},
        "storage": {
            "filesystem": {"rootdirectory": str(storage)},
            "maintenance": {"uploadpurging": {"enabled": False}},
        },
        "http": http,
    }
    if auth:
        config["auth"] = auth
    return config


def htpasswd_auth(path: Path) -> dict[str, object]:
    """Registry `auth` section: HTTP basic auth against a bcrypt htpasswd file."""
    return {"htpasswd": {"realm": "pullmedic-bench", "path": str(path)}}


def token_auth(realm: str, service: str, issuer: str, root_bundle: Path) -> dict[str, object]:
    """Registry `auth` section: bearer tokens from an external token server."""
    return {
        "token": {
            "realm": realm,
            "service": service,
            "issuer": issuer,
            "rootcertbundle": str(root_bundle),
        }
    }


def start_registry(name: str, workdir: Path, config: dict[str, object]) -> Managed:
    """Run docker-registry with `config` (JSON is valid YAML) and wait for its port."""
    cfg = workdir / f"{name}.yml"
    cfg.write_text(json.dumps(config, indent=1))
    reg = spawn(name, [REGISTRY_BIN, "serve", str(cfg)], workdir / f"{name}.log")
    port = int(str(config["http"]["addr"]).rsplit(":", 1)[1])  # type: ignore[index]
    try:
        wait_until(lambda: tcp_open(port), 10, name, reg.proc)
    except Exception as err:
        reg.stop()
        raise RuntimeError(f"{err}\n{reg.tail()}") from err
    return reg


def write_htpasswd(path: Path, user: str, password: str) -> None:
    """A bcrypt htpasswd file (the only hash distribution's htpasswd auth accepts)."""
    out = subprocess.run(
        ["htpasswd", "-Bbn", user, password], check=True, capture_output=True, text=True
    ).stdout
    path.write_text(out.strip() + "\n")
