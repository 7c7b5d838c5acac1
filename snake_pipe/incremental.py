"""What a run has to do, given the checkpoint store: the incremental plan per file.

- same size, mtime and extractor version as the checkpoint: unchanged, not even read;
- stat changed but git's index has the same blob id as the checkpoint: unchanged, not read;
- stat changed otherwise: the worker hashes it and parses it only if the content changed;
- not in the checkpoint store (or a new extractor version): parsed;
- in the store but not found by a complete walk: deleted from every sink.
"""

from __future__ import annotations

import threading
from collections.abc import Container, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from snake_pipe import gitindex
from snake_pipe.checkpoints import (
    CheckpointStore,
    FileEntry,
    Lookups,
    file_key,
    same_stat_and_version,
    stored_hash,
)
from snake_pipe.discover import Skip
from snake_pipe.parse.tags import extractor_version
from snake_pipe.records import FileResult, WorkItem

Item = WorkItem | FileResult
Action = Literal["add", "update", "unchanged", "touched"]


@dataclass
class Planner:
    """Turns discovered items into work, skipping what the checkpoint store says is done."""

    store: CheckpointStore
    root: Path
    fingerprint: str  # Config.extraction_fingerprint(): part of every file's extractor version
    trust_store: bool = True  # False: records and checkpoints drifted apart, redo everything
    # A rebuild that was interrupted: (run id, batch) trusts only the entries that run wrote
    # after that batch, when the rebuild began; the sinks lack the older ones.
    rebuilt_after: tuple[str, int] | None = None
    unchanged: int = 0
    touched: list[tuple[str, FileEntry]] = field(default_factory=list)  # stat-only updates
    seen: set[str] = field(default_factory=set)
    known: int = 0  # paths of ``seen`` the store holds: all of them means nothing was deleted

    def __post_init__(self) -> None:
        self._index = gitindex.read_index(self.root) if self.trust_store else {}
        self._local = threading.local()  # each thread (walk, watcher feed) its own Lookups

    def _lookups(self) -> Lookups:
        lookups: Lookups | None = getattr(self._local, "lookups", None)
        if lookups is None:
            lookups = self._local.lookups = self.store.lookups()
        return lookups

    def pause(self) -> None:
        """This thread is about to wait: let go of its read transaction."""
        if (lookups := getattr(self._local, "lookups", None)) is not None:
            lookups.release()

    def version(self, language: str | None) -> int:
        return extractor_version(language, self.fingerprint)

    def _trusted(self, entry: FileEntry) -> bool:
        if self.rebuilt_after is None:
            return self.trust_store
        run_id, batch = self.rebuilt_after
        return entry.run_id == run_id and entry.batch > batch

    def classify(self, item: Item, entry: FileEntry | None) -> tuple[Action, Item]:
        if entry is None or not self._trusted(entry):
            return "add", item
        if isinstance(item, FileResult):
            same = (entry.status, entry.size, entry.mtime_ns, entry.content_hash) == (
                item.status, item.size_bytes, item.mtime_ns, stored_hash(item),
            )  # fmt: skip
            return ("unchanged" if same else "update"), item
        if entry.version != self.version(item.language or entry.language) or (
            entry.status == "failed"  # retried: its content may be what failed, so no prior hash
        ):
            return "update", item
        if entry.size == item.size and entry.mtime_ns == item.mtime_ns:
            return "unchanged", item
        # Git's blob id is of the cleaned content (CRLF made LF, an LFS pointer, a filter's
        # output): it is the working file's hash only if the size is the checkpoint's too.
        blob = gitindex.unmodified_blob(self._index.get(item.path), item.size, item.mtime_ns)
        if blob is not None and blob == entry.content_hash and entry.size == item.size:
            return "touched", item
        return "update", replace(item, prior_hash=entry.content_hash)

    def _unchanged(self, raw: bytes | None, size: int, mtime_ns: int, language: str | None) -> bool:
        """Stored with this stat and this extractor version: nothing to read or parse."""
        return (
            raw is not None and self.trust_store and language is not None
            and same_stat_and_version(raw, size, mtime_ns, self.version(language))
            and (self.rebuilt_after is None or self._trusted(FileEntry.unpack(raw)))
        )  # fmt: skip

    def plan(
        self, items: Iterator[Item], verify: Container[str] = ()
    ) -> Iterator[tuple[Action, Item, FileEntry | None]]:
        """Paths in ``verify`` were written (the OS said so): an unchanged size and mtime
        (``cp -p``, a tool that restores the mtime) is not trusted, the content is hashed."""
        get_raw = self._lookups().get_raw
        try:
            for item in items:
                raw = get_raw(file_key(item.path))
                if (
                    isinstance(item, WorkItem) and item.path not in verify
                    and self._unchanged(raw, item.size, item.mtime_ns, item.language)
                ):  # fmt: skip
                    yield "unchanged", item, None
                    continue
                entry = None if raw is None else FileEntry.unpack(raw)
                action, work = self.classify(item, entry)
                if (
                    action in ("unchanged", "touched") and entry is not None
                    and isinstance(work, WorkItem) and work.path in verify
                ):  # fmt: skip
                    action, work = "update", replace(work, prior_hash=entry.content_hash)
                yield action, work, entry
        finally:
            self.pause()

    @contextmanager
    def skipping_unchanged(self) -> Iterator[Skip]:
        """For ``Walker.walk(skip=...)``: the unchanged re-run's hot path, one LMDB lookup and a
        bytes comparison per file, with no item built. Other files go on to ``work``."""
        get_raw, seen_add = self._lookups().get_raw, self.seen.add

        def skip(path: str, size: int, mtime_ns: int, language: str | None) -> bool:
            seen_add(path)
            if language is None or not self.trust_store:  # no lookup can make it unchanged
                return False
            raw = get_raw(file_key(path))
            if not self._unchanged(raw, size, mtime_ns, language):
                return False
            self.unchanged += 1
            self.known += 1
            return True

        try:
            yield skip
        finally:
            self.pause()

    def work(self, items: Iterator[Item]) -> Iterator[Item]:
        """The items that need a worker; counts and remembers the rest."""
        for action, item, entry in self.plan(items):
            self.seen.add(item.path)
            self.known += action == "unchanged" or entry is not None
            if action == "unchanged":
                self.unchanged += 1
            elif action == "touched" and entry is not None and isinstance(item, WorkItem):
                self.unchanged += 1
                self.touched.append(
                    (item.path, replace(entry, size=item.size, mtime_ns=item.mtime_ns))
                )
            else:
                yield item

    def keep_under(self, dirs: list[str]) -> None:
        """Paths known below ``dirs`` (directories the walk could not list) count as seen:
        neither deleted nor stale."""
        for rel_dir in dirs:
            self.seen.update(self.store.paths_under(rel_dir))

    def deleted(self, trust_count: bool = True) -> list[str]:
        """Paths the store knows that the (complete) walk did not find. With ``trust_count``
        (nothing else changed the store during the walk), a walk that met every stored path
        skips listing them."""
        if trust_count and self.known == self.store.count():
            return []
        return sorted(self.store.paths() - self.seen)
