"""The ingest run: wires discovery → work queue → batch engine → sinks. It owns no stage."""

from __future__ import annotations

import fcntl
import gc
import os
import secrets
import shlex
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from snake_pipe.batching import BatchEngine, BatchOutcome, BatchSizer, WorkerDied
from snake_pipe.checkpoints import Checkpointer, CheckpointStore, FileEntry
from snake_pipe.config import MAX_BATCH, MIN_BATCH, Config
from snake_pipe.discover import Walker
from snake_pipe.errors import (
    ConfigError,
    RepositoryError,
    RunInterrupted,
    SinkError,
    SnakePipeError,
    StoreError,
    TransientSinkError,
)
from snake_pipe.events import (
    BatchExecuted,
    CheckpointCreated,
    EventHandler,
    EventLog,
    ExecutionFailed,
    ProgressUpdated,
    emit,
)  # fmt: skip
from snake_pipe.executors import make_executor
from snake_pipe.files import is_stream, open_append, open_regular
from snake_pipe.incremental import Planner
from snake_pipe.monitor import MemorySampler
from snake_pipe.parse.worker import (
    TIMEOUT_EXIT,
    WorkerOptions,
    init_worker,
    process_batch,
    unreadable,
)
from snake_pipe.progress import ProgressView, Silent
from snake_pipe.records import FileResult, WorkItem
from snake_pipe.report import RunReport, RunStats, RunStatus, utc_now
from snake_pipe.retry import Backoff, CircuitBreaker, retry_call
from snake_pipe.sinks import STORE_SQLITE, Sink, mask_uri, open_sink, output_paths, repeated
from snake_pipe.workqueue import WorkQueue, file_priority

Item = WorkItem | FileResult
# What a file costs a parser besides its bytes (reading, hashing, its records), in bytes parsed.
FILE_OVERHEAD_BYTES = 2048
# A batch ends once its bytes would take this many times target_batch_seconds: the count of
# files the sizer aims at stays the rule, the bytes only cut the outliers.
BYTE_CAP = 3
CHECKPOINTS = "checkpoints.lmdb"


def file_weight(item: Item) -> int:
    """A queued file's share of a batch's work: its bytes, if it is parsed, and the overhead."""
    return (item.size if isinstance(item, WorkItem) else 0) + FILE_OVERHEAD_BYTES


def check_repo(repo: str | Path) -> Path:
    root = Path(repo).expanduser()
    if not root.exists():
        raise RepositoryError(f"repository {str(repo)!r} does not exist: pass a directory")
    if not root.is_dir():
        raise RepositoryError(f"repository {str(repo)!r} is not a directory: pass a directory")
    return root.resolve()


STORE_MARKS = ("checkpoints.lmdb", "run.lock", "records.sqlite")  # what a store holds
STORE_IGNORE = b"*\n"  # the .gitignore a store is made with


def check_store_dir(store: Path) -> None:
    """A store is made private and hidden from git (a .gitignore of ``*``): never make one of
    a directory that holds other things (a source directory, the repository itself)."""
    if store.exists() and not store.is_dir():
        raise ConfigError(f"--store {store}: is a file, not a directory: pass a directory")
    try:
        names = set(os.listdir(store)) if store.is_dir() else set()
    except OSError:
        return  # opening it says why
    if names and not names & set(STORE_MARKS) and not _our_gitignore_only(store, names):
        raise ConfigError(f"--store {store}: holds other files and is no snake-pipe store: "
                          "pass a new or empty directory")  # fmt: skip


def _our_gitignore_only(store: Path, names: set[str]) -> bool:
    """A run that failed before its first write leaves only the ``.gitignore`` we made."""
    try:
        return names == {".gitignore"} and (store / ".gitignore").read_bytes() == STORE_IGNORE
    except OSError:
        return False


