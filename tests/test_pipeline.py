"""End to end through the real CLI, on real files, with the real process pool."""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from snake_pipe.errors import SinkError
from snake_pipe.parse.ast import decode_tree
from snake_pipe.records import FileResult, Import, ParseError, Symbol
from snake_pipe.sinks.jsonl import JSONLSink
from tests.conftest import JS_SAMPLE, PY_SAMPLE, rows, run_cli, write_tree

REPORT_KEYS = {
    "processing_id", "status", "timing", "progress", "performance", "by_language",
}  # fmt: skip


def sample_repo(root: Path) -> Path:
    return write_tree(root, {
        "pkg/mod.py": PY_SAMPLE,
        "web/app.js": JS_SAMPLE,
        "broken.py": "def f(:\n    return (\n",
        "README.txt": "hello\n",
        "logo.png": b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
        "big.py": "x = 1\n" * 400,
        "run": "#!/usr/bin/env python3\ndef main():\n    pass\n",
        ".gitignore": "ignored/\n",
        "ignored/skip.py": "x = 1\n",
    })  # fmt: skip


def test_ingest_end_to_end(tmp_path: Path) -> None:
    repo = sample_repo(tmp_path / "repo")
    report_path = tmp_path / "report.json"
    result = run_cli(
        "ingest", repo, "--report", report_path, "--max-file-bytes", "2000", "--workers", "2"
    )
    assert result.returncode == 0, result.stderr
    db = repo / ".snake-pipe" / "records.sqlite"
    assert (repo / ".snake-pipe" / ".gitignore").read_text() == "*\n"
    for path in (repo / ".snake-pipe").rglob("*"):  # the store is its user's only
        assert path.stat().st_mode & 0o077 == 0, path
    files = {
        r[0]: r[1:] for r in rows(db, "SELECT path, language, status, error_category FROM files")
    }
    assert files == {
        ".gitignore": ("gitignore", "ok", None),
        "pkg/mod.py": ("python", "ok", None),
        "web/app.js": ("javascript", "ok", None),
        "broken.py": ("python", "syntax_error", None),
        "README.txt": (None, "skipped", "unsupported"),
        "logo.png": (None, "skipped", "binary"),
        "big.py": ("python", "skipped", "too_large"),
        "run": ("python", "ok", None),
    }
    symbols = rows(
        db,
        "SELECT name, kind, start_line, end_line, scope FROM symbols WHERE path = 'pkg/mod.py' ORDER BY start_line",
    )
    assert symbols == [
        ("LIMIT", "constant", 5, 5, None), ("top", "function", 9, 10, None),
        ("Widget", "class", 13, 20, None), ("__init__", "method", 14, 15, "Widget"),
        ("run", "method", 17, 20, "Widget"), ("helper", "function", 18, 19, "Widget.run"),
    ]  # fmt: skip
    assert rows(db, "SELECT module, line FROM imports WHERE path = 'pkg/mod.py'") == [
        ("os", 2),
        ("collections", 3),
    ]
    assert rows(db, "SELECT count(*) FROM parse_errors WHERE path = 'broken.py'")[0][0] >= 1
    err_count, status = rows(
        db, "SELECT syntax_error_count, status FROM files WHERE path='broken.py'"
    )[0]
    assert err_count >= 1 and status == "syntax_error"
    hash_, lines, nodes = rows(
        db, "SELECT content_hash, line_count, node_count FROM files WHERE path='pkg/mod.py'"
    )[0]
    assert len(hash_) == 40 and lines == PY_SAMPLE.count("\n") and nodes > 50
    report = json.loads(report_path.read_text())
    assert set(report) >= REPORT_KEYS and report["status"] == "completed"
    assert set(report["timing"]) == {"started_at", "completed_at", "duration_seconds"}
    assert report["progress"]["total_files"] == 8 == report["progress"]["processed_files"]
    assert report["progress"]["skipped_files"] == 3
    assert report["performance"]["peak_memory_mb"] > 10
    assert report["by_language"]["python"]["files"] == 4
    assert "total" in result.stderr  # the summary table


