"""The README's sample alert is what `pullmedic demo` prints for its scenario today (only the
"failing since" time differs from run to run)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from pullmedic.cli.main import main

README = Path(__file__).resolve().parents[2] / "README.md"
SINCE = re.compile(r"since \d{4}-\d\d-\d\d \d\d:\d\d UTC")


def readme_sample() -> tuple[str, str]:
    """The scenario the README names, and the e-mail text it shows."""
    text = README.read_text()
    section = text[text.index("## A sample alert"):]
    scenario = re.search(r"pullmedic demo ([\w-]+)`", section)
    block = re.search(r"```text\n(.*?)```", section, re.S)
    assert scenario and block, "README.md: the sample alert names no scenario, or has no text block"
    return scenario[1], block[1]


def test_readme_sample_alert_is_what_the_demo_prints(capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [k for k in os.environ if k.startswith("PULLMEDIC_")]:
        monkeypatch.delenv(name)  # as `make demo` runs: no deployment settings around
    scenario, sample = readme_sample()
    assert main(["demo", "-q", scenario]) == 0
    printed = capsys.readouterr().out
    first = sample.splitlines()[0]
    assert first in printed, f"the demo no longer prints {first!r}"
    start = printed.index(first)
    shown = printed[start:start + len(sample)]
    assert SINCE.sub("since T", shown) == SINCE.sub("since T", sample), (
        "README.md's sample alert differs from what the demo prints; paste the new text:\n"
        + printed[start:])
