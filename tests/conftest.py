"""Shared fixtures: real repositories in tmp dirs, the real CLI in a subprocess."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

pytest_plugins = ("tests.pg",)

PY_SAMPLE = '''"""A module."""
import os
from collections import OrderedDict

LIMIT = 10


@decorator
def top(a, b):
    return a + b


class Widget(Base):
    def __init__(self):
        self.x = 1

    async def run(self):
        def helper():
            pass
        return helper
'''

JS_SAMPLE = """import { readFile } from "fs";
const path = require("path");

export class Reader {
  read(name) { return readFile(name); }
}

function main() { return new Reader(); }
"""


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[[dict[str, str | bytes]], Path]:
    def make(files: dict[str, str | bytes]) -> Path:
        return write_tree(tmp_path / "repo", files)

    return make


def run_cli(
    *args: str | Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The real command line, as a user runs it."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SNAKE_PIPE_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "snake_pipe", *map(str, args)],
        capture_output=True, text=True, env=full_env, timeout=timeout,
    )  # fmt: skip


def rows(db: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()