def test_reingest_replaces_rows_and_removes_deleted_files(tmp_path: Path) -> None:
    repo = sample_repo(tmp_path / "repo")
    db = repo / ".snake-pipe" / "records.sqlite"
    assert run_cli("ingest", repo, "--quiet").returncode == 0
    before = rows(db, "SELECT * FROM symbols ORDER BY path, start_line")
    assert run_cli("ingest", repo, "--quiet").returncode == 0
    assert rows(db, "SELECT * FROM symbols ORDER BY path, start_line") == before
    (repo / "web" / "app.js").unlink()
    (repo / "pkg" / "mod.py").write_text("def only():\n    pass\n")
    assert run_cli("ingest", repo, "--quiet").returncode == 0
    assert rows(db, "SELECT count(*) FROM files WHERE path = 'web/app.js'") == [(0,)]
    assert rows(db, "SELECT count(*) FROM symbols WHERE path = 'web/app.js'") == [(0,)]
    assert rows(db, "SELECT name FROM symbols WHERE path = 'pkg/mod.py'") == [("only",)]


def test_jsonl_feed_is_appended_by_the_run_it_holds_only(tmp_path: Path) -> None:
    """A resumed run appends (dropping a line a kill cut off); any other run rewrites."""
    feed = tmp_path / "feed.jsonl"
    sink = JSONLSink(feed)
    sink.begin_run("run-1")
    sink.write([FileResult("a.py", "python", 1, 1)])
    sink.close()
    with open(feed, "a") as f:
        f.write('{"op": "upsert", "pa')  # killed mid-line
    for run_id, expected in (("run-1", ["a.py", "b.py"]), ("run-2", ["b.py"])):
        sink = JSONLSink(feed)
        sink.begin_run(run_id)
        sink.write([FileResult("b.py", "python", 1, 1)])
        sink.close()
        assert [json.loads(line)["path"] for line in feed.read_text().splitlines()] == expected


