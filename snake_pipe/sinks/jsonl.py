"""JSON lines: one line per file (``"op": "upsert"``) or removed path (``"op": "delete"``).

The file is a change feed of one run: it is rewritten at the start of each run and holds what
that run produced, flushed after every batch so a consumer can tail it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from snake_pipe.errors import SinkError
from snake_pipe.records import FileResult
from snake_pipe.sinks.base import Sink
from snake_pipe.sinks.sqlite import FILE_COLUMNS


def record_dict(r: FileResult) -> dict[str, Any]:
    """A file with its child rows, as the JSON lines sink and the Python API show it."""
    doc: dict[str, Any] = {col: getattr(r, col) for col in FILE_COLUMNS}
    doc["symbols"] = [s._asdict() for s in r.symbols]
    doc["imports"] = [i._asdict() for i in r.imports]
    doc["parse_errors"] = [e._asdict() for e in r.parse_errors]
    if r.ast is not None:
        doc["ast"] = json.loads(r.ast)
    if r.extra is not None:
        doc["extra"] = r.extra
    return doc


class JSONLSink(Sink):
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file: IO[str] | None = None

    def _out(self) -> IO[str]:
        if self._file is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
                os.chmod(self.path, 0o600)
            except OSError as exc:
                raise SinkError(f"jsonl:{self.path}: cannot open ({exc.strerror or exc})") from exc
        return self._file

    def begin_run(self, run_id: str) -> None:
        self._out()

    def write(self, results: Sequence[FileResult], deleted: Sequence[str] = ()) -> None:
        out = self._out()
        lines = [json.dumps({"op": "delete", "path": p}) for p in deleted]
        lines += [json.dumps({"op": "upsert", **record_dict(r)}) for r in results]
        try:
            if lines:
                out.write("\n".join(lines) + "\n")
            out.flush()
        except OSError as exc:
            raise SinkError(f"jsonl:{self.path}: write failed ({exc.strerror or exc})") from exc

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
