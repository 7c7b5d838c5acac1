"""The checkpoint store: what is done, in LMDB at ``<store>/checkpoints.lmdb``.

Per file: size, mtime, content hash, status, language, the run and batch that produced it and
the extractor version. Per run: id, config fingerprint, state, counters, timestamps. Per
checkpoint: id, run, batch number, files processed, time. Only the coordinator opens it (LMDB
environments must not cross ``fork``); a batch's entries are committed after its rows are in
every sink, so a crash can only cause work to be redone, never lost.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import lmdb

from snake_pipe.config import Config
from snake_pipe.errors import StoreError
from snake_pipe.files import require_utf8
from snake_pipe.records import STATUSES, FileResult
from snake_pipe.report import RunStats, utc_now

FORMAT = 1
TOOL = b"snake-pipe"
_ENTRY = struct.Struct("<qq20sBIQ")  # size, mtime_ns, sha1, status, batch, extractor version
_STAT = struct.Struct("<qq")
_VERSION_AT = slice(41, 49)  # where _ENTRY keeps the extractor version
_STATUS_AT = 36  # and the status
_FAILED = STATUSES.index("failed")
_NO_HASH = bytes(20)
OUR_DBS = {b"files", b"runs", b"checkpoints", b"meta"}
MAX_KEY = 511  # LMDB's limit on a key's bytes
_HASHED = MAX_KEY - 17  # a longer path's key: this much of it, a NUL and a 16-byte hash


def file_key(path: str) -> bytes:
    """A file's key: its path's bytes, or for a path over LMDB's limit (deep generated code)
    its first bytes, NUL (which no path holds) and a hash; its entry then ends with the path.
    Keys stay sorted by path prefix, so ``paths_under`` still finds them by a range scan."""
    raw = path.encode("utf-8", "surrogateescape")
    if len(raw) <= MAX_KEY:
        return raw
    return raw[:_HASHED] + b"\0" + hashlib.blake2b(raw, digest_size=16).digest()


def key_path(key: bytes, value: bytes) -> str:
    """The path of a key and its entry (``file_key`` reversed)."""
    if b"\0" in key:
        key = value[_ENTRY.size :].split(b"\0", 2)[2]
    return key.decode("utf-8", "surrogateescape")


@dataclass(frozen=True, slots=True)
class FileEntry:
    size: int
    mtime_ns: int
    content_hash: str | None
    status: str
    batch: int
    version: int
    run_id: str
    language: str | None

    def pack(self, key: bytes = b"", path: str = "") -> bytes:
        """With a hashed ``key`` (a long path), the entry ends with the ``path``."""
        digest = bytes.fromhex(self.content_hash) if self.content_hash else _NO_HASH
        status = STATUSES.index(self.status)  # type: ignore[arg-type,unused-ignore]
        head = _ENTRY.pack(self.size, self.mtime_ns, digest, status, self.batch, self.version)
        tail = f"{self.run_id}\0{self.language or ''}".encode()
        return head + tail + (b"\0" + path.encode("utf-8", "surrogateescape") if b"\0" in key else b"")

    @classmethod
    def unpack(cls, data: bytes) -> FileEntry:
        size, mtime, digest, status, batch, version = _ENTRY.unpack_from(data)
        run_id, language = data[_ENTRY.size :].decode("utf-8", "surrogateescape").split("\0")[:2]
        return cls(size, mtime, digest.hex() if digest != _NO_HASH else None, STATUSES[status],
                   batch, version, run_id, language or None)  # fmt: skip


def same_stat_and_version(raw: bytes, size: int, mtime_ns: int, version: int) -> bool:
    """The hot path of an unchanged re-run: compare packed bytes, unpack nothing. A file that
    failed is never unchanged: a read refused or a crash may not happen again."""
    return (
        raw[:16] == _STAT.pack(size, mtime_ns)
        and raw[_VERSION_AT] == version.to_bytes(8, "little")
        and raw[_STATUS_AT] != _FAILED
    )


def damaged(path: Path, why: str) -> StoreError:
    return StoreError(f"checkpoint store {path} is {why}: rerun with --restart to start over")


def no_access(path: Path, exc: Exception) -> StoreError:
    return StoreError(f"checkpoint store {path}: permission denied ({exc}): run as a user who "
                      "may read and write it, and its files (status too: LMDB's readers lock)")


class CheckpointStore:
    """Open with ``with CheckpointStore(path) as store``; closed on every path out."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            fresh = not path.exists()
            try:
                path.mkdir(mode=0o700, parents=True, exist_ok=True)
            except PermissionError as exc:
                raise no_access(path, exc) from None
            except OSError as exc:
                raise damaged(path, f"not a directory ({exc.strerror})") from None
            require_utf8(str(path), f"--store {path}", "LMDB", "pass a --store DIR whose path is")
            self.env = lmdb.open(str(path), map_size=1 << 34, max_dbs=8, subdir=True,
                                 metasync=False, lock=True)  # fmt: skip
            self.files = self.env.open_db(b"files")
            self.runs = self.env.open_db(b"runs")
            self.checkpoints = self.env.open_db(b"checkpoints")
            self.meta = self.env.open_db(b"meta")
        except lmdb.Error as exc:
            if isinstance(exc, PermissionError) or "Permission denied" in str(exc):
                raise no_access(path, exc) from None
            raise damaged(path, f"damaged or not an LMDB database ({exc})") from None
        for name in ("data.mdb", "lock.mdb"):
            if (path / name).exists():
                os.chmod(path / name, 0o600)
        try:
            self._check_identity(fresh)
        except StoreError:
            self.close()
            raise

    def _check_identity(self, fresh: bool) -> None:
        with self.env.begin(write=True) as txn:
            tool = txn.get(b"tool", db=self.meta)
            if tool is None:
                names = set(txn.cursor().iternext(values=False))
                if not fresh and (txn.stat(self.files)["entries"] or names - OUR_DBS):
                    raise damaged(self.path, "not a snake-pipe checkpoint store")
                txn.put(b"tool", TOOL, db=self.meta)
                txn.put(b"format", str(FORMAT).encode(), db=self.meta)
                return
        if tool != TOOL:
            raise damaged(self.path, f"another tool's database ({tool[:40]!r})")
        if self.get_meta("format") != str(FORMAT):
            raise damaged(
                self.path, f"format {self.get_meta('format')}, this snake-pipe reads {FORMAT}"
            )

    def close(self) -> None:
        if getattr(self, "env", None) is not None:
            self.env.close()
            self.env = None  # type: ignore[assignment]

    def __enter__(self) -> CheckpointStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- metadata and runs -------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self.env.begin() as txn:
            value = txn.get(key.encode(), db=self.meta)
        return None if value is None else bytes(value).decode()

    def get_run(self, run_id: str | None) -> dict[str, Any] | None:
        if run_id is None:
            return None
        with self.env.begin() as txn:
            value = txn.get(run_id.encode(), db=self.runs)
        return None if value is None else dict(json.loads(bytes(value)))

    def last_run(self) -> dict[str, Any] | None:
        return self.get_run(self.get_meta("last_run"))

    def put_run(self, run: dict[str, Any]) -> None:
        with self.env.begin(write=True) as txn:
            self._put_run(txn, run)

    def restore_run(self, started: dict[str, Any], before: dict[str, Any] | None) -> None:
        """Undo ``started`` (a run that failed before writing anything): the last run is
        again ``before``, as it was."""
        with self.env.begin(write=True) as txn:
            if before is None or before["id"] != started["id"]:
                txn.delete(started["id"].encode(), db=self.runs)
            if before is None:
                txn.delete(b"last_run", db=self.meta)
            else:
                txn.put(before["id"].encode(), json.dumps(before).encode(), db=self.runs)
                txn.put(b"last_run", before["id"].encode(), db=self.meta)

    def _put_run(self, txn: lmdb.Transaction, run: dict[str, Any]) -> None:
        run["updated_at"] = utc_now()
        txn.put(run["id"].encode(), json.dumps(run).encode(), db=self.runs)
        txn.put(b"last_run", run["id"].encode(), db=self.meta)

    # -- files ---------------------------------------------------------------------------

    def get(self, txn: lmdb.Transaction, path: str) -> FileEntry | None:
        value = self.get_raw(txn, path)
        return None if value is None else FileEntry.unpack(value)

    def get_raw(self, txn: lmdb.Transaction, path: str) -> bytes | None:
        value = txn.get(file_key(path), db=self.files)
        return None if value is None else bytes(value)

    def lookups(self) -> Lookups:
        """Many lookups over time (a walk): see ``Lookups``."""
        return Lookups(self)

    def reader(self) -> lmdb.Transaction:
        """A read transaction for many lookups; the caller closes it (``with``)."""
        return self.env.begin(buffers=False)

    def iter_entries(self) -> Iterator[tuple[str, FileEntry]]:
        with self.env.begin() as txn:
            for key, value in txn.cursor(db=self.files):
                yield key_path(bytes(key), bytes(value)), FileEntry.unpack(bytes(value))

    def paths(self) -> set[str]:
        with self.env.begin() as txn:
            return {key_path(bytes(k), bytes(v)) for k, v in txn.cursor(db=self.files)}

    def paths_under(self, rel_dir: str) -> list[str]:
        """Paths known below ``rel_dir`` ("" for all), by a range scan over the sorted keys."""
        prefix = (rel_dir + "/" if rel_dir else "").encode("utf-8", "surrogateescape")
        scan = prefix[:_HASHED]  # the part of a path that every key holds
        found: list[str] = []
        with self.env.begin() as txn:
            cursor = txn.cursor(db=self.files)
            if not cursor.set_range(scan):
                return found
            for key, value in cursor:
                if not bytes(key).startswith(scan):
                    break
                path = key_path(bytes(key), bytes(value))
                if path.encode("utf-8", "surrogateescape").startswith(prefix):
                    found.append(path)
        return found

    def count(self) -> int:
        with self.env.begin() as txn:
            return int(txn.stat(self.files)["entries"])

    def commit(
        self,
        run: dict[str, Any],
        entries: list[tuple[str, FileEntry]],
        deleted: list[str],
        checkpoint: dict[str, Any] | None,
    ) -> None:
        """One atomic step: file entries, deletions, the run's counters and a checkpoint."""
        try:
            with self.env.begin(write=True) as txn:
                for path, entry in entries:
                    key = file_key(path)
                    txn.put(key, entry.pack(key, path), db=self.files)
                for path in deleted:
                    txn.delete(file_key(path), db=self.files)
                if checkpoint is not None:
                    txn.put(checkpoint["id"].encode(), json.dumps(checkpoint).encode(),
                            db=self.checkpoints)  # fmt: skip
                    run["checkpoints_total"] = run.get("checkpoints_total", 0) + 1
                    run["latest_checkpoint"] = checkpoint
                self._put_run(txn, run)
                txn.put(b"sink_run", run["id"].encode(), db=self.meta)
        except lmdb.Error as exc:
            raise StoreError(f"checkpoint store {self.path}: commit failed ({exc})") from exc


