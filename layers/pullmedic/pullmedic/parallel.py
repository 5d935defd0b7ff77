"""Run independent tasks on a few threads, waiting for them no longer than a deadline.

Threads are daemons: a task still blocked in a request when the deadline passes is left
behind (its result is dropped), so neither the Lambda nor the CLI waits on it.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Mapping
from typing import TypeVar

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
