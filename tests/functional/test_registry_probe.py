"""Asking a registry: anonymous token, manifest HEAD, quota headers, one HEAD per distinct image
and one token request per registry (several scopes, or one repository per token where a registry
refuses or ignores them), a challenge only where the realm is unknown, a budget, short timeouts,
TLS verified, and only the public registries (never a pod's host). Requests are counted at the
sandbox's fronts."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from pullmedic.core.imageref import ImageRef, parse_image
from pullmedic.core.unavailable import Unavailable
from pullmedic.reading.gather.registry import RegistryAnswer, RegistryReader, RegistrySettings
from pullmedic_sandbox.registry import RegistryFront, fronts, hosts_setting

HUB = {"images": {"library/httpd": ["latest"], "library/redis": ["7"], "library/busybox": ["1.36"]},
       "private": ["acme/internal"], "limit": 100, "remaining": 37}


def _image(reference: str) -> ImageRef:
    parsed = parse_image(reference)
    assert isinstance(parsed, ImageRef)
    return parsed


def _status(answer: RegistryAnswer | Unavailable | None) -> str:
    assert isinstance(answer, RegistryAnswer), answer
    return answer.status


@pytest.fixture
def front() -> Iterator[RegistryFront]:
    server = RegistryFront(HUB)
    server.start()
    yield server
    server.stop()


def _reader(front: RegistryFront, **overrides: object) -> RegistryReader:
    settings = RegistrySettings(enabled=True, hosts=front.hosts, ca_file=front.ca_file)
    for key, value in overrides.items():
        setattr(settings, key, value)
    return RegistryReader(settings)


def test_answers_exist_missing_private_with_the_quota(front: RegistryFront) -> None:
    reader = _reader(front)
    found = reader.answer(_image("httpd"))
    assert isinstance(found, RegistryAnswer)
    assert (found.status, found.quota()) == ("exists", "37 of 100 pulls left in the 21600 s window")
    # Docker Hub's realm is known: no challenge, the token, then the HEAD with it
    assert [(r.method, r.path, r.authorized) for r in front.requests] == [
        ("GET", "/token", False), ("HEAD", "/v2/library/httpd/manifests/latest", True)]
    assert _status(reader.answer(_image("httpd:9.9"))) == "not found"
    assert _status(reader.answer(_image("acme/internal:1"))) == "needs authentication"


def test_a_spent_quota_is_rate_limited(front: RegistryFront) -> None:
    front.remaining = 0
    answer = _reader(front).answer(_image("httpd"))
    assert _status(answer) == "rate limited"
    assert isinstance(answer, RegistryAnswer) and answer.quota().startswith("0 of 100 ")


def test_one_token_request_per_registry_covers_every_planned_repository(front: RegistryFront) -> None:
    reader = _reader(front)
    images = [_image(r) for r in ("httpd", "redis:7", "redis:8", "acme/internal:1", "httpd")]
    reader.plan(images)
    assert [_status(reader.answer(i)) for i in images] == [
        "exists", "exists", "not found", "needs authentication", "exists"]
    assert front.count() == {"manifests": 4, "challenges": 0, "tokens": 1}
    assert sorted(front.token_scopes[0]) == [
        "repository:acme/internal:pull", "repository:library/httpd:pull", "repository:library/redis:pull"]


def test_an_image_nobody_planned_gets_a_token_of_its_own(front: RegistryFront) -> None:
    reader = _reader(front)
    reader.plan([_image("httpd")])
    assert _status(reader.answer(_image("httpd"))) == "exists"
    assert _status(reader.answer(_image("redis:7"))) == "exists"  # rediagnosed later, say
    assert front.token_scopes == [["repository:library/httpd:pull"], ["repository:library/redis:pull"]]


@pytest.mark.parametrize(("scopes", "tokens", "manifests"), [
    ("several", 1, 4),  # GHCR granting every scope: one token for the three repositories
    ("refuse", 1 + 3, 4),  # refused: then one token per repository
    # only the first granted: redis's 401 is asked again with a token of its own (+1 token,
    # +1 HEAD); that succeeds, so busybox gets a token of its own without trying the shared one
    ("first", 3, 4 + 1),
])
def test_a_registry_that_refuses_several_scopes_is_asked_one_at_a_time(
        scopes: str, tokens: int, manifests: int) -> None:
    made = fronts({"images": {}, "ghcr": {**HUB, "scopes": scopes}})
    for server in made.values():
        server.start()
    try:
        ghcr = made["ghcr"]
        reader = RegistryReader(RegistrySettings(enabled=True, hosts=ghcr.hosts, ca_file=ghcr.ca_file))
        images = [_image(f"ghcr.io/{r}") for r in (
            "library/httpd", "library/redis:7", "library/busybox:1.36", "library/redis:8")]
        reader.plan(images)
        assert [_status(reader.answer(i)) for i in images] == ["exists", "exists", "exists", "not found"]
        assert ghcr.count() == {"manifests": manifests, "challenges": 0, "tokens": tokens}
    finally:
        for server in made.values():
            server.stop()


def test_an_unknown_realm_is_learnt_from_one_challenge_per_host() -> None:
    made = fronts({"images": {}, "gcr": {"images": {"google-containers/pause": ["3.9"],
                                                   "distroless/static": ["nonroot"]}}})
    for server in made.values():
        server.start()
    try:
        gcr = made["gcr"]
        reader = RegistryReader(RegistrySettings(enabled=True, hosts=gcr.hosts, ca_file=gcr.ca_file))
        images = [_image("gcr.io/google-containers/pause:3.9"), _image("gcr.io/distroless/static:nonroot"),
                  _image("gcr.io/distroless/static:latest")]
        reader.plan(images)
        assert [_status(reader.answer(i)) for i in images] == ["exists", "exists", "not found"]
        assert gcr.count() == {"manifests": 3, "challenges": 1, "tokens": 1}
    finally:
        for server in made.values():
            server.stop()


def test_cluster_threads_share_tokens_and_answers() -> None:
    # slow token answers: threads that needed a token meanwhile would ask again, if they could
    made = fronts({**HUB, "token_delay": 0.3, "quay": {"images": {"prometheus/node-exporter": ["v1.8.2"]},
                                                       "token_delay": 0.3}})
    for server in made.values():
        server.start()
    try:
        reader = RegistryReader(RegistrySettings(enabled=True, hosts=dict(
            part.split("=", 1) for part in hosts_setting(made).split(",")),
            ca_file=made["dockerhub"].ca_file))
        images = [_image(r) for r in ("httpd", "redis:7", "quay.io/prometheus/node-exporter:v1.8.2",
                                      "quay.io/prometheus/node-exporter:v9")]
        reader.plan(images)
        def cluster(n: int) -> list[str]:  # each starts with another image: tokens are raced for
            order = list(range(n % 4, 4)) + list(range(n % 4))
            answered = {i: _status(reader.answer(images[i])) for i in order}
            return [answered[i] for i in range(4)]

        with ThreadPoolExecutor(8) as pool:  # 8 "clusters" with the same failing images
            answers = list(pool.map(cluster, range(8)))
        assert answers == [["exists", "exists", "exists", "not found"]] * 8
        assert {n: f.count() for n, f in made.items()} == {
            "dockerhub": {"manifests": 2, "challenges": 0, "tokens": 1},
            "quay": {"manifests": 2, "challenges": 0, "tokens": 1}}
    finally:
        for server in made.values():
            server.stop()


def test_one_request_per_image_and_a_budget_per_scan(front: RegistryFront) -> None:
    reader = _reader(front, budget=2)
    first = reader.answer(_image("httpd"))
    assert _status(first) == "exists"
    assert reader.answer(_image("docker.io/library/httpd:latest")) is first
    assert _status(reader.answer(_image("httpd:2"))) == "not found"
    spent = reader.answer(_image("httpd:3"))
    assert isinstance(spent, Unavailable) and "budget of 2" in spent.why
    assert [r.path for r in front.requests if r.method == "HEAD"] == [
        "/v2/library/httpd/manifests/latest", "/v2/library/httpd/manifests/2"]  # httpd:3 never asked


def test_off_by_default_and_never_a_host_from_the_pod(front: RegistryFront) -> None:
    assert RegistryReader().answer(_image("httpd")) is None
    unmapped, reader = RegistryReader(RegistrySettings(enabled=True, timeout=0.5)), _reader(front)
    for reference in ("evil.example.com/x:1", "10.0.0.1:5000/x:1", "169.254.169.254/latest:1",
                      "123456789012.dkr.ecr.us-east-2.amazonaws.com/x:1"):
        assert unmapped.answer(_image(reference)) is None  # asked of no one, mapping or not
        assert reader.answer(_image(reference)) is None
    assert reader.answer(_image("ghcr.io/acme/x:1")) is None  # public, but not mapped here
    assert front.requests == []
    assert _status(reader.answer(_image("httpd"))) == "exists"  # the front does answer


def test_tls_is_verified_against_the_given_ca_only(front: RegistryFront) -> None:
    answer = _reader(front, ca_file=None).answer(_image("httpd"))
    assert _status(answer) == "unreachable"
    assert isinstance(answer, RegistryAnswer) and "CERTIFICATE_VERIFY_FAILED" in answer.detail


def _listener() -> tuple[socket.socket, str]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    return listener, f"127.0.0.1:{listener.getsockname()[1]}"


def test_a_silent_registry_costs_the_timeout_once() -> None:
    listener, address = _listener()
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    reader = RegistryReader(RegistrySettings(enabled=True, timeout=0.5, hosts={
        "registry-1.docker.io": address, "auth.docker.io": address}))
    started = time.monotonic()
    answer = reader.answer(_image("httpd"))
    elapsed = time.monotonic() - started
    assert _status(answer) == "unreachable" and "timed out" in answer.detail  # type: ignore[union-attr]
    assert 1.0 <= elapsed < 2.5  # the token request's timeout, then the HEAD's: 0.5 s each
    assert len(accepted) == 2
    started = time.monotonic()
    assert reader.answer(_image("httpd")) is answer  # cached: not waited for twice
    assert time.monotonic() - started < 0.2 and len(accepted) == 2
    for connection in accepted:
        connection.close()
    listener.close()


def test_a_registry_speaking_garbage_is_unreachable_not_a_crash() -> None:
    listener, address = _listener()
    served: list[int] = []

    def garbage() -> None:
        while True:
            try:
                connection = listener.accept()[0]
            except OSError:
                return
            connection.recv(65536)
            connection.sendall(b"\x16\x03\x01 this is not TLS nor HTTP\r\n\r\n")
            connection.close()
            served.append(1)

    threading.Thread(target=garbage, daemon=True).start()
    answer = RegistryReader(RegistrySettings(enabled=True, hosts={"registry-1.docker.io": address},
                                             timeout=1)).answer(_image("httpd"))
    assert _status(answer) == "unreachable"
    assert isinstance(answer, RegistryAnswer) and "SSL" in answer.detail and served == [1]
    listener.close()