def test_a_jsonl_write_cut_short_leaves_no_half_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk mid-write: the part written goes again, so the next batch's first line is
    not glued to half a line (and lost to every reader)."""
    import snake_pipe.sinks.jsonl as jsonl

    feed = tmp_path / "feed.jsonl"
    sink = JSONLSink(feed)
    sink.begin_run("run-1")
    sink.write([FileResult("a.py", "python", 1, 1)])
    real_write = os.write

    def disk_full(fd: int, data: bytes) -> int:
        real_write(fd, bytes(data)[:10])  # some bytes land, then the disk is full
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(jsonl.os, "write", disk_full)
    with pytest.raises(SinkError, match="write failed \\(No space left on device\\)"):
        sink.write([FileResult("b.py", "python", 1, 1)])
    monkeypatch.setattr(jsonl.os, "write", real_write)
    sink.write([FileResult("c.py", "python", 1, 1)])
    sink.close()
    assert [json.loads(line).get("path") for line in feed.read_text().splitlines()] == [
        "a.py", "c.py"
    ]  # fmt: skip


def test_jsonl_feed_says_when_a_run_writes_every_file(tmp_path: Path) -> None:
    """A reader applying the feeds in order must drop what it holds when a run writes every
    file again: paths gone meanwhile get no deletion then."""
    repo = write_tree(tmp_path / "repo", {"a.py": PY_SAMPLE, "b.js": JS_SAMPLE})
    out = tmp_path / "out.jsonl"

    def feed(*args: str) -> list[tuple[str, str | None]]:
        done = run_cli("ingest", repo, "--sink", "sqlite", "--sink", f"jsonl:{out}", *args)
        assert done.returncode == 0, done.stderr
        lines = [json.loads(line) for line in out.read_text().splitlines()]
        return [(d["op"], d.get("path")) for d in lines]

    assert feed() == [("reset", None), ("upsert", "a.py"), ("upsert", "b.js")]
    (repo / "a.py").unlink()
    assert feed() == [("delete", "a.py")]
    assert feed("--restart") == [("reset", None), ("upsert", "b.js")]
    (repo / ".snake-pipe" / "records.sqlite").unlink()  # out of step: rebuilt
    assert feed() == [("reset", None), ("upsert", "b.js")]


def test_jsonl_streams_to_stdout_a_fifo_or_a_device_leaving_them_as_they_are(
    tmp_path: Path,
) -> None:
    """`jsonl:-` is standard output (the summary goes to stderr); a FIFO or /dev/null is
    written as a stream: no .lock/.run beside it, its mode unchanged (a chmod 600 of /dev/null
    broke every other user of the machine)."""
    repo = write_tree(tmp_path / "repo", {"a.py": PY_SAMPLE, "b.js": JS_SAMPLE})
    piped = run_cli("ingest", repo, "--store", tmp_path / "s1", "--sink", "jsonl:-")
    assert piped.returncode == 0, piped.stderr
    lines = [json.loads(line) for line in piped.stdout.splitlines()]
    assert [(d["op"], d.get("path")) for d in lines] == [
        ("reset", None), ("upsert", "a.py"), ("upsert", "b.js")
    ]  # fmt: skip
    assert "2 files processed" in piped.stderr
    fifo = tmp_path / "feed"
    os.mkfifo(fifo, 0o644)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE, text=True)
    done = run_cli("ingest", repo, "--store", tmp_path / "s2", "--sink", f"jsonl:{fifo}", "--quiet")
    assert done.returncode == 0, done.stderr
    out, _ = reader.communicate(timeout=30)
    assert [json.loads(line)["op"] for line in out.splitlines()] == ["reset", "upsert", "upsert"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feed", "repo", "s1", "s2"]
    assert fifo.stat().st_mode & 0o777 == 0o644
    null_mode = os.stat("/dev/null").st_mode
    sink = JSONLSink("/dev/null")
    sink.begin_run("run-1")
    sink.write([FileResult("a.py", "python", 1, 1)])
    sink.close()
    assert os.stat("/dev/null").st_mode == null_mode
    assert not os.path.lexists("/dev/null.lock") and not os.path.lexists("/dev/null.run")
    # the report too: `-` and /dev/stdout are written in place, never replaced by a file
    stdout_link = os.path.islink("/dev/stdout")
    for target in ("-", "/dev/stdout"):
        store = tmp_path / f"s-{len(target)}"
        done = run_cli("ingest", repo, "--store", store, "--report", target, "--quiet")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["status"] == "completed"
    events = run_cli("ingest", repo, "--store", tmp_path / "s3", "--events", "-", "--quiet")
    assert events.returncode == 0, events.stderr
    assert "BatchExecuted" in {json.loads(line)["event"] for line in events.stdout.splitlines()}
    assert os.path.islink("/dev/stdout") == stdout_link


def test_jsonl_and_sqlite_sinks_together_with_ast(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", {"a.py": PY_SAMPLE, "b.js": JS_SAMPLE})
    out, db = tmp_path / "out.jsonl", tmp_path / "db.sqlite"
    result = run_cli(
        "ingest", repo, "--sink", f"jsonl:{out}", "--sink", f"sqlite:{db}", "--ast", "--quiet"
    )
    assert result.returncode == 0, result.stderr
    reset, *lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert reset == {"op": "reset"}  # a first run writes every file
    assert {d["path"] for d in lines} == {"a.py", "b.js"} and all(
        d["op"] == "upsert" for d in lines
    )
    a = next(d for d in lines if d["path"] == "a.py")
    assert {
        "name": "Widget",
        "kind": "class",
        "start_line": 13,
        "end_line": 20,
        "scope": None,
    } in a["symbols"]
    assert rows(db, "SELECT count(*) FROM files") == [(2,)]
    (tree,) = rows(db, "SELECT tree FROM ast WHERE path = 'a.py'")[0]
    nodes = decode_tree(str(tree))
    assert nodes[0]["type"] == "module" and nodes[0]["parent"] == -1
    assert any(n["type"] == "class_definition" for n in nodes)
    assert [n["text"] for n in nodes if n["type"] == "identifier"][:2] == ["os", "collections"]
    assert all(n["text"] is None for n in nodes if n["type"] == "class_definition")
    assert all(nodes[n["parent"]]["start_byte"] <= n["start_byte"] for n in nodes[1:])
    assert not (repo / ".snake-pipe" / "records.sqlite").exists()


def test_inline_executor_gives_same_rows(tmp_path: Path) -> None:
    repo = sample_repo(tmp_path / "repo")
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    assert run_cli("ingest", repo, "--sink", f"sqlite:{a}", "--quiet").returncode == 0
    assert (
        run_cli(
            "ingest", repo, "--sink", f"sqlite:{b}", "--quiet", "--executor", "inline"
        ).returncode
        == 0
    )
    for table in ("symbols", "imports", "parse_errors"):
        sql = f"SELECT * FROM {table} ORDER BY 1, 2, 3"
        assert rows(a, sql) == rows(b, sql)


def test_many_files_stream_in_batches(tmp_path: Path) -> None:
    files = {f"m{i:04d}/f.py": f"def f{i}():\n    return {i}\n" for i in range(1200)}
    repo = write_tree(tmp_path / "repo", files)
    report = tmp_path / "r.json"
    assert (
        run_cli("ingest", repo, "--quiet", "--batch-size", "100", "--report", report).returncode
        == 0
    )
    data = json.loads(report.read_text())
    assert data["progress"]["processed_files"] == 1200 and data["progress"]["total_batches"] == 12
    db = repo / ".snake-pipe" / "records.sqlite"
    assert rows(db, "SELECT count(*), count(DISTINCT path) FROM symbols") == [(1200, 1200)]


def test_events_file(tmp_path: Path) -> None:
    repo = sample_repo(tmp_path / "repo")
    events = tmp_path / "events.jsonl"
    assert run_cli("ingest", repo, "--quiet", "--events", events).returncode == 0
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    names = {line["event"] for line in lines}
    assert {"BatchExecuted", "CheckpointCreated", "ProgressUpdated"} <= names
    executed = [line for line in lines if line["event"] == "BatchExecuted"]
    assert sum(line["records"] for line in executed) == 8


def test_report_and_events_written_inside_the_repo_are_never_ingested(tmp_path: Path) -> None:
    repo = sample_repo(tmp_path / "repo")
    report, events = repo / "out" / "report.json", repo / "events.jsonl"
    (repo / "out").mkdir()
    for _ in range(2):
        done = run_cli("ingest", repo, "--quiet", "--report", report, "--events", events)
        assert done.returncode == 0, done.stderr
    assert report.exists() and events.exists()
    db = repo / ".snake-pipe" / "records.sqlite"
    assert rows(db, "SELECT path FROM files WHERE path LIKE '%.json%'") == []


def one_symbol(path: str, name: str) -> FileResult:
    return FileResult(path, "python", 1, 1, symbols=[Symbol(name, "function", 1, 2, None)])


def test_sqlite_first_load_builds_indexes_and_upserts_repeats(tmp_path: Path) -> None:
    """A fresh database loads without indexes; a path written again in the same session
    (a watch edit) still replaces its rows, and the indexes exist once the sink closes."""
    from snake_pipe.sinks.sqlite import INDEXES, SQLiteSink

    db = tmp_path / "records.sqlite"
    with SQLiteSink(db) as sink:
        sink.write([one_symbol("a.py", "f"), one_symbol("b.py", "g")])
        assert not sink.conn.execute("SELECT name FROM sqlite_master WHERE type='index' "
                                     "AND name NOT LIKE 'sqlite_%'").fetchall()  # fmt: skip
        sink.write([one_symbol("a.py", "h")])
        sink.write([one_symbol("c.py", "k")], deleted=["b.py"])
    with sqlite3.connect(db) as conn:
        assert sorted(conn.execute("SELECT path, name FROM symbols")) == [
            ("a.py", "h"),
            ("c.py", "k"),
        ]
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        assert set(INDEXES) <= indexes


def test_sqlite_batch_rows_arrive_whole_and_in_order(tmp_path: Path) -> None:
    """Child rows go in multi-row statements plus a remainder: every row lands once, in the
    order the parser gave, whatever the count."""
    from snake_pipe.records import Import, ParseError
    from snake_pipe.sinks.sqlite import ROWS_PER_INSERT, SQLiteSink

    counts = [0, 1, ROWS_PER_INSERT - 1, ROWS_PER_INSERT, 2 * ROWS_PER_INSERT + 7]
    results = [
        FileResult(
            f"f{n}.py",
            "python",
            1,
            1,
            status="syntax_error",
            symbols=[Symbol(f"s{i}", "function", i + 1, i + 1, None) for i in range(n)],
            imports=[Import(f"m{i}", i + 1) for i in range(n // 2)],
            parse_errors=[ParseError("ERROR", i + 1, 1, i + 1, 2) for i in range(n // 3)],
        )
        for n in counts
    ]
    with SQLiteSink(tmp_path / "records.sqlite") as sink:
        sink.write(results)
        conn = sink.conn
        assert conn.execute("SELECT path, name FROM symbols ORDER BY rowid").fetchall() == [
            (r.path, s.name) for r in results for s in r.symbols
        ]
        assert conn.execute("SELECT path, module FROM imports ORDER BY rowid").fetchall() == [
            (r.path, i.module) for r in results for i in r.imports
        ]
        assert conn.execute("SELECT count(*) FROM parse_errors").fetchone()[0] == sum(
            n // 3 for n in counts
        )


def test_sqlite_indexes_built_when_the_walk_is_done_and_batches_still_arrive(
    tmp_path: Path,
) -> None:
    """The ingest builds indexes in the background while the parsers finish their last
    batches: those are written without waiting for it (into a side database while it runs,
    merged after), and a path written again still replaces its rows."""
    from snake_pipe.sinks.sqlite import INDEXES, SQLiteSink

    with SQLiteSink(tmp_path / "records.sqlite") as sink:
        sink.write([one_symbol("a.py", "f")])
        sink.scan_finished()
        sink.write([one_symbol("b.py", "g"), one_symbol("c.py", "k")])
        sink.write([one_symbol("a.py", "h")])  # a path it holds: merge, then an upsert
        assert not sink.late_path.exists()
        indexes = {r[0] for r in sink.conn.execute("SELECT name FROM sqlite_master")}
        assert set(INDEXES) <= indexes
        assert sorted(sink.conn.execute("SELECT path, name FROM symbols")) == [
            ("a.py", "h"),
            ("b.py", "g"),
            ("c.py", "k"),
        ]
        assert sink.file_count() == 3


def test_sqlite_side_database_left_by_a_kill_is_merged_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows written to the side database are durable: a kill before the merge leaves them for
    the next open, and a merge cut off after its commit (the file still there) is not done
    twice."""
    from snake_pipe.sinks.sqlite import SQLiteSink

    db = tmp_path / "records.sqlite"
    sink = SQLiteSink(db)
    sink.write([one_symbol("a.py", "f")])
    sink._late = late = sink._open_late()  # as while the index build runs
    sink.write([one_symbol("b.py", "g")])
    assert late.execute("SELECT path FROM files").fetchall() == [("b.py",)]
    late.close()  # as a kill would leave it: no merge
    sink.conn.close()
    sink._lock.close()
    assert sink.late_path.exists()

    def cannot_remove(self: Path, missing_ok: bool = False) -> None:
        raise PermissionError(f"cannot remove {self}")

    sink = SQLiteSink.__new__(SQLiteSink)  # opened with the merge's last step failing
    with monkeypatch.context() as patched:
        patched.setattr(Path, "unlink", cannot_remove)
        with pytest.raises(SinkError, match="cannot open the database"):
            sink.__init__(db)  # type: ignore[misc]
    assert sink.late_path.exists()
    sink.conn.close()
    with SQLiteSink(db) as again:
        assert not again.late_path.exists()
        assert sorted(again.conn.execute("SELECT path, name FROM symbols")) == [
            ("a.py", "f"),
            ("b.py", "g"),
        ]


