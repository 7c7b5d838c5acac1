"""Memory of the whole process tree (coordinator plus workers), sampled in the background."""

from __future__ import annotations

import threading
import time

import psutil

# Finding descendants reads /proc/*/stat of every process on the machine: the list is reused
# for this long, while each member's RSS is read fresh at every call.
CHILDREN_TTL_S = 1.0
_children: dict[int, tuple[float, list[psutil.Process]]] = {}


def tree_rss_bytes(process: psutil.Process | None = None) -> int:
    """Resident memory of a process and all its descendants."""
    process = process or psutil.Process()
    now = time.monotonic()
    cached = _children.get(process.pid)
    if cached is None or now - cached[0] > CHILDREN_TTL_S:
        try:
            cached = (now, process.children(recursive=True))
        except psutil.Error:
            cached = (now, [])
        _children[process.pid] = cached
    total = 0
    for p in [process, *cached[1]]:
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


class MemorySampler:
    """Tracks the peak RSS of the process tree; a context manager around a run."""

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.peak_bytes = 0
        self.last_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="snake-pipe-memory", daemon=True)

    @property
    def peak_mb(self) -> float:
        return self.peak_bytes / (1 << 20)

    @property
    def last_mb(self) -> float:
        return self.last_bytes / (1 << 20)

    def sample(self) -> int:
        self.last_bytes = rss = tree_rss_bytes()
        self.peak_bytes = max(self.peak_bytes, rss)
        return rss

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> MemorySampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()
