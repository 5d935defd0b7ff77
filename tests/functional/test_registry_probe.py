"""Asking a registry: anonymous token, manifest HEAD, quota headers, one request per image,
a budget, short timeouts, TLS verified, and only the public registries (never a pod's host)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from pullmedic.gather.registry import RegistryReader, RegistrySettings
from pullmedic.gather.unavailable import Unavailable
from pullmedic.imageref import ImageRef, parse_image
from pullmedic_sandbox.registry import RegistryFront


def _image(reference: str) -> ImageRef:
    parsed = parse_image(reference)
    assert isinstance(parsed, ImageRef)
    return parsed


@pytest.fixture
def front() -> Iterator[RegistryFront]:
    server = RegistryFront({"images": {"library/httpd": ["latest"]}, "private": ["acme/internal"],
                            "limit": 100, "remaining": 37})
    server.start()
    yield server
    server.stop()


def _reader(front: RegistryFront, **overrides: object) -> RegistryReader:
    settings = RegistrySettings(enabled=True, hosts={"registry-1.docker.io": front.address},
                                ca_file=front.ca_file)
    for key, value in overrides.items():
        setattr(settings, key, value)
    return RegistryReader(settings)


def test_answers_exist_missing_private_with_the_quota(front: RegistryFront) -> None:
    reader = _reader(front)
    found = reader.answer(_image("httpd"))
    assert found is not None and not isinstance(found, Unavailable)
    assert (found.status, found.quota()) == ("exists", "37 of 100 pulls left in the 21600 s window")
    assert front.requests == [("HEAD", "/v2/library/httpd/manifests/latest"), ("GET", "/token"),
            ("HEAD", "/v2/library/httpd/manifests/latest")]
    missing = reader.answer(_image("httpd:9.9"))
    private = reader.answer(_image("acme/internal:1"))
    assert getattr(missing, "status", None) == "not found"
    assert getattr(private, "status", None) == "needs authentication"


def test_a_spent_quota_is_rate_limited(front: RegistryFront) -> None:
    front.remaining = 0
    answer = _reader(front).answer(_image("httpd"))
    assert getattr(answer, "status", None) == "rate limited"
    assert answer is not None and "0 of 100" in answer.quota()  # type: ignore[union-attr]


def test_one_request_per_image_and_a_budget_per_scan(front: RegistryFront) -> None:
    reader = _reader(front, budget=2)
    assert reader.answer(_image("httpd")) is reader.answer(_image("docker.io/library/httpd:latest"))
    heads = len([r for r in front.requests if r[0] == "HEAD"])
    reader.answer(_image("httpd:2"))
    spent = reader.answer(_image("httpd:3"))
    assert isinstance(spent, Unavailable) and "budget of 2" in spent.why
    assert len([r for r in front.requests if r[0] == "HEAD"]) == heads + 2  # httpd:3 never asked


def test_off_by_default_and_never_a_host_from_the_pod(front: RegistryFront) -> None:
    assert RegistryReader().answer(_image("httpd")) is None
    unmapped, reader = RegistryReader(RegistrySettings(enabled=True)), _reader(front)
    for reference in ("evil.example.com/x:1", "10.0.0.1:5000/x:1", "169.254.169.254/latest:1",
                      "123456789012.dkr.ecr.us-east-2.amazonaws.com/x:1"):
        assert unmapped.answer(_image(reference)) is None  # asked of no one, mapping or not
        assert reader.answer(_image(reference)) is None
    assert reader.answer(_image("ghcr.io/acme/x:1")) is None  # public, but not mapped here
    assert front.requests == []


def test_tls_is_verified_against_the_given_ca_only(front: RegistryFront) -> None:
    answer = _reader(front, ca_file=None).answer(_image("httpd"))
    assert getattr(answer, "status", None) == "unreachable"
    assert "CERTIFICATE_VERIFY_FAILED" in answer.detail  # type: ignore[union-attr]


def test_a_silent_registry_costs_the_timeout_once() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True)
    thread.start()
    address = f"127.0.0.1:{listener.getsockname()[1]}"
    reader = RegistryReader(RegistrySettings(enabled=True, hosts={"registry-1.docker.io": address},
                                             timeout=0.5))
    started = time.monotonic()
    answer = reader.answer(_image("httpd"))
    elapsed = time.monotonic() - started
    assert getattr(answer, "status", None) == "unreachable" and elapsed < 2
    assert reader.answer(_image("httpd")) is answer  # cached: not waited for twice
    for connection in accepted:
        connection.close()
    listener.close()


def test_a_registry_speaking_garbage_is_unreachable_not_a_crash() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def garbage() -> None:
        connection = listener.accept()[0]
        connection.recv(65536)
        connection.sendall(b"\x16\x03\x01 this is not TLS nor HTTP\r\n\r\n")
        connection.close()

    threading.Thread(target=garbage, daemon=True).start()
    address = f"127.0.0.1:{listener.getsockname()[1]}"
    answer = RegistryReader(RegistrySettings(enabled=True, hosts={"registry-1.docker.io": address},
                                             timeout=1)).answer(_image("httpd"))
    assert getattr(answer, "status", None) == "unreachable"
    listener.close()
