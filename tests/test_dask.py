"""The Dask executor: a real LocalCluster, the real CLI, workers that share no disk and die."""

from __future__ import annotations

import importlib.util
import json
import logging
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from snake_pipe.errors import ConfigError
from snake_pipe.executors import check_executor, make_executor
from snake_pipe.parse.worker import TEST_HOOK_ENV
from snake_pipe.pipeline import ship_contents
from snake_pipe.records import FileResult, WorkItem
from tests.conftest import JS_SAMPLE, PY_SAMPLE, rows, run_cli, write_tree

needs_dask = pytest.mark.skipif(
    importlib.util.find_spec("distributed") is None,
    reason="Dask is not installed: pip install 'snake-pipe[dask]'",
)
# Workers that read no disk, with the fault injection of tests.faults.
HOOK = {TEST_HOOK_ENV: "tests.dask_worker_hook"}


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """``HOST:PORT`` of a LocalCluster of two worker processes, as ``dask-local`` makes."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0", silence_logs=logging.CRITICAL,
        scheduler_kwargs={"allowed_failures": 1}, env=HOOK,
    ) as cluster:  # fmt: skip
        yield cluster.scheduler_address.removeprefix("tcp://")


def sample_repo(root: Path) -> Path:
    files: dict[str, str | bytes] = {
        "pkg/mod.py": PY_SAMPLE,
        "web/app.js": JS_SAMPLE,
        "broken.py": "def f(:\n    return (\n",
        "README.txt": "hello\n",
        "logo.png": b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
        "big.py": "x = 1\n" * 400,
        "run": "#!/usr/bin/env python3\ndef main():\n    pass\n",
        "bom.py": b"\xef\xbb\xbfdef with_bom():\n    pass\n",
        "copy.py": PY_SAMPLE,
    }
    files.update(
        {f"m/f{i:03d}.py": f"import os\n\ndef f{i}():\n    return {i}\n" for i in range(120)}
    )
    return write_tree(root, files)


def all_rows(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table but the run ids of ``meta``, without the timing column ``parse_ms``."""
    tables = [t for (t,) in rows(db, "SELECT name FROM sqlite_master WHERE type = 'table'")]
    found = {}
    for table in tables:
        if table != "meta":
            cols = [c[1] for c in rows(db, f"PRAGMA table_info({table})") if c[1] != "parse_ms"]
            order = ", ".join(str(i + 1) for i in range(min(3, len(cols))))
            found[table] = rows(db, f"SELECT {', '.join(cols)} FROM {table} ORDER BY {order}")
    return found


