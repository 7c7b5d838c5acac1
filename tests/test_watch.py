"""Watch mode with a real watcher on real temporary repositories.

Every wait polls for the expected state with a generous deadline (a loaded 2-core CI machine
can be slow); no fixed sleep is an assertion.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from snake_pipe.config import resolve_config
from snake_pipe.errors import TransientSinkError
from snake_pipe.records import FileResult
from snake_pipe.sinks.base import Sink
from snake_pipe.watch import Change, Watch, watch_changes
from tests.conftest import JS_SAMPLE, PY_SAMPLE, rows, run_cli, write_tree

DEADLINE_S = 30.0
TABLES = {
    "files": "SELECT path, language, size_bytes, mtime_ns, content_hash, line_count, status, "
    "error_category, error, syntax_error_count, node_count FROM files",  # all but parse_ms
    "symbols": "SELECT * FROM symbols",
    "imports": "SELECT * FROM imports",
    "parse_errors": "SELECT * FROM parse_errors",
}


def wait_for(check: Callable[[], object], what: str, timeout: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def paths(db: Path) -> set[str]:
    try:
        return {str(r[0]) for r in rows(db, "SELECT path FROM files")}
    except Exception:  # not created yet
        return set()


def symbols(db: Path, path: str) -> set[str]:
    return {str(r[0]) for r in rows(db, "SELECT name FROM symbols WHERE path = ?", path)}


def snapshot(db: Path) -> dict[str, list[tuple[object, ...]]]:
    return {name: sorted(rows(db, sql), key=repr) for name, sql in TABLES.items()}


def fresh_ingest(repo: Path, store: Path) -> dict[str, list[tuple[object, ...]]]:
    result = run_cli("ingest", repo, "--store", store, "--quiet", "--workers", "1")
    assert result.returncode == 0, result.stderr
    return snapshot(store / "records.sqlite")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def watching(
    repo: Path, *args: str | Path, log: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """``snake-pipe watch`` in a subprocess, stopped with SIGTERM; it must exit 0."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNAKE_PIPE_")}
    err = open(log or repo.parent / "watch.log", "ab")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "snake_pipe", "watch", str(repo), "--workers", "1", *map(str, args)],
        stdout=subprocess.DEVNULL, stderr=err, env=env,
    )  # fmt: skip
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        finally:
            err.close()
        assert code == 0, (log or repo.parent / "watch.log").read_text()


def inotify_watches(pid: int) -> int:
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                count += sum(line.startswith("inotify wd:") for line in f)
        except OSError:
            continue
    return count


def sample_repo(root: Path) -> Path:
    files: dict[str, str | bytes] = {
        ".gitignore": "node_modules/\n*.log\nbuild/\n",
        "src/a.py": PY_SAMPLE,
        "src/pkg/b.py": "def b():\n    return 1\n",
        "src/pkg/deep/c.py": "class C:\n    pass\n",
        "web/app.js": JS_SAMPLE,
        "keep.log": "def log_line():\n    pass\n",
        "node_modules/dep/index.js": JS_SAMPLE,
        "build/out.py": "def built():\n    pass\n",
    }
    write_tree(root, files)
    (root / ".git").mkdir()
    return root


