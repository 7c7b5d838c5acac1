"""The sink interface: where finished records go.

A sink writes one batch in one transaction and upserts: writing the same file twice leaves
one copy, so a batch replayed after a crash changes nothing. Deleted paths travel with the
batch they belong to.
"""

from __future__ import annotations

import fcntl
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from snake_pipe.errors import SinkError
from snake_pipe.records import FileResult


class Sink(ABC):
    """One destination of records. Open on construction, closed by ``close`` or ``with``."""

    uri: str = ""
    tracks_runs = False  # True: last_run_id() tells which run last wrote (drift detection)

    @abstractmethod
    def write(self, results: Sequence[FileResult], deleted: Sequence[str] = ()) -> None:
        """Upsert ``results`` and remove every row of ``deleted``, atomically if possible."""

    def touch(self, stats: Sequence[tuple[str, int, int]]) -> None:
        """New (path, size, mtime_ns) of files whose content did not change. Sinks holding
        file metadata update it; change feeds ignore it."""

    def begin_run(self, run_id: str) -> None:
        """A run starts writing (sinks that keep metadata record it)."""

    def rewrite_all(self) -> None:
        """Called after ``begin_run`` when the run writes every file again (the first run, one
        after ``--restart``, a rebuild): what a reader kept from earlier runs is to be dropped,
        since paths gone meanwhile get no deletion. Change feeds tell their readers."""

    def end_run(self, run_id: str) -> None:
        """A run finished writing everything it had."""

    def publish(self) -> None:
        """Make every batch written so far visible to readers. Sinks that stage batches and
        merge them at ``end_run`` (Parquet) merge now; ``watch`` calls this whenever its work
        drains, before it reports the changes."""

    def scan_finished(self) -> None:
        """The walk is over: what it found is written, queued or in flight. Finish deferred
        work such as indexes, in the background if the sink can (see ``busy``); batches still
        follow (the rest of the queue, a watch's edits)."""

    @property
    def busy(self) -> bool:
        """True while work begun by ``scan_finished`` runs: callers hold their batches until
        it ends rather than block on a write (any other call waits for it)."""
        return False

    def last_run_id(self) -> str | None:
        """The run that last wrote into this sink, if the sink can tell."""
        return None

    def paths(self) -> set[str] | None:
        """Every path the sink holds rows for, if it can tell (stale rows are removed)."""
        return None

    def file_count(self) -> int | None:
        """How many paths the sink holds, if it can tell cheaply (spares reading ``paths``)."""
        return None

    def missing(self) -> str | None:
        """Why the sink's file is no longer the one it opened (deleted, replaced), if it is
        not: writes would go on into an unlinked file, and no reader would see them."""
        return None

    def close(self) -> None:
        """Release connections and files; safe to call twice."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        self.close()


def writer_lock(path: Path, display: str) -> IO[bytes]:
    """Hold ``path`` locked while this process writes the sink: two runs writing one sink
    would each remove the other's rows as stale. Closing the file releases it. Its directory,
    the sink's, is made if need be."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab")
    except OSError as exc:
        raise SinkError(f"{display}: cannot open {path} ({exc.strerror or exc})") from exc
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise SinkError(f"{display}: another snake-pipe run is writing here: wait for it, "
                        "or pass another sink") from None  # fmt: skip
    return lock
