"""Watch mode: catch up with what changed while snake-pipe was down, then keep records live.

    Feed (thread): OS events → settled paths → planner → urgent items ──┐
    Discovery (thread, the catch-up): walk → planner → bulk items ─────┴→ one WorkQueue
    coordinator: WorkQueue → BatchEngine → verify against the disk → sinks → checkpoint

The watches are set up before the catch-up walk starts, so nothing that changes during it is
missed, and watcher events go ahead of the walk's bulk work. Only the coordinator writes the
sinks and the checkpoint store: the feed hands it deletions. Before a finished batch is written,
each file's stat is compared with the disk: a result older than the file (it changed while
being parsed, or was deleted or became ignored) is dropped and the path looked at again, so
the records converge on those a fresh ``ingest`` of the tree writes.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from snake_pipe.batching import BatchOutcome, BatchSizer
from snake_pipe.config import MAX_BATCH, MIN_BATCH, Config
from snake_pipe.discover import os_path, record_path
from snake_pipe.errors import RepositoryError, SinkError, SnakePipeError, StoreError
from snake_pipe.events import EventHandler
from snake_pipe.pipeline import (
    Discovery,
    Interrupts,
    Run,
    check_report_path,
    crash_records,
    executor_factory,
)
from snake_pipe.pipeline import remove_stale as remove_stale_rows
from snake_pipe.progress import LogLines, ProgressView, Silent, counted, log_line, stamped
from snake_pipe.records import FileResult, WorkItem
from snake_pipe.report import RunReport, RunStatus
from snake_pipe.sinks.base import Sink
from snake_pipe.watcher import (
    Deletion,
    DirWatcher,
    Feed,
    Poller,
    Tree,
    WatchLimitError,
    open_watcher,
    store_paths_under,
)
from snake_pipe.workqueue import WorkQueue, file_priority

__all__ = ["Change", "Watch", "awatch_changes", "watch_changes", "watch_command"]

Item = WorkItem | FileResult
Op = Literal["upsert", "delete"]
LINGER_S = 0.05  # a lone change waits this long for company before it goes as a batch
PUBLISH_EVERY_S = 1.0  # during a burst, Parquet merges (and changes are reported) this often
RELOADABLE = ("workers", "batch_size", "target_batch_seconds", "batches_in_flight_per_worker",
              "max_file_bytes", "max_errors_per_file", "checkpoint_frequency",
              "checkpoint_interval_s", "shutdown_grace_s", "parse_timeout_ms")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Change:
    """A file's records changed in every sink: ``upsert`` with the record's status, or
    ``delete``. Yielded after the sinks committed it."""

    path: str
    op: Op
    status: str | None = None


def stderr_log(text: str) -> None:
    log_line(stamped(text))


class _SharedQueue(WorkQueue[Item]):
    """The queue the catch-up walk and the watcher share. Discovery closes its input at the
    end of the walk: here that only marks the walk done, the watcher goes on feeding."""

    scan_done = False

    def close(self) -> None:
        self.scan_done = True

    def shutdown(self) -> None:
        super().close()


class ConfigReload:
    """Notices edits of the --config file; a bad edit is logged on one line and ignored."""

    def __init__(
        self, path: Path, load: Callable[[], Config], log: Callable[[str], None],
        every_s: float = 0.5,
    ) -> None:  # fmt: skip
        self.path, self.load, self.log, self.every_s = path, load, log, every_s
        self._seen = self._signature()
        self._next = time.monotonic() + every_s

    def _signature(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size, st.st_ino

    def poll(self) -> Config | None:
        """The new configuration if the file changed and is valid, else None."""
        if time.monotonic() < self._next:
            return None
        self._next = time.monotonic() + self.every_s
        signature = self._signature()
        if signature == self._seen:
            return None
        self._seen = signature
        try:
            return self.load()
        except SnakePipeError as exc:
            message = " ".join(str(exc).split())
            self.log(f"config {self.path} not applied, keeping the last good one: {message}")
            return None


class _Beat:
    """A progress view that also notes when the coordinator was last alive (for /healthz)."""

    def __init__(self, view: ProgressView) -> None:
        self.view = view
        self.last = time.monotonic()

    def update(self, done: int, total: int, rate: float) -> None:
        self.last = time.monotonic()
        self.view.update(done, total, rate)

    def message(self, text: str) -> None:
        self.view.message(text)

    def close(self) -> None:
        self.view.close()


class Watch:
    """One watched repository: wires a ``Run`` (store, sinks, parser pool), the watcher's
    ``Feed`` and the catch-up ``Discovery`` into one coordinator loop, ``changes()``.

    ``with Watch(repo, config) as watch: for change in watch.changes(): ...``; ``stop()``
    (from a signal handler or another thread) ends the loop after the batches in flight, and
    leaving the ``with`` commits the final checkpoint."""

    HEALTHY_BEAT_S = 60.0

    def __init__(
        self,
        repo: str | Path,
        config: Config,
        *,
        executor: str = "process",
        view: ProgressView | None = None,
        log: Callable[[str], None] | None = None,
        reload: Callable[[], Config] | None = None,
        config_path: str | Path | None = None,
        metrics: tuple[str, int] | None = None,
        poll: bool = False,
        restart: bool = False,
        report_path: str | Path | None = None,
        linger_s: float = LINGER_S,
        events: Sequence[EventHandler] = (),
    ) -> None:
        check_report_path(report_path, config.sinks)
        self.beat = _Beat(view or Silent())
        self.log = log or stderr_log
        self.run = Run(repo, config, view=self.beat, executor=executor, restart=restart,
                       events=events, report_path=report_path)  # fmt: skip
        self.run.unwritten = self._write_later
        self.executor = executor
        self.poll, self.linger_s, self.report_path = poll, linger_s, report_path
        self.queue = _SharedQueue(file_priority(config.queue_order))
        self.reloader = (
            ConfigReload(Path(config_path), reload, self.log) if reload and config_path else None
        )
        self.metrics_at = metrics
        self.metrics: Any = None
        self.address: tuple[str, int] | None = None
        self.report: RunReport | None = None
        self._stack = ExitStack()
        self._started = self._stopping = False
        self._published = 0.0  # when the sinks last made their staged batches visible
        self._root_id = (0, 0)  # the repository's (device, inode)
        # batches no sink could write, by when to try them again
        self._unwritten: list[tuple[float, list[Item]]] = []
        self._in_flight = 0
        self._outstanding: dict[str, Item] = {}
        self._changes: list[Change] = []
        self._touched = False  # stat-only updates written (staged in Parquet), no change to report
        self._gone: list[Deletion] = []
        self._scan: Discovery | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> Watch:
        stack = self._stack
        try:
            if self.metrics_at is not None:  # a port in use fails before the run begins
                self._serve_metrics(*self.metrics_at)
            run = stack.enter_context(self.run)
            if self.address is not None:  # said once the store is ours: a busy one fails first
                host = f"[{self.address[0]}]" if ":" in self.address[0] else self.address[0]
                self.beat.message(f"metrics on http://{host}:{self.address[1]}/metrics")
            root = os.stat(run.root)
            self._root_id = (root.st_dev, root.st_ino)
            watcher = open_watcher(run.root, self.poll, self.log)
            self.tree = Tree(run.walker(), watcher)
            stack.callback(lambda: self.tree.watcher.close())  # the feed may swap it
            self._watch_tree()
            self.feed = Feed(self.tree, run.planner, self.queue, run.store, self.log)
            self.feed.start()
            stack.callback(self.feed.stop)
            self._scan = Discovery(run.walker(), self.queue,
                                   run.planner)  # fmt: skip
            self._scan.start()
            stack.callback(self.queue.shutdown)
            self._started = True
        except BaseException:
            stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.feed.stop()
            if exc[0] is None:
                drained = self._scan is None and not len(self.queue) and not self._in_flight
                status: RunStatus = "completed" if drained else "interrupted"
                if self._unwritten:  # files the sinks never took: the next start redoes them
                    status = "partial"
                if self._scan is None:  # caught up: the tree is what the store knows
                    self.run.stats.tree_files = self.run.run["total_files"] = self._known()
                self.report = self.run.finish(status, self.report_path)
        finally:
            self._stack.close()

    def _known(self) -> int:
        """Files the store knows, with those of batches not yet checkpointed."""
        store = self.run.store
        with store.reader() as txn:
            pending = {path for path, _ in self.run.checkpointer.pending}
            return store.count() + sum(store.get_raw(txn, path) is None for path in pending)

    def _watch_tree(self) -> None:
        """Watch every non-ignored directory, before the catch-up walk starts."""
        rules = self.tree.walker.rules
        try:
            for _ in self.tree.walk("", rules.base_files):
                pass
        except WatchLimitError as exc:
            self.log(f"watching by polling: {exc.strerror or exc}")
            self.tree.watcher.close()
            self.tree.watcher, self.tree.dirs = Poller(self.run.root), {}
            for _ in self.tree.walk("", rules.base_files):
                pass

    def _serve_metrics(self, host: str, port: int) -> None:
        from snake_pipe.metrics import Metrics, serve

        self.metrics = Metrics(lambda: len(self.queue))
        self.address = self._stack.enter_context(serve(host, port, self.metrics, self.healthy))

    def stop(self) -> None:
        """Take no new batches; the ones in flight finish. Safe from a signal handler."""
        self._stopping = True
        self.run.stop()
        self.queue.shutdown()
        self.feed.wake.set()

    def healthy(self) -> bool:
        """The watcher thread and the coordinator are alive, and the parser pool is usable."""
        if not self._started or self._unwritten or self.run.sink_failing:  # a sink is down
            return False
        broken = not self.run.engine.healthy()
        beat_ok = time.monotonic() - self.beat.last < self.HEALTHY_BEAT_S
        return self.feed.alive and beat_ok and not broken and not self._stopping

    @property
    def watch_count(self) -> int:
        return self.tree.watcher.count()

    @property
    def dirs_text(self) -> str:
        return counted(self.watch_count, "directory", "directories")

    @property
    def watcher(self) -> DirWatcher:
        return self.tree.watcher

    # -- the coordinator loop ----------------------------------------------------------------

    def changes(self) -> Iterator[Change]:
        """Changes as their records are committed: the catch-up's first, then live ones."""
        engine = self.run.engine
        while not self._stopping:
            try:
                for outcome in engine.run(self._take):
                    self._apply(outcome)
                    yield from self._emit()
            except BrokenProcessPool:  # a worker died while the pool was idle
                engine.close(wait_for_workers=False)
                self._requeue()
            yield from self._emit()
            self._raise_feed_error()
        self._apply_deletions()
        yield from self._emit()

    def _emit(self) -> Iterator[Change]:
        """Report what every sink committed; sinks that stage their batches (Parquet) merge
        first, so what is reported is what readers see: once the work drains, or at most
        every PUBLISH_EVERY_S seconds while it goes on."""
        if not self._changes and not self._touched:
            return
        if self._scan is None and self._staging:
            if self._in_flight and time.monotonic() - self._published < PUBLISH_EVERY_S:
                return
            self._publish()
        self._touched = False
        changes, self._changes = self._changes, []
        yield from changes

    def _raise_feed_error(self) -> None:
        if self.feed.error is not None:
            raise self.feed.error

    def _take(self, n: int) -> list[Item]:
        """The engine's source: waits for work while nothing is in flight, and does the
        coordinator's other duties (deletions, the end of the catch-up, config reloads)."""
        while True:
            self.beat.last = time.monotonic()
            self.feed.wake.clear()
            if self._stopping:
                return []
            self._raise_feed_error()
            self._apply_deletions()
            while self._unwritten and self._unwritten[0][0] <= time.monotonic():
                for item in self._unwritten.pop(0)[1]:
                    self.queue.put(item, urgent=True)
            if len(self.queue):
                items = self.queue.take(n, linger=self.linger_s)
                self._in_flight += len(items)
                self._outstanding.update((item.path, item) for item in items)
                return items
            if self._in_flight or self._changes:
                return []  # let the engine finish what it has and the caller see changes
            if self._scan is not None and self.queue.scan_done:
                self._finish_scan()
                continue
            self._idle()
            self.feed.wake.wait(0.5)  # the feed and stop() set it: this is only a tick

    @property
    def _staging(self) -> bool:
        return any(type(sink).publish is not Sink.publish for sink in self.run.sinks)

    def _check_root(self) -> None:
        """Events stop for good when the repository itself goes: end rather than watch nothing
        (a service manager restarts us on its path)."""
        root = self.run.root
        try:
            now = os.stat(root)
            same = (now.st_dev, now.st_ino) == self._root_id
        except OSError:
            same = False
        if not same:
            raise RepositoryError(f"{root}: the repository was deleted or moved while watched: "
                                  "start snake-pipe watch again on its path")  # fmt: skip

    def _publish(self) -> None:
        self._published = time.monotonic()
        for sink in self.run.sinks:
            try:
                sink.publish()
            except SinkError as exc:  # the batches stay staged: the next drain tries again
                self.log(f"{exc}")

    def _idle(self) -> None:
        self._check_root()
        for sink in self.run.sinks:
            if why := sink.missing():  # the checkpoint store would vouch for rows that are gone
                raise StoreError(f"{why} while watched: start snake-pipe watch again to "
                                 "rebuild it")  # fmt: skip
        if not self.run.engine.healthy():
            self.run.engine.close(wait_for_workers=False)  # a fresh pool at the next batch
        if self.reloader is not None and (config := self.reloader.poll()) is not None:
            self._reconfigure(config)

    def _write_later(self, items: list[Item], error: SinkError) -> None:
        """A batch no sink took: queued again after a pause, as long as the watch runs."""
        delay = self.run.config.max_backoff_ms / 1000
        self._unwritten.append((time.monotonic() + delay, items))
        self.log(f"{len(items)} files not written ({error}); trying them again in {delay:g} s")

    def _requeue(self) -> None:
        for item in self._outstanding.values():
            self.queue.put(item, urgent=True)
        self._outstanding.clear()
        self._in_flight = 0

    def _apply(self, outcome: BatchOutcome[Item, FileResult]) -> None:
        """Write a finished batch, less the files that changed or left since it was taken."""
        self._in_flight -= len(outcome.items)
        results = outcome.results if outcome.ok else crash_records(outcome, self.run.config)
        assert results is not None
        keep: dict[str, tuple[Item, FileResult]] = {}  # one result a path: sinks upsert by path
        for item, result in zip(outcome.items, results, strict=True):
            if self._outstanding.get(item.path) is item:
                del self._outstanding[item.path]
            if self._current(item):
                keep.pop(item.path, None)
                keep[item.path] = (item, result)
        if keep:
            items, kept = [i for i, _ in keep.values()], [r for _, r in keep.values()]
            fresh = BatchOutcome(outcome.number, items, kept if outcome.ok else None,
                                 outcome.error, outcome.worker_seconds, outcome.wall_seconds,
                                 outcome.attempts)  # fmt: skip
            changed = self.run.apply(fresh)
            self._committed(kept, changed, outcome.wall_seconds)
            self.run.check_memory()
        if self._scan is not None:
            self.beat.update(self.run.stats.processed, self._scan.found, self.run.stats.rate())
        self._apply_deletions()

    def _current(self, item: Item) -> bool:
        """Whether a result still describes the file on disk; if not, the file is looked at
        again (changed) or its records go (deleted, or ignored now)."""
        root = str(self.run.root)
        if isinstance(item, WorkItem):
            rel = item.abs_path[len(root) + 1 :] if item.abs_path.startswith(root) else item.path
        else:
            rel = os_path(item.path)
        try:
            st = os.stat(item.abs_path) if isinstance(item, WorkItem) else os.lstat(f"{root}/{rel}")
        except OSError:
            self._gone.append(Deletion(rel, False, time.monotonic()))
            return False
        if not self.tree.wanted(rel, False):
            self._gone.append(Deletion(rel, False, time.monotonic()))
            return False
        if isinstance(item, WorkItem) and not (
            st.st_size == item.size and st.st_mtime_ns == item.mtime_ns
        ):
            self.feed.recheck(rel)
            return False
        return True

    def _committed(self, kept: list[FileResult], changed: list[FileResult], wall: float) -> None:
        now = time.monotonic()
        times = self.feed.event_times
        latencies = [now - t for r in kept if (t := times.pop(r.path, None)) is not None]
        self._changes.extend(Change(r.path, "upsert", r.status) for r in changed)
        self._touched |= len(kept) > len(changed)
        if self.metrics is not None:
            self.metrics.committed([r.status for r in changed], len(kept) - len(changed), wall,
                                   latencies)  # fmt: skip
        if self._scan is None and changed:
            files = counted(len(changed), "file")
            self.beat.message(f"updated {files} ({len(self.queue)} queued)")

    def _apply_deletions(self) -> None:
        """Remove what left the repository from every sink, then from the checkpoint store."""
        requests = self.feed.take_deletions() + self._gone
        self._gone = []
        if not requests:
            return
        store, root = self.run.store, self.run.root
        chosen: dict[str, float] = {}
        # written to the sinks but not checkpointed yet (checkpoint_frequency above 1, or 0)
        pending = {path for path, _ in self.run.checkpointer.pending}
        with store.reader() as txn:
            for req in requests:
                rel = record_path(req.rel)
                if not req.tree and not os.path.lexists(f"{root}/{req.rel}"):
                    self.feed.event_times.pop(rel, None)  # never stored, maybe
                paths = store_paths_under(store, rel) if req.tree else []
                if req.tree:
                    paths += [p for p in pending if p.startswith(rel + "/")]
                for path in [rel, *paths]:
                    if path in chosen or (store.get_raw(txn, path) is None and path not in pending):
                        continue
                    if self._no_file(os_path(path)):
                        chosen[path] = req.at
        if not chosen:
            return
        deleted = sorted(chosen)
        self.run.remove(deleted, [])
        self.run.stats.deleted += len(deleted)
        if self._scan is None:  # else the catch-up's walk counts them; `status` shows this
            self.run.run["total_files"] = max(0, self.run.store.count() - len(deleted))
        self.run.checkpointer.commit(deleted=deleted)
        self._changes.extend(Change(path, "delete") for path in deleted)
        now = time.monotonic()
        if self.metrics is not None:
            self.metrics.deleted(len(deleted), [now - at for at in chosen.values()])
        for path in deleted:
            self.feed.event_times.pop(path, None)
        if self._scan is None:
            self.beat.message(f"deleted {counted(len(deleted), 'file')}")

    def _no_file(self, rel: str) -> bool:
        """No file at ``rel`` any more, or one the rules no longer take."""
        return _not_a_file(f"{self.run.root}/{rel}") or not self.tree.wanted(rel, False)

    def _finish_scan(self) -> None:
        """The catch-up walk is done and its work written: let go of what it did not find."""
        scan, run = self._scan, self.run
        assert scan is not None
        self._scan = None
        scan.join()
        planner, stats = run.planner, run.stats
        stats.unchanged += planner.unchanged
        stats.discovered = scan.found
        run.run["total_files"] = scan.found
        root = run.root
        deleted = [p for p in planner.deleted(trust_count=False) if self._no_file(os_path(p))]
        known = planner.seen | run.store.paths() | {p for p, _ in run.checkpointer.pending}
        stats.deleted += len(deleted) + remove_stale_rows(run.sinks, known, set(deleted))
        touched = [
            t for t in planner.touched
            if _same_stat(f"{root}/{os_path(t[0])}", t[1].size, t[1].mtime_ns)
        ]
        run.remove(deleted, touched)
        for sink in run.sinks:
            sink.scan_finished()
        run.checkpointer.finish("running", touched, deleted)
        self._publish()
        self._changes.extend(Change(path, "delete") for path in deleted)
        self.beat.message(
            f"caught up: {counted(stats.processed, 'file')} processed, "
            f"{stats.unchanged} unchanged, {len(deleted)} deleted; watching {self.dirs_text}"
        )

    def _reconfigure(self, new: Config) -> None:
        applied, fixed = reconfigure(self.run, new, self.executor)
        if applied:
            self.log("config reloaded: " + ", ".join(f"{f}={getattr(new, f)}" for f in applied))
        if fixed:
            verb, kept = ("needs", "it was") if len(fixed) == 1 else ("need", "they were")
            self.log(f"config: {', '.join(fixed)} {verb} a restart to change; kept as {kept}")
        if {"max_file_bytes", "max_errors_per_file"} & set(applied):
            self.feed.resync()  # records change: every file is extracted again


