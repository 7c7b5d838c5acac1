"""The PostgreSQL sink against a real server, plus the sink URI schemes and plug-ins.

The server comes from tests/pg.py: $SNAKE_PIPE_TEST_PG, or one started here with pg_ctl.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from snake_pipe.errors import ConfigError, SinkError
from snake_pipe.records import FileResult, Import, ParseError, Symbol
from snake_pipe.sinks import check_uri, known_schemes, mask_uri, open_sink
from snake_pipe.sinks.sqlite import SQLiteSink
from tests.conftest import PY_SAMPLE, run_cli, write_tree

psycopg = pytest.importorskip("psycopg", reason="the postgres extra is not installed")
pytest.importorskip("psycopg_pool", reason="the postgres extra is not installed")

from snake_pipe.sinks import postgres  # noqa: E402 - after the extra is known to be there

pytest_plugins = ("tests.pg",)

if TYPE_CHECKING:
    from tests.pg import PgServer

TABLES = ("files", "symbols", "imports", "parse_errors", "ast")
ORDER = {
    "files": "path",
    "symbols": "path, name, kind, start_line, end_line, scope",
    "imports": "path, module, line",
    "parse_errors": "path, kind, start_line, start_col, end_line, end_col",
    "ast": "path",
}


def record(path: str, n_symbols: int = 3, *, ast: bool = False, tag: str = "") -> FileResult:
    """A file with every kind of child row; ``tag`` changes the content of a rewrite."""
    tree = json.dumps({"v": 1, "types": ["module"], "fields": [], "nodes": [[0, -1, -1, 1, 0, 9,
                                                                              0, 0, 0, 9]]})  # fmt: skip
    return FileResult(
        path, "python", 100 + n_symbols, 1_700_000_000_000_000_000, f"hash{tag}", 10,
        "syntax_error", None, None, 1, 42, 1.5,
        symbols=[Symbol(f"f{i}{tag}", "function", i + 1, i + 2, "Outer" if i % 2 else None)
                 for i in range(n_symbols)],
        imports=[Import("os", 1), Import(f"pkg.mod{tag}", 2)],
        parse_errors=[ParseError("ERROR", 3, 1, 3, 4), ParseError("MISSING", 5, 2, 5, 2)],
        ast=tree if ast else None,
    )  # fmt: skip


def pg_rows(dsn: str, table: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return [tuple(r) for r in conn.execute(f"SELECT * FROM {table} ORDER BY {ORDER[table]}")]


def pg_count(dsn: str, table: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert row is not None
        return int(row[0])


def sqlite_rows(db: Path, table: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT * FROM {table} ORDER BY {ORDER[table]}").fetchall()


@pytest.fixture
def sink(pg_dsn: str) -> Iterator[postgres.PostgresSink]:
    with postgres.PostgresSink(pg_dsn) as opened:
        assert isinstance(opened, postgres.PostgresSink)
        yield opened


# -- schema ----------------------------------------------------------------------------------------


def test_schema_mirrors_sqlite(sink: postgres.PostgresSink, pg_dsn: str, tmp_path: Path) -> None:
    lite = SQLiteSink(tmp_path / "r.sqlite")
    try:
        for table in (*TABLES, "meta"):
            with psycopg.connect(pg_dsn) as conn:
                pg_cols = [r[0] for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = current_schema() AND table_name = %s "
                    "ORDER BY ordinal_position", (table,))]  # fmt: skip
            lite_cols = [r[1] for r in lite.conn.execute(f"PRAGMA table_info({table})")]
            assert pg_cols == lite_cols, table
        with psycopg.connect(pg_dsn) as conn:
            indexes = {r[0] for r in conn.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")}  # fmt: skip
            version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        assert {"symbols_path", "symbols_name", "imports_path", "imports_module",
                "parse_errors_path", "files_language", "files_status"} <= indexes  # fmt: skip
        assert version == (str(postgres.SCHEMA_VERSION),)
    finally:
        lite.close()


def test_reopening_keeps_rows_and_refuses_newer_schema(sink: postgres.PostgresSink,
                                                       pg_dsn: str) -> None:  # fmt: skip
    sink.write([record("a.py")])
    with postgres.PostgresSink(pg_dsn) as again:
        assert again.paths() == {"a.py"}
    with psycopg.connect(pg_dsn) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(SinkError, match="newer than this snake-pipe"):
        postgres.PostgresSink(pg_dsn)


def test_a_version_1_schema_is_migrated_to_byte_order(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn) as conn:  # the first release's tables, in the locale's order
        for statement in postgres.SCHEMA:
            conn.execute(statement.replace(' COLLATE "C"', ""))
        conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    with postgres.PostgresSink(pg_dsn) as sink:
        sink.write([replace(record("b.py"), symbols=[Symbol("apple", "function", 1, 2, None),
                                                     Symbol("Zebra", "class", 3, 4, None)])])  # fmt: skip
    with psycopg.connect(pg_dsn) as conn:
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        collations = set(conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND collation_name = 'C'"))  # fmt: skip
        names = [r[0] for r in conn.execute("SELECT name FROM symbols ORDER BY name")]
    assert version == (str(postgres.SCHEMA_VERSION),)
    assert {("files", "path"), ("symbols", "name"), ("imports", "module"),
            ("parse_errors", "path")} <= collations  # fmt: skip
    assert names == ["Zebra", "apple"]  # bytes, as SQLite orders them
    assert hash_indexes(pg_dsn) == {"symbols_name", "imports_module"}


def hash_indexes(dsn: str) -> set[str]:
    with psycopg.connect(dsn) as conn:
        return {r[0] for r in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
            "AND indexdef LIKE '%USING hash%'")}  # fmt: skip


# -- writes ----------------------------------------------------------------------------------------


def test_same_rows_as_sqlite(sink: postgres.PostgresSink, pg_dsn: str, tmp_path: Path) -> None:
    db = tmp_path / "records.sqlite"
    batches: list[tuple[list[FileResult], list[str]]] = [
        ([record("a.py", ast=True), record("b.py", 0), record("c/d.py", 5),
          FileResult.skipped("logo.png", 12, 5, "binary", "skipped: a NUL byte"),
          FileResult.failed("bad.py", 7, 6, "decode", "failed: bytes", "python")], []),
        ([record("a.py", 2, tag="v2"), record("e.py", 1, ast=True)], ["b.py"]),
        ([], ["c/d.py", "never-there.py"]),
    ]  # fmt: skip
    with SQLiteSink(db) as lite:
        for results, deleted in batches:
            lite.write(results, deleted)
            sink.write(results, deleted)
    for table in TABLES:
        assert pg_rows(pg_dsn, table) == sqlite_rows(db, table), table
    assert sink.paths() == {"a.py", "e.py", "logo.png", "bad.py"}


def test_replayed_batch_leaves_one_copy(sink: postgres.PostgresSink, pg_dsn: str) -> None:
    batch = [record(f"m{i}.py", 4, ast=True) for i in range(50)]
    sink.write(batch)
    before = {t: pg_rows(pg_dsn, t) for t in TABLES}
    sink.write(batch)
    sink.write(batch + batch[:5])  # a path twice in one batch: still one copy
    assert {t: pg_rows(pg_dsn, t) for t in TABLES} == before
    assert pg_count(pg_dsn, "symbols") == 200


def test_rewrite_replaces_child_rows(sink: postgres.PostgresSink, pg_dsn: str) -> None:
    sink.write([record("a.py", 5, ast=True)])
    sink.write([record("a.py", 1, tag="new")])
    assert [r[1] for r in pg_rows(pg_dsn, "symbols")] == ["f0new"]
    assert pg_count(pg_dsn, "ast") == 0
    assert pg_rows(pg_dsn, "files")[0][4] == "hashnew"


def test_deletes_remove_every_row(sink: postgres.PostgresSink, pg_dsn: str) -> None:
    sink.write([record("keep.py", ast=True), record("gone.py", ast=True)])
    sink.write([], ["gone.py"])
    for table in TABLES:
        assert {r[0] for r in pg_rows(pg_dsn, table)} == {"keep.py"}, table
    assert sink.paths() == {"keep.py"}


def test_batch_beyond_bind_parameter_limit(sink: postgres.PostgresSink, pg_dsn: str) -> None:
    # 12 columns x 12,000 files and 6 x 30,000 symbols: far beyond 65,535 bind parameters.
    batch = [record(f"big/{i}.py", 0) for i in range(12_000)]
    batch[0].symbols = [Symbol(f"s{i}", "variable", i, i, None) for i in range(30_000)]
    sink.write(batch)
    assert pg_count(pg_dsn, "files") == 12_000
    assert pg_count(pg_dsn, "symbols") == 30_000
    sink.write(batch)
    assert pg_count(pg_dsn, "symbols") == 30_000


def test_nul_in_text_is_replaced_not_fatal(sink: postgres.PostgresSink, pg_dsn: str) -> None:
    bad = record("nul.py", 1)
    bad.symbols = [Symbol("a\x00b", "function", 1, 1, None)]
    sink.write([bad, record("ok.py")])
    assert ("nul.py", "a\ufffdb") in [r[:2] for r in pg_rows(pg_dsn, "symbols")]
    assert pg_count(pg_dsn, "files") == 2


def test_names_and_modules_of_any_length(sink: postgres.PostgresSink, pg_dsn: str) -> None:
    """A btree index refuses a row over about 2,700 bytes: names and modules are hashed."""
    long = record("long.js", 1)
    noise = base64.b64encode(os.urandom(15_000)).decode()  # random: no compression shrinks it
    long.symbols = [Symbol(noise[:10_000], "function", 1, 1, None)]
    long.imports = [Import("data:text/javascript;base64," + noise, 1)]
    sink.write([long])
    assert [len(r[1]) for r in pg_rows(pg_dsn, "symbols")] == [10_000]
    assert [len(r[1]) for r in pg_rows(pg_dsn, "imports")] == [20_028]
    assert hash_indexes(pg_dsn) == {"symbols_name", "imports_module"}


def test_touch_updates_stats_only(sink: postgres.PostgresSink, pg_dsn: str) -> None:
    sink.write([record("a.py")])
    sink.touch([("a.py", 999, 123), ("missing.py", 1, 1)])
    row = pg_rows(pg_dsn, "files")[0]
    assert (row[0], row[2], row[3], row[4]) == ("a.py", 999, 123, "hash")


def test_run_ids(sink: postgres.PostgresSink, pg_dsn: str) -> None:
    assert sink.last_run_id() is None
    sink.begin_run("run-1")
    assert sink.last_run_id() == "run-1"
    sink.end_run("run-1")
    with postgres.PostgresSink(pg_dsn) as again:
        assert again.last_run_id() == "run-1"


def test_concurrent_writers_leave_one_copy(pg_dsn: str) -> None:
    batch = [record(f"c{i}.py", 3) for i in range(200)]
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with postgres.PostgresSink(pg_dsn) as s:
                for _ in range(5):
                    s.write(batch)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert pg_count(pg_dsn, "files") == 200
    assert pg_count(pg_dsn, "symbols") == 600


# -- failures and retries ---------------------------------------------------------------------------


def test_killed_connections_are_replaced(sink: postgres.PostgresSink, pg_dsn: str) -> None:
    sink.write([record("a.py")])
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE application_name = 'snake-pipe' AND pid <> pg_backend_pid()")  # fmt: skip
    sink.write([record("b.py")])
    assert sink.paths() == {"a.py", "b.py"}


def test_connection_lost_mid_batch_is_retried(
    sink: postgres.PostgresSink, pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_lock = postgres.lock
    calls = []

    def dying_lock(conn: Any) -> None:
        real_lock(conn)
        calls.append(1)
        if len(calls) == 1:  # the first attempt loses its connection inside the transaction
            conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")

    monkeypatch.setattr(postgres, "lock", dying_lock)
    sink.write([record("a.py", 4)])
    assert sink.retries == 1 and len(calls) == 2
    assert pg_count(pg_dsn, "symbols") == 4


def test_server_restarted_mid_run(
    pg_own_server: PgServer, pg_own_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Down between batches: the pool waits it out. Down inside a batch: the batch is retried."""
    with postgres.PostgresSink(pg_own_dsn) as sink:
        sink.begin_run("r")
        sink.write([record(f"before{i}.py") for i in range(20)])
        pg_own_server.stop()
        restarter = threading.Timer(1.5, pg_own_server.start)
        restarter.start()
        started = time.monotonic()
        sink.write([record(f"between{i}.py") for i in range(20)])
        assert time.monotonic() - started >= 1.0
        restarter.join()

        real_lock, calls = postgres.lock, []

        def lock_then_restart(conn: Any) -> None:
            real_lock(conn)
            calls.append(1)
            if len(calls) == 1:
                pg_own_server.stop()  # terminates this very connection, mid-transaction
                threading.Timer(1.5, pg_own_server.start).start()

        monkeypatch.setattr(postgres, "lock", lock_then_restart)
        sink.write([record(f"inside{i}.py") for i in range(20)])
        assert sink.retries >= 1 and len(calls) == 2
        sink.end_run("r")
        assert len(sink.paths()) == 60
        assert sink.last_run_id() == "r"
    assert pg_count(pg_own_dsn, "symbols") == 180


