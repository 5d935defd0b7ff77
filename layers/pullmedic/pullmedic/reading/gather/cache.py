"""Once-per-key reads shared by threads: every reader of a scan caches through `Memo`.

The first caller of a key reads it; callers of the same key meanwhile wait for that read
instead of making the same AWS call again; other keys are read in parallel.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

from pullmedic.core.unavailable import Unavailable, guarded

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")


class Memo(Generic[K, V]):
    """A thread-safe cache that reads each key at most once."""

    def __init__(self) -> None:
        self._values: dict[K, V] = {}
        self._pending: dict[K, threading.Event] = {}
        self._guard = threading.Lock()

    def get(self, key: K, read: Callable[[], V]) -> V:
        """The value of `key`, read with `read()` by the first caller only."""
        return self.get_many([key], lambda _: {key: read()})[key]

    def get_many(self, keys: Iterable[K], read: Callable[[list[K]], dict[K, V]],
                 default: V | None = None) -> dict[K, V]:
        """Values of `keys`; the keys nobody has read yet are read in one `read(missing)`.

        A key that `read` leaves out gets `default` (a not-found); keys another thread is
        reading are waited for, not read again.
        """
        wanted = list(dict.fromkeys(keys))
        mine: list[K] = []
        theirs: list[threading.Event] = []
        with self._guard:
            for key in wanted:
                if key in self._values:
                    continue
                if key in self._pending:
                    theirs.append(self._pending[key])
                else:
                    self._pending[key] = threading.Event()
                    mine.append(key)
        if mine:
            self._read(mine, read, default)
        for event in theirs:
            event.wait()
        with self._guard:
            failed = [key for key in wanted if key not in self._values]
        if failed:  # the thread that read them raised: read them here (and raise here, if so)
            self.get_many(failed, read, default)
        with self._guard:
            return {key: self._values[key] for key in wanted}

    def _read(self, keys: list[K], read: Callable[[list[K]], dict[K, V]], default: V | None) -> None:
        try:
            values = read(keys)
            with self._guard:
                for key in keys:
                    self._values[key] = values.get(key, default)  # type: ignore[assignment]
        finally:  # an unexpected error caches nothing but still releases the waiters
            with self._guard:
                for key in keys:
                    self._pending.pop(key).set()


def aws(memo: Memo[K, T | None | Unavailable], key: K, what: str, read: Callable[[], T | None],
        absent: type[Exception] | tuple[type[Exception], ...] = ()) -> T | None | Unavailable:
    """One AWS read per key: a failed call becomes Unavailable; an `absent` error, None."""
    def once() -> T | None | Unavailable:
        def call() -> T | None:
            try:
                return read()
            except absent:
                return None
        return guarded(what, call)
    return memo.get(key, once)
