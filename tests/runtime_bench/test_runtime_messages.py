"""Stage each fault, pull through containerd's CRI, and check the message it produces."""

from __future__ import annotations

import pytest

from .faults import FAULTS, PASSWORD, USER, Fault
from .messages import entry, kubelet_message

pytestmark = pytest.mark.bench


@pytest.mark.parametrize(
    ("endpoint", "repo", "auth"),
    [
        ("registry", "sanity/plain", None),
        ("registry_basic", "sanity/basic", (USER, PASSWORD)),
        ("registry_token", "sanity/token", (USER, PASSWORD)),
    ],
)
def test_registry_serves_images(bench, endpoint: str, repo: str, auth) -> None:
    """Without a fault the same endpoints serve images, so each failure is the fault's."""
    result = bench.pull(f"{bench.host(endpoint)}/{repo}:1", auth, 30.0)
    assert result.image_ref and result.image_ref.startswith("sha256:"), result.go_error


def test_untrusted_registry_serves_tls(bench) -> None:
    """The untrusted-CA registry works for a client that trusts its CA."""
    from .bench import tls_registry_serves

    assert tls_registry_serves(bench) == 200


def _pull(bench, fault: Fault, image: str):
    """Pull once; for a deadline fault, until the client's own deadline status is what came
    back (containerd's answer to the expiring call can, rarely, arrive first)."""
    for _ in range(3):
        result = bench.pull(image, fault.auth, fault.deadline)
        if not fault.deadline_is_the_fault or result.client_side:
            break
    return result


@pytest.mark.parametrize("fault", FAULTS, ids=[fault.id for fault in FAULTS])
def test_fault_message(bench, message_store, fault: Fault) -> None:
    """The pull fails, and containerd's wording matches the stored message."""
    if fault.needs_small_disk and bench.disk_full_skip:
        pytest.skip(f"cannot give containerd a small disk here: {bench.disk_full_skip}")
    image = bench.image(fault.image)
    result = _pull(bench, fault, image)
    assert result.image_ref is None, f"{image} was pulled: the fault was not staged"
    if fault.deadline_is_the_fault:
        assert result.code == "DeadlineExceeded" and result.client_side, result.go_error
    source = (
        f"produced by containerd {bench.full_version} CRI PullImage on this bench, fault: {fault.description}"
    )
    produced = entry(
        fault.entry_id(bench.version),
        bench.canonical(kubelet_message(image, result.go_error)),
        bench.canonical(image),
        fault.cause,
        source,
        note=fault.note,
        alternatives=fault.alternatives,
    )
    problem = message_store.problem(produced)
    if problem:
        pytest.fail(problem, pytrace=False)
