"""The Python API on real repositories in tmp dirs, with the real process pool.

Processes are checked with psutil: the parser processes are the children of the forkserver,
which (like multiprocessing's resource tracker) lives as long as the test process.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import anyio
import psutil
import pytest

import snake_pipe
from snake_pipe import (
    Change,
    ConfigError,
    FileRecord,
    RepositoryError,
    SinkError,
    SnakePipeError,
    StoreError,
)
from snake_pipe.api import Options, make_config
from snake_pipe.config import Config
from snake_pipe.parse.ast import decode_tree
from snake_pipe.records import FileResult
from snake_pipe.sinks.jsonl import JSONLSink
from tests.conftest import JS_SAMPLE, PY_SAMPLE, rows, write_tree

SYMBOLS = [("LIMIT", "constant", 5, 5, None), ("top", "function", 9, 10, None),
           ("Widget", "class", 13, 20, None), ("__init__", "method", 14, 15, "Widget"),
           ("run", "method", 17, 20, "Widget"), ("helper", "function", 18, 19, "Widget.run")]  # fmt: skip


def sample_repo(root: Path) -> Path:
    return write_tree(root, {
        "pkg/mod.py": PY_SAMPLE,
        "web/app.js": JS_SAMPLE,
        "broken.py": "def f(:\n    return (\n",
        "README.txt": "hello\n",
        "logo.png": b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
    })  # fmt: skip


def many_files(root: Path, count: int, prefix: str = "m") -> Path:
    """``count`` distinct small Python files: several batches of 50."""
    return write_tree(root, {
        f"{prefix}{i // 100}/{prefix}{i:04d}.py": f"def f{i}(x):\n    return x + {i}\n"
        for i in range(count)
    })  # fmt: skip


def parser_processes() -> list[psutil.Process]:
    """The parser processes of this test process: children of its forkserver."""
    found = []
    for child in psutil.Process().children():
        with contextlib.suppress(psutil.Error):
            if "forkserver" in " ".join(child.cmdline()):
                found.extend(p for p in child.children() if p.status() != psutil.STATUS_ZOMBIE)
    return found


def assert_no_parsers(timeout: float = 10.0) -> None:
    gone, alive = psutil.wait_procs(parser_processes(), timeout=timeout)
    assert not alive, f"parser processes still running: {alive}"


def committed(store: Path) -> int:
    """Files in the checkpoint store, read by another process while the run has it open."""
    code = ("import lmdb, sys\n"
            "env = lmdb.open(sys.argv[1], readonly=True, lock=True, max_dbs=8)\n"
            "db = env.open_db(b'files', create=False)\n"
            "print(env.begin().stat(db)['entries'])")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code, str(store / "checkpoints.lmdb")],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return int(out.stdout)


# -- extract ---------------------------------------------------------------------------------


def test_extract_streams_validated_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = sample_repo(tmp_path / "repo")
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    records = {r.path: r for r in snake_pipe.extract(repo, workers=2)}
    assert all(isinstance(r, FileRecord) for r in records.values())
    assert {p: (r.language, r.status, r.error_category) for p, r in records.items()} == {
        "pkg/mod.py": ("python", "ok", None),
        "web/app.js": ("javascript", "ok", None),
        "broken.py": ("python", "syntax_error", None),
        "README.txt": (None, "skipped", "unsupported"),
        "logo.png": (None, "skipped", "binary"),
    }
    mod = records["pkg/mod.py"]
    assert [tuple(s.model_dump().values()) for s in mod.symbols] == SYMBOLS
    assert [(i.module, i.line) for i in mod.imports] == [("os", 2), ("collections", 3)]
    assert len(mod.content_hash or "") == 40 and mod.line_count == PY_SAMPLE.count("\n")
    assert mod.extra == {} and mod.ast is None
    broken = records["broken.py"]
    assert broken.syntax_error_count >= 1 and broken.parse_errors[0].kind in ("ERROR", "MISSING")
    assert records["web/app.js"].imports[0].module == "fs"
    # the temporary store is gone, and the repository got no store either
    assert [p.name for p in temp.iterdir() if p.name.startswith("snake-pipe-")] == []
    assert not (repo / ".snake-pipe").exists()


def test_extract_records_are_json_ready_and_carry_the_ast(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", {"a.py": "x = 1\n"})
    (record,) = snake_pipe.extract(repo, ast=True, executor="inline")
    assert record.ast is not None and record.ast["types"][0] == "module"
    nodes = decode_tree(record.ast)
    assert nodes[0]["type"] == "module" and [n["text"] for n in nodes if n["text"]] == ["x", "=", "1"]
    doc = json.loads(record.model_dump_json())
    assert doc["path"] == "a.py" and doc["symbols"] == [] and doc["ast"]["nodes"]
    assert FileRecord.model_validate(doc) == record


def test_inline_runs_do_not_reuse_results_made_under_other_options(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", {"a.py": "y = 2\n"})
    (plain,) = snake_pipe.extract(repo, executor="inline")
    (with_ast,) = snake_pipe.extract(repo, executor="inline", ast=True)
    assert plain.ast is None and with_ast.ast is not None and not with_ast.duplicate


def test_extract_options_filter_like_the_cli(tmp_path: Path) -> None:
    repo = sample_repo(tmp_path / "repo")
    paths = {r.path for r in snake_pipe.extract(repo, include="*.py", executor="inline")}
    assert paths == {"pkg/mod.py", "broken.py"}
    paths = {r.path for r in snake_pipe.extract(repo, exclude=["pkg/", "*.png"], workers=1)}
    assert paths == {"web/app.js", "broken.py", "README.txt"}


def test_extract_also_writes_the_sinks_it_is_given(tmp_path: Path) -> None:
    repo = sample_repo(tmp_path / "repo")
    out = tmp_path / "out.jsonl"
    paths = {r.path for r in snake_pipe.extract(repo, sinks=[f"jsonl:{out}"], workers=2)}
    reset, *lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert reset == {"op": "reset"}  # no store: every call writes every file
    assert {line["path"] for line in lines} == paths and len(paths) == 5


def test_extract_with_a_store_yields_everything_every_time(tmp_path: Path) -> None:
    repo = sample_repo(tmp_path / "repo")
    store = tmp_path / "store"
    first = sorted(r.path for r in snake_pipe.extract(repo, store=store, workers=2))
    second = sorted(r.path for r in snake_pipe.extract(repo, store=store, workers=2))
    assert first == second and len(first) == 5
    assert not (store / "records.sqlite").exists()  # the consumer is the only sink


def test_invalid_options_raise_config_error_at_the_call(tmp_path: Path) -> None:
    repo = sample_repo(tmp_path / "repo")
    with pytest.raises(ConfigError, match=r"^wokers: unknown option; known: workers, "):
        snake_pipe.extract(repo, wokers=2)  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match=r"^workers=0 is not allowed: .*greater than or equal"):
        snake_pipe.extract(repo, workers=0)
    with pytest.raises(ConfigError, match=r"^batch_size=7 is not allowed: must be \"auto\""):
        snake_pipe.aextract(repo, batch_size=7)
    with pytest.raises(ConfigError, match="needs store=DIR"):
        snake_pipe.extract(repo, changes_only=True)
    # named as the keywords the caller passed, not as the command line's flags
    with pytest.raises(ConfigError, match="^sinks: 'nosuch:x' is not allowed"):
        snake_pipe.ingest(repo, sinks=["nosuch:x"])
    with pytest.raises(ConfigError, match="^executor: 'threads' is not allowed: use process"):
        snake_pipe.extract(repo, executor="threads")
    with pytest.raises(ConfigError, match="^executor: 'threads' is not allowed"):
        snake_pipe.awatch(repo, executor="threads")
    with pytest.raises(ConfigError, match=f"^report_path {tmp_path}: is a directory"):
        snake_pipe.ingest(repo, report_path=tmp_path)
    with pytest.raises(ConfigError, match=f"^sinks jsonl:{tmp_path}: is a directory"):
        next(snake_pipe.extract(repo, sinks=[f"jsonl:{tmp_path}"], executor="inline"))
    with pytest.raises(RepositoryError, match="does not exist"):
        snake_pipe.extract(tmp_path / "missing")
    for repo_value in (None, 123):
        with pytest.raises(ConfigError, match=f"^repo: {repo_value} is not allowed"):
            snake_pipe.extract(repo_value)  # type: ignore[call-overload]
    with pytest.raises(ConfigError, match="^config: list is not allowed"):
        snake_pipe.ingest(repo, config=[1])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="^store='' is not allowed"):
        snake_pipe.extract(repo, store="", changes_only=True)
    with pytest.raises(ConfigError, match=f"^store {repo / 'broken.py'}: is a file"):
        snake_pipe.extract(repo, store=repo / "broken.py")  # at the call, not at the first next()
    with pytest.raises(ConfigError, match="^sinks: 'sqlite' alone is the store's database"):
        snake_pipe.extract(repo, sinks=["sqlite"])  # its temporary store would be deleted
    with pytest.raises(ConfigError, match="^executor: 3 is not allowed"):
        snake_pipe.extract(repo, executor=3)  # type: ignore[call-overload]
    with pytest.raises(ConfigError, match="^repo: 5 is not allowed"):
        snake_pipe.awatch(5)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="^workers='x' is not allowed"):
        snake_pipe.Config(workers="x")  # not pydantic's own ValidationError
    assert not (repo / ".snake-pipe").exists()
    # a dict of settings is a Config; keywords win over it
    records = list(snake_pipe.extract(repo, config={"workers": 1, "include": ["*.js"]},
                                      include=["*.py"], executor="inline"))  # fmt: skip
    assert records and all(r.path.endswith(".py") for r in records)
    assert issubclass(ConfigError, SnakePipeError) and issubclass(RepositoryError, SnakePipeError)


def test_a_batch_a_sink_refused_ends_the_loop_with_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refused batch is not handed over: the consumer must not take the run for whole."""
    repo = write_tree(tmp_path / "repo", {f"m{i}.py": f"def f{i}():\n    pass\n" for i in range(120)})
    write = JSONLSink.write

    def refuse_m1(self: JSONLSink, results: Sequence[FileResult], deleted: Sequence[str] = ()) -> None:
        if any(r.path == "m1.py" for r in results):  # the fault: a full disk, say
            raise SinkError(f"jsonl:{self.path}: write failed (No space left on device)")
        write(self, results, deleted)

    monkeypatch.setattr(JSONLSink, "write", refuse_m1)
    got: set[str] = set()
    with pytest.raises(SinkError, match=r"^1 batch\(es\), (50|20) files, could not be written to "
                       r"the sinks .*No space left on device.*: run again to get them") as refused:  # fmt: skip
        for record in snake_pipe.extract(repo, sinks=[f"jsonl:{tmp_path / 'out.jsonl'}"],
                                         executor="inline", batch_size=50, max_retries=0,
                                         circuit_breaker_threshold=1.0):  # fmt: skip
            got.add(record.path)
    missing = int(str(refused.value).split(", ")[1].split()[0])
    assert "m1.py" not in got and len(got) == 120 - missing


