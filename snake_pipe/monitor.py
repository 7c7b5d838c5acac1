"""Memory of the whole process tree (coordinator plus workers), sampled in the background."""

from __future__ import annotations

import threading

import psutil


def tree_rss_bytes(process: psutil.Process | None = None) -> int:
    """Resident memory of a process and all its descendants."""
    process = process or psutil.Process()
    total = 0
    for p in [process, *process.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


class MemorySampler:
    """Tracks the peak RSS of the process tree; a context manager around a run."""

    def __init__(self, interval: float = 0.25) -> None:
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
