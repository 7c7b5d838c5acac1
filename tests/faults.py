"""Fault injection for tests, loaded into parser processes through SNAKE_PIPE_TEST_WORKER_HOOK.

A file whose content holds ``SNAKE-PIPE-FAULT:<kind>`` misbehaves when parsed: ``segv`` kills
its worker with SIGSEGV, ``oom`` with SIGKILL (as the OOM killer does), ``exit`` calls
``os._exit``, ``hang`` never returns, ``slow`` takes 3 s, ``raise`` raises. Nothing happens without the hook.
"""

from __future__ import annotations

import os
import signal
import time

from snake_pipe.parse import worker

_real_parse_into = worker.parse_into


def _faulty_parse_into(result: worker.FileResult, language: str, source: bytes) -> None:
    marker = source.find(b"SNAKE-PIPE-FAULT:")
    if marker >= 0:
        kind = source[marker + 17 : marker + 22].split()[0]
        if kind == b"segv":
            os.kill(os.getpid(), signal.SIGSEGV)
        elif kind == b"oom":
            os.kill(os.getpid(), signal.SIGKILL)
        elif kind == b"exit":
            os._exit(3)
        elif kind == b"hang":
            time.sleep(3600)
        elif kind == b"slow":
            time.sleep(3)
        elif kind == b"raise":
            raise RuntimeError("injected failure")
    _real_parse_into(result, language, source)


worker.parse_into = _faulty_parse_into  # type: ignore[assignment]
