"""public_registry over in-memory facts: each verdict it can give."""

from __future__ import annotations

import pytest
from casebook import Case, facts, subject, verify

from pullmedic.core.causes import Cause
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks import public_registry
from pullmedic.diagnosing.checks.base import CONFIRMED, CONTRADICTED, PASSED, UNAVAILABLE
from pullmedic.reading.gather.registry import (
    AUTH_REQUIRED,
    EXISTS,
    NOT_FOUND,
    RATE_LIMITED,
    UNREACHABLE,
    RegistryAnswer,
)

HUB = "docker.io/library/nginx:1.99"
NOT_FOUND_MSG, AUTH, LIMITED = Cause.IMAGE_NOT_FOUND, Cause.AUTH_FAILED, Cause.RATE_LIMITED


def answer(status: str, detail: str = "HTTP 200", **quota: str) -> RegistryAnswer:
    return RegistryAnswer(status, "registry-1.docker.io", detail, **quota)


CASES = [
    Case("probe off", subject(HUB, NOT_FOUND_MSG), facts(registry=None), None),
    Case("over budget", subject(HUB, NOT_FOUND_MSG), facts(registry=Unavailable(
        "the registry probe's budget for this scan is spent")), UNAVAILABLE,
        says=("unavailable: the registry probe's budget",)),
    Case("exists, message says not found", subject(HUB, NOT_FOUND_MSG), facts(registry=answer(EXISTS)),
         CONTRADICTED, says=("registry-1.docker.io answers anonymously that "
                                    "docker.io/library/nginx:1.99: exists (HTTP 200)",
                                    "the pull went through a mirror (containerd hosts.toml)")),
    Case("exists, message says auth", subject(HUB, AUTH), facts(registry=answer(EXISTS)), PASSED,
         says=("nginx:1.99: exists (HTTP 200)",)),
    Case("not found, as the message says", subject(HUB, NOT_FOUND_MSG), facts(registry=answer(
        NOT_FOUND, "HTTP 404")), CONFIRMED, says=("nginx:1.99: not found (HTTP 404)",),
        fix=("Fix the image reference",)),
    Case("not found, message says auth", subject(HUB, AUTH), facts(registry=answer(NOT_FOUND, "HTTP 404")),
         CONTRADICTED, says=("not found (HTTP 404)",)),
    Case("needs authentication", subject(HUB, AUTH), facts(registry=answer(AUTH_REQUIRED, "HTTP 401")),
         PASSED, says=("an anonymous request cannot tell which",)),
    Case("rate limited, as the message says", subject(HUB, LIMITED), facts(registry=answer(
        RATE_LIMITED, "HTTP 429", limit="100;w=21600", remaining="0;w=21600")), CONFIRMED,
        says=("rate limited (HTTP 429; 0 of 100 pulls left in the 21600 s window)",)),
    Case("rate limited, message says not found", subject(HUB, NOT_FOUND_MSG), facts(registry=answer(
        RATE_LIMITED, "HTTP 429")), PASSED,
        says=("the limit of pullmedic's address, not necessarily the node's",)),
    Case("unreachable", subject(HUB, NOT_FOUND_MSG), facts(registry=answer(UNREACHABLE, "timed out")),
         UNAVAILABLE, says=("registry-1.docker.io is unreachable from pullmedic: timed out",)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_verdict(case: Case) -> None:
    verify(public_registry, case)


def test_a_mirror_that_lacks_the_image_is_the_new_cause() -> None:
    verdict = public_registry.run(subject(HUB, NOT_FOUND_MSG), facts(registry=answer(EXISTS)))
    assert verdict is not None and verdict.rediagnose == Cause.REGISTRY_SERVER_ERROR