def prepare_store(root: Path, config: Config) -> Path:
    """The store directory, created private, with a .gitignore so git never sees it."""
    store = Path(config.store).expanduser() if config.store else root / ".snake-pipe"
    check_store_dir(store)
    try:
        store.mkdir(mode=0o700, parents=True, exist_ok=True)
        ignore = store / ".gitignore"
        if not ignore.exists():
            ignore.write_bytes(STORE_IGNORE)
            ignore.chmod(0o600)
    except OSError as exc:
        raise StoreError(f"store {store}: cannot create it ({exc.strerror or exc}): "
                         "pass a writable --store DIR") from exc  # fmt: skip
    return store.resolve()


@contextmanager
def store_lock(store: Path) -> Iterator[None]:
    """One run per store at a time: an overlapping cron job gets a clear error, not a mess."""
    path = store / "run.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise StoreError(f"store {store} is in use by another snake-pipe run (pid {holder}): "
                             "wait for it, or pass another --store") from None  # fmt: skip
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)


def sink_uris(config: Config, store: Path) -> list[str]:
    default = f"sqlite:{store / 'records.sqlite'}"
    uris = [default if uri in STORE_SQLITE else uri for uri in config.sinks] or [default]
    if (i := repeated(uris)) is not None:  # the config knew no store to compare with
        raise ConfigError(f"--sink {config.sinks[i]}: is the store's database, which --sink "
                          "sqlite writes too: give it once")  # fmt: skip
    return uris


def shown_uris(uris: list[str]) -> list[str]:
    """Sink URIs as reports and the store show them: without passwords."""
    return [mask_uri(uri) for uri in uris]


def describe_exit(error: WorkerDied) -> str:
    """ "killed by SIGSEGV", "exit code 3": what the dead worker's exit code says."""
    for code in error.exit_codes:
        if code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
    codes = [c for c in error.exit_codes if c > 0]
    return f"exit code {codes[0]}" if codes else "no exit code"


def new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


def crash_records(outcome: BatchOutcome[Item, FileResult], config: Config) -> list[FileResult]:
    """Records for a batch whose worker died or raised: every file is still accounted for."""
    error = outcome.error
    if isinstance(error, WorkerDied) and error.timed_out:
        category = "timeout"
        message = f"parsing took longer than parse_timeout_ms={config.parse_timeout_ms}"
    elif isinstance(error, WorkerDied):
        category, message = (
            "crash",
            f"the parser process died on this file ({describe_exit(error)})",
        )
    else:
        category, message = "internal", f"{type(error).__name__}: {error}"
    records = []
    for item in outcome.items:
        if isinstance(item, FileResult):
            records.append(item)
        else:
            records.append(FileResult.failed(item.path, item.size, item.mtime_ns, category,
                                             message, item.language))  # fmt: skip
    return records


# Discovery far ahead of the parsers (this many files queued) walks at 3,200 files/s at most:
# on a machine with as many parsers as cores, its CPU is theirs, and the first records come
# sooner. An unchanged re-run queues nothing, so it walks at full speed.
AHEAD = 1_000
AHEAD_PAUSE_S = 0.02  # per 64 files queued


@dataclass
class Discovery:
    """Runs the walk in a thread, feeding the queue what the planner says needs work; the
    queue's bound is the back-pressure."""

    walker: Walker
    queue: WorkQueue[Item]
    planner: Planner
    error: BaseException | None = None
    _yielded: int = field(default=0, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)

    @property
    def found(self) -> int:
        return self._yielded + self.walker.skipped

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="snake-pipe-discovery", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            with self.planner.skipping_unchanged() as skip:
                for n, item in enumerate(
                    self.planner.work(self._counted(self.walker.walk(skip))), 1
                ):
                    if self.queue.closed:
                        return
                    if n % 64 == 0 and len(self.queue) >= AHEAD:
                        self.planner.pause()  # no LMDB reader held while waiting
                        time.sleep(AHEAD_PAUSE_S)  # the parsers have work: leave them the CPU
                    elif self.queue.full():
                        self.planner.pause()
                    self.queue.put(item)
            self.planner.keep_under(self.walker.unlisted)
        except BaseException as exc:  # re-raised in the coordinator by join()
            self.error = exc
        finally:
            self.queue.close()

    def _counted(self, items: Iterator[Item]) -> Iterator[Item]:
        for item in items:
            self._yielded += 1
            yield item

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()
        if self.error is not None:
            raise self.error


