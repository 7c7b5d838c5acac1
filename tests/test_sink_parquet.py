"""The Parquet sink, read back with DuckDB the way a user would."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from snake_pipe.errors import ConfigError, SinkError
from snake_pipe.parse.ast import decode_tree
from snake_pipe.records import FileResult, Import, ParseError, Symbol
from snake_pipe.sinks import open_sink
from snake_pipe.sinks.sqlite import SQLiteSink
from tests.conftest import PY_SAMPLE, run_cli, write_tree

pytest.importorskip("pyarrow", reason="the parquet extra is not installed")
duckdb = pytest.importorskip("duckdb", reason="duckdb (a test dependency) is not installed")

from snake_pipe.sinks import parquet  # noqa: E402 - after the extra is known to be there

DATASETS = ("files", "symbols", "imports", "parse_errors")
ORDER = {
    "files": "path",
    "symbols": "path, name, kind, start_line, end_line, scope",
    "imports": "path, module, line",
    "parse_errors": "path, kind, start_line, start_col, end_line, end_col",
    "nodes": "path, id",
}
TREE = {
    "v": 1, "types": ["module", "function_definition", "identifier", "def"],
    "fields": ["name"],
    "nodes": [[0, -1, -1, 1, 0, 12, 0, 0, 1, 0], [1, -1, 0, 1, 0, 11, 0, 0, 0, 11],
              [3, -1, 1, 0, 0, 3, 0, 0, 0, 3], [2, 0, 1, 1, 4, 5, 0, 4, 0, 5]],
}  # fmt: skip


def record(path: str, n_symbols: int = 3, *, ast: bool = False, tag: str = "") -> FileResult:
    return FileResult(
        path, "python", 100 + n_symbols, 1_700_000_000_000_000_000, f"hash{tag}", 10,
        "syntax_error", None, None, 1, 42, 1.5,
        symbols=[Symbol(f"f{i}{tag}", "function", i + 1, i + 2, "Outer" if i % 2 else None)
                 for i in range(n_symbols)],
        imports=[Import("os", 1), Import(f"pkg.mod{tag}", 2)],
        parse_errors=[ParseError("ERROR", 3, 1, 3, 4)],
        ast=json.dumps(TREE) if ast else None,
    )  # fmt: skip


def rows(root: Path, dataset: str, where: str = "") -> list[tuple[Any, ...]]:
    """What DuckDB reads from the dataset's plain part files."""
    sql = f"SELECT * FROM read_parquet('{root / dataset}/*.parquet') {where} ORDER BY {ORDER[dataset]}"
    return [tuple(r) for r in duckdb.connect().sql(sql).fetchall()]


