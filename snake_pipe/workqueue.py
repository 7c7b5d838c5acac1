"""The one bounded priority queue that discovery and the watcher both feed.

Default order, ``largest_first``: files are grouped in power-of-two size bands, biggest band
first; inside a band, by language (a batch of one language keeps a worker on one grammar), then
by size and newest mtime. Big files first shortens the tail of a run: the last batches are the
small, fast ones, so no worker finishes a minute after the others. Urgent items (watcher events)
go ahead of bulk work whatever the order. The order holds among the files waiting: at most
``DEFAULT_CAPACITY`` (discovery waits beyond that), so memory stays flat on any repository
and the tail, the files left once discovery is done, is in exact order.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from snake_pipe.config import QueueOrder
from snake_pipe.records import FileResult, WorkItem

T = TypeVar("T")
Key = tuple[object, ...]
DEFAULT_CAPACITY = 20_000  # about 14 MB of queued files


def file_priority(order: QueueOrder) -> Callable[[WorkItem | FileResult], Key]:
    """The sort key of a queued file for an ordering policy (smaller comes first)."""

    def size_mtime(item: WorkItem | FileResult) -> tuple[int, int, str]:
        if isinstance(item, WorkItem):
            return item.size, item.mtime_ns, item.language or ""
        return 0, 0, ""  # finished records: cheap, any order

    def largest_first(item: WorkItem | FileResult) -> Key:
        size, mtime, lang = size_mtime(item)
        return (-size.bit_length(), lang, -size, -mtime)

    def smallest_first(item: WorkItem | FileResult) -> Key:
        size, mtime, lang = size_mtime(item)
        return (size.bit_length(), lang, size, -mtime)

    def newest_first(item: WorkItem | FileResult) -> Key:
        size, mtime, lang = size_mtime(item)
        return (-mtime, lang, -size)

    def discovery(item: WorkItem | FileResult) -> Key:
        return ()

    policies = {"largest_first": largest_first, "smallest_first": smallest_first,
                "newest_first": newest_first, "discovery": discovery}  # fmt: skip
    return policies[order]


class WorkQueue(Generic[T]):
    """Thread-safe, bounded: ``put`` blocks while full, ``take`` hands out batches."""

    def __init__(self, priority: Callable[[T], Key], capacity: int = DEFAULT_CAPACITY) -> None:
        self._priority = priority
        self._capacity = capacity
        self._heap: list[tuple[int, Key, int, T]] = []
        self._seq = itertools.count()
        self._lock = threading.Condition()
        self._closed = False

    def __len__(self) -> int:
        with self._lock:
            return len(self._heap)

    def full(self) -> bool:
        """A bulk ``put`` now would wait."""
        with self._lock:
            return len(self._heap) >= self._capacity

    @property
    def closed(self) -> bool:
        return self._closed

    def put(self, item: T, urgent: bool = False) -> None:
        entry = (0 if urgent else 1, self._priority(item), next(self._seq), item)
        with self._lock:
            while len(self._heap) >= self._capacity and not urgent and not self._closed:
                self._lock.wait()
            heapq.heappush(self._heap, entry)
            self._lock.notify_all()

    def close(self) -> None:
        """No more input; ``take`` drains what is left, then returns empty lists."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()

    def take(
        self,
        n: int,
        linger: float | None = None,
        weight: Callable[[T], float] | None = None,
        budget: float | None = None,
        at_least: int = 1,
    ) -> list[T]:
        """Up to ``n`` items, best first, ending early (after ``at_least``) once their
        ``weight`` reaches ``budget``. Waits for ``n`` items or the end of input; with
        ``linger`` it waits at most that long after the first item arrives."""
        with self._lock:
            deadline: float | None = None
            while len(self._heap) < n and not self._closed:
                if linger is not None and self._heap:
                    deadline = deadline or time.monotonic() + linger
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._lock.wait(remaining)
                else:
                    self._lock.wait(0.5 if linger is not None else None)
            if weight is None or budget is None:
                batch = [heapq.heappop(self._heap)[3] for _ in range(min(n, len(self._heap)))]
            else:
                batch, total = [], 0.0
                while self._heap and len(batch) < n and (total < budget or len(batch) < at_least):
                    batch.append(item := heapq.heappop(self._heap)[3])
                    total += weight(item)
            self._lock.notify_all()
            return batch
