"""Run independent tasks on a few threads, waiting for them no longer than a deadline.

Threads are daemons: a task still blocked in a request when the deadline passes is left
behind (its result is dropped), so neither the Lambda nor the CLI waits on it.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


def bounded(tasks: Mapping[str, Callable[[], T]], workers: int,
            deadline: float | None) -> tuple[dict[str, T], list[str]]:
    """Run `tasks` (name -> callable) on at most `workers` threads until `deadline`
    (time.monotonic()); return the results by name and, in order, the names not finished.

    A task that raises is the caller's to prevent: its exception is re-raised here.
    """
    pending = list(tasks)
    done: queue.Queue[tuple[str, T | None, BaseException | None]] = queue.Queue()
    slots = threading.Semaphore(max(workers, 1))
    stopped = threading.Event()  # set when the caller stops waiting: start nothing more

    def work(name: str) -> None:
        try:
            done.put((name, tasks[name](), None))
        except BaseException as err:  # handed to the waiting thread, never lost
            done.put((name, None, err))
        finally:
            slots.release()

    def starter() -> None:
        for name in pending:
            slots.acquire()
            if stopped.is_set():
                return
            threading.Thread(target=work, args=(name,), name=f"pullmedic-{name}", daemon=True).start()

    threading.Thread(target=starter, name="pullmedic-starter", daemon=True).start()
    results: dict[str, T] = {}
    try:
        while len(results) < len(pending):
            wait = None if deadline is None else deadline - time.monotonic()
            if wait is not None and wait <= 0:
                break
            try:
                name, value, error = done.get(timeout=wait)
            except queue.Empty:
                break
            if error is not None:
                raise error
            results[name] = value  # type: ignore[assignment]
    finally:
        stopped.set()
    return results, [name for name in pending if name not in results]


class Background(Generic[T]):
    """One call started now on a daemon thread; `result()` waits for it (and re-raises)."""

    def __init__(self, call: Callable[[], T], name: str = "pullmedic-background") -> None:
        self._done = threading.Event()
        self._value: T | None = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._value = call()
            except BaseException as err:  # handed to the waiting thread, never lost
                self._error = err
            finally:
                self._done.set()

        threading.Thread(target=run, name=name, daemon=True).start()

    def result(self) -> T:
        """The call's value, once it has returned; its exception, if it raised."""
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


def ordered(calls: Sequence[Callable[[], T]], workers: int) -> list[T]:
    """The values of `calls`, in order, computed on at most `workers` threads (the caller's
    thread is one of them). The first exception of a call is re-raised here."""
    if len(calls) <= 1 or workers <= 1:
        return [call() for call in calls]
    results: list[T | None] = [None] * len(calls)
    errors: list[BaseException] = []
    lock = threading.Lock()
    jobs = iter(range(len(calls)))

    def drain() -> None:
        while not errors:
            with lock:
                index = next(jobs, None)
            if index is None:
                return
            try:
                results[index] = calls[index]()
            except BaseException as err:  # re-raised by the caller's thread
                errors.append(err)

    helpers = [Background(drain, "pullmedic-worker") for _ in range(min(workers, len(calls)) - 1)]
    drain()
    for helper in helpers:
        helper.result()
    if errors:
        raise errors[0]
    return results  # type: ignore[return-value]


def ahead(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """`items`, read on a daemon thread up to `depth` items ahead of the caller (a paginated
    list whose pages are read into small results: the next page is requested as soon as one
    is read, while the caller works). An exception of `items` is raised where it occurred; a
    caller that stops early stops the reading at its next item."""
    done: queue.Queue[tuple[bool, T | None, BaseException | None]] = queue.Queue(maxsize=depth)
    stopped = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stopped.is_set():
                    try:
                        done.put((True, item, None), timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stopped.is_set():
                    return
            done.put((False, None, None))
        except BaseException as err:  # handed to the caller, never lost
            done.put((False, None, err))

    threading.Thread(target=produce, name="pullmedic-ahead", daemon=True).start()
    try:
        while True:
            more, item, error = done.get()
            if error is not None:
                raise error
            if not more:
                return
            yield item  # type: ignore[misc]
    finally:
        stopped.set()
