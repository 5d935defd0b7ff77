"""Shared fixtures: one sandbox (moto server + simulated EKS APIs) per test session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from pullmedic_sandbox.sandbox import Sandbox
from pullmedic_sandbox.scenario import BUNDLED, Scenario, load

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """The running sandbox; each test seeds its own scenario with `world`."""
    box = Sandbox()
    box.start()
    yield box
    box.stop()


@pytest.fixture
def world(sandbox: Sandbox) -> Iterator[Callable[[str | Path], Scenario]]:
    """Seed a bundled scenario (by name) or a scenario file, with the sandbox's env active."""

    with ExitStack() as stack:

        def seed(name: str | Path) -> Scenario:
            path = name if isinstance(name, Path) else BUNDLED / f"{name}.yaml"
            scenario = load(path)
            sandbox.load(scenario)
            stack.enter_context(sandbox.activated())
            return scenario

        yield seed
