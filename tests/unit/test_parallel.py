"""The scan's overlapping helpers: results in order, errors where they belong, bounded threads."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from pullmedic.reading.parallel import Background, ahead, ordered


def test_ordered_keeps_the_order_and_runs_side_by_side() -> None:
    together = threading.Barrier(4, timeout=10)  # passes only when 4 calls wait at once
    running, most = 0, 0
    guard = threading.Lock()

    def call(n: int) -> int:
        nonlocal running, most
        with guard:
            running += 1
            most = max(most, running)
        together.wait()
        with guard:
            running -= 1
        return n * n

    assert ordered([lambda n=n: call(n) for n in range(12)], 4) == [n * n for n in range(12)]
    assert most == 4  # never more than the workers


def test_ordered_raises_the_first_error_of_a_call() -> None:
    def boom() -> int:
        raise ValueError("bad finding")

    with pytest.raises(ValueError, match="bad finding"):
        ordered([lambda: 1, boom, lambda: 3], 3)


def test_background_hands_over_its_value_or_its_exception() -> None:
    assert Background(lambda: 42).result() == 42
    with pytest.raises(KeyError):
        Background(lambda: {}["missing"]).result()


def test_ahead_reads_the_next_item_while_the_caller_works() -> None:
    second_asked = threading.Event()

    def pages() -> Iterator[int]:
        yield 0
        second_asked.set()
        yield 1

    seen = []
    for page in ahead(pages()):
        if page == 0:  # still working on page 0: page 1 is being read meanwhile
            assert second_asked.wait(timeout=10)
        seen.append(page)
    assert seen == [0, 1]


def test_ahead_raises_the_error_of_the_list_after_its_pages() -> None:
    def pages() -> Iterator[int]:
        yield 1
        raise RuntimeError("HTTP 500")

    seen = []
    with pytest.raises(RuntimeError, match="HTTP 500"):
        for page in ahead(pages()):
            seen.append(page)
    assert seen == [1]
