"""Every pattern in the text-processing modules runs in linear time on hostile input.

The patterns are discovered from the modules (a rule added later is covered without listing
it); each meets inputs built to make a backtracking engine work hardest on it
(tests/perf/regex_cases.py). The bound is generous, so it holds on a busy machine: a pattern
with quadratic behaviour takes seconds on these inputs. `make bench` measures the same inputs
at 100 KB and 1 MB against a tight budget (tests/perf/regex_bench.py).
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pullmedic.core import redact
from pullmedic.diagnosing import classify, rules

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "perf"))
from regex_cases import GENERIC, adversarial, patterns, worst  # noqa: E402

SIZE = 100_000
BOUND_S = 0.5  # per 100 KB; the bench's budget is 50 ms
PATTERNS = patterns([redact, rules, classify])


def test_every_module_pattern_is_found() -> None:
    names = set(PATTERNS)
    assert {f"rule {rule.id}" for rule in rules.RULES if rule.pattern} <= names
    assert sum(name.startswith("redact._COMPILED[") for name in names) >= 14
    assert "classify._KUBELET_PREFIX" in names


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_pattern_is_linear_on_hostile_input(name: str) -> None:
    pattern = PATTERNS[name]
    inputs = adversarial(pattern, SIZE)
    seconds, which = worst(pattern, inputs)
    if seconds > BOUND_S:  # a busy machine gets a second chance; a quadratic pattern does not pass
        seconds, which = worst(pattern, {which: inputs[which]}, tries=2)
    assert seconds <= BOUND_S, f"{name}: {seconds:.2f} s on 100 KB of {which}"


@pytest.mark.parametrize("function", [redact.redact, redact.printable], ids=["redact", "printable"])
def test_whole_function_is_linear(function: Callable[[str], str]) -> None:
    hostile = {f"{g!r}*": (g * SIZE)[:SIZE] for g in GENERIC}
    for name, pattern in PATTERNS.items():
        if name.startswith("redact."):
            hostile[f"{name} all pieces"] = adversarial(pattern, SIZE).get("all pieces*", "")
    for name, text in hostile.items():
        start = time.perf_counter()
        function(text)
        assert time.perf_counter() - start <= BOUND_S, name


# The plain forms of the rules rewritten for linear time: the rewrites find a match in exactly
# the texts where these do.
PLAIN = {
    "transfer_interrupted": r"failed to copy: .*(?:connection reset by peer|unexpected EOF)"
                            r"|failed to read expected number of bytes: unexpected EOF",
    "reference_not_found": r"(?:failed to resolve reference|code = NotFound desc = )[^\n]*: not found\s*$"
                           r"|: not found$|\bnot found: not found\b",
    "http_to_https_port": r"failed with status code \[manifests [^\]]+\]: 400 Bad Request",
}
PIECES = ["failed to copy: ", "connection reset by peer", "unexpected EOF", "failed to resolve reference",
          "code = NotFound desc = ", ": not found", "not found", "failed with status code [manifests ",
          "]: 400 Bad Request", "]", "[", "a", " ", "\n", "\t", "x:", "failed to read expected number "
          "of bytes: unexpected EOF"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=12))
def test_linear_rewrites_match_what_the_plain_rules_match(parts: list[str]) -> None:
    text = "".join(parts)
    rewritten = {rule.id: rule.compiled() for rule in rules.RULES if rule.id in PLAIN}
    for rule_id, plain in PLAIN.items():
        expected = re.search(plain, text) is not None
        assert (rewritten[rule_id].search(text) is not None) == expected, (rule_id, text)
