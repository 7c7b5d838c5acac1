"""Bad files, dying and hanging parsers, failing sinks: every file accounted for."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import psutil
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snake_pipe import pipeline
from snake_pipe.checkpoints import Checkpointer, CheckpointStore
from snake_pipe.config import resolve_config
from snake_pipe.discover import Walker
from snake_pipe.errors import SinkError, StoreError, TransientSinkError
from snake_pipe.parse import worker
from snake_pipe.pipeline import Run
from snake_pipe.records import STATUSES, FileResult, WorkItem
from snake_pipe.sinks.base import Sink
from tests.conftest import PY_SAMPLE, rows, run_cli, write_tree

HOOK = {"SNAKE_PIPE_TEST_WORKER_HOOK": "tests.faults"}


def nasty_repo(root: Path) -> Path:
    deep = "x = " + "[" * 10_000 + "]" * 10_000 + "\n"
    write_tree(root, {
        "good.py": PY_SAMPLE,
        "latin1.py": b"# caf\xe9 \xff\xfe\n" + b"def f():\n    return '\xe9'\n",
        "bom.py": b"\xef\xbb\xbfdef with_bom():\n    pass\n",
        "utf16.py": "def wide():\n    pass\n".encode("utf-16"),
        "nul.py": b"def f():\n    pass\n\0\0\0binary",
        "crlf.py": b"def crlf():\r\n    return 1\r\n",
        "deep.py": deep,
        "deep.json": "[" * 10_000 + "]" * 10_000,
        "big.py": b"x = 1\n" * (50 * 1024 * 1024 // 6),
        "empty.py": b"",
    })  # fmt: skip
    os.symlink(root / "loop_a", root / "loop_b")
    os.symlink(root / "loop_b", root / "loop_a")
    os.symlink(root / "nowhere.py", root / "dangling.py")
    os.makedirs(root / "cycle")
    os.symlink(root / "cycle", root / "cycle" / "self")
    (root / os.fsdecode(b"caf\xe9_name.py")).write_text("def named():\n    pass\n")
    (root / "caf\\xe9_name.py").write_text("def literal():\n    pass\n")  # the same, escaped
    return root


def test_nasty_repository_every_file_has_the_right_row(tmp_path: Path) -> None:
    repo = nasty_repo(tmp_path / "repo")
    report = tmp_path / "r.json"
    result = run_cli("ingest", repo, "--report", report, "--quiet", "--follow-symlinks", "--ast")
    assert result.returncode == 0, result.stderr
    db = repo / ".snake-pipe" / "records.sqlite"
    files = {r[0]: r[1:] for r in rows(db, "SELECT path, status, error_category FROM files")}
    assert files["good.py"] == ("ok", None)
    assert files["latin1.py"][0] in ("ok", "syntax_error")
    assert files["bom.py"] == ("ok", None) and files["utf16.py"] == ("ok", None)
    assert files["nul.py"] == ("skipped", "binary")
    assert files["crlf.py"] == ("ok", None)
    assert files["deep.py"][0] in ("ok", "syntax_error") and files["deep.json"][0] in (
        "ok",
        "syntax_error",
    )
    assert files["big.py"] == ("skipped", "too_large")
    assert files["empty.py"] == ("ok", None)
    for link in ("loop_a", "loop_b", "dangling.py"):
        assert files[link] == ("skipped", "symlink"), link
    assert files["caf\\xe9_name.py"] == ("ok", None)
    assert files["caf\\\\xe9_name.py"] == ("ok", None)  # a backslash in a name is doubled
    named = "SELECT path, name FROM symbols WHERE name IN ('named', 'literal') ORDER BY name"
    assert rows(db, named) == [("caf\\\\xe9_name.py", "literal"), ("caf\\xe9_name.py", "named")]
    assert rows(db, "SELECT name FROM symbols WHERE path = 'bom.py'") == [("with_bom",)]
    assert rows(db, "SELECT name, start_line FROM symbols WHERE path = 'utf16.py'") == [("wide", 1)]
    assert rows(db, "SELECT line_count FROM files WHERE path = 'utf16.py'") == [(2,)]
    assert json.loads(report.read_text())["status"] == "completed"


def test_a_directory_that_cannot_be_listed_keeps_its_files_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A permission or I/O error on a directory for one run is no deletion of what it holds
    (injected: root lists every directory whatever its mode)."""
    repo = write_tree(tmp_path / "repo", {"a.py": PY_SAMPLE, "tests/t.py": PY_SAMPLE,
                                          "tests/deep/u.py": PY_SAMPLE})  # fmt: skip
    config = resolve_config({"quiet": True, "workers": 1})
    pipeline.ingest(repo, config, executor="inline")
    db = repo / ".snake-pipe" / "records.sqlite"
    held = rows(db, "SELECT path FROM symbols ORDER BY path, name")
    real_scandir = os.scandir

    def refusing(path: str) -> object:
        if str(path).endswith("/tests"):
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    report = pipeline.ingest(repo, config, executor="inline")
    assert report.status == "completed" and report.deleted_files == 0
    assert rows(db, "SELECT path FROM symbols ORDER BY path, name") == held
    assert rows(db, "SELECT status, error FROM files WHERE path = 'tests'") == [
        ("failed", "cannot list directory: Permission denied")
    ]
    monkeypatch.undo()
    (repo / "tests" / "t.py").unlink()  # listed again: a file gone is deleted
    assert pipeline.ingest(repo, config, executor="inline").deleted_files == 2  # and `tests`
    assert {r[0] for r in rows(db, "SELECT path FROM files")} == {"a.py", "tests/deep/u.py"}


