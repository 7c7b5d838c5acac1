"""The default sink: one SQLite database, one transaction per batch."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Sequence
from itertools import chain
from pathlib import Path

from snake_pipe.errors import ConfigError, SinkError, TransientSinkError
from snake_pipe.files import require_utf8
from snake_pipe.parse.ast import FORMAT_VERSION as AST_FORMAT
from snake_pipe.records import FileResult
from snake_pipe.sinks.base import Sink, writer_lock

SCHEMA_VERSION = 1
FILE_COLUMNS = (
    "path", "language", "size_bytes", "mtime_ns", "content_hash", "line_count", "status",
    "error_category", "error", "syntax_error_count", "node_count", "parse_ms",
)  # fmt: skip
ROWS_PER_INSERT = 50  # x 6 columns: well under SQLite's oldest limit of 999 parameters
CHILD_TABLES = ("symbols", "imports", "parse_errors", "ast")  # in every database sink
EXTRA_TABLE = "extra"  # plug-in fields (path, JSON object), in every database sink
UNKEYED_TABLES = ("symbols", "imports", "parse_errors")  # no primary key: many rows per path

TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, language TEXT, size_bytes INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    content_hash TEXT, line_count INTEGER, status TEXT NOT NULL, error_category TEXT, error TEXT,
    syntax_error_count INTEGER NOT NULL, node_count INTEGER NOT NULL, parse_ms REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS symbols (
    path TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, start_line INTEGER NOT NULL,
    end_line INTEGER NOT NULL, scope TEXT
);
CREATE TABLE IF NOT EXISTS imports (path TEXT NOT NULL, module TEXT NOT NULL, line INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS parse_errors (
    path TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('ERROR', 'MISSING')),
    start_line INTEGER NOT NULL, start_col INTEGER NOT NULL,
    end_line INTEGER NOT NULL, end_col INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ast (path TEXT PRIMARY KEY, format INTEGER NOT NULL, tree TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS extra (path TEXT PRIMARY KEY, data TEXT NOT NULL);
"""
# Secondary indexes: name -> definition. A first load into an empty database builds them once
# at the end (sorting is far cheaper than growing five B-trees row by row).
INDEXES = {
    "files_language": "files(language)",
    "files_status": "files(status)",
    "symbols_path": "symbols(path)",
    "symbols_name": "symbols(name)",
    "imports_path": "imports(path)",
    "imports_module": "imports(module)",
    "parse_errors_path": "parse_errors(path)",
}