def ingest(repo: Path, db: Path, *args: str, env: dict[str, str] | None = None) -> None:
    result = run_cli("ingest", repo, "--sink", f"sqlite:{db}", "--store", db.with_suffix(".store"),
                     "--quiet", "--workers", "2", *args, env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


@needs_dask
def test_dask_local_gives_the_rows_of_the_process_pool(tmp_path: Path) -> None:
    repo = sample_repo(tmp_path / "repo")
    pool, dask = tmp_path / "pool.sqlite", tmp_path / "dask.sqlite"
    ingest(repo, pool, "--max-file-bytes", "2000", "--ast")
    ingest(repo, dask, "--max-file-bytes", "2000", "--ast", "--executor", "dask-local", env=HOOK)
    expected, got = all_rows(pool), all_rows(dask)
    for table in expected:
        assert got[table] == expected[table], table
    assert len(expected["files"]) == 129 and len(expected["symbols"]) > 120
    assert rows(dask, "SELECT status, error_category FROM files WHERE path = 'big.py'") == [
        ("skipped", "too_large")
    ]


@needs_dask
def test_a_lost_worker_s_batch_is_rescheduled(tmp_path: Path, scheduler: str) -> None:
    flag = tmp_path / "died"
    repo = sample_repo(tmp_path / "repo")
    (repo / "m" / "f007.py").write_text(f"# SNAKE-PIPE-DIE-ONCE:{flag}\nx = 1\n")
    db, report = tmp_path / "dask.sqlite", tmp_path / "report.json"
    ingest(repo, db, "--executor", f"dask://{scheduler}", "--report", str(report))
    assert flag.exists()  # a worker did die
    assert rows(db, "SELECT status, count(*) FROM files GROUP BY 1") == [
        ("ok", 126), ("skipped", 2), ("syntax_error", 1)
    ]  # fmt: skip
    assert json.loads(report.read_text())["progress"]["retried_batches"] == 0  # Dask did it


@needs_dask
def test_a_file_that_kills_workers_fails_alone(tmp_path: Path, scheduler: str) -> None:
    repo = write_tree(tmp_path / "repo", {f"ok/m{i}.py": f"def f{i}():\n    return {i}\n"
                                          for i in range(12)})  # fmt: skip
    (repo / "bad.py").write_text("# SNAKE-PIPE-FAULT:oom\ndef f():\n    pass\n")
    db, report = tmp_path / "dask.sqlite", tmp_path / "report.json"
    ingest(repo, db, "--executor", f"dask://{scheduler}", "--report", str(report))
    assert rows(db, "SELECT path, status, error_category FROM files WHERE status != 'ok'") == [
        ("bad.py", "failed", "crash")
    ]
    assert rows(db, "SELECT count(*) FROM files WHERE status = 'ok'") == [(12,)]
    data = json.loads(report.read_text())
    assert data["status"] == "completed" and data["progress"]["retried_batches"] >= 2


@needs_dask
def test_an_unreachable_scheduler_is_a_one_line_config_error(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    repo = write_tree(tmp_path / "repo", {"a.py": "x = 1\n"})
    result = run_cli("ingest", repo, "--quiet", "--executor", f"dask://127.0.0.1:{port}",
                     env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "1s"})  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith(f"snake-pipe: error: --executor dask://127.0.0.1:{port}: ")
    assert "cannot reach the Dask scheduler" in result.stderr
    assert result.stderr.count("\n") == 1


@needs_dask
def test_a_cluster_without_workers_is_a_one_line_config_error(tmp_path: Path) -> None:
    from distributed import LocalCluster

    repo = write_tree(tmp_path / "repo", {"a.py": "x = 1\n"})
    with LocalCluster(n_workers=0, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0",
                      silence_logs=logging.CRITICAL) as cluster:  # fmt: skip
        address = cluster.scheduler_address.removeprefix("tcp://")
        result = run_cli("ingest", repo, "--quiet", "--executor", f"dask://{address}",
                         env={"SNAKE_PIPE_DASK_WORKER_WAIT_S": "1"})  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == (
        f"snake-pipe: error: --executor dask://{address}: the Dask scheduler at tcp://{address} "
        f"has no worker after 1 s (dask_worker_wait_s): start one (dask worker tcp://{address})\n"
    )


def test_executor_names_are_checked() -> None:
    assert check_executor("dask://scheduler.lan:8786") == "dask://scheduler.lan:8786"
    for bad in ("dask", "dask://host", "dask://:8786", "dask://host:http", "ray"):
        with pytest.raises(ConfigError, match="use process, inline, dask-local or dask://"):
            check_executor(bad)
    result = run_cli("ingest", ".", "--executor", "dask://nowhere")
    assert result.returncode == 2 and result.stderr.count("\n") == 1


def test_without_dask_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    monkeypatch.delitem(sys.modules, "snake_pipe.executors.dask", raising=False)
    with pytest.raises(ConfigError, match=r"pip install 'snake-pipe\[dask\]'"):
        make_executor("dask-local", 2)


def test_contents_are_read_here_as_a_worker_would(tmp_path: Path) -> None:
    small, big = tmp_path / "small.py", tmp_path / "big.py"
    small.write_text("x = 1\n")
    big.write_text("x = 1\n" * 100)
    items: list[WorkItem | FileResult] = [
        WorkItem("small.py", str(small), "python", 6, 0),
        WorkItem("big.py", str(big), "python", 600, 0),
        WorkItem("gone.py", str(tmp_path / "gone.py"), "python", 6, 0),
        FileResult.skipped("link", 0, 0, "symlink", "a symbolic link"),
    ]
    shipped = ship_contents(items, max_file_bytes=100)
    assert isinstance(shipped[0], WorkItem) and shipped[0].content == b"x = 1\n"
    assert isinstance(shipped[1], WorkItem) and shipped[1].content is None  # skipped by size
    assert isinstance(shipped[2], FileResult)
    assert (shipped[2].status, shipped[2].error_category) == ("failed", "read")
    assert shipped[2].error == "No such file or directory"
    assert shipped[3] is items[3]
