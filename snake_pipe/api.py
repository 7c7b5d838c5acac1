"""The Python API: snake-pipe as the extract stage of an ETL pipeline.

- ``extract(repo, **options)``: a stream of validated ``FileRecord``; with ``store=DIR,
  changes_only=True``, a stream of ``Change`` (upserts and deletions since the last run);
- ``aextract(...)``: the same stream as an async iterator, under asyncio or trio;
- ``ingest(repo, **options)``: what ``snake-pipe ingest`` does, returning its ``RunReport``;
- ``awatch(repo, **options)``: what ``snake-pipe watch`` does, as an async iterator of the
  changes it commits to the sinks.

``extract`` drives a ``pipeline.Run`` in a thread of its own; the consumer is that run's last
sink (``Handoff``). A sink's ``write`` returns before the run checkpoints the batch, and
``Handoff.write`` returns only once the consumer has asked for the record after the batch's
last one, so a batch is committed only after the consumer took it: a consumer that dies gets
the batch again on the next call. At most one batch waits for the consumer, so memory stays
flat however big the repository. Closing the iterator (``break``, an exception, ``close()``)
cancels the run: the workers finish the batch in hand and exit, nothing more is committed.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import tempfile
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict, Unpack, overload

import anyio
import anyio.to_thread

from snake_pipe.config import ENV_PREFIX, Config, QueueOrder, resolve_config
from snake_pipe.errors import ConfigError, SinkError
from snake_pipe.executors import check_executor, prestart
from snake_pipe.models import Change, FileRecord
from snake_pipe.records import FileResult
from snake_pipe.sinks import STORE_SQLITE
from snake_pipe.sinks.base import Sink

if TYPE_CHECKING:
    from snake_pipe.pipeline import Run
    from snake_pipe.report import RunReport
    from snake_pipe.watch import Change as WatchChange

# The pipeline loads at the first call, not at import: parser processes re-import the main
# module of the program, and its ``from snake_pipe import extract`` should not cost each of
# them the pipeline's imports.

__all__ = ["Options", "aextract", "awatch", "extract", "ingest", "make_config"]

PathLike = str | os.PathLike[str]


class Options(TypedDict, total=False):
    """The keyword options of ``extract``, ``aextract`` and ``ingest``: the fields of
    ``Config`` (see ``config/default.toml`` for what each does)."""

    workers: int
    batch_size: int | Literal["auto"]
    target_batch_seconds: float
    batches_in_flight_per_worker: int
    max_file_bytes: int
    max_errors_per_file: int
    include: Sequence[str]
    exclude: Sequence[str]
    no_ignore: bool
    follow_symlinks: bool
    queue_order: QueueOrder
    ast: bool
    sinks: Sequence[str]
    store: PathLike | None
    quiet: bool
    checkpoint_frequency: int
    checkpoint_interval_s: float
    parse_timeout_ms: int
    batch_timeout_s: float
    dask_worker_wait_s: float
    max_retries: int
    initial_backoff_ms: float
    max_backoff_ms: float
    on_batch_error: Literal["continue", "stop", "retry"]
    circuit_breaker_window: int
    circuit_breaker_threshold: float
    memory_limit_mb: int
    shutdown_grace_s: float


# A stream's first records should come at once: small files first. (On the 100,000-file
# benchmark the whole run was no slower than largest_first, whose first batch of the biggest
# files can take seconds.)
EXTRACT_DEFAULTS: dict[str, Any] = {"queue_order": "smallest_first"}


# -- configuration ---------------------------------------------------------------------------

# The command line's flags as the keywords that set the same things, for messages.
_KEYWORDS = {"--sink": "sinks", "--executor": "executor", "--report": "report_path",
             "--config": "config_file", "--store": "store"}  # fmt: skip
_FLAG = re.compile(r"^--[a-z-]+")


@contextmanager
def _keyword_names() -> Iterator[None]:
    """A setting refused names the keyword the caller passed, not its command-line flag."""
    try:
        yield
    except ConfigError as exc:
        message = str(exc)
        if (found := _FLAG.match(message)) and found[0] in _KEYWORDS:
            raise ConfigError(_KEYWORDS[found[0]] + message[found.end() :]) from None
        raise


def _normalized(options: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword values as ``Config`` takes them: paths as strings, one glob as a tuple."""
    unknown = sorted(set(options) - set(Config.model_fields))
    if unknown:
        raise ConfigError(f"{unknown[0]}: unknown option; known: {', '.join(Config.model_fields)}")
    values: dict[str, Any] = {}
    for name, value in options.items():
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        if name in ("include", "exclude", "sinks") and isinstance(value, str):
            value = (value,)
        values[name] = value
    return values


