"""Executors: where batches run. Each is a ``concurrent.futures.Executor``.

- ``inline``: in the calling thread (``--workers 1`` is still a pool; inline is for tests and
  embedding where processes are unwanted);
- ``process`` (default): a pool of parser processes started by a forkserver, so no LMDB handle,
  thread or socket of the coordinator is inherited;
- ``dask://HOST:PORT``, ``dask-local``: a Dask distributed cluster, running or started here
  (the ``snake-pipe[dask]`` extra).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from snake_pipe.errors import ConfigError
from snake_pipe.executors.inline import InlineExecutor
from snake_pipe.executors.process import process_pool, start_forkserver

__all__ = ["InlineExecutor", "check_executor", "make_executor", "prestart", "process_pool"]

ALLOWED = "process, inline, dask-local or dask://HOST:PORT"


def check_executor(kind: str, option: str = "--executor") -> str:
    """``kind`` if it names an executor, else a ``ConfigError`` saying which ones do."""
    if not isinstance(kind, str):
        raise ConfigError(f"{option}: {kind!r} is not allowed: use {ALLOWED}")
    if kind in ("process", "inline", "dask-local"):
        return kind
    host, _, port = kind.removeprefix("dask://").rpartition(":")
    if kind.startswith("dask://") and host and port.isdigit() and 0 < int(port) < 65536:
        return kind
    raise ConfigError(f"{option}: {kind!r} is not allowed: use {ALLOWED}")


def prestart(kind: str) -> None:
    """Called before a run's own imports and set-up: an executor slow to start begins now."""
    if kind == "process":
        start_forkserver()


def make_executor(
    kind: str,
    workers: int,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
    prepare: Callable[[list[Any]], list[Any]] | None = None,
    worker_wait_s: float = 60.0,
) -> Executor:
    """An executor by name (see ``check_executor``). ``prepare`` is for executors whose
    workers share no disk: it runs on each batch here, before the batch is sent. A Dask
    cluster gets ``worker_wait_s`` to have a worker."""
    kind = check_executor(kind)
    if kind == "inline":
        return InlineExecutor(initializer, initargs)
    if kind == "process":
        return process_pool(workers, initializer, initargs)
    try:
        from snake_pipe.executors.dask import dask_executor
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] not in ("dask", "distributed"):
            raise
        raise ConfigError(f"--executor {kind}: Dask is not installed: "
                          "pip install 'snake-pipe[dask]'") from exc  # fmt: skip
    return dask_executor(kind, workers, initializer, initargs, prepare, worker_wait_s)
