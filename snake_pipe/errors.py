"""The one exception tree of snake-pipe.

    SnakePipeError
    ├── ConfigError          a bad option, value or config file (exit 2)
    ├── RepositoryError      the repository path is missing or not a directory (exit 2)
    ├── StoreError           the store (checkpoints, records) is unusable (exit 1)
    ├── SinkError            a sink cannot be opened or written (exit 1)
    │   └── TransientSinkError   ...for now: the pipeline retries it with backoff
    └── RunInterrupted       the run was stopped by a signal (exit 130/143)

Every exception keeps its arguments in ``args`` so it survives pickling across process
pools. Third-party errors are translated where they enter, with ``raise ... from``.
"""

from __future__ import annotations

from typing import Any


class SnakePipeError(Exception):
    """Root of every error snake-pipe raises on purpose."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(SnakePipeError):
    """An option or config value is not allowed; the message names it and the fix."""

    exit_code = 2
    validation: Any = None  # the pydantic error behind it, if any


class RepositoryError(SnakePipeError):
    """The repository to ingest does not exist or cannot be read."""

    exit_code = 2


class StoreError(SnakePipeError):
    """The store directory, checkpoint database or records database cannot be used."""


class SinkError(SnakePipeError):
    """A sink failed to open or to write a batch."""


class TransientSinkError(SinkError):
    """A sink failure that may pass (a locked database, a dropped connection): retried."""


class RunInterrupted(SnakePipeError):
    """A signal stopped the run; the store stays resumable."""

    def __init__(self, message: str, signum: int = 2) -> None:
        super().__init__(message)
        self.signum = signum
        self.args = (message, signum)

    @property
    def exit_code(self) -> int:  # type: ignore[override]
        return 128 + self.signum