def test_edits_reach_the_sinks_and_match_a_fresh_ingest(tmp_path: Path) -> None:
    repo = sample_repo(tmp_path / "repo")
    db = repo / ".snake-pipe" / "records.sqlite"
    with watching(repo, "--quiet"):
        wait_for(lambda: {"src/a.py", "src/pkg/deep/c.py", "web/app.js"} <= paths(db), "catch-up")
        assert not {"keep.log", "node_modules/dep/index.js", "build/out.py"} & paths(db)

        (repo / "src" / "a.py").write_text("def edited():\n    pass\n")
        wait_for(lambda: symbols(db, "src/a.py") == {"edited"}, "an edit")
        (repo / "src" / "new.py").write_text("def created():\n    pass\n")
        wait_for(lambda: symbols(db, "src/new.py") == {"created"}, "a new file")
        (repo / "web" / "app.js").unlink()
        wait_for(lambda: "web/app.js" not in paths(db), "a deletion")
        (repo / "src" / "pkg" / "b.py").rename(repo / "src" / "pkg" / "renamed.py")
        wait_for(lambda: "src/pkg/renamed.py" in paths(db) and "src/pkg/b.py" not in paths(db),
                 "a rename")  # fmt: skip
        (repo / "lib").mkdir()
        (repo / "src" / "pkg").rename(repo / "lib" / "pkg")
        moved = {"lib/pkg/renamed.py", "lib/pkg/deep/c.py"}
        wait_for(lambda: moved <= paths(db) and not any(p.startswith("src/pkg/") for p in paths(db)),
                 "a directory move")  # fmt: skip
        (repo / "lib" / "pkg" / "deep" / "d.py").write_text("def in_moved_dir():\n    pass\n")
        wait_for(lambda: "lib/pkg/deep/d.py" in paths(db), "a file in a moved directory")

        (repo / ".gitignore").write_text("node_modules/\nlib/\n")  # *.log and build/ come in
        wait_for(lambda: {"keep.log", "build/out.py"} <= paths(db)
                 and not any(p.startswith("lib/") for p in paths(db)), ".gitignore edit")  # fmt: skip
        (repo / "build" / "more.py").write_text("def more():\n    pass\n")
        wait_for(lambda: "build/more.py" in paths(db), "a file in a newly included directory")

        (repo / ".snake-pipe" / "junk.py").write_text("def junk():\n    pass\n")
        (repo / ".git" / "junk.py").write_text("def junk():\n    pass\n")
        (repo / "lib" / "ignored.py").write_text("def ignored():\n    pass\n")
        (repo / "src" / "last.py").write_text("def last():\n    pass\n")
        wait_for(lambda: "src/last.py" in paths(db), "a sentinel edit")
        assert not {".snake-pipe/junk.py", ".git/junk.py", "lib/ignored.py"} & paths(db)
    assert snapshot(db) == fresh_ingest(repo, tmp_path / "fresh")


def test_stop_then_restart_catches_up_with_changes_made_while_stopped(tmp_path: Path) -> None:
    repo = sample_repo(tmp_path / "repo")
    db = repo / ".snake-pipe" / "records.sqlite"
    report, events = tmp_path / "report.json", tmp_path / "events.jsonl"
    with watching(repo, "--quiet", "--report", report, "--events", events):
        def counters() -> dict[str, int]:
            status = json.loads(run_cli("status", repo, "--json").stdout)["last_run"]
            return dict(status["counters"] or {}) if status["state"] == "running" else {}

        wait_for(lambda: "src/a.py" in paths(db) and counters(), "catch-up")
        caught_up = counters()["processed"]
        (repo / "src" / "a.py").write_text("def before_stop():\n    pass\n")
        wait_for(lambda: symbols(db, "src/a.py") == {"before_stop"}, "an edit")
        wait_for(lambda: counters()["processed"] == caught_up + 1, "status counting the edit")
        (repo / "src" / "pkg" / "b.py").unlink()
        wait_for(lambda: "src/pkg/b.py" not in paths(db), "a deletion")

        def totals() -> tuple[object, ...]:
            progress = json.loads(run_cli("status", repo, "--json").stdout)["progress"]
            return progress["total_files"], progress["files_known"]

        wait_for(lambda: totals() == (len(paths(db)),) * 2, "status counting the deletion")
    assert json.loads(report.read_text())["status"] == "completed"
    assert json.loads(report.read_text())["progress"]["total_files"] == len(paths(db))
    kinds = {json.loads(line)["event"] for line in events.read_text().splitlines()}
    assert "BatchExecuted" in kinds

    (repo / "src" / "a.py").write_text("def while_stopped():\n    pass\n")
    (repo / "web" / "app.js").unlink()
    (repo / "src" / "offline.py").write_text("def offline():\n    pass\n")
    with watching(repo, "--quiet"):
        wait_for(lambda: symbols(db, "src/a.py") == {"while_stopped"}
                 and "src/offline.py" in paths(db) and "web/app.js" not in paths(db),
                 "catch-up after a restart")  # fmt: skip
    assert snapshot(db) == fresh_ingest(repo, tmp_path / "fresh")


def test_a_followed_link_is_redone_when_its_target_changes(tmp_path: Path) -> None:
    repo = sample_repo(tmp_path / "repo")
    db = repo / ".snake-pipe" / "records.sqlite"
    (repo / "alias.py").symlink_to(repo / "src" / "a.py")
    with watching(repo, "--quiet", "--follow-symlinks"):
        wait_for(lambda: "alias.py" in paths(db), "catch-up")
        assert symbols(db, "alias.py") == symbols(db, "src/a.py") != set()
        (repo / "src" / "a.py").write_text("def through_the_link():\n    pass\n")
        wait_for(lambda: symbols(db, "alias.py") == {"through_the_link"}, "the link's records")
        (repo / "src" / "a.py").unlink()
        wait_for(lambda: rows(db, "SELECT status, error FROM files WHERE path = 'alias.py'")
                 == [("skipped", "symbolic link: dangling")], "the link left dangling")  # fmt: skip
        (repo / "src" / "a.py").write_text("def back():\n    pass\n")
        wait_for(lambda: symbols(db, "alias.py") == {"back"}, "the target made again")


