"""Memo: each key read once however many threads ask; batches read only the keys nobody has."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from pullmedic.reading.gather.cache import Memo


def test_threads_asking_one_key_wait_for_the_first_read() -> None:
    memo: Memo[str, int] = Memo()
    reads: list[str] = []

    def slow() -> int:
        reads.append("vpc-1")
        time.sleep(0.05)  # long enough for every other thread to arrive meanwhile
        return 42

    with ThreadPoolExecutor(8) as pool:
        values = list(pool.map(lambda _: memo.get("vpc-1", slow), range(8)))

    assert values == [42] * 8
    assert reads == ["vpc-1"]


def test_a_batch_reads_only_keys_not_read_or_being_read() -> None:
    memo: Memo[str, str | None] = Memo()
    batches: list[list[str]] = []
    started = threading.Event()

    def read(keys: list[str]) -> dict[str, str | None]:
        batches.append(keys)
        started.set()
        time.sleep(0.05)
        return {key: key.upper() for key in keys if key != "gone"}

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(memo.get_many, ["a", "b"], read)
        started.wait()
        second = pool.submit(memo.get_many, ["b", "c", "gone"], read)
        assert first.result() == {"a": "A", "b": "B"}
        assert second.result() == {"b": "B", "c": "C", "gone": None}  # left out: the default

    assert batches == [["a", "b"], ["c", "gone"]]


def test_a_read_that_raises_caches_nothing_and_the_next_caller_reads_again() -> None:
    memo: Memo[str, int] = Memo()
    attempts = iter([RuntimeError("throttled"), 7])

    def read() -> int:
        outcome = next(attempts)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    with pytest.raises(RuntimeError, match="throttled"):
        memo.get("key", read)
    assert memo.get("key", read) == 7
    assert memo.get("key", read) == 7  # cached now: a third read would exhaust `attempts`
