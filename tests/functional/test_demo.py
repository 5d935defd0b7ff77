"""`make demo` holds: every bundled scenario, run through the real handler, finds what its
`expect` says (and nothing its `expect_absent` rules out)."""

from __future__ import annotations

import os

import pytest

from pullmedic.cli.main import main


def test_every_bundled_scenario_meets_its_expectations(capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [k for k in os.environ if k.startswith("PULLMEDIC_")]:
        monkeypatch.delenv(name)  # as `make demo` runs: no deployment settings around
    status = main(["demo", "-q", "-o", "json"])
    misses = capsys.readouterr().err
    assert status == 0, misses