def reconfigure(run: Run, new: Config, executor: str) -> tuple[list[str], list[str]]:
    """Apply to a running ``run`` the settings of ``new`` that may change while running
    (nothing may be in flight); returns those applied and those that need a restart."""
    old, engine = run.config, run.engine
    changed = [f for f in Config.model_fields if getattr(new, f) != getattr(old, f)]
    applied = [f for f in changed if f in RELOADABLE]
    config = old.model_copy(update={f: getattr(new, f) for f in applied})
    if {"batch_size", "target_batch_seconds"} & set(applied):
        engine.sizer = BatchSizer(config.batch_size, MIN_BATCH, MAX_BATCH,
                                  config.target_batch_seconds)  # fmt: skip
    engine.max_in_flight = config.workers * config.batches_in_flight_per_worker
    if {"workers", "max_file_bytes", "max_errors_per_file", "parse_timeout_ms"} & set(applied):
        engine.close()
        engine.executor_factory = executor_factory(config, executor)
    run.checkpointer.frequency = config.checkpoint_frequency
    run.checkpointer.interval = config.checkpoint_interval_s
    run.config = config
    run.planner.fingerprint = config.extraction_fingerprint()
    run.run["fingerprint"] = config.fingerprint()
    return applied, [f for f in changed if f not in RELOADABLE]


