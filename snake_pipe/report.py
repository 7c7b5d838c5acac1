"""The run report: what ``--report FILE`` writes and the summary table shows."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from snake_pipe.records import FileResult

RunStatus = Literal["completed", "partial", "failed", "interrupted"]


class Timing(BaseModel):
    started_at: str
    completed_at: str | None
    duration_seconds: float


class Progress(BaseModel):
    total_files: int = 0
    processed_files: int = 0
    successful_files: int = 0
    failed_files: int = 0
    skipped_files: int = 0
    total_batches: int = 0
    completed_batches: int = 0
    failed_batches: int = 0
    last_batch_error: str = ""  # why the last failed batch could not be written
    retried_batches: int = 0


class Performance(BaseModel):
    files_per_second: float = 0.0
    peak_files_per_second: float = 0.0
    avg_batch_duration_ms: float = 0.0
    peak_memory_mb: float = 0.0


class LanguageStats(BaseModel):
    files: int = 0
    ok: int = 0
    syntax_error: int = 0
    failed: int = 0
    skipped: int = 0
    symbols: int = 0
    imports: int = 0
    bytes: int = 0


class RunReport(BaseModel):
    """Summary of one run; ``status`` is completed even when some files failed (that is data)."""

    processing_id: str
    status: RunStatus
    repo: str
    store: str
    sinks: list[str]
    timing: Timing
    progress: Progress
    performance: Performance
    by_language: dict[str, LanguageStats] = Field(default_factory=dict)
    errors_by_category: dict[str, int] = Field(default_factory=dict)
    unchanged_files: int = 0
    deduplicated_files: int = 0
    deleted_files: int = 0
    resumed: bool = False
    checkpoints: dict[str, Any] = Field(default_factory=dict)


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class RunStats:
    """Counters the pipeline updates per batch; turned into a ``RunReport`` at the end."""

    started_at: str = field(default_factory=utc_now)
    started: float = field(default_factory=time.perf_counter)
    discovered: int = 0
    processed: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    by_category: Counter[str] = field(default_factory=Counter)
    # language -> LanguageStats field -> count: plain counters, since a pydantic model's
    # setattr per file would cost the coordinator more than the rest of this method
    by_language: defaultdict[str, Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    batches: int = 0
    failed_batches: int = 0
    retried_batches: int = 0
    batch_seconds: float = 0.0
    peak_rate: float = 0.0
    deleted: int = 0
    unchanged: int = 0
    duplicates: int = 0
    # files in the tree when known exactly (a watch that caught up, whose processed files
    # count edits, not files)
    tree_files: int | None = None
    _window: list[tuple[float, int]] = field(default_factory=list)

    def counters(self) -> dict[str, int]:
        return {"processed": self.processed, "unchanged": self.unchanged, "deleted": self.deleted,
                "duplicates": self.duplicates, **self.by_status}  # fmt: skip

    def add(self, results: list[FileResult], batch_seconds: float) -> None:
        self.batches += 1
        self.batch_seconds += batch_seconds
        for r in results:
            self.processed += 1
            self.by_status[r.status] += 1
            if r.error_category:
                self.by_category[r.error_category] += 1
            lang = self.by_language[r.language or "(none)"]
            lang["files"] += 1
            lang[r.status] += 1
            lang["symbols"] += len(r.symbols)
            lang["imports"] += len(r.imports)
            lang["bytes"] += r.size_bytes
        now = time.perf_counter()
        self._window.append((now, self.processed))
        while len(self._window) > 2 and now - self._window[0][0] > 5:
            self._window.pop(0)
        t0, n0 = self._window[0]
        if now - t0 >= 1.0:
            self.peak_rate = max(self.peak_rate, (self.processed - n0) / (now - t0))

    def add_failed_batch(self, results: list[FileResult], error: str) -> None:
        """A batch that could not be written: its files count as failed (category sink)."""
        self.batches += 1
        self.failed_batches += 1
        self.last_batch_error = error
        self.processed += len(results)
        self.by_status["failed"] += len(results)
        self.by_category["sink"] += len(results)

    def rate(self) -> float:
        return self.processed / max(time.perf_counter() - self.started, 1e-9)

    def report(
        self, run_id: str, status: RunStatus, repo: str, store: str, sinks: list[str],
        peak_memory_mb: float,
    ) -> RunReport:  # fmt: skip
        elapsed = time.perf_counter() - self.started
        rate = self.processed / elapsed if elapsed > 0 else 0.0
        return RunReport(
            processing_id=run_id, status=status, repo=repo, store=store, sinks=sinks,
            timing=Timing(started_at=self.started_at, completed_at=utc_now(),
                          duration_seconds=round(elapsed, 3)),
            progress=Progress(
                total_files=max(self.discovered, self.processed) if self.tree_files is None
                else self.tree_files, processed_files=self.processed,
                successful_files=self.by_status["ok"] + self.by_status["syntax_error"],
                failed_files=self.by_status["failed"], skipped_files=self.by_status["skipped"],
                total_batches=self.batches, completed_batches=self.batches - self.failed_batches,
                failed_batches=self.failed_batches, retried_batches=self.retried_batches,
            ),
            performance=Performance(
                files_per_second=round(rate, 1),
                peak_files_per_second=round(max(self.peak_rate, rate), 1),
                avg_batch_duration_ms=round(1000 * self.batch_seconds / max(self.batches, 1), 1),
                peak_memory_mb=round(peak_memory_mb, 1),
            ),
            by_language={k: LanguageStats(**v) for k, v in sorted(self.by_language.items())},
            errors_by_category=dict(sorted(self.by_category.items())),
            unchanged_files=self.unchanged,
            deduplicated_files=self.duplicates,
            deleted_files=self.deleted,
        )  # fmt: skip