def test_a_script_piped_to_python_gets_one_clear_error(tmp_path: Path) -> None:
    repo = sample_repo(tmp_path / "repo")
    call = f"import snake_pipe\nprint(sum(1 for _ in snake_pipe.extract({str(repo)!r}{{}})))\n"
    script = call.format("")
    done = subprocess.run([sys.executable, "-"], input=script, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 1 and done.stderr.count("Traceback") == 1
    assert "a script piped to python -" in done.stderr and 'executor="inline"' in done.stderr
    inline = call.format(", executor='inline'")
    done = subprocess.run([sys.executable, "-"], input=inline, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0 and done.stdout.strip() == "5", done.stderr


@pytest.mark.anyio
async def test_errors_of_the_run_reach_the_consumer(tmp_path: Path) -> None:
    repo = sample_repo(tmp_path / "repo")
    (tmp_path / "a-file").write_text("not a directory\n")
    with pytest.raises(StoreError, match="cannot create it"):
        list(snake_pipe.extract(repo, store=tmp_path / "a-file" / "store"))
    with pytest.raises(StoreError, match="cannot create it"):
        [r async for r in snake_pipe.aextract(repo, store=tmp_path / "a-file" / "store")]
    assert_no_parsers()


def test_options_are_the_config_fields() -> None:
    assert set(Options.__annotations__) == set(Config.model_fields)


def test_config_precedence_keyword_over_env_over_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "snake-pipe.toml"
    file.write_text("workers = 3\nmax_errors_per_file = 7\nast = true\n")
    monkeypatch.setenv("SNAKE_PIPE_MAX_ERRORS_PER_FILE", "9")
    config = make_config({"workers": 2}, config_file=file)
    assert (config.workers, config.max_errors_per_file, config.ast) == (2, 9, True)
    base = Config(workers=5, ast=True)
    assert make_config({"ast": False}, config=base).model_dump() == {
        **base.model_dump(),
        "ast": False,
    }
    monkeypatch.setenv("SNAKE_PIPE_WORKERS", "zero")
    with pytest.raises(ConfigError, match="SNAKE_PIPE_WORKERS"):
        make_config({})
    assert make_config({"workers": 1}).workers == 1  # the keyword hides the bad variable


def test_defaults_apply_only_where_nothing_was_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = {"queue_order": "smallest_first"}
    monkeypatch.delenv("SNAKE_PIPE_QUEUE_ORDER", raising=False)
    assert make_config({}, defaults=defaults).queue_order == "smallest_first"
    assert make_config({"queue_order": "discovery"}, defaults=defaults).queue_order == "discovery"
    chosen = Config(queue_order="newest_first")
    assert make_config({}, config=chosen, defaults=defaults).queue_order == "newest_first"
    monkeypatch.setenv("SNAKE_PIPE_QUEUE_ORDER", "largest_first")
    assert make_config({}, defaults=defaults).queue_order == "largest_first"


def test_breaking_out_stops_the_workers(tmp_path: Path) -> None:
    repo = many_files(tmp_path / "repo", 1500)
    records = snake_pipe.extract(repo, workers=2, batch_size=50)
    first = next(records)
    assert isinstance(first, FileRecord)
    assert len(parser_processes()) == 2
    started = time.monotonic()
    for _ in records:
        break
    records.close()
    assert time.monotonic() - started < 15
    assert_no_parsers()


def test_an_exception_in_the_consumer_stops_the_workers(tmp_path: Path) -> None:
    repo = many_files(tmp_path / "repo", 600)

    def consume() -> None:
        for record in snake_pipe.extract(repo, workers=2, batch_size=50):
            if record.path.endswith("7.py"):
                raise KeyError(record.path)

    with pytest.raises(KeyError):
        consume()
    assert_no_parsers()


def test_extract_inline_runs_no_process(tmp_path: Path) -> None:
    repo = sample_repo(tmp_path / "repo")
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    assert len(list(snake_pipe.extract(repo, executor="inline"))) == 5
    assert {p.pid for p in psutil.Process().children(recursive=True)} <= before


# -- changes_only ----------------------------------------------------------------------------


def changes(repo: Path, store: Path, **options: object) -> list[Change]:
    return list(snake_pipe.extract(repo, store=store, changes_only=True, workers=2, **options))  # type: ignore[call-overload]


def test_changes_only_yields_upserts_and_deletions_since_the_last_run(tmp_path: Path) -> None:
    repo = sample_repo(tmp_path / "repo")
    store = tmp_path / "store"
    first = changes(repo, store)
    assert all(isinstance(c, Change) and c.op == "upsert" for c in first)
    assert {c.path for c in first} == {"pkg/mod.py", "web/app.js", "broken.py", "README.txt",
                                       "logo.png"}  # fmt: skip
    assert changes(repo, store) == []
    # content edited, file deleted, file added, a file only touched (same content)
    (repo / "pkg/mod.py").write_text(PY_SAMPLE + "\ndef added():\n    pass\n")
    (repo / "web/app.js").unlink()
    (repo / "new.py").write_text("import sys\n")
    (repo / "README.txt").write_text("hello\n")
    got = {c.path: c for c in changes(repo, store)}
    assert {p: c.op for p, c in got.items()} == {
        "pkg/mod.py": "upsert", "web/app.js": "delete", "new.py": "upsert"
    }  # fmt: skip
    assert got["web/app.js"].record is None
    mod = got["pkg/mod.py"].record
    assert mod is not None and mod.symbols[-1].name == "added"
    assert changes(repo, store) == []


def test_a_batch_is_committed_only_after_the_consumer_took_it(tmp_path: Path) -> None:
    repo = many_files(tmp_path / "repo", 300)
    store = tmp_path / "store"
    stream = snake_pipe.extract(repo, store=store, changes_only=True, workers=2, batch_size=50)
    taken = [next(stream) for _ in range(50)]  # all of batch 1, not asked for more yet
    time.sleep(0.5)  # time enough for a run that would not wait to commit
    assert committed(store) == 0
    taken.append(next(stream))  # asking for more: batch 1 is taken, batch 2 is in hand
    deadline = time.monotonic() + 10
    while committed(store) < 50 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    assert committed(store) == 50  # batch 1, and not batch 2 that the consumer holds
    stream.close()
    assert committed(store) == 50
    assert_no_parsers()
    # the next call hands over everything but batch 1, the one taken batch included
    again = {c.path for c in changes(repo, store)}
    every = {c.path for c in changes(repo, tmp_path / "fresh")}
    assert again == every - {c.path for c in taken[:50]}
    assert taken[50].path in again and len(again) == 250
    assert changes(repo, store) == []


def test_a_consumer_that_crashes_gets_its_batches_again(tmp_path: Path) -> None:
    repo = many_files(tmp_path / "repo", 400)
    store = tmp_path / "store"
    seen: list[str] = []
    with pytest.raises(RuntimeError, match="loader died"):
        for change in snake_pipe.extract(repo, store=store, changes_only=True, batch_size=50):
            seen.append(change.path)
            if len(seen) == 120:
                raise RuntimeError("loader died")
    rest = [c.path for c in changes(repo, store)]
    assert len(rest) == 400 - 100  # batches 1 and 2 were taken; batch 3 comes again
    assert set(rest) | set(seen[:100]) == {c.path for c in changes(repo, tmp_path / "fresh")}
    assert set(seen[100:]) <= set(rest)


# -- aextract --------------------------------------------------------------------------------


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    if request.param == "trio":
        pytest.importorskip("trio", reason="the trio backend needs trio: pip install trio")
    return str(request.param)


@pytest.mark.anyio
async def test_aextract_yields_the_same_records(tmp_path: Path) -> None:
    repo = sample_repo(tmp_path / "repo")
    expected = {r.path: r for r in snake_pipe.extract(repo, workers=2)}
    with anyio.fail_after(60):
        got = {r.path: r async for r in snake_pipe.aextract(repo, workers=2)}
    assert got.keys() == expected.keys()
    assert all(got[p].symbols == expected[p].symbols for p in got)


@pytest.mark.anyio
async def test_aextract_closed_early_stops_the_workers(tmp_path: Path) -> None:
    repo = many_files(tmp_path / "repo", 1500)
    with anyio.fail_after(60):
        async with contextlib.aclosing(snake_pipe.aextract(repo, workers=2, batch_size=50)) as it:
            async for record in it:
                assert isinstance(record, FileRecord)
                assert len(parser_processes()) == 2
                break
    assert_no_parsers()


@pytest.mark.anyio
async def test_aextract_cancelled_while_waiting_stops_the_workers(tmp_path: Path) -> None:
    repo = many_files(tmp_path / "repo", 1500)
    got = 0
    with anyio.move_on_after(1.5):
        async with contextlib.aclosing(snake_pipe.aextract(repo, workers=2, batch_size=50)) as it:
            async for _ in it:
                got += 1
                await anyio.sleep(0.01)
    assert 0 < got < 1500
    assert_no_parsers()


@pytest.mark.anyio
async def test_aextract_changes_only(tmp_path: Path) -> None:
    repo = sample_repo(tmp_path / "repo")
    store = tmp_path / "store"
    first = [c async for c in snake_pipe.aextract(repo, store=store, changes_only=True)]
    assert len(first) == 5
    (repo / "broken.py").unlink()
    again = [c async for c in snake_pipe.aextract(repo, store=store, changes_only=True)]
    assert [(c.op, c.path) for c in again] == [("delete", "broken.py")]


@pytest.mark.anyio
async def test_awatch_catches_up_then_yields_live_changes(tmp_path: Path) -> None:
    repo = sample_repo(tmp_path / "repo")
    seen: list[tuple[str, str]] = []
    with anyio.fail_after(90):
        async with contextlib.aclosing(snake_pipe.awatch(repo, workers=2)) as changes:
            async for change in changes:
                seen.append((change.op, change.path))
                if change.path == "broken.py":  # the catch-up reached it: now a live edit
                    (repo / "web" / "app.js").unlink()
                if change.path == "web/app.js" and change.op == "delete":
                    break
    assert ("upsert", "pkg/mod.py") in seen and seen[-1] == ("delete", "web/app.js")
    db = repo / ".snake-pipe" / "records.sqlite"
    assert {r[0] for r in rows(db, "SELECT path FROM files")} == {
        "pkg/mod.py", "broken.py", "README.txt", "logo.png"
    }  # fmt: skip
    assert_no_parsers()


# -- ingest ----------------------------------------------------------------------------------


def test_ingest_mirrors_the_cli(tmp_path: Path) -> None:
    repo = sample_repo(tmp_path / "repo")
    report = snake_pipe.ingest(repo, workers=2, report_path=tmp_path / "report.json")
    assert isinstance(report, snake_pipe.RunReport) and report.status == "completed"
    assert report.progress.processed_files == 5
    db = repo / ".snake-pipe" / "records.sqlite"
    assert rows(db, "SELECT count(*) FROM files")[0][0] == 5
    assert json.loads((tmp_path / "report.json").read_text())["status"] == "completed"
    again = snake_pipe.ingest(repo, workers=2)
    assert again.unchanged_files == 5 and again.progress.processed_files == 0


def test_ingest_into_chosen_sinks_and_store(tmp_path: Path) -> None:
    repo = sample_repo(tmp_path / "repo")
    out = tmp_path / "out.jsonl"
    report = snake_pipe.ingest(repo, store=tmp_path / "store", sinks=[f"jsonl:{out}"],
                               config=Config(workers=1))  # fmt: skip
    assert report.store == str(tmp_path / "store") and len(out.read_text().splitlines()) == 6