def test_retries_run_out_with_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres, "MAX_RETRIES", 2)
    monkeypatch.setattr(postgres, "BACKOFF_BASE", 0.01)
    port = free_port()
    dsn = f"postgresql://someone:s3cr3t-pw@127.0.0.1:{port}/db?connect_timeout=2"
    with pytest.raises(SinkError) as info:
        postgres.PostgresSink(dsn)
    message = str(info.value)
    assert "after 3 attempts" in message and "s3cr3t-pw" not in message
    assert "postgresql://someone:***@127.0.0.1" in message


def test_bad_password_fails_at_once_and_stays_secret(pg_server: PgServer) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(pg_server.dsn)
    user = parts.username or "postgres"
    dsn = f"postgresql://{user}:Wrong-Secret-42@{parts.hostname}:{parts.port}{parts.path}"
    started = time.monotonic()
    with pytest.raises(SinkError) as info:
        open_sink(dsn)
    assert time.monotonic() - started < 5  # not retried: no retry can fix a password
    assert "Wrong-Secret-42" not in str(info.value)
    assert "authentication failed" in str(info.value)


def test_uri_with_password_is_masked(pg_server: PgServer) -> None:
    sink = open_sink(pg_server.dsn)
    try:
        password = pg_server.dsn.split("@")[0].rpartition(":")[2]
        if password and "//" not in password:
            assert password not in sink.uri
            assert ":***@" in sink.uri
    finally:
        sink.close()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- the CLI end to end ------------------------------------------------------------------------------


