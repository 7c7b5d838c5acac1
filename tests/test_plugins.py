"""Extractor plug-ins found through real entry points, run in real parser processes.

``tests/plugin_example`` is pip-installed (``--target``, into a tmp dir) once per session;
the faulty plug-ins are a distribution written by hand. A run that must see them in its
parser processes runs in a fresh interpreter whose ``PYTHONPATH`` holds them: the forkserver
of this test process may have started before, with another ``sys.path``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import snake_pipe
from snake_pipe import plugins
from tests.conftest import rows, run_cli, write_tree

EXAMPLE = Path(__file__).parent / "plugin_example"

FAULTY = """
import os

if os.environ.get("FAULTY_PLUGIN_LOG"):
    with open(os.environ["FAULTY_PLUGIN_LOG"], "a") as log:
        log.write(f"{os.getpid()}\\n")


def boom(file):
    raise ValueError("boom on " + file.path)


def not_a_dict(file):
    return ["todo"]


def not_json(file):
    return {"ids": {1, 2}}


def pid(file):
    return {"pid": os.getpid(), "lines": file.text.count("\\n")}


def collide(file):
    return {"todo_count": -1}
"""

FAULTY_ENTRY_POINTS = """[snake_pipe.extractors]
boom = faulty_plugins:boom
not_a_dict = faulty_plugins:not_a_dict
not_json = faulty_plugins:not_json
pid = faulty_plugins:pid
missing = no_such_module:extract
zz_collide = faulty_plugins:collide
"""

PY_TODOS = "# TODO: first\nx = 1  # FIXME second\ns = 'TODO in a string is no comment'\n"

RUN = """
import json, os, sys
import snake_pipe

if __name__ == "__main__":
    print(json.dumps({"path": "(coordinator)", "pid": os.getpid()}))
    for r in snake_pipe.extract(sys.argv[1], workers=2, batch_size=50):
        print(json.dumps({"path": r.path, "status": r.status, "extra": r.extra}))
"""


@pytest.fixture(scope="session")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/plugin_example, pip-installed into a directory of its own."""
    work = tmp_path_factory.mktemp("plugin-example")
    source, site = work / "src", work / "site"
    shutil.copytree(EXAMPLE, source)  # pip builds in the source tree: not in ours
    isolation = [] if importlib.util.find_spec("setuptools") is None else ["--no-build-isolation"]
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", *isolation,
         "--disable-pip-version-check", "--target", str(site), str(source)],
        check=True, capture_output=True,
    )  # fmt: skip
    return site


@pytest.fixture
def faulty_site(tmp_path: Path) -> Path:
    site = tmp_path / "faulty-site"
    dist = site / "faulty_plugins-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: faulty-plugins\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(FAULTY_ENTRY_POINTS)
    (site / "faulty_plugins.py").write_text(FAULTY)
    return site


@pytest.fixture
def on_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Put directories on this process's sys.path; the plug-ins are unloaded afterwards."""
    yield lambda path: monkeypatch.syspath_prepend(str(path))
    monkeypatch.undo()
    plugins.load()