def test_a_directory_reached_by_a_link_too_is_watched_once_by_its_real_path(
    tmp_path: Path,
) -> None:
    """The OS gives one watch per directory: a second name for it (a link to it, or to an
    ancestor) must neither take the watch over nor take it away when the link goes."""
    repo = sample_repo(tmp_path / "repo")
    db = repo / ".snake-pipe" / "records.sqlite"
    (repo / "a_link").symlink_to(repo / "src")  # sorts before its target
    (repo / "src" / "loop").symlink_to(repo)
    with watching(repo, "--quiet", "--follow-symlinks"):
        wait_for(lambda: "src/a.py" in paths(db), "catch-up")
        assert {"a_link", "src/loop"} <= paths(db) and "a_link/a.py" not in paths(db)
        (repo / "src" / "a.py").write_text("def edited():\n    pass\n")
        wait_for(lambda: symbols(db, "src/a.py") == {"edited"}, "the edit under its real path")
        assert not {p for p in paths(db) if p.startswith(("a_link/", "src/loop/"))}
        (repo / "src" / "loop").unlink()
        (repo / "a_link").unlink()
        wait_for(lambda: not {"a_link", "src/loop"} & paths(db), "the links' removal")
        (repo / "late.py").write_text("def late():\n    pass\n")
        (repo / "src" / "late.py").write_text("def late():\n    pass\n")
        wait_for(lambda: {"late.py", "src/late.py"} <= paths(db), "files after the links went")
        assert snapshot(db) == fresh_ingest(repo, tmp_path / "fresh")


def test_an_edit_that_keeps_size_and_mtime_is_still_seen(tmp_path: Path) -> None:
    """`cp -p`, `rsync -t` and archive tools restore the mtime: the OS still says the file was
    written, so its content is hashed rather than its stat trusted."""
    repo = sample_repo(tmp_path / "repo")
    db = repo / ".snake-pipe" / "records.sqlite"
    (repo / "alias.py").symlink_to(repo / "src" / "a.py")
    target = repo / "src" / "a.py"
    target.write_text("def before():\n    pass\n")
    with watching(repo, "--quiet", "--follow-symlinks"):
        wait_for(lambda: "alias.py" in paths(db), "catch-up")
        assert symbols(db, "src/a.py") == {"before"}
        st = target.stat()
        target.write_text("def after_():\n    pass\n")  # same size
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
        wait_for(lambda: symbols(db, "src/a.py") == symbols(db, "alias.py") == {"after_"},
                 "the edit and the link's records")  # fmt: skip


def test_names_stored_escaped_are_watched_by_their_real_names(tmp_path: Path) -> None:
    """A name that is not UTF-8 is stored with `\\xNN`, a backslash doubled: the watch maps
    them back to the files, so edits land and deletions remove the right rows."""
    repo = sample_repo(tmp_path / "repo")
    db = repo / ".snake-pipe" / "records.sqlite"
    odd_dir = repo / os.fsdecode(b"d\xe9")
    odd_dir.mkdir()
    (odd_dir / "x.py").write_text("def in_odd_dir():\n    pass\n")
    (repo / os.fsdecode(b"caf\xe9.py")).write_text("def latin():\n    pass\n")
    (repo / "back\\slash.py").write_text("def before():\n    pass\n")
    with watching(repo, "--quiet"):
        wait_for(lambda: "back\\\\slash.py" in paths(db), "catch-up")
        assert {"d\\xe9/x.py", "caf\\xe9.py"} <= paths(db)
        (repo / "back\\slash.py").write_text("def after():\n    pass\n")
        (repo / os.fsdecode(b"caf\xe9.py")).unlink()
        shutil.rmtree(odd_dir)
        wait_for(lambda: symbols(db, "back\\\\slash.py") == {"after"}
                 and not {"d\\xe9/x.py", "caf\\xe9.py"} & paths(db), "an edit and deletions")  # fmt: skip
    assert snapshot(db) == fresh_ingest(repo, tmp_path / "fresh")