def _settings(
    config: Config | Mapping[str, Any] | None, options: Mapping[str, Any]
) -> tuple[Config | None, Mapping[str, Any]]:
    """A plain dict of settings is a ``Config`` too: its values go with the keyword options."""
    if isinstance(config, Mapping):
        return None, {**config, **options}
    if config is not None and not isinstance(config, Config):
        raise ConfigError(f"config: {type(config).__name__} is not allowed: pass a "
                          "snake_pipe.Config or a dict of settings")  # fmt: skip
    return config, options


def make_config(
    options: Mapping[str, Any],
    config: Config | Mapping[str, Any] | None = None,
    config_file: PathLike | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> Config:
    """Keyword options over ``config``, or over environment > ``config_file`` > ``defaults``
    > the ``Config`` defaults (the command line's precedence, keywords in place of flags)."""
    config, options = _settings(config, options)
    if config is not None and config_file is not None:
        raise ConfigError("config_file: pass config or config_file, not both")
    values = _normalized(options)
    file = Path(config_file) if config_file is not None else None
    if config is None:  # a keyword hides its environment variable, bad or not
        hidden = {ENV_PREFIX + name.upper() for name in values}
        env = {k: v for k, v in os.environ.items() if k not in hidden}
    base = config if config is not None else resolve_config(None, file, env)
    unset = {k: v for k, v in (defaults or {}).items() if k not in base.model_fields_set}
    return Config(**{**base.model_dump(), **unset, **values})


# -- the consumer as a sink ------------------------------------------------------------------


class _Cancelled(Exception):
    """Raised in the run's thread when the consumer is gone: unwinds the run uncommitted."""


@dataclass(eq=False)
class _Batch:
    results: list[FileResult]
    deleted: list[str]
    taken: bool = False
    done: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class _End:
    error: BaseException | None = None


class Handoff(Sink):
    """The consumer as the last sink of a run: ``write`` hands the batch over and returns once
    the consumer has taken all of it, so the run checkpoints the batch only after that."""

    uri = "python:consumer"

    def __init__(self) -> None:
        self.batches: queue.SimpleQueue[_Batch | _End] = queue.SimpleQueue()
        self.cancelled = threading.Event()
        self._current: _Batch | None = None

    def write(self, results: Sequence[FileResult], deleted: Sequence[str] = ()) -> None:
        if not results and not deleted:
            return
        batch = self._current = _Batch(list(results), list(deleted))
        if self.cancelled.is_set():
            raise _Cancelled("the consumer stopped")
        self.batches.put(batch)
        batch.done.wait()
        if not batch.taken:
            raise _Cancelled("the consumer stopped")

    def take(self, batch: _Batch) -> None:
        """The consumer took every record of ``batch``: its ``write`` may return."""
        batch.taken = True
        batch.done.set()

    def cancel(self) -> None:
        """The consumer is gone: the pending and any later ``write`` raise ``_Cancelled``."""
        self.cancelled.set()
        if (batch := self._current) is not None:
            batch.done.set()


class Extraction:
    """One ``Run`` in a thread of its own, handing its batches to the consumer's thread."""

    def __init__(self, root: Path, config: Config, executor: str, restart: bool) -> None:
        self.root, self.config, self.executor, self.restart = root, config, executor, restart
        self.handoff = Handoff()
        self._run: Run | None = None
        self._thread = threading.Thread(target=self._drive, name="snake-pipe-extract", daemon=True)

    def _drive(self) -> None:
        error: BaseException | None = None
        temporary = self.config.store is None
        config = self.config
        try:
            if temporary:
                config = config.model_copy(update={"store": tempfile.mkdtemp(prefix="snake-pipe-")})
            from snake_pipe import pipeline

            self._run = run = pipeline.Run(
                self.root, config, executor=self.executor, restart=self.restart
            )
            if not config.sinks:
                run.uris = []  # not the store's default SQLite: the consumer is the sink
            if self.handoff.cancelled.is_set():
                run.stop()
            with run:
                run.sinks.append(self.handoff)
                if run.scan() and not self.handoff.cancelled.is_set():
                    run.finish(run.outcome())
                    error = _undelivered(run, resumable=not temporary and not self.restart)
        except _Cancelled:
            pass
        except BaseException as exc:  # handed to the consumer, raised there
            error = exc
        finally:
            if temporary and config.store is not None:
                shutil.rmtree(config.store, ignore_errors=True)
            self.handoff.batches.put(_End(error))

    def batches(self) -> Iterator[_Batch]:
        """The run's batches; asking for the next one means the last one was taken."""
        self._thread.start()
        while True:
            item = self.handoff.batches.get()
            if isinstance(item, _End):
                self._thread.join()
                if item.error is not None:
                    raise item.error
                return
            yield item
            self.handoff.take(item)

    def cancel(self) -> None:
        """Stop the run (from any thread): no new batches, nothing more committed."""
        self.handoff.cancel()
        if (run := self._run) is not None:
            run.stop()

    def close(self) -> None:
        """Cancel the run if it is still going and wait until its workers and store are closed."""
        if self._thread.ident is not None and self._thread.is_alive():
            self.cancel()
            self._thread.join()


def _undelivered(run: Run, resumable: bool) -> SinkError | None:
    """After the last record: batches a sink refused were not handed over either, and the
    consumer must not take the run for whole (``ingest`` reports it ``partial``)."""
    stats = run.stats
    if not stats.failed_batches:
        return None
    again = ("the next extract(changes_only=True) with this store delivers them"
             if resumable else "run again to get them")  # fmt: skip
    return SinkError(f"{stats.failed_batches} batch(es), {stats.by_category['sink']} files, "
                     f"could not be written to the sinks and were not delivered "
                     f"({stats.last_batch_error}): {again}")  # fmt: skip


def _items(batch: _Batch, changes: bool) -> Iterator[FileRecord | Change]:
    if changes:
        for path in batch.deleted:
            yield Change.delete(path)
        for result in batch.results:
            yield Change.upsert(result)
    else:
        for result in batch.results:
            yield FileRecord.from_result(result)


def _records(extraction: Extraction, changes: bool) -> Generator[Any, None, None]:
    try:
        with _keyword_names():  # a sink refused when the run opens it
            for batch in extraction.batches():
                yield from _items(batch, changes)
    finally:
        extraction.close()


@_keyword_names()
def _prepare(
    repo: PathLike,
    changes_only: bool,
    executor: str,
    config: Config | Mapping[str, Any] | None,
    config_file: PathLike | None,
    options: Mapping[str, Any],
) -> Extraction:
    """Everything that can be checked before the run starts, checked now."""
    config, options = _settings(config, options)
    # the store and sinks are the caller's choice alone, never the environment's
    store = options.get("store", config.store if config else None)
    sinks = options.get("sinks", config.sinks if config else ())
    resolved = make_config({**options, "store": store, "sinks": sinks}, config, config_file,
                           EXTRACT_DEFAULTS)  # fmt: skip
    if resolved.store is None and any(uri in STORE_SQLITE for uri in resolved.sinks):
        raise ConfigError("sinks: 'sqlite' alone is the store's database, and without store= "
                          "the store is a temporary directory, deleted at the end: pass "
                          "store=DIR, or sqlite:PATH")  # fmt: skip
    if changes_only and resolved.store is None:
        raise ConfigError("changes_only=True needs store=DIR: the checkpoint store that remembers "
                          "what the consumer has already taken")  # fmt: skip
    prestart(check_executor(executor))
    from snake_pipe.pipeline import check_repo, check_store_dir

    root = check_repo(_path(repo))
    if resolved.store is not None:
        check_store_dir(Path(resolved.store).expanduser())
    return Extraction(root, resolved, executor, restart=not changes_only)


# -- the public functions --------------------------------------------------------------------


@overload
def extract(
    repo: PathLike,
    *,
    changes_only: Literal[False] = False,
    executor: str = "process",
    config: Config | Mapping[str, Any] | None = None,
    config_file: PathLike | None = None,
    **options: Unpack[Options],
) -> Generator[FileRecord, None, None]: ...


@overload
def extract(
    repo: PathLike,
    *,
    changes_only: Literal[True],
    executor: str = "process",
    config: Config | Mapping[str, Any] | None = None,
    config_file: PathLike | None = None,
    **options: Unpack[Options],
) -> Generator[Change, None, None]: ...


def extract(
    repo: PathLike,
    *,
    changes_only: bool = False,
    executor: str = "process",
    config: Config | Mapping[str, Any] | None = None,
    config_file: PathLike | None = None,
    **options: Unpack[Options],
) -> Generator[FileRecord, None, None] | Generator[Change, None, None]:
    """Stream a record per file of ``repo`` as the parser processes finish them.

    Options are the ``Config`` fields (``workers``, ``include``, ``ast``, ...) over the
    environment and ``config_file``; invalid ones raise ``ConfigError`` here, before anything
    runs. ``queue_order`` defaults to ``smallest_first``: records start flowing at once.
    Records go to the caller, and to ``sinks`` only if given. Without ``store`` the checkpoint
    store is temporary; with ``store=DIR, changes_only=True`` the stream is the ``Change``s
    since the last run whose records were all taken. Stopping early (``break``) stops the
    workers; ``contextlib.closing`` does it at a point of your choosing.
    """
    extraction = _prepare(repo, changes_only, executor, config, config_file, options)
    return _records(extraction, changes_only)


@overload
def aextract(
    repo: PathLike,
    *,
    changes_only: Literal[False] = False,
    executor: str = "process",
    config: Config | Mapping[str, Any] | None = None,
    config_file: PathLike | None = None,
    **options: Unpack[Options],
) -> AsyncGenerator[FileRecord, None]: ...


@overload
def aextract(
    repo: PathLike,
    *,
    changes_only: Literal[True],
    executor: str = "process",
    config: Config | Mapping[str, Any] | None = None,
    config_file: PathLike | None = None,
    **options: Unpack[Options],
) -> AsyncGenerator[Change, None]: ...


def aextract(
    repo: PathLike,
    *,
    changes_only: bool = False,
    executor: str = "process",
    config: Config | Mapping[str, Any] | None = None,
    config_file: PathLike | None = None,
    **options: Unpack[Options],
) -> AsyncGenerator[FileRecord, None] | AsyncGenerator[Change, None]:
    """``extract`` as an async iterator (asyncio or trio, through anyio): each batch is
    fetched in a worker thread, the event loop never blocks. Close it with
    ``contextlib.aclosing`` when you stop early."""
    extraction = _prepare(repo, changes_only, executor, config, config_file, options)
    return _arecords(extraction, changes_only)


async def _arecords(extraction: Extraction, changes: bool) -> AsyncGenerator[Any, None]:
    batches = extraction.batches()
    try:
        while True:
            # abandoned on cancel: cancel() below makes the pending fetch return soon
            with _keyword_names():
                batch = await anyio.to_thread.run_sync(
                    next, batches, None, abandon_on_cancel=True
                )
            if batch is None:
                return
            for item in _items(batch, changes):
                yield item
    finally:
        extraction.cancel()
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(extraction.close)


def ingest(
    repo: PathLike,
    *,
    executor: str = "process",
    restart: bool = False,
    report_path: PathLike | None = None,
    config: Config | Mapping[str, Any] | None = None,
    config_file: PathLike | None = None,
    **options: Unpack[Options],
) -> RunReport:
    """What ``snake-pipe ingest REPO`` does: an incremental, resumable run into ``sinks``
    (default: SQLite in the store, ``REPO/.snake-pipe``); returns the run's report."""
    from snake_pipe import pipeline

    with _keyword_names():
        resolved = make_config(options, config, config_file)
        report = Path(report_path) if report_path is not None else None
        prestart(check_executor(executor))
        return pipeline.ingest(
            _path(repo), resolved, report_path=report, executor=executor, restart=restart,
            resume_command="snake_pipe.ingest() again on the same repository and store",
        )  # fmt: skip


def _path(repo: object) -> Path:
    if not isinstance(repo, str | os.PathLike):
        raise ConfigError(f"repo: {repo!r} is not allowed: pass the repository's path")
    return Path(repo)


def awatch(
    repo: PathLike,
    *,
    executor: str = "process",
    poll: bool = False,
    config: Config | Mapping[str, Any] | None = None,
    config_file: PathLike | None = None,
    **options: Unpack[Options],
) -> AsyncIterator[WatchChange]:
    """What ``snake-pipe watch REPO`` does, for async code: catch up with what changed since
    the last run, then keep the sinks live; yields each change once every sink committed it.
    Leaving the ``async for`` (close it with ``contextlib.aclosing``) or cancelling stops the
    watch cleanly, final checkpoint included. ``poll=True`` lists directories on a timer
    instead of inotify (network filesystems)."""
    from snake_pipe.pipeline import check_repo
    from snake_pipe.watch import awatch_changes  # the watcher stage loads only when used

    with _keyword_names():
        resolved = make_config(options, config, config_file)
        root = check_repo(_path(repo))
        check_executor(executor)
    return awatch_changes(root, resolved, executor=executor, poll=poll)
