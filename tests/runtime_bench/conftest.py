"""Session fixtures of the runtime bench: install once, start everything once, stop it all."""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .faults import FAULTS
from .store import GENERATED_DIR, MessageStore

HERE = Path(__file__).parent
TOOLS = {
    "containerd": "/usr/bin/containerd",
    "docker-registry": "/usr/bin/docker-registry",
    "htpasswd": "htpasswd",
    "unshare": "unshare",
}


def _missing_tools() -> list[str]:
    return [name for name, path in TOOLS.items() if not shutil.which(path)]


def _install_or_reason() -> str | None:
    """Run install.sh when a tool is missing; None when all are there afterwards."""
    if not _missing_tools():
        return None
    try:
        done = subprocess.run(["bash", str(HERE / "install.sh")], capture_output=True, text=True, timeout=900)
        output = (done.stdout + done.stderr).strip().splitlines()[-3:]
    except (OSError, subprocess.TimeoutExpired) as err:
        output = [str(err)]
    missing = _missing_tools()
    if not missing:
        return None
    return f"runtime bench needs {', '.join(missing)}; install.sh said: {' | '.join(output)}"


def _python_deps_reason() -> str | None:
    for module in ("grpc", "grpc_tools"):
        if importlib.util.find_spec(module) is None:
            return (
                f"runtime bench needs Python package {module}: "
                "pip install grpcio==1.85.1 grpcio-tools==1.85.1"
            )
    return None


@pytest.fixture(scope="session")
def bench() -> Iterator[object]:
    """containerd + registries + fault fronts, started once for the session."""
    reason = _python_deps_reason() or _install_or_reason()
    if reason:
        pytest.skip(reason)
    from .bench import start_bench  # needs grpcio, imported only when the bench runs

    workdir = tempfile.TemporaryDirectory(prefix="pullmedic-bench-", ignore_cleanup_errors=True)
    # The stack (processes, servers) closes before the directory is removed.
    with workdir as tmp, contextlib.ExitStack() as stack:
        yield start_bench(Path(tmp), stack)


@pytest.fixture(scope="session")
def message_store(bench: object) -> Iterator[MessageStore]:
    """The stored messages for this containerd version; rewritten at the end in write mode."""
    version = bench.version  # type: ignore[attr-defined]
    path = GENERATED_DIR / f"containerd-{version}.yaml"
    store = MessageStore(path, [fault.entry_id(version) for fault in FAULTS])
    yield store
    store.flush()