class Lookups:
    """File entries read through a read transaction that is renewed every half second, and
    released while its owner waits: an LMDB reader pins the pages of its snapshot, so one left
    open through a long run makes every commit grow the file instead of reusing pages."""

    RENEW_S = 0.5

    def __init__(self, store: CheckpointStore) -> None:
        self.store = store
        self._txn: lmdb.Transaction | None = None
        self._opened = 0.0
        self._count = 0

    def get_raw(self, key: bytes) -> bytes | None:
        self._count += 1
        if self._txn is None or (
            not self._count & 255 and time.monotonic() - self._opened > self.RENEW_S
        ):
            self.release()
            self._txn = self.store.reader()
            self._opened = time.monotonic()
        return self._txn.get(key, db=self.store.files)  # type: ignore[return-value]  # buffers=False

    def release(self) -> None:
        if self._txn is not None:
            self._txn.abort()
            self._txn = None


def entry_for(result: FileResult, run_id: str, batch: int, version: int) -> FileEntry:
    return FileEntry(result.size_bytes, result.mtime_ns, stored_hash(result), result.status,
                     batch, version, run_id, result.language)  # fmt: skip


def stored_hash(result: FileResult) -> str | None:
    """The hash an entry keeps: the content's, or for a file not read (a link not followed)
    a hash of why, so that a new reason (the link now leads out of the repository) rewrites
    its row though its stat is the same."""
    if result.content_hash is not None or result.error is None:
        return result.content_hash
    why = f"{result.error_category}\0{result.error}".encode("utf-8", "surrogateescape")
    return hashlib.sha1(why, usedforsecurity=False).hexdigest()