def test_sqlite_index_build_failing_in_the_background_fails_the_next_call(
    tmp_path: Path,
) -> None:
    """An index the background build cannot create is a SinkError naming the database at the
    next call that needs the whole database, not a lost exception; the rows stay and the next
    end of the load retries."""
    from snake_pipe.sinks.sqlite import INDEXES, SQLiteSink

    with SQLiteSink(tmp_path / "records.sqlite") as sink:
        sink.write([one_symbol("a.py", "f")])
        sink.conn.execute("CREATE TABLE symbols_name (x)")  # takes an index's name
        sink.scan_finished()
        sink.write([one_symbol("b.py", "g")])  # to the side database, no wait for the build
        with pytest.raises(SinkError, match=r"records\.sqlite: creating indexes failed"):
            sink.file_count()
        sink.conn.execute("DROP TABLE symbols_name")
        assert sink.file_count() == 2
        assert sorted(sink.conn.execute("SELECT path, name FROM symbols")) == [
            ("a.py", "f"),
            ("b.py", "g"),
        ]
    with sqlite3.connect(tmp_path / "records.sqlite") as conn:
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert set(INDEXES) <= indexes


def test_sqlite_bulk_load_cut_off_goes_on_without_indexes(tmp_path: Path) -> None:
    """A database killed mid-load (rows, no indexes) is not indexed on open: the load goes on
    and its rows stay exact."""
    from snake_pipe.sinks.sqlite import INDEXES, SQLiteSink

    db = tmp_path / "records.sqlite"
    sink = SQLiteSink(db)
    sink.write([one_symbol("a.py", "f")])
    sink.conn.close()  # as a kill would leave it: no indexes yet
    sink._lock.close()
    with SQLiteSink(db) as sink:
        assert sink._bulk == {"a.py"}
        sink.write([one_symbol("b.py", "g")])
        assert sink._bulk is not None  # a new path: still loading
        sink.write([one_symbol("a.py", "h")])  # a path it holds: indexes first, then an upsert
        assert sink._bulk is None
    with sqlite3.connect(db) as conn:
        assert sorted(conn.execute("SELECT path, name FROM symbols")) == [
            ("a.py", "h"),
            ("b.py", "g"),
        ]
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        assert set(INDEXES) <= indexes