def test_sigterm_while_the_watch_sets_up_still_stops_it_cleanly(tmp_path: Path) -> None:
    """Watching a big tree takes seconds before the first event: a supervisor's SIGTERM then
    gets the same clean stop (exit 0, checkpoint) as later."""
    repo = tmp_path / "repo"
    for i in range(4000):
        write_tree(repo / f"d{i % 400}" / f"e{i}", {"a.py": "def f():\n    pass\n"})
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNAKE_PIPE_")}
    proc = subprocess.Popen([sys.executable, "-m", "snake_pipe", "watch", str(repo), "--quiet"],
                            stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    lock = repo / ".snake-pipe" / "run.lock"
    deadline = time.monotonic() + 30
    while not (lock.exists() and lock.read_text()) and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGTERM)  # the store is taken: the set-up goes on
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    status = json.loads(run_cli("status", repo, "--json").stdout)["last_run"]
    assert status["state"] in ("interrupted", "completed")


def test_an_event_log_inside_the_repo_is_not_watched(tmp_path: Path) -> None:
    """Each batch appends to the log: were it watched, each write would make another batch."""
    repo = sample_repo(tmp_path / "repo")
    db = repo / ".snake-pipe" / "records.sqlite"
    events = repo / "events.jsonl"
    with watching(repo, "--quiet", "--events", events):
        wait_for(lambda: "src/a.py" in paths(db), "catch-up")
        (repo / "src" / "a.py").write_text("def edited():\n    pass\n")
        wait_for(lambda: symbols(db, "src/a.py") == {"edited"}, "an edit")
        time.sleep(1.5)  # time for a write of the log to come back as a change
        logged = events.read_text()
        time.sleep(1.5)
        assert events.read_text() == logged
    assert "events.jsonl" not in paths(db)


def test_deletions_of_files_not_checkpointed_yet_reach_the_sinks(tmp_path: Path) -> None:
    """With checkpoint_frequency = 0 a new file is in the sinks but not in the checkpoint
    store until the end: its deletion or rename must still remove its rows."""
    repo = sample_repo(tmp_path / "repo")
    config = tmp_path / "c.toml"
    config.write_text("checkpoint_frequency = 0\n")
    db = repo / ".snake-pipe" / "records.sqlite"
    with watching(repo, "--quiet", "--config", config):
        wait_for(lambda: "src/a.py" in paths(db), "catch-up")
        (repo / "tmp.py").write_text("def tmp():\n    pass\n")
        (repo / "new").mkdir()
        (repo / "new" / "k.py").write_text("def k():\n    pass\n")
        wait_for(lambda: {"tmp.py", "new/k.py"} <= paths(db), "the new files")
        (repo / "tmp.py").unlink()
        (repo / "new").rename(repo / "moved")
        wait_for(lambda: "moved/k.py" in paths(db) and not {"tmp.py", "new/k.py"} & paths(db),
                 "the deletion and the move")  # fmt: skip


def test_git_operation_is_held_then_lands_as_full_batches(tmp_path: Path) -> None:
    repo = sample_repo(tmp_path / "repo")
    db = repo / ".snake-pipe" / "records.sqlite"
    report = tmp_path / "report.json"
    with watching(repo, "--quiet", "--batch-size", "100", "--report", report):
        wait_for(lambda: "src/a.py" in paths(db), "catch-up")
        before = len(paths(db))
        lock = repo / ".git" / "index.lock"
        lock.write_text("")
        for i in range(400):
            (repo / "gen" / f"d{i % 8}").mkdir(parents=True, exist_ok=True)
            (repo / "gen" / f"d{i % 8}" / f"m{i}.py").write_text(f"def f{i}():\n    pass\n")
        (repo / "src" / "a.py").write_text("def during_checkout():\n    pass\n")
        time.sleep(1.0)  # git still "works": nothing may land yet (slowness cannot fail this)
        assert len(paths(db)) == before
        lock.unlink()
        wait_for(lambda: len(paths(db)) == before + 400, "the held burst")
        wait_for(lambda: symbols(db, "src/a.py") == {"during_checkout"}, "the held edit")
    progress = json.loads(report.read_text())["progress"]
    catch_up_batches = 1  # the sample repo fits one batch
    assert progress["total_batches"] - catch_up_batches <= 6, progress  # 401 files, 100 a batch


