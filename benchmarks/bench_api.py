#!/usr/bin/env python3
"""The Python API on a 100,000-file repository: time to first record and peak memory.

    python benchmarks/corpus.py                      # once: builds benchmarks/corpus/
    python benchmarks/bench_api.py [--files 100000] [--repo /tmp/snake-pipe-api-100k]

The repository is made from the real third-party files of ``benchmarks/corpus`` (never
committed), replicated into ``copyN/`` trees until it holds ``--files`` files; every copy
after the first gets N newlines appended, so no two files share content and the workers'
deduplication cannot make the run look faster than it is. It is built once and reused.

Measured, in this process, with a fresh temporary store (``extract(repo)``):

- time from the ``extract()`` call to the first record, and to the last (the package is
  imported before: that is a program's start-up, not the call's);
- peak RSS of the whole process tree (this process, the forkserver and the parser
  processes), summed as the run report's ``peak_memory_mb`` does and sampled every 50 ms,
  against the issue's targets: first record within 1 s, peak tree RSS at most 500 MB; and
  the tree's peak PSS, which counts the pages the parser processes share once;
- the same for ``aextract()`` under asyncio (``--async``);
- with ``--changes``, an initial ``changes_only`` run into a store, then a second one with
  nothing changed (it must yield nothing) and one after editing 1% of the Python files.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil

import snake_pipe
from snake_pipe import aextract, extract  # imported before any timing starts
from snake_pipe.monitor import tree_rss_bytes

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE / "corpus"
DEFAULT_REPO = Path(tempfile.gettempdir()) / "snake-pipe-api-100k"
TARGET_FIRST_S, TARGET_RSS_MB = 1.0, 500.0


def corpus_files(corpus: Path) -> list[Path]:
    files = []
    for dirpath, dirnames, names in os.walk(corpus):
        dirnames[:] = sorted(d for d in dirnames if not d.endswith((".partial", ".deb-raw")))
        for name in sorted(names):
            path = Path(dirpath, name)
            if not path.is_symlink():
                files.append(path)
    return files


def build_repo(corpus: Path, repo: Path, count: int) -> int:
    """``count`` files copied from the corpus into ``repo/copyN/``, each with distinct bytes."""
    marker = repo / ".bench-files"
    if marker.exists() and int(marker.read_text()) == count:
        return count
    sources = corpus_files(corpus)
    if not sources:
        sys.exit(f"no files in {corpus}: run python benchmarks/corpus.py first")
    shutil.rmtree(repo, ignore_errors=True)
    written = 0
    for copy in range(count // len(sources) + 1):
        for src in sources:
            if written == count:
                break
            dest = repo / f"copy{copy}" / src.relative_to(corpus)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(src.read_bytes() + b"\n" * copy)
            written += 1
    # the copies are not a git repository: no .gitignore above them applies
    marker.write_text(str(count))
    (repo / ".gitignore").write_text(".bench-files\n")
    return written


def tree_pss_bytes(process: psutil.Process) -> int:
    """Proportional set size of the tree: shared pages (the forkserver's, which every parser
    process maps) counted once, not once per process as in the RSS sum."""
    total = 0
    for p in [process, *process.children(recursive=True)]:
        try:
            total += p.memory_full_info().pss
        except (psutil.Error, AttributeError):
            continue
    return total


class PeakRSS:
    """Peak RSS (and PSS) of this process tree, sampled in a thread."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval, self.peak, self.peak_self, self.peak_pss = interval, 0, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        me = psutil.Process()
        ticks = 0
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, tree_rss_bytes(me))
            self.peak_self = max(self.peak_self, me.memory_info().rss)
            ticks += 1
            if ticks % 5 == 0:  # reading smaps is slower: every 250 ms
                self.peak_pss = max(self.peak_pss, tree_pss_bytes(me))

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Result:
    what: str
    records: int
    first_s: float
    total_s: float
    peak_tree_mb: float
    peak_coordinator_mb: float
    peak_tree_pss_mb: float

    def line(self) -> str:
        rate = self.records / self.total_s if self.total_s else 0.0
        return (f"{self.what:28s} {self.records:7d} records  first {self.first_s:6.3f} s  "
                f"all {self.total_s:6.1f} s ({rate:5.0f}/s)  peak tree RSS "
                f"{self.peak_tree_mb:4.0f} MB, PSS {self.peak_tree_pss_mb:4.0f} MB "
                f"(coordinator RSS {self.peak_coordinator_mb:4.0f} MB)")  # fmt: skip


