from __future__ import annotations

import os
from pathlib import Path

import pytest

from snake_pipe.config import Config, render_default_toml, resolve_config
from snake_pipe.errors import ConfigError
from tests.conftest import rows, run_cli

ROOT = Path(__file__).resolve().parents[1]


def test_default_toml_documents_every_field(tmp_path: Path) -> None:
    assert (ROOT / "config" / "default.toml").read_text() == render_default_toml()
    text = render_default_toml()
    for name in Config.model_fields:
        assert name in text
    # an installed package has no config/: `snake-pipe config` prints it, a valid --config file
    printed = run_cli("config")
    assert printed.returncode == 0 and printed.stdout == text
    (tmp_path / "my.toml").write_text(printed.stdout)
    assert resolve_config({}, tmp_path / "my.toml", {}) == resolve_config({}, None, {})


def test_precedence_cli_over_env_over_file(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("batch_size = 100\nworkers = 3\nmax_file_bytes = 5000\n")
    env = {"SNAKE_PIPE_BATCH_SIZE": "200", "SNAKE_PIPE_WORKERS": "5"}
    config = resolve_config({"workers": 7}, cfg, env)
    assert (config.workers, config.batch_size, config.max_file_bytes) == (7, 200, 5000)
    assert resolve_config({}, None, {}).batch_size == "auto"


def test_env_lists_and_bools() -> None:
    config = resolve_config(
        {}, None, {"SNAKE_PIPE_EXCLUDE": "a/,*.min.js", "SNAKE_PIPE_AST": "true"}
    )
    assert config.exclude == ("a/", "*.min.js") and config.ast is True


@pytest.mark.parametrize(
    ("cli", "expected"),
    [
        ({"batch_size": "20"}, "--batch-size: '20' is not allowed"),
        ({"workers": 0}, "--workers: 0 is not allowed"),
        ({"sinks": ("kafka:x",)}, "--sink: 'kafka:x' is not allowed"),
        ({"queue_order": "random"}, "--queue-order: 'random' is not allowed"),
        ({"workers": True}, "--workers: True is not allowed: true or false"),  # not 1
    ],
)
def test_bad_values_name_the_option(cli: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_config(cli, None, {})
    assert str(info.value).startswith(expected)
    assert "\n" not in str(info.value)


def test_bad_env_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="SNAKE_PIPE_BATCH_SIZE: 'huge'"):
        resolve_config({}, None, {"SNAKE_PIPE_BATCH_SIZE": "huge"})
    with pytest.raises(ConfigError, match="^SNAKE_PIPE_SINKS: 'nope:x' is not allowed"):
        resolve_config({}, None, {"SNAKE_PIPE_SINKS": "nope:x"})


def test_a_list_setting_given_one_string_in_a_file(tmp_path: Path) -> None:
    toml = tmp_path / "c.toml"
    toml.write_text('include = "*.py"\n')
    assert resolve_config({}, toml, {}).include == ("*.py",)
    toml.write_text('sinks = ["nope:x"]\n')
    with pytest.raises(ConfigError, match=f"^sinks in {toml}: 'nope:x' is not allowed"):
        resolve_config({}, toml, {})


def test_bad_config_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("workers = [\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        resolve_config({}, bad, {})
    bad.write_text("wrokers = 2\n")
    with pytest.raises(ConfigError, match="unknown setting 'wrokers'"):
        resolve_config({}, bad, {})


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (
            ["--batch-size", "20"],
            "--batch-size: '20' is not allowed: must be \"auto\" or an integer from 50 to 500",
        ),
        (["--workers", "0"], "--workers: 0 is not allowed"),
        (["--sink", "nope:x"], "--sink: 'nope:x' is not allowed"),
        (["--workers", "two"], "--workers: 'two' is not allowed: must be an integer"),
        (["--include", ""], "--include: ('',) is not allowed: a glob may not be empty"),
    ],
)
def test_cli_config_errors_exit_2_with_one_line(
    tmp_path: Path, args: list[str], needle: str
) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    result = run_cli("ingest", tmp_path, *args)
    assert result.returncode == 2
    assert needle in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_cli_output_paths_that_cannot_work_exit_2_before_the_run(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.py").write_text("x = 1\n")
    (tmp_path / "file").write_text("")
    for args, needle in [
        (["--events", tmp_path], f"--events {tmp_path}: cannot write there (Is a directory)"),
        (["--events", tmp_path / "no" / "e.jsonl"], "cannot write there (No such file"),
        (["--sink", f"jsonl:{tmp_path}"], f"--sink jsonl:{tmp_path}: is a directory"),
        (["--sink", f"sqlite:{tmp_path}"], f"--sink sqlite:{tmp_path}: is a directory"),
        (["--sink", f"parquet:{tmp_path / 'file'}"], "/file: is a file: pass a directory"),
        (["--store", tmp_path / "file"], "/file: is a file, not a directory: pass a directory"),
        # a directory with other things in it would be hidden from git and left out
        (["--store", repo], f"--store {repo}: holds other files and is no snake-pipe store"),
        (["--sink", "sqlite", "--sink", "sqlite:"], "sqlite: is given twice: give each sink once"),
        (["--sink", f"sqlite:{repo}/.snake-pipe/records.sqlite", "--sink", "sqlite"],
         "sqlite: is the store's database, which --sink sqlite writes too: give it once"),
        (["--sink", f"jsonl:{tmp_path / 'f'}", "--report", tmp_path / "f"], "a --sink writes there"),
    ]:
        result = run_cli("ingest", repo, "--quiet", *args)
        assert result.returncode == 2 and needle in result.stderr, result.stderr
        assert result.stderr.count("\n") == 1
    assert not (repo / ".snake-pipe" / "records.sqlite").exists()


def test_a_store_left_with_only_its_gitignore_is_used_again(tmp_path: Path) -> None:
    """A first run that failed before writing anything leaves the store's `.gitignore`."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.py").write_text("x = 1\n")
    ours, other = tmp_path / "ours", tmp_path / "other"
    for store, text in ((ours, "*\n"), (other, "*.pyc\n")):
        store.mkdir()
        (store / ".gitignore").write_text(text)
    assert run_cli("ingest", repo, "--quiet", "--store", ours).returncode == 0
    assert (ours / "records.sqlite").exists()
    result = run_cli("ingest", repo, "--quiet", "--store", other)
    assert result.returncode == 2 and "holds other files" in result.stderr


def test_a_store_or_database_path_that_is_not_utf8_exits_2_in_one_line(tmp_path: Path) -> None:
    """LMDB and SQLite take UTF-8 names: a repository named with other bytes needs a --store."""
    repo = Path(os.fsdecode(os.fsencode(tmp_path) + b"/repo\xff"))
    repo.mkdir()
    (repo / "a.py").write_text("x = 1\n")
    for args, needle in [
        ([], "the path is not valid UTF-8, which LMDB cannot open: pass a --store DIR"),
        (["--store", tmp_path / "s1", "--sink", f"sqlite:{repo}/o.sqlite"],
         "the path is not valid UTF-8, which SQLite cannot open"),
    ]:  # fmt: skip
        result = run_cli("ingest", repo, "--quiet", *args)
        assert result.returncode == 2 and needle in result.stderr, result.stderr
        assert result.stderr.count("\n") == 1
    assert run_cli("ingest", repo, "--quiet", "--store", tmp_path / "s2").returncode == 0


def test_cli_expands_a_tilde_in_output_paths(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.py").write_text("x = 1\n")
    home = tmp_path / "home"
    home.mkdir()
    result = run_cli("ingest", repo, "--quiet", "--sink=jsonl:~/f.jsonl", "--report=~/r.json",
                     "--events=~/e.jsonl", env={"HOME": str(home)})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert {p.name for p in home.iterdir()} >= {"f.jsonl", "r.json", "e.jsonl"}


def test_cli_missing_repo(tmp_path: Path) -> None:
    result = run_cli("ingest", tmp_path / "nope")
    assert result.returncode == 2
    assert "does not exist" in result.stderr and result.stderr.count("\n") == 1


def test_cli_bare_sqlite_sink_keeps_the_store_database(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.py").write_text("def f():\n    pass\n")
    feed = tmp_path / "feed.jsonl"
    result = run_cli("ingest", repo, "--sink", f"jsonl:{feed}", "--sink", "sqlite", "--quiet")
    assert result.returncode == 0, result.stderr
    assert rows(repo / ".snake-pipe" / "records.sqlite", "SELECT path FROM files") == [("a.py",)]
    assert '"a.py"' in feed.read_text()


def test_cli_port_out_of_range_and_a_store_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    result = run_cli("watch", tmp_path, "--metrics-port", "70000")
    assert result.returncode == 2
    assert (
        result.stderr == "snake-pipe: error: --metrics-port: 70000 is not allowed: use 0 to 65535\n"
    )
    store = tmp_path / "store"
    store.mkdir()
    (store / "checkpoints.lmdb").write_text("not a store")
    result = run_cli("ingest", tmp_path, "--store", store, "--quiet")
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "checkpoints.lmdb is not a directory" in result.stderr and "--restart" in result.stderr
    result = run_cli("ingest", tmp_path, "--store", store, "--quiet", "--restart")
    assert result.returncode == 0, result.stderr
    assert rows(store / "records.sqlite", "SELECT path, status FROM files") == [("a.py", "ok")]


def test_a_misspelled_environment_variable_is_warned_about(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    env = {"SNAKE_PIPE_BATCHSIZE": "20", "SNAKE_PIPE_TEST_ANYTHING": "1"}
    result = run_cli("ingest", tmp_path, "--quiet", env=env)
    assert result.returncode == 0
    assert result.stderr == (
        "snake-pipe: warning: SNAKE_PIPE_BATCHSIZE is not a setting "
        "(did you mean SNAKE_PIPE_BATCH_SIZE?): ignored\n"
    )


def test_a_report_that_cannot_be_written_or_an_empty_store_fails_before_the_run(
    tmp_path: Path,
) -> None:
    """Checked first: not a traceback after the whole run, nor a store inside the repo."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.py").write_text("x = 1\n")
    (tmp_path / "file").write_text("")
    for report, why in ((tmp_path, "is a directory: pass a file name"),
                        (tmp_path / "file" / "r.json", f"{tmp_path / 'file'} is not a directory")):  # fmt: skip
        result = run_cli("ingest", repo, "--quiet", "--report", report)
        assert result.returncode == 2
        assert result.stderr.startswith(f"snake-pipe: error: --report {report}: {why}")
        assert result.stderr.count("\n") == 1
    result = run_cli("ingest", repo, "--quiet", "--store", "")
    assert result.returncode == 2 and "--store: '' is not allowed" in result.stderr
    assert not (repo / ".snake-pipe").exists()


def test_the_resume_hint_is_the_command_line_quoted_without_passwords() -> None:
    from snake_pipe.cli import same_command

    argv = ["ingest", "my repo", "--restart", "--sink", "postgresql://u:secret@h/db",
            "--sink=postgresql://u:secret@h/db", "--exclude", "docs/"]  # fmt: skip
    assert same_command(argv) == ("snake-pipe ingest 'my repo' --sink 'postgresql://u:***@h/db' "
                                  "'--sink=postgresql://u:***@h/db' --exclude docs/ (*** is the "
                                  "sink's password: put it back, or set PGPASSWORD and drop it)")  # fmt: skip
    assert same_command(["ingest", "r", "--sink", "postgresql://u@h/db"]) == (
        "snake-pipe ingest r --sink postgresql://u@h/db"
    )
