"""The batch engine: any items, any picklable batch function, any executor.

The engine pulls items lazily from a source, cuts them into batches (fixed, or adaptive toward
a target duration), keeps a bounded number of batches in flight, and yields each finished batch
in completion order. The file pipeline is its first user; it knows nothing about files.

A batch whose worker process died is retried on a fresh executor; if it dies again it is split
in halves until the item that kills workers is alone, and that item is reported as failed, so
every other item still gets its result.
"""

from __future__ import annotations

import contextlib
import pickle
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Executor, Future, wait
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import islice
from pathlib import Path
from typing import IO, Any, Generic, Literal, TypeGuard, TypeVar

from pydantic import BaseModel

from snake_pipe.errors import ConfigError, SnakePipeError, StoreError
from snake_pipe.events import (
    BatchExecuted,
    CheckpointCreated,
    EventHandler,
    ExecutionFailed,
    ProgressUpdated,
    emit,
)  # fmt: skip
from snake_pipe.executors.calls import each_item, run_timed, whole_batch
from snake_pipe.executors.process import MAIN_REIMPORTED_EXIT
from snake_pipe.monitor import MemorySampler
from snake_pipe.report import utc_now
from snake_pipe.retry import Backoff

T = TypeVar("T")
R = TypeVar("R")


@dataclass(slots=True)
class BatchOutcome(Generic[T, R]):
    """A finished batch: its results, or the error that stopped it."""

    number: int
    items: list[T]
    results: list[R] | None
    error: BaseException | None = None
    worker_seconds: float = 0.0
    wall_seconds: float = 0.0
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class BatchSizer:
    """Fixed size, or ``auto``: the size that makes a batch last ``target_seconds``."""

    size: int | Literal["auto"] = "auto"
    min_size: int = 50
    max_size: int = 500
    target_seconds: float = 0.5
    # an item's share of a batch's work beyond its count (the file pipeline: its bytes)
    weight: Callable[[Any], float] | None = None
    _current: int = field(init=False, default=0)
    _per_item: float | None = field(init=False, default=None)
    _per_weight: float | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._current = self.min_size if self.size == "auto" else int(self.size)

    @property
    def current(self) -> int:
        return self._current

    @property
    def per_item(self) -> float | None:
        """Seconds per item of the batches seen, the recent ones weighing more."""
        return self._per_item

    @property
    def per_weight(self) -> float | None:
        """Seconds per unit of ``weight`` of the batches seen, the recent ones weighing more."""
        return self._per_weight

    def observe_batch(self, items: Sequence[Any], seconds: float) -> None:
        if self.weight is not None and (total := sum(map(self.weight, items))):
            self._per_weight = _recent(self._per_weight, seconds / total)
        self.observe(len(items), seconds)

    def observe(self, items: int, seconds: float) -> None:
        if items == 0:
            return
        self._per_item = _recent(self._per_item, seconds / items)
        if self.size != "auto":
            return
        wanted = self.target_seconds / max(self._per_item, 1e-6)
        self._current = int(min(self.max_size, max(self.min_size, wanted)))

    def shrink(self) -> None:
        """Halve the batch size (memory pressure); auto sizing may grow it back."""
        self._current = max(self.min_size, self._current // 2)


def _recent(average: float | None, value: float) -> float:
    """A running average in which the recent values weigh more."""
    return value if average is None else 0.7 * average + 0.3 * value


# Bisecting a poison file costs a few deaths in a row at most (the clean half of each split
# completes); this many means the workers die whatever they run.
MAX_BARREN_DEATHS = 12


class WorkerDied(SnakePipeError):
    """A worker process died while running a batch; ``exit_codes`` are those of the pool's
    processes (negative: killed by that signal; ``timed_out``: by its own watchdog)."""

    def __init__(self, message: str, exit_codes: tuple[int, ...] = (), timed_out: bool = False):
        super().__init__(message)
        self.exit_codes, self.timed_out = exit_codes, timed_out
        self.args = (message, exit_codes, timed_out)


@dataclass
class _InFlight(Generic[T]):
    number: int
    items: list[T]
    submitted: float = 0.0
    attempts: int = 1
    not_before: float = 0.0  # a retry waits for its backoff
    suspect: bool = False  # was in flight when a worker died: runs alone


class BatchEngine(Generic[T, R]):
    """Runs ``fn`` over batches of items on an executor made by ``executor_factory``.

    ``fn`` raising is retried ``backoff.max_retries`` times with backoff, then reported in the
    outcome. A dead worker (crash, OOM kill, watchdog) or a batch past ``batch_timeout_s``
    brings a fresh pool; the batches that were in flight run again one at a time, so the blame
    is exact, and the guilty one is retried, then bisected down to the item that kills workers.
    A worker's own watchdog is told apart from a crash by its ``timeout_exit_code``, or, on
    executors that report no exit code (Dask), by a lone item dying after ``item_timeout_s``.
    """

    def __init__(
        self,
        fn: Callable[[list[T]], list[R]],
        executor_factory: Callable[[], Executor],
        sizer: BatchSizer | None = None,
        max_in_flight: int = 4,
        max_crash_retries: int = 1,
        backoff: Backoff | None = None,
        batch_timeout_s: float | None = None,
        timeout_exit_code: int | None = None,
        item_timeout_s: float | None = None,
    ) -> None:
        self.fn = fn
        self.executor_factory = executor_factory
        self.sizer = sizer or BatchSizer()
        self.max_in_flight = max_in_flight
        self.max_crash_retries = max_crash_retries
        self.backoff = backoff or Backoff(max_retries=0)
        self.batch_timeout_s = batch_timeout_s
        self.timeout_exit_code = timeout_exit_code
        self.item_timeout_s = item_timeout_s
        self._executor: Executor | None = None
        self._stopping = False
        self._deadline: float | None = None
        self._numbers = 0
        self.batches_retried = 0
        self.abandoned = 0
        self.pools_started = 0
        self._recycle = False
        self._barren_deaths = 0  # pool deaths since a batch last completed

    @classmethod
    def for_items(
        cls,
        fn: Callable[[Any], Any],
        *,
        whole_batches: bool = False,
        executor: str | Callable[[], Executor] = "process",
        workers: int | None = None,
        batch_size: int | Literal["auto"] = 1000,
        min_batch_size: int = 1,
        max_batch_size: int = 10_000,
        target_batch_seconds: float = 0.5,
        parallel_batches: int | None = None,
        max_retries_per_batch: int = 3,
        initial_backoff_ms: float = 200.0,
        max_backoff_ms: float = 10_000.0,
    ) -> BatchEngine[Any, tuple[bool, Any]]:
        """An engine over any records: ``fn(item)`` runs per item in the workers, an item
        that raises is reported failed alone. With ``whole_batches``, ``fn(items)`` returns
        one result per item and an exception fails (and retries) the whole batch. ``fn`` must
        be picklable (a module-level function) for the process executor."""
        if not callable(fn):
            raise ConfigError(f"fn: {fn!r} is not callable: pass a function")
        if isinstance(executor, str):
            from snake_pipe.executors import check_executor

            check_executor(executor, "executor")
        elif not callable(executor):
            raise ConfigError(f"executor: {executor!r} is not allowed: pass a name or a "
                              "function returning a concurrent.futures.Executor")  # fmt: skip
        if batch_size != "auto" and not (_whole(batch_size) and 1 <= batch_size <= 10_000):
            raise ConfigError(
                f'batch_size: {batch_size!r} is not allowed: use 1 to 10000 or "auto"'
            )
        for name, value in (("workers", workers), ("parallel_batches", parallel_batches)):
            if value is not None and not (_whole(value) and value >= 1):
                raise ConfigError(f"{name}: {value!r} is not allowed: use 1 or more, or None")
        if not (_whole(max_retries_per_batch) and max_retries_per_batch >= 0):
            raise ConfigError(f"max_retries_per_batch: {max_retries_per_batch!r} is not allowed: "
                              "use 0 or more")  # fmt: skip
        if not (_real(target_batch_seconds) and target_batch_seconds > 0):
            raise ConfigError(f"target_batch_seconds: {target_batch_seconds!r} is not allowed: "
                              "use a number above 0")  # fmt: skip
        for name, ms in (("initial_backoff_ms", initial_backoff_ms),
                         ("max_backoff_ms", max_backoff_ms)):  # fmt: skip
            if not (_real(ms) and ms >= 0):
                raise ConfigError(f"{name}: {ms!r} is not allowed: use 0 or more")
        if not (_whole(min_batch_size) and 1 <= min_batch_size <= max_batch_size <= 10_000):
            raise ConfigError(f"min_batch_size={min_batch_size!r}, max_batch_size="
                              f"{max_batch_size!r}: use 1 <= min <= max <= 10000")  # fmt: skip
        if isinstance(executor, str) and executor != "inline":  # fn goes to other processes
            try:
                pickle.dumps(fn)
            except Exception as exc:
                raise ConfigError(f"fn {fn!r} cannot be sent to worker processes ({exc}): "
                                  'define it at module level, or pass executor="inline"') from None  # fmt: skip
        from snake_pipe.config import usable_cores
        from snake_pipe.executors import make_executor

        count = workers or usable_cores()
        factory = executor if callable(executor) else partial(make_executor, executor, count)
        return BatchEngine(
            partial(whole_batch if whole_batches else each_item, fn), factory,
            BatchSizer(batch_size, min_batch_size, max_batch_size, target_batch_seconds),
            max_in_flight=parallel_batches or 2 * count,
            backoff=Backoff(max_retries_per_batch, initial_backoff_ms, max_backoff_ms),
        )  # fmt: skip

    def execute(
        self,
        items: Iterable[T],
        *,
        on_result: Callable[[T, Any], None] | None = None,
        on_error: Callable[[T, str], None] | None = None,
        checkpoint_path: str | Path | None = None,
        checkpoint_frequency: int = 1,
        resume_from: str | int | None = None,
        on_batch_error: Literal["continue", "stop", "retry"] = "continue",
        events: Sequence[EventHandler] = (),
        memory_limit_mb: int = 0,
    ) -> EngineReport:
        """Run an engine made by ``for_items`` over ``items`` (consumed lazily), calling
        ``on_result(item, value)`` / ``on_error(item, message)`` in this process as batches
        finish. With ``checkpoint_path`` the contiguous progress is saved every
        ``checkpoint_frequency`` batches, and ``resume_from`` ("latest", a checkpoint id or a
        batch number) skips the items done before. Closes the engine at the end."""
        if on_batch_error not in ("continue", "stop", "retry"):
            raise ConfigError(f"on_batch_error: {on_batch_error!r} is not allowed: "
                              'use "continue", "stop" or "retry"')  # fmt: skip
        if not (_whole(checkpoint_frequency) and checkpoint_frequency >= 0):
            raise ConfigError(f"checkpoint_frequency: {checkpoint_frequency!r} is not allowed: "
                              "use 0 (only at the end) or more")  # fmt: skip
        _check_execute(items, on_result, on_error, checkpoint_path, resume_from, events,
                       memory_limit_mb)  # fmt: skip
        return _execute(self, items, on_result, on_error, checkpoint_path, checkpoint_frequency,
                        resume_from, on_batch_error, events, memory_limit_mb)  # fmt: skip

    def __enter__(self) -> BatchEngine[T, R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(wait_for_workers=exc[0] is None)

    @property
    def executor(self) -> Executor:
        if self._executor is None:
            self._executor = self.executor_factory()
            self.pools_started += 1
        return self._executor

    def close(self, wait_for_workers: bool = True) -> None:
        """Shut the executor down; without waiting, its worker processes are killed."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        if not wait_for_workers:
            for process in _processes(executor):
                process.kill()
            _release_results(executor)
        executor.shutdown(wait=wait_for_workers, cancel_futures=True)

    def healthy(self) -> bool:
        """False when the current pool is broken (a fresh one starts with the next batch)."""
        return not getattr(self._executor, "_broken", False)

    def recycle(self) -> None:
        """Replace the workers once the batches in flight are done (to give memory back)."""
        self._recycle = True

    def stop(self, grace_s: float | None = None) -> None:
        """Take no new batches; the ones in flight finish and are yielded, unless they take
        longer than ``grace_s``, after which they are abandoned."""
        self._stopping = True
        if grace_s is not None:
            self._deadline = time.monotonic() + grace_s

    def run(self, take: Callable[[int], list[T]]) -> Iterator[BatchOutcome[T, R]]:
        """Batches from ``take(n)`` (an empty list ends the input), yielded as they finish."""
        in_flight: dict[Future[Any], _InFlight[T]] = {}
        pending: list[_InFlight[T]] = []  # retried or split batches, run before new ones
        exhausted = [False]
        while True:
            if self._recycle and not in_flight:
                self._recycle = False
                self.close()
            while len(in_flight) < self.max_in_flight and not self._stopping and not self._recycle:
                job = self._next_job(take, in_flight, pending, exhausted)
                if job is None:
                    break
                job.submitted = time.monotonic()
                try:
                    in_flight[self.executor.submit(run_timed, self.fn, job.items)] = job
                except BrokenExecutor:  # the pool died since the last wait: not this job's fault
                    pending.append(replace(job, suspect=True))
                    if not in_flight:
                        self.close(wait_for_workers=False)
                    break
            if not in_flight and (not pending or self._stopping):
                return
            if self._deadline is not None and time.monotonic() >= self._deadline:
                self.abandoned = sum(len(job.items) for job in in_flight.values())
                self.close(wait_for_workers=False)
                return
            if not in_flight:  # only retries waiting for their backoff
                time.sleep(max(0.0, min(j.not_before for j in pending) - time.monotonic()))
                continue
            done, _ = wait(in_flight, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: in_flight[f].number):
                if future not in in_flight:
                    continue  # requeued when its pool died
                job = in_flight.pop(future)
                outcome = self._finish(future, job, in_flight, pending)
                if outcome is not None:
                    yield outcome
            yield from self._overdue(in_flight, pending)

    def _next_job(
        self,
        take: Callable[[int], list[T]],
        in_flight: dict[Future[Any], _InFlight[T]],
        pending: list[_InFlight[T]],
        exhausted: list[bool],
    ) -> _InFlight[T] | None:
        """Suspects of a dead pool first, each alone; then retries due; then new items."""
        suspects = [j for j in pending if j.suspect]
        if suspects:
            if in_flight:
                return None
            pending.remove(job := suspects[-1])
            return job
        now = time.monotonic()
        ready = [j for j in pending if j.not_before <= now]
        if ready:
            pending.remove(job := ready[0])
            return job
        if exhausted[0]:
            return None
        items = take(self.sizer.current)
        if not items:
            exhausted[0] = True
            return None
        self._numbers += 1
        return _InFlight(self._numbers, items)

    def run_iter(self, items: Iterable[T]) -> Iterator[BatchOutcome[T, R]]:
        """Batches over a plain iterable, consumed lazily."""
        iterator = iter(items)
        return self.run(lambda n: list(islice(iterator, n)))

    def _finish(
        self,
        future: Future[Any],
        job: _InFlight[T],
        in_flight: dict[Future[Any], _InFlight[T]],
        pending: list[_InFlight[T]],
    ) -> BatchOutcome[T, R] | None:
        wall = time.monotonic() - job.submitted
        try:
            results, seconds = future.result()
        except BrokenExecutor as exc:
            return self._died(job, self._death(exc, job, wall), in_flight, pending)
        except Exception as exc:  # the batch function raised: retry, then the caller decides
            if job.attempts <= self.backoff.max_retries:
                self.batches_retried += 1
                delay = self.backoff.delay_s(job.attempts)
                pending.append(replace(job, attempts=job.attempts + 1, suspect=False,
                                       not_before=time.monotonic() + delay))  # fmt: skip
                return None
            return BatchOutcome(job.number, job.items, None, exc, 0.0, wall, job.attempts)
        self.sizer.observe_batch(job.items, seconds)
        self._barren_deaths = 0
        return BatchOutcome(job.number, job.items, results, None, seconds, wall, job.attempts)

    def _death(self, exc: BaseException, job: _InFlight[T], wall: float) -> WorkerDied:
        # The pool fails the futures before it reaps its processes; reading exit codes while
        # its thread does can lose them (CPython's forkserver Popen then says 255), so wait.
        manager = getattr(self._executor, "_executor_manager_thread", None)
        if manager is not None and manager is not threading.current_thread():
            manager.join(timeout=10)
        codes = tuple(p.exitcode for p in _processes(self._executor) if p.exitcode is not None)
        timed_out = self.timeout_exit_code is not None and self.timeout_exit_code in codes
        if not codes and self.item_timeout_s and len(job.items) == 1:
            timed_out = wall >= self.item_timeout_s
        what = "timed out" if timed_out else f"died (exit codes {list(codes)})"
        return WorkerDied(f"worker process {what}: {exc}", codes, timed_out)

    def _overdue(
        self, in_flight: dict[Future[Any], _InFlight[T]], pending: list[_InFlight[T]]
    ) -> list[BatchOutcome[T, R]]:
        """A batch in flight longer than batch_timeout_s has a stuck worker: kill the pool."""
        if self.batch_timeout_s is None:
            return []
        now = time.monotonic()
        # a finished batch is not late, however long the consumer took to come back for it
        late = [(f, j) for f, j in in_flight.items()
                if not f.done() and now - j.submitted > self.batch_timeout_s]  # fmt: skip
        if not late:
            return []
        future, job = late[0]
        in_flight.pop(future)
        error = WorkerDied(f"batch ran over batch_timeout_s={self.batch_timeout_s}", (), True)
        outcome = self._died(job, error, in_flight, pending)
        return [] if outcome is None else [outcome]

    def _died(
        self,
        job: _InFlight[T],
        error: WorkerDied,
        in_flight: dict[Future[Any], _InFlight[T]],
        pending: list[_InFlight[T]],
    ) -> BatchOutcome[T, R] | None:
        """Rebuild the pool; requeue what was in flight; blame ``job`` only if it ran alone."""
        if MAIN_REIMPORTED_EXIT in error.exit_codes:
            self.close(wait_for_workers=False)
            raise WorkerDied(
                "the worker processes ran this script's top level again (they import it), "
                "which starts snake-pipe there too: start it under "
                "if __name__ == '__main__':", error.exit_codes,
            ) from None  # fmt: skip
        # a worker its own watchdog ended was running the batch: no sign that workers cannot
        # start (a run of huge files, sorted together, would kill a dozen in a row)
        if self.timeout_exit_code is None or self.timeout_exit_code not in error.exit_codes:
            self._barren_deaths += 1
        if self._barren_deaths > MAX_BARREN_DEATHS:
            self.close(wait_for_workers=False)
            raise WorkerDied(
                f"worker processes died {self._barren_deaths} times in a row without finishing "
                f"a batch ({error}): they cannot start (check the installation; a script "
                "must start its engine under if __name__ == '__main__':)", error.exit_codes,
            )  # fmt: skip
        alone = not in_flight
        self.close(wait_for_workers=False)
        for other_future, other in list(in_flight.items()):
            in_flight.pop(other_future)
            pending.append(replace(other, suspect=True))
        self.batches_retried += 1
        if not alone:
            pending.append(replace(job, suspect=True))
        elif job.attempts <= self.max_crash_retries and not error.timed_out:
            pending.append(replace(job, attempts=job.attempts + 1, suspect=True))
        elif len(job.items) == 1:
            return BatchOutcome(job.number, job.items, None, error, 0.0, 0.0, job.attempts)
        else:
            half = len(job.items) // 2
            attempts = max(job.attempts, self.max_crash_retries + 1)
            pending.append(_InFlight(job.number, job.items[half:], attempts=attempts, suspect=True))
            pending.append(_InFlight(job.number, job.items[:half], attempts=attempts, suspect=True))
        return None


def _processes(executor: Executor | None) -> list[Any]:
    """The worker processes of a process pool (none for other executors)."""
    return list((getattr(executor, "_processes", None) or {}).values())


def _release_results(executor: Executor) -> None:
    """A worker killed while sending a result leaves half a message in the pool's result pipe:
    the pool's reader thread would wait for the rest for ever, and the interpreter's exit with
    it. With our end of the pipe closed too (the workers' went with them) it reads the end."""
    writer = getattr(getattr(executor, "_result_queue", None), "_writer", None)
    if writer is not None:
        with contextlib.suppress(OSError):
            writer.close()


class BatchEntry(BaseModel):
    """One batch in an ``EngineReport``."""

    number: int
    status: Literal["completed", "failed"]
    records: int
    success: int
    failed: int
    duration_ms: float
    attempts: int
    checkpoint_id: str | None = None
    error: str | None = None


class CheckpointEntry(BaseModel):
    id: str
    batch_number: int
    items_processed: int
    created_at: str


class EngineReport(BaseModel):
    """What ``BatchEngine.execute`` did: totals, every batch, every checkpoint."""

    status: Literal["completed", "partial", "failed", "interrupted"]
    items_processed: int
    items_succeeded: int
    items_failed: int
    resumed_from_item: int
    duration_seconds: float
    items_per_second: float
    peak_memory_mb: float
    batches: list[BatchEntry]
    checkpoints: list[CheckpointEntry]


class _CheckpointFile:
    """Checkpoints of a generic run, one JSON line each, appended: a checkpoint costs one small
    write however long the run. A line torn by a crash is ignored (its batch is redone)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: list[CheckpointEntry] = []
        self._file: IO[str] | None = None
        if not path.exists():
            return
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
            for number, line in enumerate(lines, 1):
                try:
                    self.entries.append(CheckpointEntry.model_validate_json(line))
                except ValueError:
                    if number < len(lines) or not self.entries:  # only a last line may be torn
                        raise
        except (OSError, ValueError) as exc:
            reason = str(exc).splitlines()[0]
            raise StoreError(f"checkpoint file {path} is damaged ({reason}): delete it to "
                             "start over") from None  # fmt: skip

    def offset(self, resume_from: str | int | None, fixed_size: int | None) -> tuple[int, int]:
        """Items and batches already done for ``resume_from``: "latest", a checkpoint id or a
        batch number."""
        if resume_from is None:
            return 0, 0
        if resume_from == "latest":
            last = self.entries[-1] if self.entries else None
            return (last.items_processed, last.batch_number) if last else (0, 0)
        for entry in reversed(self.entries):
            if resume_from in (entry.id, entry.batch_number):
                return entry.items_processed, entry.batch_number
        if isinstance(resume_from, int) and fixed_size:
            return resume_from * fixed_size, resume_from
        known = ", ".join(e.id for e in self.entries[-5:]) or "none"
        raise ConfigError(f"resume_from: {resume_from!r} is not a checkpoint of {self.path} "
                          f"(latest: {known})")  # fmt: skip

    def add(self, entry: CheckpointEntry) -> None:
        self.entries.append(entry)
        if self._file is None:
            self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (closed by close)
            if self._file.tell() and not self.path.read_bytes().endswith(b"\n"):
                self._file.write("\n")  # after a torn line
        self._file.write(entry.model_dump_json() + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _whole(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _real(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_execute(
    items: object, on_result: object, on_error: object, checkpoint_path: str | Path | None,
    resume_from: object, events: object, memory_limit_mb: object,
) -> None:  # fmt: skip
    """``execute``'s arguments, refused at the call rather than once items are processed."""
    try:
        iter(items)  # type: ignore[call-overload]
    except TypeError:
        raise ConfigError(f"items: {items!r} is not iterable: pass a list, a generator or "
                          "any iterable") from None  # fmt: skip
    for name, value in (("on_result", on_result), ("on_error", on_error)):
        if value is not None and not callable(value):
            raise ConfigError(f"{name}: {value!r} is not callable: pass a function or None")
    if callable(events) or isinstance(events, str | bytes):
        raise ConfigError(f"events: {events!r} is not allowed: pass a list of handlers, "
                          f"[{getattr(events, '__name__', 'handler')}]")  # fmt: skip
    try:
        handlers = list(events)  # type: ignore[call-overload]
    except TypeError:
        raise ConfigError(f"events: {events!r} is not allowed: pass a list of handlers") from None
    if not all(callable(h) for h in handlers):
        raise ConfigError(f"events: {events!r} is not allowed: every handler must be callable")
    if resume_from is not None and not (
        isinstance(resume_from, str) or (_whole(resume_from) and resume_from >= 0)
    ):
        raise ConfigError(f"resume_from: {resume_from!r} is not allowed: use \"latest\", a "
                          "checkpoint id or a batch number (0 or more)")  # fmt: skip
    if not (_whole(memory_limit_mb) and memory_limit_mb >= 0):
        raise ConfigError(f"memory_limit_mb: {memory_limit_mb!r} is not allowed: use 0 (no "
                          "limit) or more")  # fmt: skip
    if checkpoint_path is not None:
        path = Path(checkpoint_path)
        try:
            if path.is_dir():
                raise ConfigError(f"checkpoint_path: {path} is a directory: pass a file name")
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"checkpoint_path: {path}: cannot write there "
                              f"({exc.strerror or exc})") from None  # fmt: skip


def _execute(
    engine: BatchEngine[Any, Any],
    items: Iterable[Any],
    on_result: Callable[[Any, Any], None] | None,
    on_error: Callable[[Any, str], None] | None,
    checkpoint_path: str | Path | None,
    checkpoint_frequency: int,
    resume_from: str | int | None,
    on_batch_error: Literal["continue", "stop", "retry"],
    events: Sequence[EventHandler],
    memory_limit_mb: int,
) -> EngineReport:
    started = time.monotonic()
    handlers = list(events)
    store = _CheckpointFile(Path(checkpoint_path)) if checkpoint_path is not None else None
    fixed = engine.sizer.size if isinstance(engine.sizer.size, int) else None
    if resume_from is not None and store is None:
        raise ConfigError("resume_from needs checkpoint_path")
    offset, base_batch = store.offset(resume_from, fixed) if store is not None else (0, 0)
    iterator = islice(iter(items), offset, None)
    # Batches are numbered from 1 in each run (the engine's numbers go on across runs), and
    # reported after the resumed ones, as the checkpoints number them.
    first = engine._numbers
    sizes: dict[int, int] = {}
    left: dict[int, int] = {}  # items not delivered yet: a batch split after a crash comes in parts
    done: set[int] = set()
    prefix = [0, 0]  # highest batch number with all before it done, items in those batches
    entries: list[BatchEntry] = []
    checkpoints: list[CheckpointEntry] = []
    totals = {"ok": 0, "failed": 0}
    status: Literal["completed", "partial", "failed", "interrupted"] = "completed"
    since_checkpoint = 0
    calm = 0.0  # no memory action before this (monotonic time)

    def save(entry: BatchEntry) -> bool:
        """A checkpoint of the done prefix, unless the last one (or the resume point)
        already has it."""
        items = offset + prefix[1]
        if store is None or items == (checkpoints[-1].items_processed if checkpoints else offset):
            return False
        number = base_batch + prefix[0]
        checkpoint = CheckpointEntry(id=f"cp-{number}-{items}", batch_number=number,
                                     items_processed=items, created_at=utc_now())  # fmt: skip
        store.add(checkpoint)
        checkpoints.append(checkpoint)
        entry.checkpoint_id = checkpoint.id
        emit(handlers, CheckpointCreated(checkpoint.id, number, items))
        return True

    def take(n: int) -> list[Any]:
        batch = list(islice(iterator, n))
        if batch:
            number = engine._numbers + 1 - first  # the one the engine gives it, in this run
            sizes[number] = left[number] = len(batch)
        return batch

    closing = contextlib.closing(store) if store is not None else contextlib.nullcontext()
    retrying = _retrying(engine) if on_batch_error == "retry" else contextlib.nullcontext()
    with engine, retrying, MemorySampler() as memory, closing:
        for outcome in engine.run(take):
            number = outcome.number - first
            entry = _entry(outcome, base_batch + number, on_result, on_error, totals)
            entries.append(entry)
            left[number] -= len(outcome.items)
            if not left[number]:
                del left[number]
                done.add(number)
            while prefix[0] + 1 in done:
                prefix[0] += 1
                prefix[1] += sizes.pop(prefix[0])
            if outcome.ok:
                emit(handlers, BatchExecuted(entry.number, entry.records, entry.success,
                                             entry.failed, outcome.worker_seconds, entry.attempts))  # fmt: skip
            else:
                emit(handlers, ExecutionFailed(entry.number, entry.records, entry.error or "",
                                               entry.attempts))  # fmt: skip
                status = "partial"
                if on_batch_error == "stop":
                    status = "failed"
                    engine.stop()
            since_checkpoint += 1
            # due, and written once the done prefix moved (batches finish out of order)
            if checkpoint_frequency and since_checkpoint >= checkpoint_frequency and save(entry):
                since_checkpoint = 0
            elapsed = max(time.monotonic() - started, 1e-9)
            emit(handlers, ProgressUpdated(totals["ok"] + totals["failed"], len(entries),
                                           (totals["ok"] + totals["failed"]) / elapsed))  # fmt: skip
            if memory_limit_mb and memory.last_mb > memory_limit_mb and time.monotonic() > calm:
                engine.sizer.shrink()
                engine.recycle()
                calm = time.monotonic() + 2.0  # let fresh workers show their memory
        if entries:  # the end is a checkpoint too: a resume after it redoes nothing
            save(entries[-1])
    elapsed = max(time.monotonic() - started, 1e-9)
    processed = totals["ok"] + totals["failed"]
    return EngineReport(
        status=status, items_processed=processed, items_succeeded=totals["ok"],
        items_failed=totals["failed"], resumed_from_item=offset,
        duration_seconds=round(elapsed, 3), items_per_second=round(processed / elapsed, 1),
        peak_memory_mb=round(memory.peak_mb, 1), batches=entries, checkpoints=checkpoints,
    )  # fmt: skip


@contextlib.contextmanager
def _retrying(engine: BatchEngine[Any, Any]) -> Iterator[None]:
    """``on_batch_error="retry"``: a failed batch is retried until it succeeds, in this call
    only, however it ends."""
    backoff = engine.backoff
    engine.backoff = replace(backoff, max_retries=1_000_000)
    try:
        yield
    finally:
        engine.backoff = backoff


def _entry(
    outcome: BatchOutcome[Any, Any],
    number: int,
    on_result: Callable[[Any, Any], None] | None,
    on_error: Callable[[Any, str], None] | None,
    totals: dict[str, int],
) -> BatchEntry:
    """Deliver a batch's per-item results to the callbacks; its line in the report."""
    ok = failed = 0
    if outcome.ok:
        for item, (success, value) in zip(outcome.items, outcome.results or [], strict=True):
            if success:
                ok += 1
                if on_result is not None:
                    on_result(item, value)
            else:
                failed += 1
                if on_error is not None:
                    on_error(item, value)
    else:
        failed = len(outcome.items)
        if on_error is not None:
            for item in outcome.items:
                on_error(item, f"{type(outcome.error).__name__}: {outcome.error}")
    totals["ok"] += ok
    totals["failed"] += failed
    error = None if outcome.ok else f"{type(outcome.error).__name__}: {outcome.error}"
    return BatchEntry(
        number=number, status="completed" if outcome.ok else "failed",
        records=len(outcome.items), success=ok, failed=failed,
        duration_ms=round(outcome.wall_seconds * 1000, 1), attempts=outcome.attempts, error=error,
    )  # fmt: skip
