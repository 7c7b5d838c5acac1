"""Retries with exponential backoff and jitter, and a circuit breaker over recent batches."""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

R = TypeVar("R")


@dataclass(frozen=True)
class Backoff:
    """Delay before retry ``n`` (1-based): doubling from ``initial_ms`` up to ``max_ms``,
    with full jitter so that many clients do not retry in step."""

    max_retries: int = 3
    initial_ms: float = 200.0
    max_ms: float = 10_000.0

    def delay_s(self, attempt: int, rng: random.Random | None = None) -> float:
        ceiling = min(self.max_ms, self.initial_ms * 2 ** (attempt - 1))
        return (rng or random).uniform(ceiling / 2, ceiling) / 1000


def retry_call(
    fn: Callable[[], R],
    backoff: Backoff,
    retry_on: tuple[type[BaseException], ...],
    forever: bool = False,
    on_retry: Callable[[int, BaseException], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    stop: Callable[[], bool] | None = None,
) -> R:
    """Call ``fn``; on a ``retry_on`` error wait and call again, ``max_retries`` times (or
    until it works, with ``forever``), and no more once ``stop()`` is true (a run shutting
    down). The last error is raised when retries run out."""
    attempt = 0
    while True:
        try:
            return fn()
        except retry_on as exc:
            attempt += 1
            if not forever and attempt > backoff.max_retries or stop is not None and stop():
                raise
            if on_retry is not None:
                on_retry(attempt, exc)
            sleep(backoff.delay_s(min(attempt, 30)))


@dataclass
class CircuitBreaker:
    """Opens when at least ``threshold`` of the last ``window`` batches failed: a sink that is
    down should stop the run, not mark thousands of good files failed."""

    window: int = 10
    threshold: float = 0.5
    _recent: deque[bool] = field(default_factory=deque)

    def record(self, failed: bool) -> None:
        self._recent.append(failed)
        while len(self._recent) > self.window:
            self._recent.popleft()

    @property
    def open(self) -> bool:
        failures = sum(self._recent)
        return len(self._recent) >= min(self.window, 3) and failures >= self.threshold * max(
            len(self._recent), 1
        )