class SQLiteSink(Sink):
    """Upserts by path: a file's old child rows are deleted in the batch that rewrites it.

    Into an empty database it bulk-loads: no secondary indexes until the walk ends
    (``scan_finished``, ``end_run`` or ``close``), and no deletes, since no row can exist yet.
    A load cut off by a kill goes on the same way when the database is opened again. Writing a
    path the database already holds, or deleting one, ends the bulk load first.

    ``scan_finished`` builds the indexes in a thread (SQLite lets go of the GIL), so the
    parsers' last batches overlap it. Batches written meanwhile go to a side database beside
    it (``records.sqlite-late``, no indexes), which the thread then merges in one statement
    per table: writes need not wait for the build, and a row costs its index entries in C,
    not in a statement per row. One that a kill left is merged when the database is next
    opened."""

    tracks_runs = True

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.late_path = self.path.with_name(self.path.name + "-late")
        self._late: sqlite3.Connection | None = None  # the side database, while loading
        self._indexing: threading.Thread | None = None
        self._indexing_error: SinkError | None = None
        self._late_lock = threading.Lock()  # the side database: its writes against its merge
        if self.path.is_dir():
            raise ConfigError(f"--sink sqlite:{path}: is a directory: pass a file name")
        require_utf8(str(self.path), f"--sink sqlite:{path}", "SQLite")
        if self.path.exists() and not self.path.is_file():  # no -lock or -wal made in /dev
            raise ConfigError(f"--sink sqlite:{path}: is not a regular file: pass a database "
                              "file's path")  # fmt: skip
        self._lock = writer_lock(self.path.with_name(self.path.name + "-lock"), f"sqlite:{path}")
        try:
            if _empty(self.path):  # a journal left by a deleted database would fail it
                for suffix in ("-wal", "-shm"):
                    self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)
            self.conn = connect(self.path)
            self._file_id = file_id(self.path)
            self.conn.execute("PRAGMA cache_size=-65536")  # 64 MiB: index pages stay in memory
            self.conn.executescript(TABLES)
            self.conn.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
            self._merge_late()  # a kill came between a write there and its merge
            indexes = {row[0] for row in self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index'")}  # fmt: skip
            empty = self.conn.execute("SELECT 1 FROM files LIMIT 1").fetchone() is None
            # Paths written so far while bulk-loading, None when not: a fresh database, or
            # one whose bulk load was cut off (killed), loads on without indexes.
            self._bulk: set[str] | None = None
            if empty or not set(INDEXES) <= indexes:
                self._bulk = {row[0] for row in self.conn.execute("SELECT path FROM files")}
                for name in INDEXES:
                    self.conn.execute(f"DROP INDEX IF EXISTS {name}")
        except (sqlite3.Error, OSError) as exc:
            self._lock.close()
            if "locked" in str(exc):
                fix = "another program holds a lock on it: rerun when it lets go"
            elif "readonly" in str(exc) or isinstance(exc, PermissionError):
                fix = "run as a user who may write it and its directory"
            else:
                fix = "move it away and rerun to write every file again"
            raise SinkError(f"sqlite:{self.path}: cannot open the database ({exc}): {fix}") from exc

    def _create_indexes(self) -> None:
        try:
            for name, definition in INDEXES.items():
                self.conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")
        except sqlite3.Error as exc:
            raise sink_error(f"sqlite:{self.path}: creating indexes failed ({exc})", exc) from exc

    def _build_indexes(self) -> None:
        """The background thread: indexes, then the side database's rows (written meanwhile)
        merged, so that they show while the parsers finish."""
        try:
            self._create_indexes()
            self._merge_late_locked()
        except SinkError as exc:
            self._indexing_error = exc

    def _settle(self) -> None:
        """Wait for the background thread; its failure is this call's."""
        if self._indexing is None:
            return
        self._indexing.join()
        self._indexing = None
        if (error := self._indexing_error) is not None:
            self._indexing_error = None  # the bulk load goes on; the next end retries
            raise error

    def _open_late(self) -> sqlite3.Connection:
        late = connect(self.late_path)
        # its token, recorded in the main database by the merge, makes a merge idempotent
        late.executescript(
            f"BEGIN; {TABLES} INSERT INTO meta VALUES ('token', '{uuid.uuid4().hex}'); COMMIT;"
        )
        return late

    def _merge_late(self) -> None:
        """Move the side database's rows into this one, in one transaction that records its
        token: a merge cut off after its commit (before the file went) is not done twice."""
        if self._late is not None:
            self._late.close()
            self._late = None
        if not self.late_path.exists():
            return
        conn = self.conn
        conn.execute("ATTACH DATABASE ? AS late", (str(self.late_path),))
        try:
            # no meta table or token: cut off while being created, so nothing was written there
            made = conn.execute("SELECT 1 FROM late.sqlite_master WHERE name = 'meta'").fetchone()
            token = (
                made and conn.execute("SELECT value FROM late.meta WHERE key = 'token'").fetchone()
            )
            merged = "SELECT 1 FROM meta WHERE key = 'late_merged' AND value = ?"
            if token and not conn.execute(merged, token).fetchone():
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for table in ("files", *CHILD_TABLES, EXTRA_TABLE):
                        verb = "INSERT" if table in UNKEYED_TABLES else "INSERT OR REPLACE"
                        conn.execute(f"{verb} INTO main.{table} SELECT * FROM late.{table}")
                    conn.execute("INSERT OR REPLACE INTO meta VALUES ('late_merged', ?)", token)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
        finally:
            conn.execute("DETACH DATABASE late")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.late_path}{suffix}").unlink(missing_ok=True)

    def _merge_late_locked(self) -> None:
        try:
            with self._late_lock:
                self._merge_late()
        except (sqlite3.Error, OSError) as exc:
            raise sink_error(
                f"sqlite:{self.path}: merging {self.late_path.name} failed ({exc})", exc
            ) from exc

    def _flush_late(self) -> None:
        """Every row in this database: the index build waited for, the side database merged."""
        self._settle()
        self._merge_late_locked()

    def _end_bulk(self) -> None:
        self._flush_late()
        if self._bulk is not None:
            self._create_indexes()  # a no-op after the background build
            self._bulk = None

    def write(self, results: Sequence[FileResult], deleted: Sequence[str] = ()) -> None:
        bulk = self._bulk
        if bulk is not None and (deleted or any(r.path in bulk for r in results)):
            self._end_bulk()
            bulk = None
        with self._late_lock:
            if self._late is not None:  # the index build runs: rows wait in the side database
                self._insert(self._late, self.late_path, results, [], bulk)
                return
        self._settle()
        self._insert(self.conn, self.path, results, deleted, bulk)

    def _insert(
        self, conn: sqlite3.Connection, where: Path, results: Sequence[FileResult],
        deleted: Sequence[str], bulk: set[str] | None,
    ) -> None:  # fmt: skip
        try:
            cur = conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            if bulk is None:
                gone = [(p,) for p in deleted]
                touched = [(r.path,) for r in results] + gone
                for table in (*CHILD_TABLES, EXTRA_TABLE):
                    cur.executemany(f"DELETE FROM {table} WHERE path = ?", touched)
                cur.executemany("DELETE FROM files WHERE path = ?", gone)
            insert_results(cur, results)
            cur.execute("COMMIT")
            if bulk is not None:
                bulk.update(r.path for r in results)
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise sink_error(f"sqlite:{where}: writing a batch failed ({exc})", exc) from exc

    def touch(self, stats: Sequence[tuple[str, int, int]]) -> None:
        self._settle()
        try:
            with self.conn:
                self.conn.executemany(
                    "UPDATE files SET size_bytes = ?, mtime_ns = ? WHERE path = ?",
                    [(size, mtime, path) for path, size, mtime in stats],
                )
        except sqlite3.Error as exc:
            raise sink_error(
                f"sqlite:{self.path}: updating file stats failed ({exc})", exc
            ) from exc

    def _set_meta(self, key: str, value: str) -> None:
        self._settle()
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def begin_run(self, run_id: str) -> None:
        self._set_meta("run_id", run_id)

    def end_run(self, run_id: str) -> None:
        self._end_bulk()
        self._set_meta("completed_run_id", run_id)

    def scan_finished(self) -> None:
        if self._bulk is not None and self._indexing is None:
            with contextlib.suppress(sqlite3.Error, OSError):  # else batches wait for the build
                self._late = self._late or self._open_late()
            self._indexing = threading.Thread(
                target=self._build_indexes, name="snake-pipe-sqlite-indexes", daemon=True
            )
            self._indexing.start()

    def last_run_id(self) -> str | None:
        self._settle()
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'run_id'").fetchone()
        return None if row is None else str(row[0])

    def paths(self) -> set[str]:
        self._flush_late()
        return {row[0] for row in self.conn.execute("SELECT path FROM files")}

    def file_count(self) -> int:
        self._flush_late()
        return int(self.conn.execute("SELECT count(*) FROM files").fetchone()[0])

    def missing(self) -> str | None:
        try:
            same = file_id(self.path) == self._file_id
        except OSError:
            same = False
        return None if same else f"sqlite:{self.path}: the database was deleted or replaced"

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(SinkError):  # else done when the database is next opened
                self._end_bulk()
            if self._late is not None:
                self._late.close()
            self.conn.close()
            self.conn = None  # type: ignore[assignment]
        self._lock.close()


