"""Incremental runs against git's index: what git knows must never make records stale.

Every test ends with the invariant: the incremental records equal a fresh ingest's."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections import Counter
from pathlib import Path

from snake_pipe import gitindex
from snake_pipe.checkpoints import CheckpointStore
from snake_pipe.config import resolve_config
from snake_pipe.discover import Walker
from snake_pipe.incremental import Planner
from tests.conftest import run_cli, write_tree

PAST = 1_600_000_000  # a second long gone: no index entry is racily clean


def git(repo: Path, *args: str) -> str:
    cmd = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def git_repo(root: Path, files: dict[str, str | bytes], *config: str) -> Path:
    write_tree(root, {".gitignore": ".snake-pipe/\n", **files})
    git(root, "init", "-q")
    for setting in config:
        git(root, "config", *setting.split("=", 1))
    git(root, "add", "-A")
    git(root, "commit", "-qm", "init")
    return root


def set_mtimes(repo: Path, seconds: float, *paths: str) -> None:
    """Every (or these) tracked file's mtime to ``seconds``, then git refreshes its index."""
    for rel in paths or git(repo, "ls-files", "-z").split("\0"):
        if rel:
            ns = int(seconds * 1e9)
            os.utime(repo / rel, ns=(ns, ns))
    subprocess.run(["git", "-C", str(repo), "update-index", "-q", "--refresh"], check=False)


def ingest(repo: Path, *args: str | Path) -> None:
    result = run_cli("ingest", repo, "--quiet", *args)
    assert result.returncode == 0, result.stderr


def records(db: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(db) as conn:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        found = {}
        for table in set(tables) - {"meta"}:
            columns = [c[1] for c in conn.execute(f"PRAGMA table_info({table})")]
            wanted = ", ".join(c for c in columns if c != "parse_ms")
            found[table] = sorted(conn.execute(f"SELECT {wanted} FROM {table}"), key=repr)
    return found


def assert_same_as_fresh(repo: Path, tmp_path: Path) -> None:
    ingest(repo)
    ingest(repo, "--store", tmp_path / "fresh")
    fresh = records(tmp_path / "fresh" / "records.sqlite")
    assert records(repo / ".snake-pipe" / "records.sqlite") == fresh


def plan(repo: Path, verify: set[str] | frozenset[str] = frozenset()) -> Counter[str]:
    config = resolve_config({}, None, {})
    store = repo / ".snake-pipe"
    with CheckpointStore(store / "checkpoints.lmdb") as cp:
        planner = Planner(cp, repo, config.extraction_fingerprint())
        return Counter(a for a, _, _ in planner.plan(Walker(repo, config, store).walk(), verify))


def test_a_checkout_that_converts_line_ends_is_read_again(tmp_path: Path) -> None:
    """The index holds the blob id of the *cleaned* content: after `eol=crlf` and a checkout,
    the working file (CRLF) is not that blob, though git's stat says it is unmodified."""
    repo = git_repo(tmp_path / "repo", {"m.py": "def a():\n    pass\n\ndef b(:\n    pass\n"})
    set_mtimes(repo, PAST)
    ingest(repo)
    (repo / ".gitattributes").write_text("*.py text eol=crlf\n")
    git(repo, "add", ".gitattributes")
    git(repo, "commit", "-qm", "crlf")
    (repo / "m.py").unlink()
    git(repo, "checkout", "--", "m.py")
    assert b"\r\n" in (repo / "m.py").read_bytes()
    set_mtimes(repo, PAST + 100, "m.py")
    assert gitindex.read_index(repo)["m.py"][1] == PAST + 100  # git vouches for its stat
    assert_same_as_fresh(repo, tmp_path)


def test_an_index_entry_without_nanoseconds_does_not_vouch_for_a_later_write(
    tmp_path: Path,
) -> None:
    """An entry recorded as `s:0` (a tarball's whole-second mtime) is not the blob of a file of
    the same size rewritten later in that second: its nanoseconds are compared too (a git built
    without USE_NSEC, as Debian's, compares seconds and misses it until the ctime says)."""
    repo = git_repo(tmp_path / "repo", {"m.py": "def alpha():\n    pass\n"})
    set_mtimes(repo, PAST)
    ingest(repo)
    (repo / "m.py").write_text("def gamma():\n    pass\n")
    set_mtimes(repo, PAST + 0.7, "m.py")
    assert gitindex.read_index(repo)["m.py"][1:3] == (PAST, 0)
    assert_same_as_fresh(repo, tmp_path)


def test_a_split_index_is_read_with_its_shared_index(tmp_path: Path) -> None:
    files = {f"pkg/m{i}.py": f"VALUE = {i}\n" for i in range(300)}
    repo = git_repo(
        tmp_path / "repo", files, "core.splitIndex=true", "splitIndex.maxPercentChange=90"
    )
    set_mtimes(repo, PAST)
    for i in range(3, 300, 11):  # replaced entries
        (repo / f"pkg/m{i}.py").write_text(f"VALUE = {i} + 1\n")
    write_tree(repo, {"new.py": "NEW = 1\n"})
    set_mtimes(repo, PAST + 10, "new.py", *(f"pkg/m{i}.py" for i in range(3, 300, 11)))
    git(repo, "add", "pkg", "new.py")
    for i in range(0, 300, 7):  # deleted from the index, still in the tree
        git(repo, "rm", "-q", "--cached", f"pkg/m{i}.py")
    assert list(repo.glob(".git/sharedindex.*"))
    expected = {}
    for line in git(repo, "ls-files", "-s").splitlines():
        meta, path = line.split("\t")
        expected[path] = meta.split()[1]
    index = gitindex.read_index(repo)
    assert {path: entry[3] for path, entry in index.items()} == expected
    ingest(repo)
    set_mtimes(repo, PAST + 20)  # every stat changes, no content does
    assert plan(repo)["touched"] == len(expected)  # known unchanged from git's index, not read
    assert_same_as_fresh(repo, tmp_path)


def test_a_file_the_os_reported_written_is_hashed_though_git_vouches_for_its_stat(
    tmp_path: Path,
) -> None:
    """`watch` passes the paths the OS saw written: a content put back with an mtime that git's
    index knows (`cp -p` of an old copy) is hashed, not taken as the index's blob."""
    repo = git_repo(tmp_path / "repo", {"m.py": "def alpha():\n    pass\n"})
    set_mtimes(repo, PAST)
    ingest(repo)
    os.utime(repo / "m.py", ns=(PAST * 10**9 + 5, PAST * 10**9 + 5))
    ingest(repo)  # the checkpoint has the new stat, git's index the old one
    (repo / "m.py").write_text("def gamma():\n    pass\n")
    os.utime(repo / "m.py", ns=(PAST * 10**9, PAST * 10**9))
    assert plan(repo, {"m.py"})["update"] == 1
