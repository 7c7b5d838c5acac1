"""Events of a run, delivered to callbacks and, from the CLI, to ``--events FILE`` as JSON lines.

Both the generic ``BatchEngine.execute`` and the file pipeline emit them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from snake_pipe.errors import ConfigError
from snake_pipe.files import open_append
from snake_pipe.report import utc_now


@dataclass(frozen=True)
class Event:
    at: str = field(default_factory=utc_now, kw_only=True)

    @property
    def name(self) -> str:
        return type(self).__name__

    def as_dict(self) -> dict[str, Any]:
        return {"event": self.name, **asdict(self)}


@dataclass(frozen=True)
class BatchExecuted(Event):
    batch_number: int
    records: int
    success: int
    failed: int
    duration_s: float
    attempts: int = 1


@dataclass(frozen=True)
class ExecutionFailed(Event):
    batch_number: int
    records: int
    error: str
    attempts: int


@dataclass(frozen=True)
class CheckpointCreated(Event):
    checkpoint_id: str
    batch_number: int
    items_processed: int


@dataclass(frozen=True)
class ProgressUpdated(Event):
    items_processed: int
    batches_completed: int
    items_per_second: float


EventHandler = Callable[[Event], None]


class EventLog:
    """An event handler writing JSON lines to a file; thread-safe, flushed per event."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).resolve()
        try:
            self._file: IO[str] = open_append(path)
        except OSError as exc:
            raise ConfigError(f"--events {path}: cannot write there ({exc.strerror or exc}): "
                              "pass a writable file name") from None  # fmt: skip
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        line = json.dumps(event.as_dict())
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()

    def close(self) -> None:
        self._file.close()


def emit(handlers: list[EventHandler], event: Event) -> None:
    """Deliver to every handler; a handler that raises must not break the run."""
    for handler in handlers:
        try:
            handler(event)
        except Exception:  # noqa: BLE001, S110 - a broken callback only loses its own events
            continue