def test_cli_ingests_into_postgres_and_removes_stale_rows(pg_dsn: str, tmp_path: Path) -> None:
    repo = write_tree(
        tmp_path / "repo", {"pkg/mod.py": PY_SAMPLE, "old.py": "def f():\n    pass\n"}
    )
    first = run_cli("ingest", repo, "--sink", pg_dsn, "--workers", "1")
    assert first.returncode == 0, first.stderr
    assert {r[0] for r in pg_rows(pg_dsn, "files")} == {"pkg/mod.py", "old.py"}
    assert ("pkg/mod.py", "Widget") in [r[:2] for r in pg_rows(pg_dsn, "symbols")]
    (repo / "old.py").unlink()
    second = run_cli("ingest", repo, "--sink", pg_dsn, "--workers", "1")
    assert second.returncode == 0, second.stderr
    assert {r[0] for r in pg_rows(pg_dsn, "files")} == {"pkg/mod.py"}
    assert "old.py" not in {r[0] for r in pg_rows(pg_dsn, "symbols")}
    password = pg_dsn.split("@")[0].rpartition(":")[2]
    assert password not in first.stderr + second.stderr


# -- URI schemes, masking, extras and plug-ins (no server needed) -----------------------------------


@pytest.mark.parametrize("uri, shown", [
    ("postgresql://u:pw@h:5432/db", "postgresql://u:***@h:5432/db"),
    ("postgres://u@h/db", "postgres://u@h/db"),
    ("postgresql://h/db?password=pw&sslmode=require",
     "postgresql://h/db?password=***&sslmode=require"),
    ("sqlite:/tmp/x.sqlite", "sqlite:/tmp/x.sqlite"),
    ("s3://key:secret@bucket/x", "s3://key:***@bucket/x"),
])  # fmt: skip
def test_mask_uri(uri: str, shown: str) -> None:
    assert mask_uri(uri) == shown