def test_watches_only_non_ignored_directories(tmp_path: Path) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("inotify is Linux only")
    repo = sample_repo(tmp_path / "repo")
    for i in range(300):  # an ignored tree far bigger than the rest
        (repo / "node_modules" / f"pkg{i}" / "lib").mkdir(parents=True)
    db = repo / ".snake-pipe" / "records.sqlite"
    # root, src, src/pkg, src/pkg/deep, web: not .git, the store, node_modules/ or build/
    expected = 5
    with watching(repo, "--quiet") as proc:
        wait_for(lambda: "src/a.py" in paths(db), "catch-up")
        assert inotify_watches(proc.pid) == expected
        (repo / "src" / "fresh").mkdir()
        (repo / "node_modules" / "another").mkdir()
        wait_for(lambda: inotify_watches(proc.pid) == expected + 1, "a watch on a new directory")
        (repo / "src" / "fresh" / "x.py").write_text("def x():\n    pass\n")
        wait_for(lambda: "src/fresh/x.py" in paths(db), "a file in the new directory")
        assert inotify_watches(proc.pid) == expected + 1


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return 0, ""


def test_health_and_metrics_endpoints(tmp_path: Path) -> None:
    pytest.importorskip("prometheus_client")
    repo = sample_repo(tmp_path / "repo")
    db = repo / ".snake-pipe" / "records.sqlite"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with watching(repo, "--quiet", "--metrics-port", str(port)):
        wait_for(lambda: _get(base + "/healthz")[0] == 200, "/healthz 200")
        wait_for(lambda: "src/a.py" in paths(db), "catch-up")
        (repo / "src" / "a.py").write_text("def metered():\n    pass\n")
        wait_for(lambda: symbols(db, "src/a.py") == {"metered"}, "an edit")

        def latency_seen() -> bool:
            text = _get(base + "/metrics")[1]
            return "snake_pipe_event_to_commit_seconds_count 1.0" in text

        wait_for(latency_seen, "an end-to-end latency sample")
        text = _get(base + "/metrics")[1]
        for name in ('snake_pipe_files_processed_total{status="ok"}', "snake_pipe_queue_depth",
                     "snake_pipe_batch_duration_seconds_bucket", "snake_pipe_rss_bytes"):  # fmt: skip
            assert name in text
        assert _get(base + "/nothing")[0] == 404
        # a sink down: 503 from its first failed write, through the retries, until one lands
        locker = sqlite3.connect(db, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        (repo / "src" / "a.py").write_text("def while_locked():\n    pass\n")
        # the first write waits out SQLite's 5 s busy timeout, then fails and is retried
        wait_for(lambda: _get(base + "/healthz")[0] == 503, "/healthz 503 while locked", 9)
        for _ in range(20):  # ~4 s, across retries
            assert _get(base + "/healthz")[0] == 503
            time.sleep(0.2)
        locker.execute("COMMIT")
        locker.close()
        wait_for(lambda: symbols(db, "src/a.py") == {"while_locked"}, "the write after the lock")
        wait_for(lambda: _get(base + "/healthz")[0] == 200, "/healthz 200 again")


def test_a_metrics_port_in_use_fails_before_the_run_begins(tmp_path: Path) -> None:
    pytest.importorskip("prometheus_client")
    repo = sample_repo(tmp_path / "repo")
    assert run_cli("ingest", repo, "--quiet").returncode == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("watch", repo, "--quiet", "--metrics-port", port, timeout=60)
    assert result.returncode == 2
    assert result.stderr == (
        f"snake-pipe: error: --metrics-port: cannot listen on 127.0.0.1:{port} "
        "(Address already in use)\n"
    )
    status = json.loads(run_cli("status", repo, "--json").stdout)
    assert status["last_run"]["state"] == "completed"  # not a new run left to resume


def test_health_is_503_when_a_check_fails() -> None:
    pytest.importorskip("prometheus_client")
    from snake_pipe.metrics import Metrics, serve

    alive = [True]
    with serve("127.0.0.1", 0, Metrics(lambda: 0), lambda: alive[0]) as (host, port):
        assert _get(f"http://{host}:{port}/healthz")[0] == 200
        alive[0] = False
        assert _get(f"http://{host}:{port}/healthz")[0] == 503


@contextmanager
def watch_in_thread(watch: Watch) -> Iterator[list[Change]]:
    """Run ``watch.changes()`` in a thread, collecting what it yields."""
    seen: list[Change] = []
    errors: list[BaseException] = []

    def loop() -> None:
        try:
            seen.extend(watch.changes())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=loop, daemon=True)
    with watch:
        thread.start()
        try:
            yield seen
        finally:
            watch.stop()
            thread.join(60)
    assert not errors, errors