def test_a_run_whose_end_cannot_be_recorded_still_writes_its_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk under the store fails the run at its end: the report, elsewhere, says so
    (monitoring reads it), and the next run finishes the job."""
    repo = write_tree(tmp_path / "repo", {"a.py": PY_SAMPLE})
    config = resolve_config({"quiet": True, "workers": 1})
    real_finish = Checkpointer.finish

    def full(self: Checkpointer, status: str, *args: object) -> None:
        if status == "completed":
            raise StoreError("checkpoint store: commit failed (No space left on device)")
        real_finish(self, status, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Checkpointer, "finish", full)
    report = tmp_path / "reports" / "r.json"
    with pytest.raises(StoreError, match="No space left"):
        pipeline.ingest(repo, config, executor="inline", report_path=report)
    data = json.loads(report.read_text())
    assert data["status"] == "failed" and data["progress"]["processed_files"] == 1
    monkeypatch.undo()
    assert pipeline.ingest(repo, config, executor="inline").status == "completed"


def without_root_powers() -> list[str]:
    """A command prefix under which file modes apply, also to root; skips if none."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: file modes cannot be made to apply")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def test_a_store_without_permission_says_so_and_not_that_it_is_damaged(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", {"a.py": PY_SAMPLE})
    assert run_cli("ingest", repo, "--quiet").returncode == 0
    prefix, store = without_root_powers(), repo / ".snake-pipe"
    cli = [*prefix, sys.executable, "-m", "snake_pipe"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNAKE_PIPE_")}
    lmdb_files = list((store / "checkpoints.lmdb").iterdir())
    for f in lmdb_files:
        f.chmod(0o400)
    try:
        done = subprocess.run([*cli, "status", str(repo)], capture_output=True, text=True, env=env)
    finally:
        for f in lmdb_files:
            f.chmod(0o600)
    assert done.returncode == 1 and "permission denied" in done.stderr
    assert "damaged" not in done.stderr and "--restart" not in done.stderr
    store.chmod(0o500)
    (repo / "b.py").write_text("x = 1\n")
    try:
        done = subprocess.run([*cli, "ingest", str(repo), "--quiet"], capture_output=True,
                              text=True, env=env)  # fmt: skip
    finally:
        store.chmod(0o700)
    assert done.returncode == 1 and "run as a user who may write it" in done.stderr
    assert "move it away" not in done.stderr


def test_vanished_and_unreadable_files_fail_with_read(tmp_path: Path) -> None:
    missing = WorkItem("gone.py", str(tmp_path / "gone.py"), "python", 10, 0)
    result = worker.extract_file(missing)
    assert (result.status, result.error_category) == ("failed", "read")
    assert result.error == "No such file or directory"
    locked = tmp_path / "locked.py"
    locked.write_text("x = 1\n")
    locked.chmod(0)
    extract = (  # in a process where the file's mode applies, root's too
        "import sys; from snake_pipe.parse import worker; from snake_pipe.records import WorkItem; "
        "r = worker.extract_file(WorkItem('locked.py', sys.argv[1], 'python', 6, 0)); "
        "print(r.status, r.error_category, r.error, sep='|')"
    )
    done = subprocess.run([*without_root_powers(), sys.executable, "-c", extract, str(locked)],
                          capture_output=True, text=True)  # fmt: skip
    assert done.stdout.strip() == "failed|read|Permission denied", done.stderr


def test_explain_on_what_may_not_be_read_says_so_in_one_line(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", {"locked.py": "x = 1\n", "shut/in.py": "x = 1\n"})
    (repo / "locked.py").chmod(0)
    (repo / "shut").chmod(0)
    cli = [*without_root_powers(), sys.executable, "-m", "snake_pipe", "explain", str(repo)]
    try:
        locked = subprocess.run([*cli, "locked.py"], capture_output=True, text=True)
        shut = subprocess.run([*cli, "shut/in.py"], capture_output=True, text=True)
    finally:
        (repo / "shut").chmod(0o755)
    assert "Traceback" not in locked.stderr + shut.stderr
    assert locked.stdout.splitlines()[-1] == (
        "failed: cannot read it (Permission denied): ingest records it as failed (read)"
    )
    assert shut.stdout.splitlines()[-1] == (
        "failed: cannot look at shut/in.py (Permission denied): the walk records a directory "
        "it cannot list as failed (read)"
    )


def fault_repo(root: Path, faults: Sequence[str]) -> Path:
    files: dict[str, str | bytes] = {
        f"ok/m{i}.py": f"def f{i}():\n    return {i}\n" for i in range(300)
    }
    for kind in faults:
        files[f"bad/{kind}.py"] = f"# SNAKE-PIPE-FAULT:{kind}\ndef f():\n    pass\n"
    return write_tree(root, files)


def test_crashing_hanging_and_oom_killed_workers_are_isolated(tmp_path: Path) -> None:
    repo = fault_repo(tmp_path / "repo", ["segv", "hang", "oom", "exit", "raise"])
    report = tmp_path / "r.json"
    result = run_cli("ingest", repo, "--quiet", "--batch-size", "50", "--report", report,
                     env={**HOOK, "SNAKE_PIPE_PARSE_TIMEOUT_MS": "1500"}, timeout=240)  # fmt: skip
    assert result.returncode == 0, result.stderr
    db = repo / ".snake-pipe" / "records.sqlite"
    bad = {
        r[0]: r[1:]
        for r in rows(
            db, "SELECT path, status, error_category, error FROM files WHERE path LIKE 'bad/%'"
        )
    }
    assert bad["bad/segv.py"][:2] == ("failed", "crash") and "SIGSEGV" in bad["bad/segv.py"][2]
    assert bad["bad/oom.py"][:2] == ("failed", "crash") and "SIGKILL" in bad["bad/oom.py"][2]
    assert bad["bad/exit.py"][:2] == ("failed", "crash") and "exit code 3" in bad["bad/exit.py"][2]
    assert (
        bad["bad/hang.py"][:2] == ("failed", "timeout")
        and "parse_timeout_ms=1500" in bad["bad/hang.py"][2]
    )
    assert (
        bad["bad/raise.py"][:2] == ("failed", "internal")
        and "injected failure" in bad["bad/raise.py"][2]
    )
    assert rows(db, "SELECT count(*) FROM files WHERE path LIKE 'ok/%' AND status = 'ok'") == [
        (300,)
    ]
    data = json.loads(report.read_text())
    assert data["status"] == "completed" and data["progress"]["retried_batches"] >= 4
    assert data["errors_by_category"] == {"crash": 3, "internal": 1, "timeout": 1}


class FlakySink(Sink):
    """Fails its first ``failures`` writes (a database that is restarting), then works."""

    def __init__(self, failures: int) -> None:
        self.failures, self.writes = failures, 0
        self.written: set[str] = set()

    def write(self, results: Sequence[FileResult], deleted: Sequence[str] = ()) -> None:
        self.writes += 1
        if self.failures:
            self.failures -= 1
            raise TransientSinkError("flaky: connection refused")
        self.written.update(r.path for r in results)


def run_with_sink(repo: Path, sink: Sink, **options: object) -> Run:
    config = resolve_config({"batch_size": 50, "initial_backoff_ms": 1, "max_backoff_ms": 5,
                             "workers": 1, **options}, None, {})  # fmt: skip
    run = Run(repo, config, executor="inline")
    with run:
        run.sinks.append(sink)
        run.scan()
        run.finish(run.outcome())
    return run


class BusySink(Sink):
    """Works in the background for its next ``polls`` looks at ``busy`` after the walk."""

    def __init__(self, polls: int) -> None:
        self.polls, self.finished = polls, False
        self.batches: list[list[str]] = []

    def scan_finished(self) -> None:
        self.finished = True

    @property
    def busy(self) -> bool:
        if self.finished and self.polls:
            self.polls -= 1
            return True
        return False

    def write(self, results: Sequence[FileResult], deleted: Sequence[str] = ()) -> None:
        self.batches.append([r.path for r in results])


def test_batches_held_while_a_sink_is_busy_are_all_written_once(
    tmp_path: Path,
) -> None:
    repo = fault_repo(tmp_path / "repo", [])
    sink = BusySink(polls=1)
    run = run_with_sink(repo, sink, workers=2, batch_size=50)
    assert sink.finished and sink.polls == 0  # batches were held
    written = [path for batch in sink.batches for path in batch]
    assert len(written) == len(set(written)) == 300
    assert run.outcome() == "completed" and run.stats.batches == len(sink.batches)


class DownSink(Sink):
    """A sink whose server is down; the user presses Ctrl-C (``run.stop``) on its 2nd write."""

    def __init__(self) -> None:
        self.writes = 0
        self.run: Run | None = None

    def write(self, results: Sequence[FileResult], deleted: Sequence[str] = ()) -> None:
        self.writes += 1
        if self.writes == 2 and self.run is not None:
            self.run.stop()
        raise TransientSinkError("down: connection refused")


def test_a_stop_ends_the_retries_of_a_sink_that_is_down(tmp_path: Path) -> None:
    """Once stopping, a failing write is not retried and the circuit breaker does not turn
    the interruption into a failure: the run ends at once, resumable."""
    repo = fault_repo(tmp_path / "repo", [])
    config = resolve_config({"batch_size": 50, "initial_backoff_ms": 1, "max_backoff_ms": 5,
                             "workers": 1, "max_retries": 5}, None, {})  # fmt: skip
    sink = DownSink()
    with Run(repo, config, executor="inline") as run:
        sink.run = run
        run.sinks.append(sink)
        assert run.scan() is False  # stopped, no SinkError from the breaker
        assert run.finish("interrupted").status == "interrupted"
    assert sink.writes <= 3  # 1 + its retry before the stop, 1 without retries after it


def test_a_run_that_fails_to_start_leaves_the_last_run_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sink down when the run starts: no new run is left for the next start to "resume"
    with nothing done, and an interrupted run stays interrupted."""
    repo = fault_repo(tmp_path / "repo", [])
    config = resolve_config({"workers": 1}, None, {})

    def last_run() -> dict[str, object] | None:
        with CheckpointStore(repo / ".snake-pipe" / "checkpoints.lmdb") as store:
            return store.last_run()

    def down(*args: object) -> bool:
        raise SinkError("postgresql://db/x: connection refused")

    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "in_step", down)
        with pytest.raises(SinkError):
            Run(repo, config, executor="inline").__enter__()
    assert last_run() is None
    with Run(repo, config, executor="inline") as run:
        run.finish("interrupted")
    interrupted = last_run()
    assert interrupted is not None and interrupted["state"] == "interrupted"
    monkeypatch.setattr(pipeline, "in_step", down)
    with pytest.raises(SinkError):
        Run(repo, config, executor="inline").__enter__()
    assert last_run() == interrupted


def test_sink_failures_are_retried_then_succeed(tmp_path: Path) -> None:
    repo = fault_repo(tmp_path / "repo", [])
    sink = FlakySink(failures=3)
    run = run_with_sink(repo, sink)
    assert len(sink.written) == 300 and run.stats.retried_batches == 3
    assert run.outcome() == "completed"


def test_sink_down_opens_the_circuit_breaker(tmp_path: Path) -> None:
    repo = fault_repo(tmp_path / "repo", [])
    with pytest.raises(SinkError, match="stopping: most of the last 10 batches failed"):
        run_with_sink(repo, FlakySink(failures=10**6), max_retries=1)


def test_on_batch_error_stop_and_continue(tmp_path: Path) -> None:
    repo = fault_repo(tmp_path / "repo", [])
    with pytest.raises(SinkError, match="on_batch_error = stop"):
        run_with_sink(repo, FlakySink(failures=2), max_retries=1, on_batch_error="stop")
    run = run_with_sink(repo, FlakySink(failures=2), max_retries=1, on_batch_error="continue",
                        circuit_breaker_threshold=1.0)  # fmt: skip
    assert run.outcome() == "partial" and run.stats.failed_batches == 1
    # the failed batch was not checkpointed: the next run does it again
    rerun = run_with_sink(repo, FlakySink(failures=0))
    assert rerun.stats.processed == 50


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.binary(max_size=3000),
    language=st.sampled_from(["python", "c", "javascript", "rust", "json", "bash"]),
)
def test_random_bytes_never_raise(tmp_path: Path, data: bytes, language: str) -> None:
    path = tmp_path / "f"
    path.write_bytes(data)
    result = worker.extract_file(WorkItem("f", str(path), language, len(data), 0))
    assert result.status in STATUSES
    assert result.status != "failed" or result.error_category == "decode"
    assert all(s.name for s in result.symbols)


names = st.text(alphabet="abcxyz._-", min_size=1, max_size=6).filter(lambda n: n not in (".", ".."))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tree=st.lists(st.lists(names, min_size=1, max_size=4), min_size=1, max_size=25))
def test_random_trees_are_walked_completely(
    tmp_path_factory: pytest.TempPathFactory, tree: list[list[str]]
) -> None:
    root = tmp_path_factory.mktemp("tree")
    expected = set()
    for parts in tree:
        path = root.joinpath(*parts)
        if (
            any(p.is_file() for p in [root.joinpath(*parts[:i]) for i in range(1, len(parts))])
            or path.is_dir()
        ):
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
        expected.add("/".join(parts))
    expected = {p for p in expected if not any(part == ".git" for part in p.split("/"))}
    found = {
        item.path for item in Walker(root, resolve_config({"no_ignore": True}, None, {})).walk()
    }
    assert found == expected


def test_crashes_amid_many_batches_never_abort_the_run(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        f"ok/m{i}.py": f"def f{i}():\n    return {i}\n" for i in range(2500)
    }
    files |= {f"bad{k}.py": "# SNAKE-PIPE-FAULT:segv\n" for k in range(2)}
    repo = write_tree(tmp_path / "repo", files)
    report = tmp_path / "r.json"
    result = run_cli(
        "ingest", repo, "--quiet", "--batch-size", "50", "--report", report, env=HOOK, timeout=300
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(report.read_text())
    assert data["progress"]["processed_files"] == 2502 and data["errors_by_category"] == {
        "crash": 2
    }


def test_a_run_of_files_over_the_parse_timeout_never_aborts_the_run(tmp_path: Path) -> None:
    """Thirteen files over parse_timeout_ms, sorted together into one batch, kill a worker
    each time the batch is split: those deaths prove the workers start, so the run goes on."""
    files: dict[str, str | bytes] = {f"ok/m{i}.py": f"def f{i}():\n    return {i}\n" for i in range(100)}
    files |= {f"slow/s{k:02}.py": "# SNAKE-PIPE-FAULT:hang\n" for k in range(13)}
    repo = write_tree(tmp_path / "repo", files)
    report = tmp_path / "r.json"
    result = run_cli("ingest", repo, "--quiet", "--report", report, timeout=300,
                     env={**HOOK, "SNAKE_PIPE_PARSE_TIMEOUT_MS": "200"})  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(report.read_text())
    assert data["errors_by_category"] == {"timeout": 13}
    assert data["progress"]["successful_files"] == 100


def test_workers_that_cannot_start_fail_the_run_in_one_line(tmp_path: Path) -> None:
    repo = fault_repo(tmp_path / "repo", [])
    env = {"SNAKE_PIPE_TEST_WORKER_HOOK": "tests.no_such_module"}
    result = run_cli("ingest", repo, "--quiet", env=env, timeout=120)
    assert result.returncode == 1
    assert "cannot start (check the installation;" in result.stderr.splitlines()[-1]
    assert "Traceback" not in result.stderr


def test_parsers_exit_when_the_coordinator_is_killed(tmp_path: Path) -> None:
    """`kill -9` of snake-pipe leaves no parser, forkserver or resource tracker behind: a
    pool worker waits on a queue whose pipe it holds itself, so it must watch its starter."""
    repo = write_tree(
        tmp_path / "repo", {f"slow{i}.py": f"# SNAKE-PIPE-FAULT:slow {i}\n" for i in range(6)}
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNAKE_PIPE_")} | HOOK
    proc = subprocess.Popen(
        [sys.executable, "-m", "snake_pipe", "ingest", str(repo), "--workers", "2", "--quiet"],
        env=env, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    coordinator = psutil.Process(proc.pid)
    deadline = time.monotonic() + 30
    while len(coordinator.children(recursive=True)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)  # the forkserver, the resource tracker and a parser
    started = coordinator.children(recursive=True)
    assert len(started) >= 3, started
    proc.kill()
    proc.wait()
    _, alive = psutil.wait_procs(started, timeout=10)
    assert [p for p in alive if p.status() != psutil.STATUS_ZOMBIE] == []


def test_a_failed_file_is_tried_again_by_the_next_run(tmp_path: Path) -> None:
    """Failures can pass (a read refused, a crash, a bug): unlike an unchanged file, one that
    failed is parsed again even though its stat did not change."""
    repo = write_tree(tmp_path / "repo", {"a.py": "x = 1\n", "b.py": "# SNAKE-PIPE-FAULT:raise\n"})
    db = repo / ".snake-pipe" / "records.sqlite"
    assert run_cli("ingest", repo, "--quiet", env=HOOK).returncode == 0
    assert rows(db, "SELECT path, status, error_category FROM files ORDER BY path") == [
        ("a.py", "ok", None), ("b.py", "failed", "internal")
    ]  # fmt: skip
    report = tmp_path / "r.json"
    assert run_cli("ingest", repo, "--quiet", "--report", report).returncode == 0
    assert rows(db, "SELECT path, status FROM files ORDER BY path") == [
        ("a.py", "ok"),
        ("b.py", "ok"),
    ]
    data = json.loads(report.read_text())
    assert data["progress"]["processed_files"] == 1 and data["unchanged_files"] == 1