def _not_a_file(path: str) -> bool:
    """Gone, or a directory now (a file's row goes when a directory takes its name)."""
    return not os.path.lexists(path) or (os.path.isdir(path) and not os.path.islink(path))


def _same_stat(path: str, size: int, mtime_ns: int) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    return (st.st_size, st.st_mtime_ns) == (size, mtime_ns)


def watch_changes(
    repo: str | Path,
    config: Config,
    *,
    stop_event: threading.Event | None = None,
    executor: str = "process",
    log: Callable[[str], None] | None = None,
    poll: bool = False,
) -> Iterator[Change]:
    """Catch up with ``repo``, then yield each change once every sink committed it, until
    ``stop_event`` is set (or the generator is closed); the final checkpoint is written on
    the way out, so a later call resumes where this one stopped."""
    with Watch(repo, config, executor=executor, log=log, poll=poll) as watch:
        done = threading.Event()
        if stop_event is not None:
            threading.Thread(target=_stop_when, args=(stop_event, done, watch), daemon=True,
                             name="snake-pipe-stop").start()  # fmt: skip
        try:
            yield from watch.changes()
        finally:
            done.set()


def _stop_when(stop_event: threading.Event, done: threading.Event, watch: Watch) -> None:
    while not done.is_set():
        if stop_event.wait(0.1):
            watch.stop()
            return