def test_config_edits_apply_while_running_and_bad_ones_are_ignored(tmp_path: Path) -> None:
    repo = sample_repo(tmp_path / "repo")
    config_file = tmp_path / "snake.toml"
    config_file.write_text("workers = 1\nbatch_size = 100\n")
    logged: list[str] = []
    load = lambda: resolve_config(None, config_file, env={})  # noqa: E731
    watch = Watch(repo, load(), executor="inline", log=logged.append, reload=load,
                  config_path=config_file)  # fmt: skip
    with watch_in_thread(watch) as seen:
        wait_for(lambda: any(c.path == "src/a.py" for c in seen), "catch-up")
        config_file.write_text("workers = 2\nbatch_size = 200\nmax_file_bytes = 50\n")
        wait_for(lambda: any("config reloaded" in line for line in logged), "a reload")
        engine = watch.run.engine
        assert engine.max_in_flight == 4 and engine.sizer.current == 200
        # max_file_bytes changes records: everything is extracted again with the new limit
        wait_for(lambda: any(c.path == "src/a.py" and c.status == "skipped" for c in seen),
                 "the new limit")  # fmt: skip

        config_file.write_text("workers = [not toml\n")
        wait_for(lambda: any("not applied" in line for line in logged), "a bad edit logged")
        bad = [line for line in logged if "not applied" in line]
        assert len(bad) == 1 and "\n" not in bad[0]
        assert watch.run.config.workers == 2
        (repo / "src" / "after.py").write_text("x = 1\n")
        wait_for(lambda: any(c.path == "src/after.py" for c in seen), "work after a bad edit")


def test_watch_changes_yields_committed_changes_and_stops_cleanly(tmp_path: Path) -> None:
    repo = sample_repo(tmp_path / "repo")
    config = resolve_config({"workers": 1}, env={})
    stop = threading.Event()
    seen: list[Change] = []

    def consume() -> None:
        seen.extend(watch_changes(repo, config, stop_event=stop, executor="inline", log=print))

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    wait_for(lambda: Change("src/a.py", "upsert", "ok") in seen, "the catch-up's changes")
    (repo / "web" / "app.js").unlink()
    wait_for(lambda: Change("web/app.js", "delete") in seen, "a deletion event")
    stop.set()
    thread.join(60)
    assert not thread.is_alive()
    db = repo / ".snake-pipe" / "records.sqlite"
    assert rows(db, "SELECT value FROM meta WHERE key = 'completed_run_id'")


def test_polling_is_announced_once_and_works(tmp_path: Path) -> None:
    repo = sample_repo(tmp_path / "repo")
    db = repo / ".snake-pipe" / "records.sqlite"
    log = tmp_path / "poll.log"
    with watching(repo, "--poll", log=log):
        wait_for(lambda: "src/a.py" in paths(db), "catch-up")
        (repo / "src" / "a.py").write_text("def polled():\n    pass\n")
        wait_for(lambda: symbols(db, "src/a.py") == {"polled"}, "an edit seen by polling")
    assert log.read_text().count("watching by polling") == 1
    # every line of a watch's log says when, in UTC, as the progress lines do
    stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ snake-pipe: ")
    assert all(stamp.match(line) for line in log.read_text().splitlines()), log.read_text()


def test_changes_during_the_catch_up_are_not_missed(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", {f"pkg{i % 30}/m{i}.py": f"def f{i}():\n    pass\n"
                                          for i in range(1500)})  # fmt: skip
    db = repo / ".snake-pipe" / "records.sqlite"
    config = resolve_config({"workers": 1, "batch_size": 50}, env={})
    watch = Watch(repo, config, executor="inline", log=lambda _: None)
    seen: list[Change] = []
    with watch:  # the watches are set and the catch-up walk has started: edit under it
        (repo / "pkg0" / "m0.py").write_text("def edited_during_scan():\n    pass\n")
        (repo / "pkg1" / "m1.py").unlink()
        (repo / "pkg2" / "new.py").write_text("def new_during_scan():\n    pass\n")
        thread = threading.Thread(target=lambda: seen.extend(watch.changes()), daemon=True)
        thread.start()
        wait_for(lambda: symbols(db, "pkg0/m0.py") == {"edited_during_scan"}
                 and "pkg2/new.py" in paths(db) and "pkg1/m1.py" not in paths(db)
                 and len(paths(db)) == 1500, "the catch-up and the edits made during it")  # fmt: skip
        watch.stop()
        thread.join(60)
    assert snapshot(db) == fresh_ingest(repo, tmp_path / "fresh")