def extract_in_subprocess(repo: Path, *sites: Path, env: dict[str, str]) -> dict[str, Any]:
    full_env = {**os.environ, **env, "PYTHONPATH": os.pathsep.join(map(str, sites))}
    proc = subprocess.run([sys.executable, "-c", RUN, str(repo)], capture_output=True,
                          text=True, env=full_env, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return {doc["path"]: doc for doc in map(json.loads, proc.stdout.splitlines())}


def test_no_plugin_installed_means_no_extra(tmp_path: Path) -> None:
    if plugins.discover():
        pytest.skip("an extractor plug-in is installed in this environment")
    repo = write_tree(tmp_path / "repo", {"a.py": PY_TODOS})
    (record,) = snake_pipe.extract(repo, workers=1)
    assert record.extra == {}


def test_example_plugin_adds_fields_inline(
    tmp_path: Path, example_site: Path, on_path: Any
) -> None:
    on_path(example_site)
    repo = write_tree(tmp_path / "repo", {"a.py": PY_TODOS, "b.js": "// TODO js\nlet x;\n",
                                          "notes.txt": "TODO\n"})  # fmt: skip
    records = {r.path: r for r in snake_pipe.extract(repo, executor="inline")}
    assert records["a.py"].extra == {"todo_count": 2, "todo_lines": [1, 2]}
    assert records["b.js"].extra == {"todo_count": 1, "todo_lines": [1]}
    assert records["notes.txt"].status == "skipped" and records["notes.txt"].extra == {}


def test_plugins_run_once_loaded_per_parser_process_and_failures_stay_in_the_record(
    tmp_path: Path, example_site: Path, faulty_site: Path
) -> None:
    files: dict[str, str | bytes] = {
        f"pkg/m{i:03d}.py": f"x = {i}  # TODO {i}\n" for i in range(240)
    }
    repo = write_tree(tmp_path / "repo", {**files, "a.py": PY_TODOS, "notes.txt": "TODO\n"})
    log = tmp_path / "loads.log"
    records = extract_in_subprocess(repo, example_site, faulty_site,
                                    env={"FAULTY_PLUGIN_LOG": str(log)})  # fmt: skip
    coordinator = str(records.pop("(coordinator)")["pid"])
    assert len(records) == 242
    assert all(r["status"] == "ok" for p, r in records.items() if p != "notes.txt")
    a = records["a.py"]["extra"]
    assert (a["todo_count"], a["todo_lines"], a["lines"]) == (2, [1, 2], 3)
    errors = a["plugin_errors"]
    assert set(errors) == {"boom", "not_a_dict", "not_json", "missing", "zz_collide"}
    assert errors["boom"] == "ValueError: boom on a.py"
    assert errors["not_a_dict"] == "TypeError: returned list, not a dict"
    assert errors["not_json"].startswith("TypeError: returned data that is not JSON")
    assert errors["missing"].startswith("cannot load no_such_module:extract: ModuleNotFoundError")
    assert errors["zz_collide"] == "ValueError: key 'todo_count' is already taken"
    assert records["notes.txt"]["extra"] == {}
    # loaded once per parser process (2 at most), never in the coordinator
    loads = Counter(log.read_text().split())
    used = {str(r["extra"]["pid"]) for r in records.values() if r["extra"]}
    assert set(loads.values()) == {1} and 1 <= len(loads) <= 2
    assert used <= set(loads)
    assert coordinator not in loads


def test_plugin_fields_survive_a_json_round_trip(
    tmp_path: Path, example_site: Path, on_path: Any
) -> None:
    on_path(example_site)
    repo = write_tree(tmp_path / "repo", {"a.py": PY_TODOS})
    (record,) = snake_pipe.extract(repo, executor="inline")
    assert json.loads(record.model_dump_json())["extra"]["todo_count"] == 2


def test_plugin_fields_reach_every_database_sink_and_leave_with_their_file(
    tmp_path: Path, example_site: Path, on_path: Any, pg_dsn: str
) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    psycopg = pytest.importorskip("psycopg")
    on_path(example_site)
    repo = write_tree(tmp_path / "repo", {"a.py": PY_TODOS, "b.js": "// TODO js\nlet x;\n"})
    db, lake = tmp_path / "r.sqlite", tmp_path / "lake"
    sinks = [f"sqlite:{db}", f"parquet:{lake}", pg_dsn]

    def extra_everywhere() -> list[dict[str, Any]]:
        snake_pipe.ingest(repo, store=tmp_path / "store", sinks=sinks, executor="inline")
        in_sqlite = {p: json.loads(str(d)) for p, d in rows(db, "SELECT path, data FROM extra")}
        table = pq.read_table(lake / "extra").to_pylist()
        in_parquet = {r["path"]: json.loads(r["data"]) for r in table}
        with psycopg.connect(pg_dsn) as conn:
            in_pg = dict(conn.execute("SELECT path, data FROM extra").fetchall())
        return [in_sqlite, in_parquet, in_pg]

    expected = {"a.py": {"todo_count": 2, "todo_lines": [1, 2]},
                "b.js": {"todo_count": 1, "todo_lines": [1]}}  # fmt: skip
    assert extra_everywhere() == [expected] * 3
    (repo / "a.py").unlink()
    assert extra_everywhere() == [{"b.js": expected["b.js"]}] * 3


def test_a_plugin_calling_sys_exit_costs_only_its_fields(tmp_path: Path) -> None:
    """SystemExit, at import or per file (a library's "fatal" error, argparse reading the
    parser process's argv), is a plug-in error like any other: the parser process lives on."""
    site = tmp_path / "exiting-site"
    dist = site / "exiting_plugins-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: exiting-plugins\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[snake_pipe.extractors]\n"
                                           "at_import = exits_on_import:extract\n"
                                           "per_file = exits_per_file:extract\n")  # fmt: skip
    (site / "exits_on_import.py").write_text("import sys\n\nsys.exit('no configuration')\n")
    (site / "exits_per_file.py").write_text(
        "import sys\n\n\ndef extract(file):\n    if 'EXIT' in file.text:\n"
        "        sys.exit(2)\n    return {'lines': file.text.count('\\n')}\n"
    )
    repo = write_tree(tmp_path / "repo", {f"m{i}.py": f"x = {i}\n" for i in range(8)})
    (repo / "bad.py").write_text("# EXIT\ndef f():\n    pass\n")
    records = extract_in_subprocess(repo, site, env={})
    records.pop("(coordinator)")
    assert {r["status"] for r in records.values()} == {"ok"} and len(records) == 9
    load_error = "cannot load exits_on_import:extract: SystemExit: no configuration"
    assert records["m0.py"]["extra"] == {"lines": 1, "plugin_errors": {"at_import": load_error}}
    assert records["bad.py"]["extra"] == {
        "plugin_errors": {"at_import": load_error, "per_file": "SystemExit: 2"}
    }