async def awatch_changes(
    repo: str | Path, config: Config, *, executor: str = "process",
    log: Callable[[str], None] | None = None, poll: bool = False,
) -> AsyncIterator[Change]:  # fmt: skip
    """``watch_changes`` for async code: the sync loop runs in its own thread; leaving the
    ``async for`` (or cancelling it) stops the loop cleanly, final checkpoint included."""
    import anyio
    import anyio.to_thread

    changes: queue.Queue[Change | BaseException | None] = queue.Queue(maxsize=1000)
    stop = threading.Event()

    def pump() -> None:
        try:
            for change in watch_changes(repo, config, stop_event=stop, executor=executor,
                                        log=log, poll=poll):  # fmt: skip
                changes.put(change)
        except BaseException as exc:  # handed to the consumer
            changes.put(exc)
        finally:
            changes.put(None)

    thread = threading.Thread(target=pump, name="snake-pipe-watch", daemon=True)
    thread.start()
    try:
        while True:
            change = await anyio.to_thread.run_sync(changes.get, abandon_on_cancel=True)
            if change is None:
                return
            if isinstance(change, BaseException):
                raise change
            yield change
    finally:
        stop.set()
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_drain, changes, thread)


def _drain(changes: queue.Queue[Any], thread: threading.Thread) -> None:
    while thread.is_alive():
        with suppress(queue.Empty):
            changes.get(timeout=0.1)


