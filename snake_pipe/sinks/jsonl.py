"""JSON lines: one line per file (``"op": "upsert"``) or removed path (``"op": "delete"``),
after a ``"op": "reset"`` line when the run writes every file again (drop what you hold).

The file is a change feed of one run: it is rewritten at the start of each run and holds what
that run produced, flushed after every batch so a consumer can tail it. A run resumed after an
interruption appends: ``PATH.run`` beside the feed names the run the feed belongs to.
``jsonl:-`` (standard output), a FIFO or a device is a stream of the runs' lines instead.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from snake_pipe.errors import ConfigError, SinkError
from snake_pipe.files import is_stream
from snake_pipe.records import FileResult
from snake_pipe.sinks.base import Sink, writer_lock
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


def drop_cut_line(path: Path) -> None:
    """A last line that a kill cut off goes, so that lines appended after it parse."""
    with open(path, "rb+") as f:
        end = f.seek(0, os.SEEK_END)
        while end > 0:
            start = max(0, end - (1 << 16))
            f.seek(start)
            newline = f.read(end - start).rfind(b"\n")
            if newline >= 0:
                f.truncate(start + newline + 1)
                return
            end = start
        f.truncate(0)


class JSONLSink(Sink):
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.run_path = self.path.with_name(self.path.name + ".run")
        self.stream = is_stream(str(path))
        self._file: IO[bytes] | None = None
        if self.path.is_dir():
            raise ConfigError(f"--sink jsonl:{path}: is a directory: pass a file name")
        self._lock = None if self.stream else writer_lock(
            self.path.with_name(self.path.name + ".lock"), f"jsonl:{path}"
        )  # fmt: skip

    def _out(self, run_id: str | None = None) -> IO[bytes]:
        if self._file is None and self.stream:
            try:
                fd = os.dup(1) if str(self.path) == "-" else os.open(self.path, os.O_WRONLY | os.O_APPEND)
                self._file = open(fd, "wb", buffering=0)  # noqa: SIM115 - closed in close()
            except OSError as exc:
                raise SinkError(f"jsonl:{self.path}: cannot open ({exc.strerror or exc})") from exc
        if self._file is None:
            try:
                resumed = run_id is not None and self.path.exists() and self._run_id() == run_id
                if resumed:
                    drop_cut_line(self.path)
                self._file = open(self.path, "ab" if resumed else "wb", buffering=0)  # noqa: SIM115 - closed in close()
                os.chmod(self.path, 0o600)
                if run_id is not None and not resumed:
                    self.run_path.write_text(run_id + "\n")
                    os.chmod(self.run_path, 0o600)
            except OSError as exc:
                raise SinkError(f"jsonl:{self.path}: cannot open ({exc.strerror or exc})") from exc
        return self._file

    def _run_id(self) -> str | None:
        try:
            return self.run_path.read_text().strip()
        except (OSError, UnicodeDecodeError):
            return None

    def begin_run(self, run_id: str) -> None:
        self._out(run_id)

    def rewrite_all(self) -> None:
        self._lines([json.dumps({"op": "reset"})])

    def write(self, results: Sequence[FileResult], deleted: Sequence[str] = ()) -> None:
        lines = [json.dumps({"op": "delete", "path": p}) for p in deleted]
        lines += [json.dumps({"op": "upsert", **record_dict(r)}) for r in results]
        self._lines(lines)

    def _lines(self, lines: list[str]) -> None:
        """All the lines or none: a write cut short (a full disk) is cut off the file again,
        else the next batch's first line would be glued to half a line and lost."""
        fd = self._out().fileno()
        if not lines:
            return
        data = memoryview(("\n".join(lines) + "\n").encode())  # ASCII: json.dumps escapes
        start = None if self.stream else os.lseek(fd, 0, os.SEEK_END)
        try:
            while data:
                data = data[os.write(fd, data) :]
        except OSError as exc:
            if start is not None:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, start)
            raise SinkError(f"jsonl:{self.path}: write failed ({exc.strerror or exc})") from exc

    def close(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):  # a reader of the stream that went away
                self._file.close()
            self._file = None
        if self._lock is not None:
            self._lock.close()