class Interrupts:
    """First SIGINT/SIGTERM/SIGHUP: stop taking batches and finish cleanly. Second: stop now."""

    def __init__(self, on_first: Callable[[], None]) -> None:
        self.on_first = on_first
        self.signum: int | None = None
        self._previous: dict[int, object] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None:
            raise RunInterrupted("interrupted twice: stopped at once", signum)
        self.signum = signum
        self.on_first()

    def __enter__(self) -> Interrupts:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]


def executor_factory(config: Config, executor: str) -> Callable[[], Executor]:
    timeout = config.parse_timeout_ms if executor != "inline" else 0  # never kill ourselves
    options = WorkerOptions(config.max_file_bytes, config.max_errors_per_file, config.ast, timeout)
    if executor.startswith("dask"):  # workers share no disk: each batch carries its files
        ship = partial(ship_contents, max_file_bytes=config.max_file_bytes)
        return lambda: make_executor(executor, config.workers, init_worker, (options,), ship,
                                     config.dask_worker_wait_s)  # fmt: skip
    return lambda: make_executor(executor, config.workers, init_worker, (options,))


def ship_contents(items: list[Item], max_file_bytes: int) -> list[Item]:
    """Each file's bytes read here, for workers without the repository: as a worker would
    read them (over ``max_file_bytes`` not at all: it skips those by size), and a file that
    cannot be read gets here the record a worker would give."""
    shipped: list[Item] = []
    for item in items:
        if isinstance(item, WorkItem) and item.content is None and item.size <= max_file_bytes:
            try:
                with open_regular(item.abs_path) as f:
                    item = replace(item, content=f.read(max_file_bytes + 1))
            except OSError as exc:
                item = unreadable(item, exc)
        shipped.append(item)
    return shipped


def backoff(config: Config) -> Backoff:
    return Backoff(config.max_retries, config.initial_backoff_ms, config.max_backoff_ms)


@contextmanager
def open_sinks(uris: Sequence[str]) -> Iterator[list[Sink]]:
    with ExitStack() as stack:
        yield [stack.enter_context(open_sink(uri)) for uri in uris]


