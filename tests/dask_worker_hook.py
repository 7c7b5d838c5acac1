"""Loaded into the Dask workers of the tests through SNAKE_PIPE_TEST_WORKER_HOOK.

- the faults of ``tests.faults`` (``SNAKE-PIPE-FAULT:oom`` kills its worker, and so on);
- no shared disk: a worker reads no file, so every file must arrive inside its batch;
- ``SNAKE-PIPE-DIE-ONCE:<flag path>`` kills its worker the first time only (a worker lost
  for a reason that has nothing to do with the file): the flag file remembers it happened.
"""

from __future__ import annotations

import os
import signal

import tests.faults  # noqa: F401  (patches the parser with the fault injection)
from snake_pipe.parse import worker

_parse_into = worker.parse_into
MARK = b"SNAKE-PIPE-DIE-ONCE:"


def _no_disk(item: worker.WorkItem) -> bytes:
    if item.content is None:
        raise OSError(f"test worker without the repository asked to read {item.abs_path}")
    return item.content


def _die_once(result: worker.FileResult, language: str, source: bytes) -> None:
    start = source.find(MARK)
    if start >= 0:
        flag = source[start + len(MARK) :].split()[0].decode()
        if not os.path.exists(flag):
            open(flag, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)
    _parse_into(result, language, source)


worker.read_item = _no_disk
worker.parse_into = _die_once  # type: ignore[assignment]