def watch_command(
    repo: str | Path,
    config: Config,
    *,
    executor: str = "process",
    reload: Callable[[], Config] | None = None,
    config_path: str | Path | None = None,
    metrics: tuple[str, int] | None = None,
    poll: bool = False,
    restart: bool = False,
    report_path: str | Path | None = None,
    events: Sequence[EventHandler] = (),
) -> int:
    """``snake-pipe watch``: runs until SIGINT or SIGTERM, then checkpoints and exits 0 (1 when
    some files could not be written)."""
    view: ProgressView = Silent() if config.quiet else LogLines(sys.stderr)
    started: list[Watch] = []
    early = threading.Event()  # a signal during the set-up (a big tree takes seconds)

    def stop() -> None:
        if started:
            started[0].stop()
        else:
            early.set()

    with Interrupts(stop), Watch(repo, config, executor=executor, view=view, reload=reload,
                                 config_path=config_path, metrics=metrics, poll=poll,
                                 restart=restart, report_path=report_path,
                                 events=events) as watch:  # fmt: skip
        started.append(watch)
        if early.is_set():
            watch.stop()
        elif not config.quiet:
            watch.beat.message(f"watching {watch.run.root} ({watch.dirs_text})")
        for _ in watch.changes():
            pass
    return 1 if watch.report is not None and watch.report.status == "partial" else 0