def test_unknown_scheme_lists_known_ones() -> None:
    with pytest.raises(ConfigError) as info:
        check_uri("mysql://u:pw@h/db")
    message = str(info.value)
    for scheme in ("sqlite", "jsonl", "postgresql", "parquet"):
        assert scheme in message
    assert "pw" not in message.replace("postgresql", "")
    with pytest.raises(ConfigError, match="not a PostgreSQL URI"):
        check_uri("postgresql:relative")


def test_cli_unknown_scheme_is_one_line(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", {"a.py": "x = 1\n"})
    result = run_cli("ingest", repo, "--sink", "nosuch:thing")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "known schemes" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "psycopg" or m.startswith("psycopg.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now fails
    monkeypatch.delitem(sys.modules, "snake_pipe.sinks.postgres")
    with pytest.raises(ConfigError, match=r"pip install 'snake-pipe\[postgres\]'"):
        open_sink("postgresql://u@127.0.0.1:1/db")


PLUGIN = """
from snake_pipe.sinks.base import Sink

class MemorySink(Sink):
    written = []

    def __init__(self, rest):
        self.rest = rest

    def write(self, results, deleted=()):
        MemorySink.written.append((self.rest, [r.path for r in results], list(deleted)))
"""


def test_entry_point_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    write_tree(site, {
        "memsink_plugin.py": PLUGIN,
        "memsink-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: memsink\nVersion: 1.0\n",
        "memsink-1.0.dist-info/entry_points.txt":
            "[snake_pipe.sinks]\nmemory = memsink_plugin:MemorySink\n"
            "sqlite = memsink_plugin:MemorySink\n",
    })  # fmt: skip
    monkeypatch.syspath_prepend(str(site))
    assert "memory" in known_schemes()
    check_uri("memory:bucket/x")
    sink = open_sink("memory:bucket/x")
    sink.write([record("a.py")], ["b.py"])
    module = sys.modules["memsink_plugin"]
    assert module.MemorySink.written == [("bucket/x", ["a.py"], ["b.py"])]
    assert sink.uri == "memory:bucket/x"
    # a plug-in cannot take over a built-in scheme
    with open_sink(f"sqlite:{tmp_path / 'r.sqlite'}") as builtin:
        assert type(builtin).__name__ == "SQLiteSink"
