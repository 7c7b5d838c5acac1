"""Checkpoints, resume and incremental runs, through the real CLI and real LMDB."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import lmdb
import pytest

from snake_pipe.checkpoints import CheckpointStore
from snake_pipe.config import resolve_config
from snake_pipe.discover import Walker
from snake_pipe.incremental import Planner
from snake_pipe.sinks.jsonl import JSONLSink
from snake_pipe.sinks.sqlite import SQLiteSink
from tests.conftest import JS_SAMPLE, PY_SAMPLE, rows, run_cli, write_tree

TABLES = {
    "files": "SELECT path, language, size_bytes, content_hash, line_count, status, error_category, syntax_error_count, node_count FROM files",
    "symbols": "SELECT * FROM symbols",
    "imports": "SELECT * FROM imports",
    "parse_errors": "SELECT * FROM parse_errors",
}


def snapshot(db: Path) -> dict[str, list[tuple[object, ...]]]:
    return {name: sorted(rows(db, sql), key=repr) for name, sql in TABLES.items()}


def big_repo(root: Path, n: int = 2500) -> Path:
    files: dict[str, str | bytes] = {}
    for i in range(n):
        files[f"pkg{i % 40}/mod{i}.py"] = (
            PY_SAMPLE.replace("Widget", f"Widget{i}") + f"\nVALUE_{i} = {i}\n"
        )
        if i % 10 == 0:
            files[f"web{i % 7}/app{i}.js"] = JS_SAMPLE.replace("Reader", f"Reader{i}")
    return write_tree(root, files)


def delete_database(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def report_of(path: Path) -> dict[str, object]:
    return dict(json.loads(path.read_text()))


def ingest(repo: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    result = run_cli("ingest", repo, "--quiet", *args)
    assert result.returncode == 0, result.stderr
    return result


def test_unchanged_rerun_parses_nothing_and_reports_checkpoints(tmp_path: Path) -> None:
    repo = big_repo(tmp_path / "repo", 300)
    first, second = tmp_path / "1.json", tmp_path / "2.json"
    ingest(repo, "--report", first, "--batch-size", "50")
    r1 = report_of(first)
    assert r1["checkpoints"]["total"] >= 7  # type: ignore[index]
    latest = r1["checkpoints"]["latest"]  # type: ignore[index]
    assert set(latest) == {"id", "batch_number", "files_processed", "created_at"}
    assert latest["files_processed"] == 330
    ingest(repo, "--report", second)
    r2 = report_of(second)
    assert r2["progress"]["processed_files"] == 0  # type: ignore[index]
    assert r2["unchanged_files"] == 330


def test_incremental_modify_delete_rename_touch(tmp_path: Path) -> None:
    repo = big_repo(tmp_path / "repo", 200)
    ingest(repo)
    (repo / "pkg1" / "mod1.py").write_text("def changed():\n    pass\n")
    (repo / "pkg2" / "mod2.py").unlink()
    (repo / "pkg3" / "mod3.py").rename(repo / "pkg3" / "renamed.py")
    os.utime(repo / "pkg4" / "mod4.py", ns=(1, 1_000_000_000))  # touched, same content
    (repo / "new.py").write_text("class New:\n    pass\n")
    report = tmp_path / "r.json"
    ingest(repo, "--report", report)
    data = report_of(report)
    assert data["progress"]["processed_files"] == 3  # type: ignore[index]  # modified, renamed, new
    assert data["deleted_files"] == 2
    db = repo / ".snake-pipe" / "records.sqlite"
    clean = tmp_path / "clean.sqlite"
    ingest(repo, "--store", tmp_path / "clean-store", "--sink", f"sqlite:{clean}")
    assert snapshot(db) == snapshot(clean)
    mtime = rows(db, "SELECT mtime_ns FROM files WHERE path = 'pkg4/mod4.py'")[0][0]
    assert mtime == 1_000_000_000  # the touch is recorded without a re-parse


def test_paths_over_lmdbs_key_limit_are_checkpointed(tmp_path: Path) -> None:
    """LMDB refuses keys over 511 bytes: such a path (deep generated code) failed every run."""
    deep = "/".join(["d" * 120] * 4) + "/" + "é" * 60  # 544 bytes, sharing a 484-byte prefix
    repo = write_tree(tmp_path / "repo", {
        f"{deep}/a.py": "def a():\n    pass\n", f"{deep}/b.py": "def b():\n    pass\n",
        "short.py": "x = 1\n",
    })  # fmt: skip
    report = tmp_path / "r.json"
    ingest(repo, "--report", report)
    assert report_of(report)["progress"]["successful_files"] == 3  # type: ignore[index]
    ingest(repo, "--report", report)
    assert report_of(report)["unchanged_files"] == 3
    (repo / deep / "b.py").unlink()
    ingest(repo, "--report", report)
    assert report_of(report)["deleted_files"] == 1
    db = repo / ".snake-pipe" / "records.sqlite"
    assert rows(db, "SELECT path FROM files ORDER BY path") == [(f"{deep}/a.py",), ("short.py",)]
    with CheckpointStore(repo / ".snake-pipe" / "checkpoints.lmdb") as store:
        assert store.paths() == {f"{deep}/a.py", "short.py"}
        assert store.paths_under(deep) == [f"{deep}/a.py"]
        assert store.paths_under("d" * 120) == [f"{deep}/a.py"]
        assert store.paths_under(deep + "x") == []


def test_dedup_parses_identical_contents_once(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", {f"vendor{i}/lib.py": PY_SAMPLE for i in range(5)})
    report = tmp_path / "r.json"
    ingest(repo, "--report", report, "--workers", "1")
    assert report_of(report)["deduplicated_files"] == 4
    db = repo / ".snake-pipe" / "records.sqlite"
    assert rows(db, "SELECT count(DISTINCT path) FROM symbols WHERE name = 'Widget'") == [(5,)]


def test_settings_change_reparses_everything(tmp_path: Path) -> None:
    repo = big_repo(tmp_path / "repo", 50)
    ingest(repo)
    report = tmp_path / "r.json"
    ingest(repo, "--ast", "--report", report)
    assert report_of(report)["progress"]["processed_files"] == 55  # type: ignore[index]


def test_deleted_sqlite_is_rebuilt(tmp_path: Path) -> None:
    repo = big_repo(tmp_path / "repo", 50)
    ingest(repo)
    db = repo / ".snake-pipe" / "records.sqlite"
    before = snapshot(db)
    delete_database(db)
    result = run_cli("ingest", repo)
    assert result.returncode == 0 and "out of step with the checkpoint store" in result.stderr
    assert snapshot(db) == before


def test_discovery_settings_change_which_files_not_their_records(tmp_path: Path) -> None:
    """--exclude, --include, --no-ignore and --follow-symlinks change the set of files: the
    files both sets hold are not parsed again (--ast, which changes the records, is)."""
    repo = big_repo(tmp_path / "repo", 40)
    ingest(repo)
    report = tmp_path / "r.json"
    ingest(repo, "--exclude", "pkg1/", "--report", report)
    data = report_of(report)
    assert data["progress"]["processed_files"] == 0  # type: ignore[index]
    assert (data["unchanged_files"], data["deleted_files"]) == (43, 1)
    ingest(repo, "--follow-symlinks", "--no-ignore", "--report", report)
    assert report_of(report)["progress"]["processed_files"] == 1  # type: ignore[index]
    ingest(repo, "--ast", "--report", report)
    assert report_of(report)["progress"]["processed_files"] == 44  # type: ignore[index]


def test_a_link_not_followed_gets_its_new_reason_when_the_setting_changes(
    tmp_path: Path,
) -> None:
    repo = write_tree(tmp_path / "repo", {"a.py": PY_SAMPLE})
    (tmp_path / "outside.py").write_text("def outside():\n    pass\n")
    (repo / "out.py").symlink_to(tmp_path / "outside.py")
    db = repo / ".snake-pipe" / "records.sqlite"
    why = "SELECT status, error FROM files WHERE path = 'out.py'"
    ingest(repo)
    assert rows(db, why) == [("skipped", "symbolic link, not followed "
                              "(follow_symlinks = true follows links inside the repo)")]  # fmt: skip
    ingest(repo, "--follow-symlinks")
    assert rows(db, why) == [("skipped", "symbolic link out of the repository")]
    report = tmp_path / "r.json"
    ingest(repo, "--follow-symlinks", "--report", report)  # the same again: nothing to write
    assert report_of(report)["unchanged_files"] == 2


def test_an_interrupted_rebuild_resumes_whole_and_a_new_sink_is_filled(tmp_path: Path) -> None:
    repo = big_repo(tmp_path / "repo", 2500)
    ingest(repo)
    db = repo / ".snake-pipe" / "records.sqlite"
    expected = snapshot(db)
    delete_database(db)
    assert "out of step" in interrupted_ingest(repo)
    assert rows(db, "SELECT count(*) FROM files")[0][0] < 2750
    ingest(repo)  # resumes the rebuild: the files done before it are not in this database
    assert snapshot(db) == expected

    pq = pytest.importorskip("pyarrow.parquet", reason="the parquet extra is not installed")
    parquet = tmp_path / "parquet"
    result = run_cli("ingest", repo, "--sink", "sqlite", "--sink", f"parquet:{parquet}")
    assert result.returncode == 0 and f"parquet:{parquet} is out of step" in result.stderr
    files = pq.read_table(parquet / "files", columns=["path"])["path"].to_pylist()
    assert sorted(files) == sorted(str(r[0]) for r in expected["files"])
    result = run_cli("ingest", repo, "--sink", "sqlite", "--sink", f"parquet:{parquet}")
    assert "out of step" not in result.stderr


def test_a_sink_left_out_of_a_resumed_run_is_filled_when_it_comes_back(tmp_path: Path) -> None:
    """Resuming an interrupted run into other sinks starts a new run instead: a sink that the
    resumed part skipped would otherwise count as written by that run, and stay short."""
    repo = big_repo(tmp_path / "repo", 2500)
    other = tmp_path / "other.sqlite"
    interrupted_ingest(repo, "--sink", "sqlite", "--sink", f"sqlite:{other}")
    ingest(repo, "--sink", "sqlite")  # the rest, without the other database
    result = run_cli("ingest", repo, "--sink", "sqlite", "--sink", f"sqlite:{other}")
    assert result.returncode == 0 and f"sqlite:{other} is out of step" in result.stderr
    assert snapshot(other) == snapshot(repo / ".snake-pipe" / "records.sqlite")
    assert rows(other, "SELECT count(*) FROM files") == [(2750,)]


def test_older_sqlite_copy_is_detected(tmp_path: Path) -> None:
    repo = big_repo(tmp_path / "repo", 30)
    ingest(repo)
    db = repo / ".snake-pipe" / "records.sqlite"
    old = tmp_path / "old.sqlite"
    old.write_bytes(db.read_bytes())
    (repo / "pkg1" / "mod1.py").write_text("def newer():\n    pass\n")
    ingest(repo)
    expected = snapshot(db)
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.write_bytes(old.read_bytes())  # restored from an old backup
    result = run_cli("ingest", repo)
    assert "out of step" in result.stderr
    assert snapshot(db) == expected


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_at_random_points_then_rerun_equals_clean_run(tmp_path: Path, seed: int) -> None:
    repo = big_repo(tmp_path / "repo", 2500)
    clean = tmp_path / "clean.sqlite"
    ingest(
        repo, "--store", tmp_path / "clean-store", "--sink", f"sqlite:{clean}", "--batch-size", "50"
    )
    delay = random.Random(seed).uniform(0.3, 2.0)
    cmd = [sys.executable, "-m", "snake_pipe", "ingest", str(repo), "--quiet", "--batch-size", "50"]
    proc = subprocess.Popen(cmd, start_new_session=True)
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGKILL)  # the coordinator and its workers, at once
    proc.wait()
    status = run_cli("status", repo, "--json")  # fails if killed before the store was made
    if status.returncode == 0:
        state = json.loads(status.stdout)["last_run"]["state"]
        # not "running": nothing runs (None: killed before the run began)
        assert state in (None, "interrupted", "completed")
    result = run_cli("ingest", repo, "--batch-size", "50")
    assert result.returncode == 0, result.stderr
    db = repo / ".snake-pipe" / "records.sqlite"
    assert snapshot(db) == snapshot(clean)


def interrupted_ingest(repo: Path, *args: str | Path) -> str:
    """``ingest`` stopped by a Ctrl-C once more than 200 files are in the SQLite; its stderr."""
    cmd = [sys.executable, "-m", "snake_pipe", "ingest", str(repo), "--batch-size", "50", *args]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, start_new_session=True)
    db = repo / ".snake-pipe" / "records.sqlite"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until some batches are committed
        time.sleep(0.1)
        try:
            if db.exists() and rows(db, "SELECT count(*) FROM files")[0][0] > 200:
                break
        except sqlite3.OperationalError:
            continue  # the schema is being created right now
    os.killpg(proc.pid, signal.SIGINT)  # as Ctrl-C does: to the whole process group
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    return stderr


def test_status_tells_a_running_run_from_a_killed_one_by_its_lock(tmp_path: Path) -> None:
    """Not by the pid in the lock file: in a container the run was pid 1, and a pid is
    reused."""
    repo = big_repo(tmp_path / "repo", 200)
    (repo / "hang.py").write_text("# SNAKE-PIPE-FAULT:hang\n")  # the run cannot end on its own
    env = {**os.environ, "SNAKE_PIPE_TEST_WORKER_HOOK": "tests.faults"}
    cmd = [sys.executable, "-m", "snake_pipe", "ingest", str(repo), "--workers", "1"]
    proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL, env=env, start_new_session=True)

    def state() -> object:
        done = run_cli("status", repo, "--json")
        return json.loads(done.stdout)["last_run"]["state"] if done.returncode == 0 else None

    try:
        deadline = time.monotonic() + 60
        while (seen := state()) != "running" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert seen == "running"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
    (repo / ".snake-pipe" / "run.lock").write_text("1")  # a live pid, not the run's
    assert state() == "interrupted"


def test_sigint_exits_130_and_resumes(tmp_path: Path) -> None:
    """The resumed run finishes the same records, and the same JSON lines feed."""
    repo = big_repo(tmp_path / "repo", 2500)
    feed = tmp_path / "feed.jsonl"
    sinks = ("--sink", "sqlite", "--sink", f"jsonl:{feed}")
    db = repo / ".snake-pipe" / "records.sqlite"
    stderr = interrupted_ingest(repo, *sinks)
    assert f"resume with: snake-pipe ingest {repo} --batch-size 50 --sink sqlite --sink jsonl:{feed}" in stderr  # fmt: skip
    status = run_cli("status", repo, "--json")
    assert json.loads(status.stdout)["last_run"]["state"] == "interrupted"
    rerun = run_cli("ingest", repo, *sinks)
    assert rerun.returncode == 0
    assert "resuming run" in rerun.stderr and "files already done" in rerun.stderr
    assert "done before or unchanged" in rerun.stderr and " unchanged," not in rerun.stderr
    assert rows(db, "SELECT count(*) FROM files") == [(2750,)]
    lines = [json.loads(line) for line in feed.read_text().splitlines()]
    assert lines[0] == {"op": "reset"} and sum(d["op"] == "reset" for d in lines) == 1
    assert len({d["path"] for d in lines[1:]}) == 2750  # the resumed run appended


def test_a_second_sigint_stops_at_once_and_still_resumes(tmp_path: Path) -> None:
    repo = big_repo(tmp_path / "repo", 200)
    for i in range(20):  # 3 s each: the run would take a minute
        (repo / f"slow{i}.py").write_text(f"# SNAKE-PIPE-FAULT:slow {i}\n")
    env = {**os.environ, "SNAKE_PIPE_TEST_WORKER_HOOK": "tests.faults"}
    cmd = [sys.executable, "-m", "snake_pipe", "ingest", str(repo), "--batch-size", "50",
           "--workers", "1"]  # fmt: skip
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    db = repo / ".snake-pipe" / "records.sqlite"
    deadline = time.monotonic() + 60
    while not db.exists() and time.monotonic() < deadline:  # the run has started
        time.sleep(0.1)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "stopped at once; resume with: snake-pipe ingest" in stderr
    status = json.loads(run_cli("status", repo, "--json").stdout)
    assert status["last_run"]["state"] == "interrupted"
    assert "resuming run" in run_cli("ingest", repo).stderr


def test_restart_and_damaged_or_foreign_store(tmp_path: Path) -> None:
    repo = big_repo(tmp_path / "repo", 20)
    ingest(repo)
    data = repo / ".snake-pipe" / "checkpoints.lmdb" / "data.mdb"
    data.write_bytes(b"\0garbage" * 100)
    result = run_cli("ingest", repo)
    assert result.returncode == 1 and "--restart" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    report = tmp_path / "r.json"
    ingest(repo, "--restart", "--report", report)
    assert report_of(report)["progress"]["processed_files"] == 22  # type: ignore[index]
    foreign = tmp_path / "foreign"
    (foreign / "checkpoints.lmdb").mkdir(parents=True)
    env = lmdb.open(str(foreign / "checkpoints.lmdb"), max_dbs=4)
    with env.begin(write=True) as txn:
        txn.put(b"key", b"someone else's")
    env.close()
    result = run_cli("ingest", repo, "--store", foreign)
    assert result.returncode == 1 and "not a snake-pipe checkpoint store" in result.stderr


def test_status_and_dry_run(tmp_path: Path) -> None:
    repo = big_repo(tmp_path / "repo", 20)
    ingest(repo)
    status = json.loads(run_cli("status", repo, "--json").stdout)
    assert status["last_run"]["state"] == "completed"
    assert status["files_by_status"] == {"ok": 22}
    assert status["files_by_language"] == {"javascript": 2, "python": 20}
    assert status["checkpoints"]["latest"]["files_processed"] == 22
    text = run_cli("status", repo).stdout
    assert "completed" in text and "checkpoint:" in text
    moved = tmp_path / "elsewhere"
    (repo / ".snake-pipe").rename(moved)
    status = json.loads(
        run_cli("status", repo, "--json", env={"SNAKE_PIPE_STORE": str(moved)}).stdout
    )
    assert status["store"] == str(moved) and status["files_by_status"] == {"ok": 22}
    moved.rename(repo / ".snake-pipe")
    (repo / "pkg1" / "mod1.py").write_text("x = 2\n")
    os.utime(repo / "pkg2" / "mod2.py", ns=(5, 5))
    (repo / "pkg3" / "mod3.py").unlink()
    (repo / "added.py").write_text("y = 1\n")
    out = run_cli("ingest", repo, "--dry-run").stdout.splitlines()
    assert sorted(out[:-1]) == ["add added.py", "delete pkg3/mod3.py", "update pkg1/mod1.py"]
    assert out[-1] == "dry run: 1 to add, 1 to update, 1 to delete, 20 unchanged"
    out = run_cli("ingest", repo, "--dry-run", "--restart").stdout.splitlines()
    assert out[-1] == "dry run: 22 to add, 0 to update, 0 to delete, 0 unchanged"
    assert rows(repo / ".snake-pipe" / "records.sqlite", "SELECT count(*) FROM files") == [(22,)]
    empty = tmp_path / "empty"  # a store whose first run failed before its first checkpoint
    (empty / "checkpoints.lmdb").mkdir(parents=True)
    result = run_cli("status", repo, "--store", empty)
    assert result.returncode == 1 and "no snake-pipe store at" in result.stderr
    assert os.listdir(empty / "checkpoints.lmdb") == []  # reading made nothing


def test_git_index_blob_ids_spare_reading_touched_files(tmp_path: Path) -> None:
    repo = big_repo(tmp_path / "repo", 10)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / ".gitignore").write_text(".snake-pipe/\n")
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    ingest(repo)
    # git compares mtimes to the second (nanoseconds only if built with USE_NSEC): a touch
    # within the same second as the commit would not be refreshed, and one within the same
    # second as the refreshed index would be racily clean, so both are a second apart.
    time.sleep(1.1)
    for path in repo.rglob("*.py"):
        os.utime(path)  # every stat changes, no content does
    time.sleep(1.1)
    subprocess.run([*git, "update-index", "--refresh", "-q"], check=False)  # as `git status` would
    config = resolve_config({}, None, {})
    store = repo / ".snake-pipe"
    with CheckpointStore(store / "checkpoints.lmdb") as cp:
        planner = Planner(cp, repo, config.extraction_fingerprint())
        actions = [a for a, _, _ in planner.plan(Walker(repo, config, store).walk())]
    assert actions.count("touched") == 10  # known unchanged from git's index, not read


def test_a_store_outside_the_repository_is_one_repositorys(tmp_path: Path) -> None:
    first = big_repo(tmp_path / "first", 5)
    second = big_repo(tmp_path / "second", 3)
    store = tmp_path / "store"
    assert ingest(first, "--store", store).returncode == 0
    result = run_cli("ingest", second, "--store", store, "--quiet")
    assert result.returncode == 2 and result.stderr == (
        f"snake-pipe: error: --store {store}: holds the records of {first}: give each "
        "repository its own store, or pass --restart to replace them\n"
    )
    assert rows(store / "records.sqlite", "SELECT count(*) FROM files") == [(6,)]
    first.rename(tmp_path / "moved")  # the repository moved: its store goes with it
    assert ingest(tmp_path / "moved", "--store", store).returncode == 0
    assert ingest(second, "--store", store, "--restart").returncode == 0
    assert rows(store / "records.sqlite", "SELECT count(*) FROM files") == [(4,)]


def test_two_runs_on_one_store_do_not_overlap(tmp_path: Path) -> None:
    repo = big_repo(tmp_path / "repo", 2500)
    (repo / "slow.py").write_text("# SNAKE-PIPE-FAULT:slow\n")  # the first run lasts 3 s at least
    cmd = [sys.executable, "-m", "snake_pipe", "ingest", str(repo), "--quiet"]
    first = subprocess.Popen(cmd, env={**os.environ, "SNAKE_PIPE_TEST_WORKER_HOOK": "tests.faults"})
    lock = repo / ".snake-pipe" / "run.lock"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (lock.exists() and lock.read_text()):
        time.sleep(0.05)
    second = run_cli("ingest", repo, "--quiet")
    first.wait(timeout=120)
    assert first.returncode == 0
    assert second.returncode == 1 and "in use by another snake-pipe run" in second.stderr


def test_two_runs_on_one_sink_do_not_overlap(tmp_path: Path) -> None:
    """Two repositories (two stores) writing one sink at once would each remove the other's
    rows as stale: the second gets a one-line error and writes nothing."""
    first, second = big_repo(tmp_path / "a", 20), big_repo(tmp_path / "b", 10)
    db, feed = tmp_path / "shared.sqlite", tmp_path / "shared.jsonl"
    ingest(first, "--sink", f"sqlite:{db}", "--sink", f"jsonl:{feed}")
    for uri, held in ((f"sqlite:{db}", SQLiteSink(db)), (f"jsonl:{feed}", JSONLSink(feed))):
        with held:  # another run writing it right now
            result = run_cli("ingest", second, "--quiet", "--sink", uri)
        assert result.returncode == 1
        assert result.stderr == (
            f"snake-pipe: error: {uri}: another snake-pipe run is writing here: wait for it, "
            "or pass another sink\n"
        )
    assert rows(db, "SELECT count(*) FROM files") == [(22,)]
    assert len(feed.read_text().splitlines()) == 1 + 22  # a reset, then every file
