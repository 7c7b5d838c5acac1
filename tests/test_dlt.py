"""The dlt source, loading into a real DuckDB database in tmp_path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from snake_pipe import ConfigError
from tests.conftest import PY_SAMPLE, write_tree

dlt = pytest.importorskip("dlt", reason="dlt is not installed: pip install 'snake-pipe[dlt]'")
duckdb = pytest.importorskip("duckdb", reason="the DuckDB destination: pip install 'dlt[duckdb]'")

from dlt.pipeline.exceptions import PipelineStepFailed  # noqa: E402

from snake_pipe.dlt_source import repository  # noqa: E402


@pytest.fixture(autouse=True)
def dlt_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """dlt's config, state and telemetry stay in tmp_path."""
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt-data"))
    monkeypatch.setenv("DLT_PROJECT_DIR", str(tmp_path / "dlt-project"))
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")


def load(tmp_path: Path, source: Any) -> Path:
    db = tmp_path / "warehouse.duckdb"
    pipeline = dlt.pipeline(
        pipeline_name="code", destination=dlt.destinations.duckdb(str(db)),
        dataset_name="code", pipelines_dir=str(tmp_path / "pipelines"),
    )  # fmt: skip
    pipeline.run(source)
    return db


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_records_load_into_duckdb_with_nested_tables(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", {"pkg/mod.py": PY_SAMPLE, "broken.py": "def f(:\n"})
    db = load(tmp_path, repository(repo, workers=2))
    assert query(db, "SELECT path, language, status FROM code.files ORDER BY path") == [
        ("broken.py", "python", "syntax_error"), ("pkg/mod.py", "python", "ok"),
    ]  # fmt: skip
    symbols = query(db, "SELECT s.name, s.kind, s.scope FROM code.files f "
                        "JOIN code.files__symbols s ON s._dlt_parent_id = f._dlt_id "
                        "WHERE f.path = 'pkg/mod.py' ORDER BY s.start_line")  # fmt: skip
    assert symbols[:3] == [("LIMIT", "constant", None), ("top", "function", None),
                           ("Widget", "class", None)]  # fmt: skip
    assert query(db, "SELECT count(*) FROM code.files__imports")[0][0] == 2
    assert query(db, "SELECT count(*) FROM code.files__parse_errors")[0][0] >= 1
    # a second run without a store replaces the table
    (repo / "broken.py").unlink()
    load(tmp_path, repository(repo, workers=2))
    assert query(db, "SELECT path FROM code.files") == [("pkg/mod.py",)]


def test_incremental_loads_merge_changes_and_delete_removed_files(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", {"a.py": "def a():\n    pass\n", "b.py": "import os\n",
                                          "c.py": "x = 1\n"})  # fmt: skip
    store = tmp_path / "store"
    db = load(tmp_path, repository(repo, store=store, workers=2))
    assert query(db, "SELECT path FROM code.files ORDER BY path") == [("a.py",), ("b.py",),
                                                                      ("c.py",)]  # fmt: skip
    (repo / "a.py").write_text("def a():\n    pass\n\ndef a2():\n    pass\n")
    (repo / "b.py").unlink()
    load(tmp_path, repository(repo, store=store, workers=2))
    assert query(db, "SELECT path FROM code.files ORDER BY path") == [("a.py",), ("c.py",)]
    names = query(db, "SELECT s.name FROM code.files f JOIN code.files__symbols s "
                      "ON s._dlt_parent_id = f._dlt_id WHERE f.path = 'a.py' ORDER BY 1")  # fmt: skip
    assert names == [("a",), ("a2",)]
    assert query(db, "SELECT count(*) FROM code.files__imports")[0][0] == 0  # b.py's went too
    # nothing changed: nothing loaded, nothing lost
    load(tmp_path, repository(repo, store=store, workers=2))
    assert query(db, "SELECT count(*) FROM code.files")[0][0] == 2


def test_invalid_options_raise_when_the_source_is_made(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        repository(tmp_path, workers=0)


def test_changes_whose_extract_dlt_lost_are_loaded_again(tmp_path: Path) -> None:
    """The store commits a batch once dlt has taken it; if dlt then loses its extract (it
    failed, or the process was killed before dlt saved it), the next run must not skip those
    changes: it loads every file again, replacing the tables (deletions included)."""
    repo = write_tree(tmp_path / "repo", {f"m{i:03d}.py": f"def f{i}():\n    pass\n"
                                          for i in range(60)})  # fmt: skip
    store = tmp_path / "store"
    pipeline = dlt.pipeline(
        pipeline_name="code", destination=dlt.destinations.duckdb(str(tmp_path / "w.duckdb")),
        dataset_name="code", pipelines_dir=str(tmp_path / "pipelines"),
    )  # fmt: skip

    def source() -> Any:
        return repository(repo, store=store, workers=1, batch_size=50)

    pipeline.run(source())
    write_tree(repo, {f"n{i:03d}.py": f"def g{i}():\n    pass\n" for i in range(60)})
    (repo / "m000.py").unlink()
    taken: list[Any] = []

    def dies_late(row: Any) -> Any:  # dlt's extract fails after the first batch was taken
        taken.append(row)
        if len(taken) == 55:
            raise RuntimeError("the loader died")
        return row

    with pytest.raises(PipelineStepFailed):
        pipeline.run(source().files.add_map(dies_late))
    pipeline.run(source())
    db = tmp_path / "w.duckdb"
    expected = sorted([f"m{i:03d}.py" for i in range(1, 60)] + [f"n{i:03d}.py" for i in range(60)])
    assert [p for (p,) in query(db, "SELECT path FROM code.files ORDER BY path")] == expected
    assert query(db, "SELECT count(*) FROM code.files__symbols")[0][0] == 119
    pipeline.run(source())  # in step again: nothing changed, nothing loaded
    assert pipeline.last_trace.last_normalize_info.row_counts.get("files", 0) == 0