def sqlite_rows(db: Path, table: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT * FROM {table} ORDER BY {ORDER[table]}").fetchall()


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "out"


@pytest.fixture
def sink(out: Path) -> Iterator[parquet.ParquetSink]:
    with parquet.ParquetSink(out) as opened:
        assert isinstance(opened, parquet.ParquetSink)
        yield opened


def test_empty_datasets_are_readable(sink: parquet.ParquetSink, out: Path) -> None:
    for name in DATASETS:
        assert rows(out, name) == []


def test_same_rows_as_sqlite(sink: parquet.ParquetSink, out: Path, tmp_path: Path) -> None:
    db = tmp_path / "records.sqlite"
    runs: list[list[tuple[list[FileResult], list[str]]]] = [
        [([record("a.py"), record("b.py", 0), record("c/d.py", 5),
           FileResult.skipped("logo.png", 12, 5, "binary", "skipped: a NUL byte"),
           FileResult.failed("bad.py", 7, 6, "decode", "failed: bytes", "python")], []),
         ([record("a.py", 2, tag="v2"), record("e.py", 1)], ["b.py"])],
        [([record("c/d.py", 1, tag="v3")], ["e.py", "never-there.py"])],
    ]  # fmt: skip
    with SQLiteSink(db) as lite:
        for number, batches in enumerate(runs):
            sink.begin_run(f"run{number}")
            for results, deleted in batches:
                lite.write(results, deleted)
                sink.write(results, deleted)
            sink.end_run(f"run{number}")
            for name in DATASETS:
                assert rows(out, name) == sqlite_rows(db, name), (number, name)
    assert sink.paths() == {"a.py", "c/d.py", "logo.png", "bad.py"}
    assert sink.last_run_id() == "run1"


def test_nodes_dataset(sink: parquet.ParquetSink, out: Path) -> None:
    with_text = dict(TREE, text=[None, None, "def", "f"])
    sink.write([record("a.py", ast=True), record("plain.py")])
    sink.write([FileResult("t.py", "python", 1, 1, ast=json.dumps(with_text))])
    sink.end_run("r")
    expected = [
        ("a.py", n["id"], None if n["parent"] < 0 else n["parent"], n["type"], n["field"],
         n["named"], n["start_byte"], n["end_byte"], n["start_row"], n["start_col"],
         n["end_row"], n["end_col"], None)
        for n in decode_tree(json.dumps(TREE))
    ]  # fmt: skip
    assert rows(out, "nodes", "WHERE path = 'a.py'") == expected
    assert [r[-1] for r in rows(out, "nodes", "WHERE path = 't.py'")] == [None, None, "def", "f"]
    sink.write([record("a.py")], ["t.py"])  # AST gone from a.py, t.py deleted
    sink.end_run("r2")
    assert rows(out, "nodes") == []


def test_incremental_run_leaves_no_stale_rows_and_keeps_big_untouched_files(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parquet, "ROWS_PER_FILE", 40)
    monkeypatch.setattr(parquet, "SMALL_FILE_ROWS", 10)
    monkeypatch.setattr(parquet, "ROW_GROUP_ROWS", 8)
    with parquet.ParquetSink(out) as sink:
        for start in range(0, 100, 25):
            sink.write([record(f"m{i:03d}.py", 2) for i in range(start, start + 25)])
        sink.end_run("r1")
    first = sorted(p.name for p in (out / "symbols").glob("*.parquet"))
    assert len(first) == 5  # 200 rows rolled into files of 40
    with parquet.ParquetSink(out) as sink:
        sink.write([record("m000.py", 1, tag="new"), record("z.py", 1)], ["m099.py"])
        sink.end_run("r2")
    second = sorted(p.name for p in (out / "symbols").glob("*.parquet"))
    assert len(set(first) & set(second)) == 3  # only the files holding m000 and m099 rewritten
    names = [r[1] for r in rows(out, "symbols", "WHERE path IN ('m000.py', 'm099.py', 'z.py')")]
    assert names == ["f0new", "f0"]
    assert len(rows(out, "symbols")) == 200 - 2 + 1 - 2 + 1
    assert len(rows(out, "files")) == 100


def test_touch_updates_stats_of_merged_and_staged_rows(
    sink: parquet.ParquetSink, out: Path
) -> None:
    sink.write([record("a.py"), record("b.py")])
    sink.end_run("r1")
    sink.touch([("a.py", 999, 123)])  # a merged row
    sink.write([record("b.py", tag="v2")])
    sink.touch([("b.py", 555, 5)])  # a row staged earlier in this run
    sink.touch([("c.py", 1, 1)])
    sink.write([record("c.py")])  # written after its touch: the write wins
    sink.end_run("r2")
    files = {r[0]: (r[2], r[3], r[4]) for r in rows(out, "files")}
    assert files == {"a.py": (999, 123, "hash"), "b.py": (555, 5, "hashv2"),
                     "c.py": (103, 1_700_000_000_000_000_000, "hash")}  # fmt: skip
    assert len(rows(out, "symbols")) == 9


def test_replayed_batch_leaves_one_copy(sink: parquet.ParquetSink, out: Path) -> None:
    batch = [record(f"m{i}.py", 4) for i in range(30)]
    sink.write(batch)
    sink.write(batch)
    sink.write(batch + batch[:3])  # a path twice in one batch
    sink.end_run("r1")
    sink.write(batch)
    sink.end_run("r2")
    assert len(rows(out, "symbols")) == 120
    assert len(rows(out, "files")) == 30


def test_batches_are_staged_at_once_and_merged_by_the_next_run_after_a_crash(
    out: Path,
) -> None:
    sink = parquet.ParquetSink(out)
    sink.begin_run("crashed")
    sink.write([record("a.py"), record("b.py")])
    sink.write([], ["b.py"])
    assert sink.paths() == {"a.py"}  # staged, not yet merged
    assert rows(out, "files") == []
    staged = list((out / "_staging").rglob("*.parquet"))
    assert any(p.name.endswith(".symbols.parquet") for p in staged)
    sink.close()  # the run dies before end_run

    # a batch cut off before its touched file was written counts for nothing
    session = next((out / "_staging").iterdir())
    write_tree(session, {"000099.files.parquet": "not even parquet"})
    with parquet.ParquetSink(out) as again:
        assert again.paths() == {"a.py"}
        again.begin_run("next")
        again.write([record("c.py")])
        again.end_run("next")
        assert again.paths() == {"a.py", "c.py"}
    assert [r[0] for r in rows(out, "files")] == ["a.py", "c.py"]
    assert not list((out / "_staging").iterdir())


def test_crash_while_publishing_is_finished_on_open(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with parquet.ParquetSink(out) as sink:
        sink.write([record("a.py", 2)])
        sink.end_run("r1")
        sink.write([record("a.py", 1, tag="v2"), record("b.py", 1)])

        def crash(self: parquet.ParquetSink) -> None:
            raise OSError(5, "simulated crash")

        monkeypatch.setattr(parquet.ParquetSink, "_roll_forward", crash)
        with pytest.raises(SinkError, match="merging the run failed"):
            sink.end_run("r2")
        monkeypatch.undo()
    assert (out / "_commit.json").exists()
    with parquet.ParquetSink(out) as again:
        assert not (out / "_commit.json").exists()
        assert again.paths() == {"a.py", "b.py"}
    assert [r[1] for r in rows(out, "symbols")] == ["f0v2", "f0"]


def test_one_writer_at_a_time(sink: parquet.ParquetSink, out: Path) -> None:
    with pytest.raises(SinkError, match="another snake-pipe run is writing here"):
        parquet.ParquetSink(out)


def test_unwritable_directory_is_a_sink_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SinkError, match="cannot open"):
        open_sink(f"parquet:{blocker}/sub")


def test_a_directory_of_other_files_is_refused(tmp_path: Path) -> None:
    """``parquet:.`` run in the repository: its records would hold the sink's own files, and
    a watch would never settle (each merge is a change to ingest, whose merge is a change)."""
    repo = write_tree(tmp_path / "repo", {"a.py": "def f():\n    pass\n"})
    for out in (repo, repo / "."):
        result = run_cli("ingest", repo, "--sink", f"parquet:{out}", "--store", tmp_path / "st")
        assert result.returncode == 2
        assert result.stderr == (f"snake-pipe: error: --sink parquet:{out}: holds other files "
                                 "and no snake-pipe Parquet datasets: pass a new or empty "
                                 "directory\n")  # fmt: skip
    assert [p.name for p in repo.iterdir()] == ["a.py"]
    (tmp_path / "empty").mkdir()
    for _ in range(2):  # an empty directory is taken, and then it is the sink's own
        with parquet.ParquetSink(tmp_path / "empty") as sink:
            sink.write([record("a.py")])
            sink.end_run("r")
    assert [r[0] for r in rows(tmp_path / "empty", "files")] == ["a.py"]


def test_a_path_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    out = Path(os.fsdecode(os.fsencode(tmp_path) + b"/lake-\xff"))
    with pytest.raises(ConfigError) as raised:
        parquet.ParquetSink(out)
    assert str(raised.value) == (f"--sink parquet:{out}: the path is not valid UTF-8, which "
                                 "Arrow cannot open: pass one that is")  # fmt: skip
    assert not out.exists()


def caught_up(out: Path) -> bool:
    try:  # a part file may go between listing and reading it, as a merge publishes
        return [r[0] for r in rows(out, "files")] == ["a.py"]
    except (OSError, duckdb.Error):
        return False


def test_a_directory_deleted_under_watch_ends_it_and_a_restart_rebuilds_it(
    tmp_path: Path,
) -> None:
    """As for SQLite: the checkpoint store would vouch for rows that went with the directory
    (a write recreates only part of it, without the lock: a second writer could start)."""
    repo = write_tree(tmp_path / "repo", {"a.py": "def a():\n    pass\n"})
    out, store = tmp_path / "lake", tmp_path / "store"
    args = [str(repo), "--store", str(store), "--sink", f"parquet:{out}", "--workers", "1"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNAKE_PIPE_")}
    proc = subprocess.Popen([sys.executable, "-m", "snake_pipe", "watch", *args, "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=env)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not caught_up(out):
            assert time.monotonic() < deadline and proc.poll() is None, "no catch-up"
            time.sleep(0.05)
        shutil.rmtree(out)
        (repo / "b.py").write_text("def b():\n    pass\n")
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 1 and "Traceback" not in err
    assert err.strip().splitlines()[-1] == (
        f"snake-pipe: error: parquet:{out}: the directory was deleted or replaced while "
        "watched: start snake-pipe watch again to rebuild it"
    )
    again = run_cli("ingest", *args, "--quiet")
    assert again.returncode == 0, again.stderr
    assert [r[0] for r in rows(out, "files")] == ["a.py", "b.py"]


def test_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "pyarrow" or m.startswith("pyarrow.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.delitem(sys.modules, "snake_pipe.sinks.parquet")
    with pytest.raises(ConfigError, match=r"pip install 'snake-pipe\[parquet\]'"):
        open_sink("parquet:/nonexistent/x")


def test_cli_ingests_into_parquet_and_removes_stale_rows(tmp_path: Path) -> None:
    repo = write_tree(
        tmp_path / "repo", {"pkg/mod.py": PY_SAMPLE, "old.py": "def f():\n    pass\n"}
    )
    out = tmp_path / "pq"
    first = run_cli("ingest", repo, "--sink", f"parquet:{out}", "--workers", "1", "--ast")
    assert first.returncode == 0, first.stderr
    assert {r[0] for r in rows(out, "files")} == {"pkg/mod.py", "old.py"}
    assert ("pkg/mod.py", "Widget") in [r[:2] for r in rows(out, "symbols")]
    assert {r[0] for r in rows(out, "nodes")} == {"pkg/mod.py", "old.py"}
    (repo / "old.py").unlink()
    second = run_cli("ingest", repo, "--sink", f"parquet:{out}", "--workers", "1", "--ast")
    assert second.returncode == 0, second.stderr
    for name in (*DATASETS, "nodes"):
        assert "old.py" not in {r[0] for r in rows(out, name)}, name
    assert {r[0] for r in rows(out, "files")} == {"pkg/mod.py"}