def test_a_result_crosses_processes_whole() -> None:
    """Results are pickled with plain tuples for rows: every field must come back, rows as
    the named tuples the sinks and the API read by attribute."""
    result = FileResult(
        "a/b.py", "python", 10, 20, "hash", 3, "syntax_error", "cat", "msg", 1, 99, 1.5,
        [Symbol("f", "function", 1, 2, "C")], [Import("os", 1)],
        [ParseError("MISSING", 1, 2, 3, 4)], "[]", True, True, {"plugin": [1]},
    )  # fmt: skip
    assert all(  # no field left at its default, so a field the pickling forgets shows
        getattr(result, f.name) != f.default for f in dataclasses.fields(FileResult)
    )
    back = pickle.loads(pickle.dumps(result))
    assert back == result
    assert back.symbols[0].name == "f" and back.imports[0].module == "os"
    assert back.parse_errors[0].kind == "MISSING"


def test_runs_give_the_callers_collector_thresholds_back() -> None:
    import gc

    from snake_pipe.pipeline import fewer_collections

    before = gc.get_threshold()
    with fewer_collections(), fewer_collections():  # two runs open in one process
        assert gc.get_threshold()[0] >= 50_000
    assert gc.get_threshold() == before


def test_a_closed_stderr_pipe_does_not_fail_a_finished_ingest(tmp_path: Path) -> None:
    """The summary table goes to stderr last: a reader gone by then must not turn a completed
    run into exit 1 (rich's own console would end the process on the broken pipe)."""
    repo = tmp_path / "repo"
    write_tree(repo, {"a.py": "def a():\n    pass\n"})
    read_end, write_end = os.pipe()
    os.close(read_end)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNAKE_PIPE_")}
    result = subprocess.run(
        [sys.executable, "-m", "snake_pipe", "ingest", str(repo), "--report", str(tmp_path / "r.json")],
        stderr=write_end, env=env, timeout=120,
    )  # fmt: skip
    os.close(write_end)
    assert result.returncode == 0
    assert json.loads((tmp_path / "r.json").read_text())["status"] == "completed"