@dataclass
class _Collector:
    """The caller's collector thresholds, kept while runs are open."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    runs: int = 0
    saved: tuple[int, ...] = ()


_COLLECTOR = _Collector()


@contextmanager
def fewer_collections(young: int = 50_000) -> Iterator[None]:
    """A run unpickles millions of small acyclic rows: at the default threshold (700) the
    collector scans them thousands of times for nothing (0.8 s in a 20 s run). The caller's
    thresholds come back when the last open run ends: the process may be theirs."""
    state = _COLLECTOR
    with state.lock:
        if state.runs == 0:
            state.saved = gc.get_threshold()
            gc.set_threshold(max(young, state.saved[0]), *state.saved[1:])
        state.runs += 1
    try:
        yield
    finally:
        with state.lock:
            state.runs -= 1
            if state.runs == 0:
                gc.set_threshold(*state.saved)


class Run:
    """One open store with its sinks, checkpoints and parser pool. ``ingest`` drives it through
    one scan; ``watch`` through a scan and then the watcher's events. It wires, it owns no stage."""

    def __init__(
        self,
        repo: str | Path,
        config: Config,
        *,
        view: ProgressView | None = None,
        executor: str = "process",
        restart: bool = False,
        events: Sequence[EventHandler] = (),
        report_path: str | Path | None = None,
    ) -> None:
        self.root = check_repo(repo)
        self.events = list(events)
        # written during the run, so never ingested: else each run (or watch, at each batch)
        # would pick up the last one's
        self.outputs = [h.path for h in events if isinstance(h, EventLog)]
        if report_path is not None:
            self.outputs.append(Path(report_path).resolve())
        self.config = config
        self.store_dir = prepare_store(self.root, config)
        self.uris = sink_uris(config, self.store_dir)
        self.view = view or Silent()
        self.restart = restart
        self.queue: WorkQueue[Item] = WorkQueue(file_priority(config.queue_order))
        sizer = BatchSizer(config.batch_size, MIN_BATCH, MAX_BATCH, config.target_batch_seconds,
                           file_weight)  # fmt: skip
        self.engine: BatchEngine[Item, FileResult] = BatchEngine(
            process_batch, executor_factory(config, executor),
            sizer, max_in_flight=config.workers * config.batches_in_flight_per_worker,
            backoff=backoff(config), batch_timeout_s=config.batch_timeout_s,
            timeout_exit_code=TIMEOUT_EXIT,
            item_timeout_s=config.parse_timeout_ms / 1000 if executor != "inline" else None,
        )  # fmt: skip
        self.breaker = CircuitBreaker(
            config.circuit_breaker_window, config.circuit_breaker_threshold
        )
        self.stats = RunStats()
        self.backoff = backoff(config)
        self._memory_quiet_until = 0.0
        self._write_s = 0.0  # time spent writing sinks
        self.sink_failing = False  # the last write failed or is being retried: a sink is down
        self.stopped = False
        # set by a caller that writes a failed batch again later (watch): a sink that is down
        # is then waited for, not the end of the run
        self.unwritten: Callable[[list[Item], SinkError], None] | None = None
        self._stop_by = float("inf")  # stopping: batches not written by then are left undone
        self._stack = ExitStack()

    def __enter__(self) -> Run:
        stack = self._stack
        before = run = None
        begun = False
        try:
            stack.enter_context(store_lock(self.store_dir))
            if self.restart:  # under the lock: never the checkpoints of a run going on
                forget_checkpoints(self.store_dir / CHECKPOINTS)
            stack.enter_context(fewer_collections())
            self.store = stack.enter_context(CheckpointStore(self.store_dir / CHECKPOINTS))
            check_owner(self.store, self.root, self.store_dir)
            self.sinks = stack.enter_context(open_sinks(self.uris))
            before = self.store.last_run()
            fresh = self.store.count() == 0  # a first run, or one after --restart
            self.run = run = start_run(self.store, self.config, self.root, self.uris, self.view)
            trust = in_step(self.store, self.sinks, self.run, self.view)
            rebuilt = run.get("rebuilt_after")
            self.planner = Planner(
                self.store, self.root, self.config.extraction_fingerprint(), trust,
                rebuilt_after=None if rebuilt is None else (run["id"], rebuilt),
            )  # fmt: skip
            self.checkpointer = Checkpointer(self.store, self.run, self.config, self.stats)
            self.checkpointer.listeners.append(self._checkpointed)
            self.memory = stack.enter_context(MemorySampler())
            stack.enter_context(self.engine)
            stack.callback(self.queue.close)
            begun = True
            for sink in self.sinks:
                sink.begin_run(self.run["id"])
                if fresh or not trust:
                    sink.rewrite_all()
        except BaseException:
            if run is not None and not begun:  # no sink heard of it: leave no run to resume
                self.store.restore_run(run, before)
            stack.close()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        self.view.close()
        # with the exception: leaving on one (a second Ctrl-C, say) kills the parsers rather
        # than waiting for their batches
        self._stack.__exit__(exc_type, exc, tb)

    def stop(self) -> None:
        """Take no new batches; let the ones in flight finish within the grace period."""
        self.stopped = True
        self._stop_by = time.monotonic() + self.config.shutdown_grace_s
        self.engine.stop(self.config.shutdown_grace_s)
        self.queue.close()
        self.view.message(
            "stopping: finishing the batches in flight (a second Ctrl-C or signal stops at once)"
        )

    def apply(self, outcome: BatchOutcome[Item, FileResult]) -> list[FileResult]:
        """Write one finished batch to every sink, then checkpoint it: in that order. A sink
        that keeps failing after retries fails the batch (on_batch_error decides what next)."""
        results = outcome.results if outcome.ok else crash_records(outcome, self.config)
        assert results is not None
        if len({r.path for r in results}) < len(results):  # a path queued twice (watch mode)
            results = list({r.path: r for r in results}.values())
        changed = [r for r in results if not r.unchanged]
        touched = [(r.path, r.size_bytes, r.mtime_ns) for r in results if r.unchanged]
        started = time.perf_counter()
        try:
            self.write_sinks(changed, touched)
        except SinkError as exc:
            self.batch_failed(exc, results, outcome)
            return []
        self._write_s += time.perf_counter() - started
        self.breaker.record(False)
        failed = sum(r.status == "failed" for r in results)
        emit(self.events, BatchExecuted(outcome.number, len(results), len(results) - failed, failed,
                                        round(outcome.worker_seconds, 4), outcome.attempts))  # fmt: skip
        stats = self.stats
        stats.add(changed, outcome.worker_seconds)
        stats.unchanged += len(touched)
        stats.duplicates += sum(r.duplicate for r in changed)
        self.checkpointer.add(outcome.number, results, self.planner)  # with the counters above
        if self.events:
            emit(
                self.events, ProgressUpdated(stats.processed, stats.batches, round(stats.rate(), 1))
            )
        return changed

    def _checkpointed(self, checkpoint: dict[str, Any]) -> None:
        emit(self.events, CheckpointCreated(checkpoint["id"], checkpoint["batch_number"],
                                            checkpoint["files_processed"]))  # fmt: skip

    def write_sinks(
        self,
        changed: list[FileResult],
        touched: list[tuple[str, int, int]],
        deleted: list[str] | None = None,
    ) -> None:
        def on_retry(attempt: int, exc: BaseException) -> None:
            self.sink_failing = True
            self.stats.retried_batches += 1
            self.view.message(f"retry {attempt} after: {exc}")

        if time.monotonic() > self._stop_by:
            raise SinkError("not written: the shutdown grace period is over (the next run "
                            "redoes this batch)")  # fmt: skip
        # Only errors a sink calls transient are retried here: one that retried on its own
        # (PostgreSQL's connections) would otherwise multiply its waits by max_retries.
        retry = partial(retry_call, backoff=self.backoff, retry_on=(TransientSinkError,),
                        forever=self.config.on_batch_error == "retry", on_retry=on_retry,
                        stop=lambda: self.stopped)  # fmt: skip
        try:
            for sink in self.sinks:
                retry(partial(sink.write, changed, deleted or []))
                if touched:
                    retry(partial(sink.touch, touched))
        except SinkError:
            self.sink_failing = True
            raise
        self.sink_failing = False

    def batch_failed(
        self, error: SinkError, results: list[FileResult], outcome: BatchOutcome[Item, FileResult]
    ) -> None:
        """A batch no sink retry could save: not checkpointed, so the next run redoes it."""
        self.stats.add_failed_batch(results, str(error))
        self.breaker.record(True)
        emit(self.events, ExecutionFailed(outcome.number, len(results), str(error),
                                          self.config.max_retries + 1))  # fmt: skip
        if self.stopped:
            return  # the run ends anyway; its exit says it was interrupted
        if self.config.on_batch_error == "stop":
            raise SinkError(f"{error} (on_batch_error = stop)")
        if self.unwritten is not None:
            self.unwritten(outcome.items, error)
            return
        if self.breaker.open:
            raise SinkError(
                f"stopping: most of the last {self.config.circuit_breaker_window} batches failed; "
                f"last error: {error}"
            )
        self.view.message(f"batch failed, continuing: {error}")

    def process(self, take: Callable[[int], list[Item]], total: Callable[[], int]) -> None:
        """Run batches from ``take`` until it is exhausted or the run is stopped. While a sink
        is busy (deferred work that writes would wait for) finished batches wait here, so new
        ones still go out; the backlog is then written two batches per finished one, since the
        engine tops up the parsers' queues only between writes."""
        held: list[BatchOutcome[Item, FileResult]] = []
        for outcome in self.engine.run(take):
            held.append(outcome)
            if not any(sink.busy for sink in self.sinks):
                self.apply_all(held, total, limit=2)
        self.apply_all(held, total)

    def apply_all(
        self,
        outcomes: list[BatchOutcome[Item, FileResult]],
        total: Callable[[], int],
        limit: int | None = None,
    ) -> None:
        """Apply (and remove) the first ``limit`` outcomes, or all of them."""
        for _ in range(len(outcomes) if limit is None else min(limit, len(outcomes))):
            self.apply(outcomes.pop(0))
            self.view.update(self.stats.processed, total(), self.stats.rate())
            self.check_memory()

    def check_memory(self) -> None:
        """Over memory_limit_mb: smaller batches, and fresh workers once the current ones drain."""
        limit = self.config.memory_limit_mb
        if limit and self.memory.last_mb > limit and time.monotonic() > self._memory_quiet_until:
            self.engine.sizer.shrink()
            self.engine.recycle()
            self._memory_quiet_until = time.monotonic() + 5.0
            self.view.message(f"memory {self.memory.last_mb:.0f} MB > memory_limit_mb={limit}: "
                              "smaller batches, recycling workers")  # fmt: skip

    def remove(self, deleted: list[str], touched: list[tuple[str, FileEntry]]) -> None:
        """Deleted files leave every sink; stat-only changes reach the sinks that keep stats."""
        stats = [(path, e.size, e.mtime_ns) for path, e in touched]
        if deleted or stats:
            self.write_sinks([], stats, deleted)

    def scan(self) -> bool:
        """Walk the repository and process what changed; True when the scan completed."""
        discovery = Discovery(self.walker(), self.queue, self.planner)
        discovery.start()

        finishing = False

        def take(n: int) -> list[Item]:
            nonlocal finishing
            items = self.take_batch(n)
            if not finishing and self.finish_due():
                finishing = True
                for sink in self.sinks:
                    sink.scan_finished()
            return items

        self.process(take, lambda: discovery.found - self.planner.unchanged)
        self.stats.unchanged += self.planner.unchanged
        self.stats.discovered = discovery.found
        if self.stopped:
            return False
        discovery.join()
        self.stats.discovered = discovery.found
        deleted = self.planner.deleted()
        self.remove(deleted, self.planner.touched)
        # Every file found is now in every sink, unless a batch could not be written: then a
        # sink holding exactly as many files holds no stale ones, and need not list them.
        complete = None if self.stats.failed_batches else len(self.planner.seen)
        self.stats.deleted = len(deleted) + remove_stale(
            self.sinks, self.planner.seen, set(deleted), complete
        )
        self.run["total_files"] = discovery.found
        self.checkpointer.finish("running", self.planner.touched, deleted)
        return True

    def walker(self) -> Walker:
        return Walker(self.root, self.config, self.store_dir, self.outputs)

    def take_batch(self, n: int) -> list[Item]:
        """The next batch: ``n`` files (the sizer's count for the files so far), with ``auto``
        sizing also cut at the bytes a parser gets through in ``BYTE_CAP`` times
        ``target_batch_seconds`` (big files found after many small ones would make one batch
        many times longer than the rest, and the end of the run one worker's), and once the
        walk is over, a share of what is left for each batch in flight, so that the workers
        finish together."""
        if self.config.batch_size != "auto":
            return self.queue.take(n)
        if self.queue.closed:
            n = max(MIN_BATCH, min(n, -(-len(self.queue) // self.engine.max_in_flight)))
        per_weight = self.engine.sizer.per_weight
        target = BYTE_CAP * self.config.target_batch_seconds
        budget = None if per_weight is None else target / per_weight
        return self.queue.take(n, weight=file_weight, budget=budget, at_least=MIN_BATCH)

    def finish_due(self) -> bool:
        """Time for the sinks' deferred work (SQLite's indexes), in the background: the walk
        is over and what is queued keeps the parsers busy about as long as that work takes,
        guessed as half the time spent writing so far. Not sooner: a row written once the
        build is over pays for its index entries one by one, four times what the build pays
        per row."""
        if not self.queue.closed:
            return False
        left, per_file = len(self.queue), self.engine.sizer.per_item
        return left == 0 or (
            per_file is not None and left * per_file / self.config.workers <= self._write_s / 2
        )

    def finish(self, status: RunStatus, report_path: str | Path | None = None) -> RunReport:
        """Mark the run ``status`` in the store and the sinks; the report of the run. The
        report is written also when that fails (a full disk), as ``failed``."""
        self.stats.retried_batches += self.engine.batches_retried
        try:
            if status == "completed":
                for sink in self.sinks:
                    sink.end_run(self.run["id"])
            self.checkpointer.finish(status, [], [])
        except SnakePipeError:
            if report_path is not None:
                with suppress(SnakePipeError):
                    write_report(self.report("failed"), Path(report_path))
            raise
        report = self.report(status)
        if report_path is not None:
            write_report(report, Path(report_path))
        return report

    def report(self, status: RunStatus) -> RunReport:
        report = self.stats.report(self.run["id"], status, str(self.root), str(self.store_dir),
                                   shown_uris(self.uris), self.memory.peak_mb)  # fmt: skip
        report.checkpoints = self.checkpointer.summary()
        report.resumed = bool(self.run.get("resumed"))
        return report

    def outcome(self) -> RunStatus:
        """completed, or partial when some batches could not be written."""
        return "partial" if self.stats.failed_batches else "completed"

    def resume_hint(self) -> str:
        return ingest_command(self.root, self.store_dir if self.config.store else None)


def ingest_command(root: Path, store: Path | None) -> str:
    """The ``snake-pipe ingest`` that runs on ``root`` (with its own ``--store``, if given)."""
    store_option = ["--store", str(store)] if store is not None else []
    return shlex.join(["snake-pipe", "ingest", str(root), *store_option])


def ingest(
    repo: str | Path,
    config: Config,
    *,
    report_path: str | Path | None = None,
    view: ProgressView | None = None,
    executor: str = "process",
    restart: bool = False,
    events: Sequence[EventHandler] = (),
    resume_command: str | None = None,
) -> RunReport:
    """One ingest of ``repo`` into the configured sinks, incremental and resumable through
    the checkpoint store; returns the run report. ``resume_command``: what an interruption
    tells the user to run (the command line's own, by default one from the repo and store)."""
    check_report_path(report_path, config.sinks)
    with Run(repo, config, view=view, executor=executor, restart=restart, events=events,
             report_path=report_path) as run:
        with Interrupts(run.stop) as interrupts:
            try:
                run.scan()
            except RunInterrupted as exc:  # a second Ctrl-C: still resumable
                run.finish("interrupted", report_path)
                raise RunInterrupted(
                    f"{exc}; resume with: {resume_command or run.resume_hint()}", exc.signum
                ) from None
            except SnakePipeError:
                run.finish("failed", report_path)
                raise
        status: RunStatus = "interrupted" if interrupts.signum is not None else run.outcome()
        report = run.finish(status, report_path)
    if interrupts.signum is not None:
        raise RunInterrupted(
            f"interrupted after {report.progress.processed_files} files; resume with: "
            f"{resume_command or run.resume_hint()}", interrupts.signum,
        )  # fmt: skip
    return report


def forget_checkpoints(checkpoints: Path) -> None:
    if checkpoints.is_dir() and not checkpoints.is_symlink():
        shutil.rmtree(checkpoints, ignore_errors=True)
    else:
        checkpoints.unlink(missing_ok=True)


def check_owner(store: CheckpointStore, root: Path, store_dir: Path) -> None:
    """A store outside the repository that another repository's runs wrote: its checkpoints
    and the rows of its sinks would be replaced, so refuse. (A store inside the repository
    is the repository's, moved or copied with it.)"""
    last = store.last_run()
    owner = last.get("repo") if last else None
    if owner is None or owner == str(root) or store_dir.is_relative_to(root):
        return
    if Path(owner).is_dir():  # else the repository was moved: the store follows it
        raise ConfigError(f"--store {store_dir}: holds the records of {owner}: give each "
                          "repository its own store, or pass --restart to replace them")  # fmt: skip


def start_run(
    store: CheckpointStore, config: Config, root: Path, uris: list[str], view: ProgressView
) -> dict[str, Any]:
    """Resume the last run if it was cut short with the same settings, else begin a new one."""
    last = store.last_run()
    fingerprint = config.fingerprint()
    # resumed only into the same sinks: a sink left out of the resumed part and added back
    # would be taken as up to date (its last run is this run) with that part missing
    same_sinks = last is not None and sorted(last.get("sinks") or []) == sorted(shown_uris(uris))
    if (
        last and last["state"] in ("running", "interrupted")
        and last["fingerprint"] == fingerprint and same_sinks
    ):  # fmt: skip
        done = sum(1 for _, e in store.iter_entries() if e.run_id == last["id"])
        known = last.get("total_files")  # when its walk ended (a watch's edits come after)
        total = f" of {known}" if known and done <= known else ""
        view.message(f"resuming run {last['id']}: {done}{total} files already done")
        last.update(state="running", resumed=True)
        store.put_run(last)
        return last
    run = {"id": new_run_id(), "fingerprint": fingerprint, "state": "running", "repo": str(root),
           "sinks": shown_uris(uris), "started_at": utc_now(), "total_files": None}  # fmt: skip
    store.put_run(run)
    return run


def in_step(
    store: CheckpointStore, sinks: list[Sink], run: dict[str, Any], view: ProgressView
) -> bool:
    """False when a sink's records are not those the checkpoint store describes (the database
    was deleted, or restored from an older copy, or the sink is new): then every file is
    processed again. The run remembers where its rebuild began, so that resuming it trusts
    only what the rebuild wrote (``Planner.rebuilt_after``)."""
    if store.count() == 0:
        return True
    expected = {store.get_meta("sink_run"), run["id"]}
    for sink in sinks:
        if sink.tracks_runs and sink.last_run_id() not in expected:
            view.message(f"{sink.uri} is out of step with the checkpoint store: rebuilding it")
            run["rebuilt_after"] = int(run.get("last_batch", 0))
            store.put_run(run)  # before any sink records this run as its own
            return False
    return True


def remove_stale(
    sinks: list[Sink], seen: set[str], already: set[str], complete: int | None = None
) -> int:
    """Remove rows a sink holds for files neither found nor known to the checkpoint store
    (left by a run before --restart, say); returns how many paths went. ``complete``: the
    sinks hold every path of ``seen``, which is that many paths."""
    removed = 0
    for sink in sinks:
        if complete is not None and sink.file_count() == complete:
            continue
        paths = sink.paths()
        if paths is not None:
            stale = sorted(paths - seen - already)
            if stale:
                sink.write([], stale)
            removed = max(removed, len(stale))
    return removed


def check_report_path(path: str | Path | None, sinks: Sequence[str] = ()) -> None:
    """Refuse a report path that cannot be written before the run, not after it."""
    if path is None or is_stream(str(path)):
        return
    path = Path(path)
    if sinks and path.resolve() in output_paths(sinks):
        raise ConfigError(f"--report {path}: a --sink writes there: pass another file")
    if path.is_dir():
        raise ConfigError(f"--report {path}: is a directory: pass a file name")
    if path.parent.exists() and not path.parent.is_dir():
        raise ConfigError(f"--report {path}: {path.parent} is not a directory")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path.parent).close()
    except OSError as exc:
        raise ConfigError(f"--report {path}: cannot write there ({exc.strerror or exc}): "
                          "pass a writable path") from None  # fmt: skip


def write_report(report: RunReport, path: Path) -> None:
    """Whole or not at all: a file is replaced by a complete one; a stream (``-``, a FIFO,
    /dev/stdout) gets the text in place."""
    text = report.model_dump_json(indent=2) + "\n"
    if is_stream(str(path)):
        try:
            sys.stdout.flush()
            with open_append(path) as out:
                out.write(text)
        except OSError as exc:
            raise SnakePipeError(f"--report {path}: cannot write it ({exc.strerror or exc}); "
                                 "the run's records are committed") from None  # fmt: skip
        return
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SnakePipeError(f"--report {path}: cannot write it ({exc.strerror or exc}); "
                             "the run's records are committed") from None  # fmt: skip