def test_plugin_fields_are_the_same_in_the_record_and_the_sinks(
    tmp_path: Path, on_path: Any
) -> None:
    """A Counter of line numbers or a tuple is JSON to the sinks ({"3": 1}, [1, 2]): the
    record holds the same, not a value that no sink has."""
    site = tmp_path / "site"
    dist = site / "lines_plugin-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: lines-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[snake_pipe.extractors]\nlines = lines_plugin:lines\n")
    (site / "lines_plugin.py").write_text(
        "from collections import Counter\n\n\ndef lines(file):\n"
        "    todos = [n for n, t in enumerate(file.text.splitlines(), 1) if 'TODO' in t]\n"
        "    return {'by_line': Counter(todos), 'span': (1, len(todos))}\n"
    )
    on_path(site)
    repo = write_tree(tmp_path / "repo", {"a.py": PY_TODOS})
    db = tmp_path / "r.sqlite"
    (record,) = snake_pipe.extract(repo, executor="inline", sinks=[f"sqlite:{db}"])
    assert record.extra == {"by_line": {"1": 1, "3": 1}, "span": [1, 2]}
    assert [json.loads(str(d)) for (d,) in rows(db, "SELECT data FROM extra")] == [record.extra]


def test_what_a_plugin_prints_stays_out_of_the_feed_on_stdout(tmp_path: Path) -> None:
    """The parser processes share the command's stdout, which ``jsonl:-`` (or ``--report -``)
    feeds to a consumer: a plug-in's print goes to stderr instead."""
    site = tmp_path / "site"
    dist = site / "chatty_plugin-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: chatty-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[snake_pipe.extractors]\nchatty = chatty:extract\n")
    (site / "chatty.py").write_text("import os\nprint('loading chatty')\n\n\ndef extract(file):\n"
                                    "    print('looking at', file.path)\n"
                                    "    os.write(1, b'as C would\\n')\n    return {'n': 1}\n")  # fmt: skip
    repo = write_tree(tmp_path / "repo", {f"m{i}.py": f"x = {i}\n" for i in range(3)})
    result = run_cli("ingest", repo, "--store", tmp_path / "store", "--sink", "jsonl:-",
                     "--quiet", "--workers", "1", env={"PYTHONPATH": str(site)})  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(doc["path"] for doc in lines if doc["op"] == "upsert") == ["m0.py", "m1.py",
                                                                             "m2.py"]  # fmt: skip
    assert all(doc.get("extra", {"n": 1}) == {"n": 1} for doc in lines)
    assert "loading chatty" in result.stderr and "looking at m1.py" in result.stderr
    assert "as C would" in result.stderr
