"""The batch engine over plain items, on the inline executor and a real process pool."""

from __future__ import annotations

import os
import time
from concurrent.futures import BrokenExecutor, ProcessPoolExecutor

import pytest

from snake_pipe.batching import BatchEngine, BatchSizer, WorkerDied
from snake_pipe.executors import InlineExecutor, process_pool
from snake_pipe.records import WorkItem
from snake_pipe.workqueue import WorkQueue, file_priority


def square(items: list[int]) -> list[int]:
    return [i * i for i in items]


def die_on_13(items: list[int]) -> list[int]:
    if 13 in items:
        os._exit(1)  # a worker that dies, as on a segfault
    return items


def raise_on_7(items: list[int]) -> list[int]:
    if 7 in items:
        raise ValueError("seven")
    return items


def test_engine_streams_every_item_once() -> None:
    engine = BatchEngine(square, InlineExecutor, BatchSizer(10, 1, 100))
    outcomes = list(engine.run_iter(range(95)))
    assert [len(o.items) for o in outcomes] == [10] * 9 + [5]
    assert sorted(r for o in outcomes for r in o.results or []) == [i * i for i in range(95)]
    assert [o.number for o in outcomes] == list(range(1, 11))


def test_engine_is_lazy() -> None:
    pulled = []

    def source():
        for i in range(10_000):
            pulled.append(i)
            yield i

    engine = BatchEngine(square, InlineExecutor, BatchSizer(10, 1, 100), max_in_flight=2)
    first = next(iter(engine.run_iter(source())))
    assert len(first.items) == 10 and len(pulled) <= 30


def test_auto_sizer_moves_toward_target() -> None:
    sizer = BatchSizer("auto", 50, 500, target_seconds=0.5)
    assert sizer.current == 50
    for _ in range(10):
        sizer.observe(sizer.current, sizer.current * 0.0001)  # fast items: grow
    assert sizer.current == 500
    for _ in range(20):
        sizer.observe(sizer.current, sizer.current * 0.05)  # slow items: shrink
    assert sizer.current == 50


def test_batch_exception_is_reported_not_raised() -> None:
    engine = BatchEngine(raise_on_7, InlineExecutor, BatchSizer(5, 1, 100))
    outcomes = list(engine.run_iter(range(20)))
    failed = [o for o in outcomes if not o.ok]
    assert len(failed) == 1 and 7 in failed[0].items and isinstance(failed[0].error, ValueError)


def test_crashing_item_is_isolated_on_real_pool() -> None:
    engine = BatchEngine(die_on_13, lambda: process_pool(2), BatchSizer(8, 1, 100))
    with engine:
        outcomes = list(engine.run_iter(range(40)))
    ok_items = sorted(i for o in outcomes if o.ok for i in o.results or [])
    failed = [o for o in outcomes if not o.ok]
    assert ok_items == [i for i in range(40) if i != 13]
    assert len(failed) == 1 and failed[0].items == [13]
    assert engine.batches_retried >= 1
    assert isinstance(engine.executor, ProcessPoolExecutor)


def lost_worker(items: list[str]) -> list[str]:
    """Fault injection for an executor that reports no exit codes (Dask): the worker of a
    batch holding "hang" is lost after a while (its watchdog), of one holding "crash" at once."""
    if "hang" in items:
        time.sleep(0.3)
        raise BrokenExecutor("worker lost")
    if "crash" in items:
        raise BrokenExecutor("worker lost")
    return items


def test_without_exit_codes_a_lone_item_lost_after_item_timeout_is_a_timeout() -> None:
    engine = BatchEngine(lost_worker, InlineExecutor, BatchSizer(8, 1, 100), item_timeout_s=0.25)
    items = [f"f{i}" for i in range(14)] + ["hang", "crash"]
    outcomes = list(engine.run_iter(items))
    failed = {o.items[0]: o.error for o in outcomes if not o.ok}
    assert set(failed) == {"hang", "crash"}
    assert all(isinstance(e, WorkerDied) for e in failed.values())
    assert failed["hang"].timed_out and not failed["crash"].timed_out  # type: ignore[union-attr]
    assert sorted(r for o in outcomes if o.ok for r in o.results or []) == sorted(items[:14])


def test_queue_orders_largest_first_and_urgent_first() -> None:
    q: WorkQueue[WorkItem] = WorkQueue(file_priority("largest_first"), capacity=100)
    for name, size in [("s", 10), ("l", 100_000), ("m", 2_000)]:
        q.put(WorkItem(name, name, "python", size, 0))
    q.put(WorkItem("tiny-urgent", "x", "python", 1, 0), urgent=True)
    q.close()
    assert [i.path for i in q.take(10)] == ["tiny-urgent", "l", "m", "s"]
    assert q.take(10) == []


def test_queue_take_stops_at_a_weight_budget_after_a_minimum() -> None:
    """The file pipeline's batches end once their bytes would take a parser longer than the
    target, but never below the minimum batch (the last one aside)."""
    q: WorkQueue[WorkItem] = WorkQueue(file_priority("largest_first"), capacity=100)
    for i, size in enumerate([100_000] * 4 + [10] * 6):
        q.put(WorkItem(f"f{i}", "x", "python", size, 0))
    q.close()

    def size(item: WorkItem) -> float:
        return item.size

    assert [i.size for i in q.take(10, weight=size, budget=150_000)] == [100_000] * 2
    assert len(q.take(10, weight=size, budget=150_000, at_least=5)) == 5
    assert len(q.take(10, weight=size, budget=150_000)) == 3  # what is left


@pytest.mark.parametrize("order", ["smallest_first", "newest_first", "discovery"])
def test_other_orders(order: str) -> None:
    q: WorkQueue[WorkItem] = WorkQueue(file_priority(order), capacity=100)  # type: ignore[arg-type]
    items = [
        WorkItem("a", "a", "c", 5, 1),
        WorkItem("b", "b", "c", 50_000, 3),
        WorkItem("c", "c", "c", 500, 2),
    ]
    for item in items:
        q.put(item)
    q.close()
    expected = {"smallest_first": "acb", "newest_first": "bca", "discovery": "abc"}[order]
    assert "".join(i.path for i in q.take(3)) == expected
