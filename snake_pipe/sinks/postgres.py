"""PostgreSQL: the SQLite sink's schema on a server, for many readers and big repositories.

One batch is one transaction: every row of the batch's paths is deleted, then the new rows
are streamed in with COPY (no bind parameters, so no 65,535-parameter limit). Replaying a
batch after a crash, or after a commit whose answer was lost, leaves exactly one copy of each
row. A transaction-scoped advisory lock serializes the batches of concurrent writers to the
same schema, so two runs cannot interleave a delete and a copy of the same path.

Connection and operational errors (server restart, failover, dropped connection, serialization
failure) are retried with exponential backoff and full jitter; the pool replaces broken
connections. Credentials come from the URI or libpq's environment (``PGPASSWORD``,
``PGPASSFILE``...) and never appear in a message: passwords are masked.

Tables go to the first schema of the search path; to pick one, add libpq's
``?options=-csearch_path%3DNAME`` to the URI (the schema must exist).
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from psycopg import conninfo as pg_conninfo
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolClosed

from snake_pipe.errors import SinkError
from snake_pipe.parse.ast import FORMAT_VERSION as AST_FORMAT
from snake_pipe.records import FileResult
from snake_pipe.sinks import mask_uri
from snake_pipe.sinks.base import Sink
from snake_pipe.sinks.sqlite import CHILD_TABLES, EXTRA_TABLE, FILE_COLUMNS, file_row

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3
MAX_RETRIES = 6  # attempts after the first: about 6 s of backoff in all, enough for a restart
RETRY_BUDGET_S = 30.0  # and no retry starts later than this after the first attempt
BACKOFF_BASE = 0.1  # seconds before the first retry (before jitter)
BACKOFF_CAP = 5.0  # no single wait is longer
CONNECT_TIMEOUT = 10  # seconds for libpq to connect, unless the URI says otherwise
POOL_TIMEOUT = 10.0  # seconds to wait for a pooled connection before counting a failure
POOL_MAX = 4
LOCK_KEY = 0x5A4B  # with hashtext(current_schema()): one writer per schema at a time
T = TypeVar("T")
# libpq gives no SQLSTATE for a refused connection, so these are told by their message.
PERMANENT_HINTS = ("authentication failed", "does not exist", "no pg_hba.conf entry",
                   "no password supplied", "permission denied")  # fmt: skip

# Paths, names and modules compare bytewise (COLLATE "C"), as in SQLite: the order code wants,
# and indexes that build faster than under a locale's rules.
# Names and modules are looked up by equality through hash indexes: a btree refuses a row over
# about 2,700 bytes, and a base64 `data:` URL import or a generated name can be longer.
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS files (
        path TEXT COLLATE "C" PRIMARY KEY, language TEXT COLLATE "C",
        size_bytes BIGINT NOT NULL, mtime_ns BIGINT NOT NULL, content_hash TEXT,
        line_count INTEGER, status TEXT COLLATE "C" NOT NULL, error_category TEXT, error TEXT,
        syntax_error_count INTEGER NOT NULL, node_count INTEGER NOT NULL,
        parse_ms DOUBLE PRECISION NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS files_language ON files(language)",
    "CREATE INDEX IF NOT EXISTS files_status ON files(status)",
    """CREATE TABLE IF NOT EXISTS symbols (
        path TEXT COLLATE "C" NOT NULL, name TEXT COLLATE "C" NOT NULL, kind TEXT NOT NULL,
        start_line INTEGER NOT NULL, end_line INTEGER NOT NULL, scope TEXT)""",
    "CREATE INDEX IF NOT EXISTS symbols_path ON symbols(path)",
    "CREATE INDEX IF NOT EXISTS symbols_name ON symbols USING hash (name)",
    """CREATE TABLE IF NOT EXISTS imports (
        path TEXT COLLATE "C" NOT NULL, module TEXT COLLATE "C" NOT NULL,
        line INTEGER NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS imports_path ON imports(path)",
    "CREATE INDEX IF NOT EXISTS imports_module ON imports USING hash (module)",
    """CREATE TABLE IF NOT EXISTS parse_errors (
        path TEXT COLLATE "C" NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('ERROR', 'MISSING')),
        start_line INTEGER NOT NULL, start_col INTEGER NOT NULL,
        end_line INTEGER NOT NULL, end_col INTEGER NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS parse_errors_path ON parse_errors(path)",
    """CREATE TABLE IF NOT EXISTS ast (
        path TEXT COLLATE "C" PRIMARY KEY, format INTEGER NOT NULL, tree TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS extra (
        path TEXT COLLATE "C" PRIMARY KEY, data JSONB NOT NULL)""",
)
TOUCH_SQL = (
    "UPDATE files SET size_bytes = s.size, mtime_ns = s.mtime "
    "FROM unnest(%s::text[], %s::bigint[], %s::bigint[]) AS s(path, size, mtime) "
    "WHERE files.path = s.path"
)
# from version -> statements that bring a schema of that version to the next one.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    # 2: paths, names and modules in byte order
    1: tuple(
        f"ALTER TABLE {table} "
        + ", ".join(f'ALTER COLUMN {column} TYPE TEXT COLLATE "C"' for column in columns)
        for table, columns in (
            ("files", ("path", "language", "status")), ("symbols", ("path", "name")),
            ("imports", ("path", "module")), ("parse_errors", ("path",)), ("ast", ("path",)),
            ("extra", ("path",)),
        )
    ),
    # 3: names and modules in hash indexes, which take values of any length
    2: (
        "DROP INDEX IF EXISTS symbols_name", "DROP INDEX IF EXISTS imports_module",
        "CREATE INDEX symbols_name ON symbols USING hash (name)",
        "CREATE INDEX imports_module ON imports USING hash (module)",
    ),
}  # fmt: skip

# table -> (columns, PostgreSQL types for binary COPY); binary skips the server's text parsing.
COPY_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "files": (FILE_COLUMNS, ("text", "text", "int8", "int8", "text", "int4", "text", "text",
                             "text", "int4", "int4", "float8")),
    "symbols": (("path", "name", "kind", "start_line", "end_line", "scope"),
                ("text", "text", "text", "int4", "int4", "text")),
    "imports": (("path", "module", "line"), ("text", "text", "int4")),
    "parse_errors": (("path", "kind", "start_line", "start_col", "end_line", "end_col"),
                     ("text", "text", "int4", "int4", "int4", "int4")),
    "ast": (("path", "format", "tree"), ("text", "int4", "text")),
    "extra": (("path", "data"), ("text", "jsonb")),
}  # fmt: skip


def backoff(attempt: int) -> float:
    """Full jitter: a uniform wait up to the capped exponential, so writers do not stampede."""
    return random.uniform(BACKOFF_BASE / 2, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt))


def text(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL; SQLite can. The rare NUL becomes U+FFFD."""
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", "\ufffd")
    if isinstance(value, Jsonb):  # nor can JSONB, anywhere in its keys or values
        return Jsonb(text(value.obj))
    if isinstance(value, dict):
        return {text(k): text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [text(v) for v in value]
    return value


def permanent(exc: psycopg.OperationalError) -> bool:
    """Errors that no retry can fix: bad credentials, a missing database or role, a program
    limit (class 54: an index row over btree's 2,704 bytes fails again with the same rows)."""
    if (exc.sqlstate or "").startswith("54"):
        return True
    message = str(exc)
    return any(hint in message for hint in PERMANENT_HINTS)


class PostgresSink(Sink):
    """Upserts by path into PostgreSQL; the schema is created or migrated on first use."""

    tracks_runs = True

    def __init__(self, uri: str) -> None:
        self.display = mask_uri(uri)
        self.retries = 0  # operational failures survived, for reports and tests
        self._secrets = secrets_of(uri)
        self._kwargs = connect_kwargs(uri)
        self._conninfo = uri
        self.pool: ConnectionPool[psycopg.Connection[tuple[Any, ...]]] | None = None
        self._retry("connecting", self._migrate, pooled=False)
        self.pool = ConnectionPool(
            uri, min_size=1, max_size=POOL_MAX, kwargs={**self._kwargs, "autocommit": True},
            check=ConnectionPool.check_connection, timeout=POOL_TIMEOUT,
            name="snake-pipe", open=False,
        )  # fmt: skip
        self.pool.open(wait=False)

    # -- connections and retries -------------------------------------------------------------

    @contextmanager
    def _connection(self, pooled: bool) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
        if pooled:
            if self.pool is None:
                raise SinkError(f"{self.display}: the sink is closed")
            with self.pool.connection() as conn:
                yield conn
        else:
            with psycopg.connect(self._conninfo, autocommit=True, **self._kwargs) as conn:
                yield conn

    def _retry(
        self, what: str, work: Callable[[psycopg.Connection[tuple[Any, ...]]], T],
        pooled: bool = True,
    ) -> T:  # fmt: skip
        """Run ``work`` in a fresh transaction until it commits or the retries run out."""
        attempt, started = 0, time.monotonic()
        while True:
            try:
                with self._connection(pooled) as conn:
                    return work(conn)
            except PoolClosed as exc:
                raise SinkError(f"{self.display}: {what} failed: the sink is closed") from exc
            except psycopg.OperationalError as exc:
                if permanent(exc):
                    raise SinkError(f"{self.display}: {what} failed ({self._scrub(exc)})") from exc
                delay = backoff(attempt)
                if attempt >= MAX_RETRIES or time.monotonic() + delay - started > RETRY_BUDGET_S:
                    raise SinkError(f"{self.display}: {what} failed after {attempt + 1} "
                                    f"attempts ({self._scrub(exc)})") from exc  # fmt: skip
                attempt += 1
                self.retries += 1
                log.warning("%s: %s failed (%s); retry %d/%d in %.2f s", self.display, what,
                            self._scrub(exc), attempt, MAX_RETRIES, delay)  # fmt: skip
                time.sleep(delay)
            except (psycopg.Error, UnicodeError) as exc:
                raise SinkError(f"{self.display}: {what} failed ({self._scrub(exc)})") from exc

    def _scrub(self, exc: BaseException) -> str:
        """The error's first line with every known password masked."""
        message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        for secret in self._secrets:
            message = message.replace(secret, "***")
        return message

    # -- schema --------------------------------------------------------------------------------

    def _migrate(self, conn: psycopg.Connection[tuple[Any, ...]]) -> None:
        with conn.transaction():
            lock(conn)
            for statement in SCHEMA:
                conn.execute(statement)
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = SCHEMA_VERSION if row is None else int(row[0])
            if version > SCHEMA_VERSION:
                raise SinkError(f"{self.display}: the schema is version {version}, newer than "
                                f"this snake-pipe ({SCHEMA_VERSION}): upgrade snake-pipe")  # fmt: skip
            while version < SCHEMA_VERSION:
                for statement in MIGRATIONS[version]:
                    conn.execute(statement)
                version += 1
            set_meta(conn, "schema_version", str(SCHEMA_VERSION))

    # -- the Sink interface --------------------------------------------------------------------

    def write(self, results: Sequence[FileResult], deleted: Sequence[str] = ()) -> None:
        latest = {r.path: r for r in results}  # a path twice in one batch: the last one wins
        touched = sorted(set(latest) | set(deleted))
        if touched:
            self._retry("writing a batch",
                        lambda conn: write_batch(conn, list(latest.values()), touched))  # fmt: skip

    def touch(self, stats: Sequence[tuple[str, int, int]]) -> None:
        """New size and mtime of files whose content did not change: one UPDATE, idempotent."""
        if stats:
            paths, sizes, mtimes = (list(col) for col in zip(*stats, strict=True))
            self._retry(
                "updating file stats", lambda conn: conn.execute(TOUCH_SQL, (paths, sizes, mtimes))
            )

    def begin_run(self, run_id: str) -> None:
        self._retry("recording the run", lambda conn: set_meta(conn, "run_id", run_id))

    def end_run(self, run_id: str) -> None:
        self._retry("recording the run", lambda conn: set_meta(conn, "completed_run_id", run_id))

    def last_run_id(self) -> str | None:
        """The run that last wrote here: compared with the checkpoint store to catch drift."""
        return self._retry("reading the last run", lambda conn: get_meta(conn, "run_id"))

    def paths(self) -> set[str]:
        return self._retry("reading paths", lambda conn: {
            row[0] for row in conn.execute("SELECT path FROM files")
        })  # fmt: skip

    def file_count(self) -> int:
        def count(conn: psycopg.Connection[tuple[Any, ...]]) -> int:
            row = conn.execute("SELECT count(*) FROM files").fetchone()
            return int(row[0]) if row else 0

        return self._retry("counting files", count)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None


def lock(conn: psycopg.Connection[tuple[Any, ...]]) -> None:
    """One writer per schema: released when the transaction ends, whatever its fate."""
    conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))", (LOCK_KEY,))


def write_batch(
    conn: psycopg.Connection[tuple[Any, ...]], results: list[FileResult], touched: list[str]
) -> None:
    """Delete then copy, in one transaction; a NUL in any text redoes it with NULs replaced."""
    try:
        copy_batch(conn, results, touched, clean=False)
    except psycopg.DataError as exc:
        if not any(nul in str(exc) for nul in ("0x00", "NUL", "\\u0000")):
            raise
        copy_batch(conn, results, touched, clean=True)


def copy_batch(
    conn: psycopg.Connection[tuple[Any, ...]], results: list[FileResult], touched: list[str],
    clean: bool,
) -> None:  # fmt: skip
    with conn.transaction(), conn.cursor() as cur:
        lock(conn)
        for table in (*CHILD_TABLES, EXTRA_TABLE, "files"):
            cur.execute(f"DELETE FROM {table} WHERE path = ANY(%s)", (touched,))
        for table, rows in table_rows(results):
            copy_rows(cur, table, (tuple(map(text, row)) for row in rows) if clean else rows)


def table_rows(results: list[FileResult]) -> Iterator[tuple[str, Iterable[tuple[Any, ...]]]]:
    """Each table's rows, as generators: a batch is never copied into a second list."""
    yield "files", (file_row(r) for r in results)
    yield "symbols", ((r.path, *s) for r in results for s in r.symbols)
    yield "imports", ((r.path, *i) for r in results for i in r.imports)
    yield "parse_errors", ((r.path, *e) for r in results for e in r.parse_errors)
    yield "ast", ((r.path, AST_FORMAT, r.ast) for r in results if r.ast)
    yield EXTRA_TABLE, ((r.path, Jsonb(r.extra)) for r in results if r.extra)


def copy_rows(
    cur: psycopg.Cursor[tuple[Any, ...]], table: str, rows: Iterable[tuple[Any, ...]]
) -> None:
    """Stream rows with binary COPY; nothing is sent for an empty table."""
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        return
    columns, types = COPY_COLUMNS[table]
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
    with cur.copy(sql) as copy:
        copy.set_types(types)
        copy.write_row(first)
        for row in iterator:
            copy.write_row(row)


def set_meta(conn: psycopg.Connection[tuple[Any, ...]], key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (%s, %s) "
        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        (key, value),
    )


def get_meta(conn: psycopg.Connection[tuple[Any, ...]], key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = %s", (key,)).fetchone()
    return None if row is None else str(row[0])


def connect_kwargs(uri: str) -> dict[str, Any]:
    """Defaults that the URI and libpq's environment can override."""
    try:
        given = pg_conninfo.conninfo_to_dict(uri)
    except psycopg.ProgrammingError as exc:
        raise SinkError(f"{mask_uri(uri)}: not a valid PostgreSQL URI") from exc
    kwargs: dict[str, Any] = {}
    if "connect_timeout" not in given and "PGCONNECT_TIMEOUT" not in os.environ:
        kwargs["connect_timeout"] = CONNECT_TIMEOUT
    if "application_name" not in given and "PGAPPNAME" not in os.environ:
        kwargs["application_name"] = "snake-pipe"
    return kwargs


def secrets_of(uri: str) -> list[str]:
    """Passwords that could surface in an error message, longest first."""
    found: set[str] = set()
    try:
        password = pg_conninfo.conninfo_to_dict(uri).get("password")
    except psycopg.ProgrammingError:
        password = None
    for value in (password, os.environ.get("PGPASSWORD")):
        if value:
            found.add(str(value))
    return sorted(found, key=len, reverse=True)
