"""The default executor: a process pool of parsers."""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os
import signal
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from snake_pipe.errors import ConfigError

# Imported by the forkserver once, so each worker starts with tree-sitter and what a task
# unpickles already loaded.
PRELOAD = ["snake_pipe.executors.calls", "snake_pipe.parse.worker"]


# A worker exits with this code when it finds itself re-running the top of the user's script
# (forkserver and spawn workers import ``__main__``) and that starts snake-pipe again: the
# script lacks its ``if __name__ == "__main__":`` guard. The coordinator says so, at once.
MAIN_REIMPORTED_EXIT = 87


def _not_in_a_worker_bootstrap() -> None:
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        os._exit(MAIN_REIMPORTED_EXIT)  # quietly: multiprocessing would print a traceback
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if isinstance(main_file, str) and not os.path.exists(main_file):
        # each worker would fail to import it, with a traceback of its own
        raise ConfigError(f"executor: the main script {main_file} is not a file the parser "
                          "processes can import (a script piped to python -): save it to a "
                          'file and run that, or pass executor="inline"')  # fmt: skip


def process_pool(
    workers: int, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = ()
) -> ProcessPoolExecutor:
    _not_in_a_worker_bootstrap()
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return ProcessPoolExecutor(workers, context, initializer, initargs)


def start_forkserver() -> None:
    """Start the process that forks the parsers now, so that it loads tree-sitter while the
    caller is still importing and opening the rest, not once the first batch is waiting."""
    _not_in_a_worker_bootstrap()
    multiprocessing.get_context("forkserver").set_forkserver_preload(PRELOAD)
    if threading.current_thread() is not threading.main_thread():
        multiprocessing.forkserver.ensure_running()
        return
    # started ignoring SIGHUP (kept across exec): a closed terminal's hangup reaches the whole
    # process group, and the coordinator alone decides what stops
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGHUP, previous)