def _empty(path: Path) -> bool:
    """No database here: none, or an empty file (a reader's connect creates one)."""
    try:
        return path.stat().st_size == 0
    except FileNotFoundError:
        return True


def file_id(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


def connect(path: Path) -> sqlite3.Connection:
    """In WAL mode, so readers do not block the writer; a file made here is its owner's only."""
    fresh = not path.exists()
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    if fresh:
        os.chmod(path, 0o600)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def sink_error(message: str, exc: sqlite3.Error | OSError) -> SinkError:
    """Locked or busy databases are worth a retry; a full disk or a corrupt file is not."""
    transient = isinstance(exc, sqlite3.OperationalError) and any(
        word in str(exc) for word in ("locked", "busy")
    )
    return TransientSinkError(message) if transient else SinkError(message)


def insert_results(cur: sqlite3.Cursor, results: Sequence[FileResult]) -> None:
    cur.executemany(
        f"INSERT OR REPLACE INTO files VALUES ({','.join('?' * len(FILE_COLUMNS))})",
        [file_row(r) for r in results],
    )
    insert_rows(cur, "symbols", [(r.path, *s) for r in results for s in r.symbols])
    insert_rows(cur, "imports", [(r.path, *i) for r in results for i in r.imports])
    insert_rows(cur, "parse_errors", [(r.path, *e) for r in results for e in r.parse_errors])
    cur.executemany(
        f"INSERT INTO ast VALUES (?,{AST_FORMAT},?)", [(r.path, r.ast) for r in results if r.ast]
    )
    cur.executemany(
        "INSERT INTO extra VALUES (?,?)",
        [(r.path, json.dumps(r.extra)) for r in results if r.extra],
    )


def insert_rows(cur: sqlite3.Cursor, table: str, rows: list[tuple[object, ...]]) -> None:
    """Rows in statements of ROWS_PER_INSERT: a third less CPU than one row per statement,
    since binding and stepping are paid per statement."""
    if not rows:
        return
    width = len(rows[0])
    values = "(" + ",".join("?" * width) + ")"
    whole = len(rows) - len(rows) % ROWS_PER_INSERT
    if whole:
        flat = list(chain.from_iterable(rows[:whole]))
        step = width * ROWS_PER_INSERT
        cur.executemany(
            f"INSERT INTO {table} VALUES {','.join([values] * ROWS_PER_INSERT)}",
            [flat[i : i + step] for i in range(0, len(flat), step)],
        )
    cur.executemany(f"INSERT INTO {table} VALUES {values}", rows[whole:])


def file_row(r: FileResult) -> tuple[object, ...]:
    return (
        r.path, r.language, r.size_bytes, r.mtime_ns, r.content_hash, r.line_count, r.status,
        r.error_category, r.error, r.syntax_error_count, r.node_count, r.parse_ms,
    )  # fmt: skip
