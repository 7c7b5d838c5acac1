"""Progress output: a rich bar on a terminal, a log line every few seconds otherwise."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from typing import IO, TYPE_CHECKING, Protocol

from snake_pipe.report import RunReport

if TYPE_CHECKING:  # rich loads when a bar or a table is drawn: --quiet runs start sooner
    from rich.console import Console
    from rich.table import Table


def log_line(text: str, stream: IO[str] | None = None) -> None:
    """A line to stderr. A log reader that went away (a closed pipe) costs the lines, not the
    run: a daemon keeps its records current, and a finished ingest keeps its exit status."""
    with contextlib.suppress(OSError, ValueError):
        print(text, file=stream or sys.stderr, flush=True)


def stamped(text: str) -> str:
    """A log line: a log file or cron mail has no other clock, so each line says when (UTC)."""
    return f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} snake-pipe: {text}"


class LogHandler(logging.Handler):
    """The library's ``logging`` records (the PostgreSQL sink's retries) as the command line's
    other log lines."""

    def emit(self, record: logging.LogRecord) -> None:
        log_line(stamped(record.getMessage()))


def counted(n: int, one: str, many: str | None = None) -> str:
    """``1 file``, ``2 files``; ``many`` for a plural not made with an s."""
    return f"{n} {one if n == 1 else many or one + 's'}"


class ProgressView(Protocol):
    def update(self, done: int, total: int, rate: float) -> None: ...
    def message(self, text: str) -> None: ...
    def close(self) -> None: ...


class Silent:
    def update(self, done: int, total: int, rate: float) -> None:
        pass

    def message(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


class LogLines:
    """For logs and CI: one line per ``every`` seconds, to stderr."""

    def __init__(self, stream: IO[str], every: float = 5.0) -> None:
        self.stream, self.every, self._last = stream, every, time.monotonic()

    def update(self, done: int, total: int, rate: float) -> None:
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            self.message(f"{done}/{total} files, {rate:.0f} files/s")

    def message(self, text: str) -> None:
        log_line(stamped(text), self.stream)

    def close(self) -> None:
        pass


class Bar:
    def __init__(self, console: Console) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichProgress

        self.console = console
        self.bar = RichProgress(
            TextColumn("[bold]ingest"), BarColumn(), MofNCompleteColumn(),
            TaskProgressColumn(), TextColumn("{task.fields[rate]:>6.0f} files/s"),
            TimeRemainingColumn(), console=console, transient=True,
        )  # fmt: skip
        self.task = self.bar.add_task("ingest", total=None, rate=0.0)
        self.bar.start()

    def update(self, done: int, total: int, rate: float) -> None:
        self.bar.update(self.task, completed=done, total=total, rate=rate)

    def message(self, text: str) -> None:
        self.console.print(f"snake-pipe: {text}")

    def close(self) -> None:
        self.bar.stop()


def make_view(quiet: bool, stream: IO[str] | None = None) -> ProgressView:
    stream = stream or sys.stderr
    if quiet:
        return Silent()
    if stream.isatty():
        from rich.console import Console

        return Bar(Console(file=stream))
    return LogLines(stream)


def summary_table(report: RunReport) -> Table:
    from rich.table import Table

    p, perf = report.progress, report.performance
    table = Table(title=f"snake-pipe run {report.processing_id}: {report.status}", show_edge=False)
    for col in ("language", "files", "ok", "syntax_error", "failed", "skipped", "symbols"):
        table.add_column(col, justify="left" if col == "language" else "right")
    for lang, s in report.by_language.items():
        table.add_row(
            lang, *map(str, (s.files, s.ok, s.syntax_error, s.failed, s.skipped, s.symbols))
        )
    langs = report.by_language.values()
    totals = [
        sum(getattr(s, k) for s in langs)
        for k in ("files", "ok", "syntax_error", "failed", "skipped", "symbols")
    ]
    table.add_row("[bold]total", *map(str, totals))
    # the table counts the files processed; a re-run says what else it found
    kept = "done before or unchanged" if report.resumed else "unchanged"
    others = [f"{n} {what}" for n, what in ((report.unchanged_files, kept),
              (report.deduplicated_files, "deduplicated"), (report.deleted_files, "deleted"))
              if n]  # fmt: skip
    table.caption = (
        f"{counted(p.processed_files, 'file')} processed"
        + (f" ({', '.join(others)})" if others else "")
        + f"; {report.timing.duration_seconds:.2f} s, {perf.files_per_second:.0f} files/s, "
        f"{counted(p.total_batches, 'batch', 'batches')}, peak memory {perf.peak_memory_mb:.0f} MB"
    )
    return table


def print_summary(report: RunReport, stream: IO[str] | None = None) -> None:
    from rich.console import Console

    stream = stream or sys.stderr
    # rendered here, written by log_line: rich's own write ends the process on a closed pipe
    console = Console(file=stream, width=100)
    with console.capture() as captured:
        console.print(summary_table(report))
    log_line(captured.get().rstrip("\n"), stream)