def measure(what: str, records: Iterator[Any], started: float, rss: PeakRSS) -> Result:
    first = None
    count = 0
    for _ in records:
        if first is None:
            first = time.perf_counter() - started
        count += 1
    total = time.perf_counter() - started
    return Result(what, count, first or 0.0, total, rss.peak / 2**20, rss.peak_self / 2**20,
                  rss.peak_pss / 2**20)  # fmt: skip


def run_sync(repo: Path, workers: int, **options: Any) -> Result:
    with PeakRSS() as rss:
        started = time.perf_counter()
        result = measure("extract()", extract(repo, workers=workers, **options), started, rss)
    return result


def run_async(repo: Path, workers: int, **options: Any) -> Result:
    async def consume(rss: PeakRSS) -> Result:
        started = time.perf_counter()
        first, count = None, 0
        async for _ in aextract(repo, workers=workers, **options):
            if first is None:
                first = time.perf_counter() - started
            count += 1
        total = time.perf_counter() - started
        return Result("aextract() asyncio", count, first or 0.0, total, rss.peak / 2**20,
                      rss.peak_self / 2**20, rss.peak_pss / 2**20)  # fmt: skip

    with PeakRSS() as rss:
        return asyncio.run(consume(rss))


def run_changes(repo: Path, workers: int, store: Path, **options: Any) -> list[Result]:
    shutil.rmtree(store, ignore_errors=True)
    results = []
    for label in ("changes_only: initial", "changes_only: unchanged"):
        with PeakRSS() as rss:
            started = time.perf_counter()
            changes = extract(repo, workers=workers, store=store, changes_only=True, **options)
            results.append(measure(label, changes, started, rss))
    touched = sorted(repo.rglob("*.py"))[::100]  # 1% of the Python files
    for path in touched:
        path.write_bytes(path.read_bytes() + b"# touched\n")
    with PeakRSS() as rss:
        started = time.perf_counter()
        changes = extract(repo, workers=workers, store=store, changes_only=True, **options)
        results.append(measure(f"changes_only: {len(touched)} edited", changes, started, rss))
    for path in touched:
        path.write_bytes(path.read_bytes().removesuffix(b"# touched\n"))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repo", type=Path, default=DEFAULT_REPO)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=snake_pipe.Config().workers)
    parser.add_argument("--async", dest="run_async", action="store_true", help="also aextract()")
    parser.add_argument("--changes", action="store_true", help="also changes_only runs")
    parser.add_argument("--queue-order", help="queue_order (extract's default: smallest_first)")
    parser.add_argument("--memory-limit-mb", type=int, help="memory_limit_mb for the runs")
    parser.add_argument("--json", type=Path, help="write the results as JSON")
    args = parser.parse_args(argv)

    built = build_repo(args.corpus.resolve(), args.repo.resolve(), args.files)
    print(f"repository {args.repo}: {built} files; workers={args.workers}, "
          f"{psutil.cpu_count()} CPUs")  # fmt: skip
    options: dict[str, Any] = {}
    if args.queue_order:
        options["queue_order"] = args.queue_order
    if args.memory_limit_mb is not None:
        options["memory_limit_mb"] = args.memory_limit_mb
    print(f"options: {options or 'defaults'}")
    results = [run_sync(args.repo, args.workers, **options)]
    print(results[-1].line(), flush=True)
    if args.run_async:
        results.append(run_async(args.repo, args.workers, **options))
        print(results[-1].line(), flush=True)
    if args.changes:
        with tempfile.TemporaryDirectory(prefix="snake-pipe-bench-store-") as store:
            for result in run_changes(args.repo, args.workers, Path(store), **options):
                results.append(result)
                print(result.line(), flush=True)
    first, peak = results[0].first_s, max(r.peak_tree_mb for r in results)
    ok = first <= TARGET_FIRST_S and peak <= TARGET_RSS_MB
    print(f"\ntargets: first record <= {TARGET_FIRST_S} s: {first:.3f} s; "
          f"peak tree RSS <= {TARGET_RSS_MB:.0f} MB: {peak:.0f} MB -> {'met' if ok else 'MISSED'}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
