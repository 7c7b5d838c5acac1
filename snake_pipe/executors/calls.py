"""What the batch engine runs inside a worker. Kept free of pydantic and the pipeline, so a
parser process imports nothing it does not use and starts sooner."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def run_timed(fn: Callable[[list[T]], list[R]], items: list[T]) -> tuple[list[R], float]:
    """The batch function plus the time it took in the worker."""
    started = time.perf_counter()
    return fn(items), time.perf_counter() - started


def each_item(fn: Callable[[Any], Any], items: list[Any]) -> list[tuple[bool, Any]]:
    """``fn`` per item, an error costing only its item."""
    out: list[tuple[bool, Any]] = []
    for item in items:
        try:
            out.append((True, fn(item)))
        except Exception as exc:  # isolated per item, reported to the caller
            out.append((False, f"{type(exc).__name__}: {exc}"))
    return out


def whole_batch(fn: Callable[[list[Any]], list[Any]], items: list[Any]) -> list[tuple[bool, Any]]:
    """A batch function; if it raises, the whole batch fails."""
    results = fn(items)
    if len(results) != len(items):
        raise ValueError(
            f"the batch function returned {len(results)} results for {len(items)} items"
        )
    return [(True, value) for value in results]