def test_watch_limit_falls_back_to_polling(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from snake_pipe import watcher

    def refuse(self: watcher.Inotify, rel_dir: str) -> bool:
        raise watcher.WatchLimitError(28, "inotify watch limit reached")

    monkeypatch.setattr(watcher.Inotify, "add", refuse)  # the OS boundary: no watch to be had
    repo = sample_repo(tmp_path / "repo")
    db = repo / ".snake-pipe" / "records.sqlite"
    logged: list[str] = []
    config = resolve_config({"workers": 1}, env={})
    watch = Watch(repo, config, executor="inline", log=logged.append)
    with watch_in_thread(watch):
        wait_for(lambda: "src/a.py" in paths(db), "catch-up")
        assert watch.watcher.polling
        (repo / "src" / "a.py").write_text("def polled():\n    pass\n")
        wait_for(lambda: symbols(db, "src/a.py") == {"polled"}, "an edit seen by polling")
    assert sum("watching by polling" in line for line in logged) == 1


def test_parquet_shows_each_change_when_watch_reports_it(tmp_path: Path) -> None:
    """A Parquet sink stages batches and merges them: watch merges whenever its work drains,
    so what it reports (and what it caught up on) is in the datasets, not only after a stop."""
    pq = pytest.importorskip("pyarrow.parquet")
    repo = write_tree(tmp_path / "repo", {"a.py": "def a():\n    pass\n", "b.py": "def b():\n    pass\n"})  # fmt: skip
    out = tmp_path / "pq"
    config = resolve_config({"workers": 1, "sinks": [f"parquet:{out}"]}, env={})

    def names() -> set[tuple[str, str]]:
        table = pq.read_table(out / "symbols", columns=["path", "name"])
        return set(zip(table["path"].to_pylist(), table["name"].to_pylist(), strict=True))

    with watch_in_thread(Watch(repo, config, executor="inline", log=lambda _: None)) as seen:
        wait_for(lambda: names() == {("a.py", "a"), ("b.py", "b")}, "the catch-up merged")
        (repo / "c.py").write_text("def c():\n    pass\n")
        (repo / "a.py").unlink()
        wait_for(lambda: {(c.path, c.op) for c in seen} >= {("c.py", "upsert"), ("a.py", "delete")},
                 "both changes reported")  # fmt: skip
        assert names() == {("b.py", "b"), ("c.py", "c")}

        def mtime(path: str) -> int:
            table = pq.read_table(out / "files", columns=["path", "mtime_ns"])
            return dict(zip(table["path"].to_pylist(), table["mtime_ns"].to_pylist(), strict=True))[path]

        os.utime(repo / "b.py", ns=(1_000_000_000, 1_000_000_000))  # a touch: no change to report
        wait_for(lambda: mtime("b.py") == 1_000_000_000, "the touch merged")


def test_a_file_made_a_directory_and_a_repository_moved_away(tmp_path: Path) -> None:
    """The file's row goes when a directory takes its name; a moved repository ends the watch
    with one line (events would never come again), not a watch of nothing."""
    repo = write_tree(tmp_path / "repo", {"thing": "x = 1\n", "keep.py": "y = 1\n"})
    db = repo / ".snake-pipe" / "records.sqlite"
    config = resolve_config({"workers": 1}, env={})
    errors: list[BaseException] = []
    watch = Watch(repo, config, executor="inline", log=lambda _: None)

    def loop() -> None:
        try:
            list(watch.changes())
        except BaseException as exc:
            errors.append(exc)

    with watch:
        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        wait_for(lambda: paths(db) == {"thing", "keep.py"}, "the catch-up")
        (repo / "thing").unlink()
        (repo / "thing").mkdir()
        (repo / "thing" / "a.py").write_text("def f():\n    pass\n")
        wait_for(lambda: paths(db) == {"thing/a.py", "keep.py"}, "the file's row replaced")
        repo.rename(tmp_path / "moved")
        thread.join(30)
    assert not thread.is_alive() and len(errors) == 1
    assert str(errors[0]) == (f"{repo}: the repository was deleted or moved while watched: "
                              "start snake-pipe watch again on its path")  # fmt: skip


def test_a_database_deleted_under_watch_ends_it_and_a_restart_rebuilds_it(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", {"a.py": "def a():\n    pass\n", "b.py": "x = 1\n"})
    db = repo / ".snake-pipe" / "records.sqlite"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNAKE_PIPE_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "snake_pipe", "watch", str(repo), "--workers", "1", "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        wait_for(lambda: paths(db) == {"a.py", "b.py"}, "the catch-up")
        db.unlink()
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 1 and "Traceback" not in err
    assert err.strip().splitlines()[-1] == (f"snake-pipe: error: sqlite:{db}: the database was deleted or "
        "replaced while watched: start snake-pipe watch again to rebuild it")  # fmt: skip
    with watching(repo, "--quiet"):
        wait_for(lambda: paths(db) == {"a.py", "b.py"}, "the rebuild")


class RefusingSink(Sink):
    """Refuses its first ``refusals`` writes of ``late.py`` (a database locked for a while)."""

    def __init__(self, refusals: int) -> None:
        self.refusals, self.written = refusals, set[str]()

    def write(self, results: Sequence[FileResult], deleted: Sequence[str] = ()) -> None:
        paths = {r.path for r in results}
        if "late.py" in paths and self.refusals:
            self.refusals -= 1
            raise TransientSinkError("database is locked")
        self.written |= paths


def test_a_batch_no_sink_took_is_tried_again(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", {"a.py": "x = 1\n"})
    config = resolve_config({"workers": 1, "max_retries": 0, "max_backoff_ms": 200}, env={})
    logged: list[str] = []
    sink = RefusingSink(refusals=2)
    watch = Watch(repo, config, executor="inline", log=logged.append)
    with watch_in_thread(watch) as seen:
        watch.run.sinks.append(sink)
        wait_for(lambda: "a.py" in sink.written or "a.py" in paths(repo / ".snake-pipe" / "records.sqlite"), "the catch-up")  # fmt: skip
        (repo / "late.py").write_text("def late():\n    pass\n")
        wait_for(lambda: "late.py" in sink.written, "late.py written at the third try")
        wait_for(lambda: any(c.path == "late.py" for c in seen), "late.py reported")
    assert logged.count("1 files not written (database is locked); trying them again in 0.2 s") == 2
    assert watch.report is not None and watch.report.status == "completed"


def test_a_hangup_to_the_process_group_stops_it_cleanly(tmp_path: Path) -> None:
    """A closed terminal sends SIGHUP to every process of the group, the pool's helpers too:
    the watch stops as for SIGTERM, and no helper dies complaining on stderr."""
    repo = sample_repo(tmp_path / "repo")
    db = repo / ".snake-pipe" / "records.sqlite"
    cmd = [sys.executable, "-m", "snake_pipe", "watch", str(repo), "--workers", "1"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, start_new_session=True)
    wait_for(lambda: "src/a.py" in paths(db), "catch-up")
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGHUP)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert "stopping: finishing the batches in flight" in stderr
    assert "Traceback" not in stderr and "Warning" not in stderr
    status = json.loads(run_cli("status", repo, "--json").stdout)
    assert status["last_run"]["state"] == "completed"


def test_files_gone_before_their_batch_leave_no_event_time(tmp_path: Path) -> None:
    """An editor's short-lived temp file: its event time must not stay behind (memory, and a
    false latency when the name comes back)."""
    repo = write_tree(tmp_path / "repo", {"a.py": "x = 1\n"})
    config = resolve_config({"workers": 1}, env={})
    watch = Watch(repo, config, executor="inline", log=lambda _: None)
    with watch_in_thread(watch):
        wait_for(lambda: watch._scan is None, "the catch-up")
        for i in range(30):
            temp = repo / f"tmp_{i}.py"
            temp.write_text("def f():\n    pass\n" * 300)
            time.sleep(0.02)
            temp.unlink()
        time.sleep(1.0)
        wait_for(lambda: not watch.feed.event_times and not len(watch.queue), "event times gone")


def test_a_closed_log_pipe_costs_the_log_lines_not_the_watch(tmp_path: Path) -> None:
    """``watch 2>&1 | logger`` whose reader dies: the daemon keeps its records current and
    still stops cleanly, though every line it writes now fails."""
    repo = sample_repo(tmp_path / "repo")
    db = repo / ".snake-pipe" / "records.sqlite"
    read_end, write_end = os.pipe()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNAKE_PIPE_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "snake_pipe", "watch", str(repo), "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=write_end, env=env,
    )  # fmt: skip
    os.close(write_end)
    try:
        wait_for(lambda: "src/a.py" in paths(db), "catch-up")
        os.close(read_end)
        for i in range(3):  # each batch writes a log line into the closed pipe
            (repo / "src" / f"new{i}.py").write_text(f"def new{i}():\n    pass\n")
            wait_for(lambda i=i: symbols(db, f"src/new{i}.py") == {f"new{i}"}, f"new{i}.py")
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