class Checkpointer:
    """Buffers the entries of written batches and commits them as checkpoints: every
    ``checkpoint_frequency`` batches and at least every ``checkpoint_interval_s`` seconds."""

    def __init__(
        self, store: CheckpointStore, run: dict[str, Any], config: Config, stats: RunStats
    ) -> None:
        self.store, self.run, self.stats = store, run, stats
        self.frequency, self.interval = config.checkpoint_frequency, config.checkpoint_interval_s
        self.pending: list[tuple[str, FileEntry]] = []
        self.batches_since = 0
        self.last_batch = int(run.get("last_batch", 0))
        self.offset = self.last_batch  # a resumed run numbers its batches on, after a kill too
        self.last_commit = time.monotonic()
        self.listeners: list[Callable[[dict[str, Any]], None]] = []

    def add(self, batch: int, results: list[FileResult], versions: Any) -> None:
        """Entries for a batch whose rows are already in every sink."""
        batch += self.offset
        with self.store.reader() as txn:
            for r in results:
                old = self.store.get(txn, r.path) if r.unchanged else None
                if old is not None:
                    entry = replace(old, size=r.size_bytes, mtime_ns=r.mtime_ns)
                else:
                    entry = entry_for(r, self.run["id"], batch, versions.version(r.language))
                self.pending.append((r.path, entry))
        self.last_batch = max(self.last_batch, batch)
        self.run["files_processed"] = self.run.get("files_processed", 0) + len(results)
        self.batches_since += 1
        due = self.frequency and self.batches_since >= self.frequency
        if due or time.monotonic() - self.last_commit >= self.interval:
            self.commit()

    def commit(self, deleted: list[str] | None = None) -> None:
        self.run["last_batch"] = self.last_batch
        self.run["counters"] = self.stats.counters()  # `status` shows them while a run goes on
        checkpoint = {
            "id": f"{self.run['id']}-{self.run.get('checkpoints_total', 0) + 1}",
            "batch_number": self.last_batch,
            "files_processed": self.run.get("files_processed", 0),
            "created_at": utc_now(),
        }
        self.store.commit(self.run, self.pending, deleted or [], checkpoint)
        self.pending, self.batches_since, self.last_commit = [], 0, time.monotonic()
        for listener in self.listeners:
            listener(checkpoint)

    def finish(self, state: str, touched: list[tuple[str, FileEntry]], deleted: list[str]) -> None:
        """The final checkpoint: what is left, stat-only updates, deletions and the state."""
        self.pending.extend(touched)
        self.run["state"] = state
        self.run["stopped_at"] = utc_now() if state != "running" else None
        self.commit(deleted)

    def summary(self) -> dict[str, Any]:
        return {"total": self.run.get("checkpoints_total", 0),
                "latest": self.run.get("latest_checkpoint")}  # fmt: skip
