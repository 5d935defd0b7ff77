"""Resetting moto survives a slow moto (a busy machine) and fails with a clear line otherwise."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pullmedic_sandbox import sandbox as sandbox_module
from pullmedic_sandbox.sandbox import Sandbox, SandboxTimeout


class _SlowReset(BaseHTTPRequestHandler):
    """Answers POST /moto-api/reset after ``delays[n]`` seconds for the n-th request."""

    delays: list[float] = []
    seen: list[float] = []

    def do_POST(self) -> None:
        """Sleep as told, then answer like moto."""
        delay = self.delays[min(len(self.seen), len(self.delays) - 1)]
        self.seen.append(delay)
        time.sleep(delay)
        body = b'{"status": "ok"}'
        try:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up waiting

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def slow_moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_SlowReset]]:
    """A stand-in moto endpoint on 127.0.0.1 and a sandbox timeout of 0.3 s per attempt."""
    handler = type("Handler", (_SlowReset,), {"delays": [], "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(sandbox_module, "RESET_TIMEOUT_SECONDS", 0.3)
    handler.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield handler
    server.shutdown()
    server.server_close()


def _box(url: str) -> Sandbox:
    box = Sandbox()
    box.endpoint_url = url
    return box


def test_a_reset_that_times_out_once_is_retried(slow_moto: type[_SlowReset]) -> None:
    slow_moto.delays = [1.0, 0.0]
    _box(slow_moto.url)._reset()
    assert slow_moto.seen == [1.0, 0.0]


def test_a_reset_that_never_answers_names_the_remedy(slow_moto: type[_SlowReset]) -> None:
    slow_moto.delays = [2.0]
    with pytest.raises(SandboxTimeout) as raised:
        _box(slow_moto.url)._reset()
    assert len(slow_moto.seen) == sandbox_module.RESET_ATTEMPTS
    message = str(raised.value)
    assert "moto did not reset within 3 x 0.3 s" in message
    assert "PULLMEDIC_SANDBOX_RESET_TIMEOUT" in message and "\n" not in message
