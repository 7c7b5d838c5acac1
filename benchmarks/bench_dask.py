#!/usr/bin/env python3
"""Dask against the local process pool, on the same corpus and the same number of workers.

    python benchmarks/corpus.py                   # once: builds benchmarks/corpus/
    python benchmarks/bench_dask.py [--corpus DIR] [--workers 2] [--repeat 3] [--json FILE]

Each repeat runs, in a rotating order, each in a fresh ``snake-pipe ingest`` process with a
fresh store (cold: no checkpoint, no warm worker):

a. ``process``: ``--executor process`` (the default pool, started by the run);
b. ``dask``: ``--executor dask://HOST:PORT`` on a ``LocalCluster`` this script starts before
   the run and closes after it (the steady state of a running cluster: the run pays for
   shipping every file's bytes and for Dask's scheduling, not for starting workers);
c. ``dask-local``: ``--executor dask-local`` (the run starts and stops its own cluster).

It prints the median wall times and the ratios to ``process`` (the issue's target: ``dask``
within 1.3x), the CPU the rest of the machine used meanwhile (``other``, in cores: well
above 0 means a noisy measurement), and checks that every mode wrote the same rows.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE / "corpus"
MODES = ("process", "dask", "dask-local")


@dataclass
class Sample:
    mode: str
    repeat: int
    wall_s: float
    other_cores: float
    files: int
    symbols: int


def busy_cpu_seconds() -> float:
    t = psutil.cpu_times()
    return t.user + t.nice + t.system + getattr(t, "irq", 0) + getattr(t, "softirq", 0)


class TreeCpu:
    """CPU seconds of this process and all its descendants (the run, its pool or cluster),
    sampled while the run goes: a pool's workers are not children this process waits for."""

    def __init__(self, interval: float = 0.2) -> None:
        self.me, self.interval = psutil.Process(), interval
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def sample(self) -> None:
        for proc in [self.me, *self.me.children(recursive=True)]:
            try:
                times = proc.cpu_times()
            except psutil.Error:
                continue
            self.cpu[proc.pid] = max(self.cpu.get(proc.pid, 0.0), times.user + times.system)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> TreeCpu:
        self.sample()
        self.before = dict(self.cpu)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    @property
    def seconds(self) -> float:
        return sum(cpu - self.before.get(pid, 0.0) for pid, cpu in self.cpu.items())


def ingest(corpus: Path, store: Path, executor: str, workers: int) -> tuple[float, float]:
    """One cold ingest; its wall time and the cores the rest of the machine used meanwhile."""
    cmd = [sys.executable, "-m", "snake_pipe", "ingest", str(corpus), "--store", str(store),
           "--quiet", "--workers", str(workers), "--executor", executor]  # fmt: skip
    busy0 = busy_cpu_seconds()
    with TreeCpu() as ours:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        ours.sample()
        _, err = proc.communicate()
        wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{executor}: exit {proc.returncode}\n{err[-3000:]}")
    return wall, max(0.0, busy_cpu_seconds() - busy0 - ours.seconds) / wall


def counts(store: Path) -> tuple[int, int]:
    with sqlite3.connect(store / "records.sqlite") as conn:
        files = conn.execute("SELECT count(*) FROM files").fetchone()[0]
        symbols = conn.execute("SELECT count(*) FROM symbols").fetchone()[0]
    return files, symbols


def run_mode(mode: str, corpus: Path, work: Path, workers: int, repeat: int) -> Sample:
    store = work / f"{mode}-{repeat}"
    if mode == "dask":
        from snake_pipe.executors.dask import local_cluster

        with local_cluster(workers) as cluster:
            address = cluster.scheduler_address.removeprefix("tcp://")
            wall, other = ingest(corpus, store, f"dask://{address}", workers)
    else:
        wall, other = ingest(corpus, store, mode, workers)
    files, symbols = counts(store)
    shutil.rmtree(store, ignore_errors=True)
    return Sample(mode, repeat, wall, other, files, symbols)


def warm_page_cache(corpus: Path) -> int:
    """Read every file once, untimed: no mode pays for the disk."""
    files = 0
    for dirpath, _dirs, names in os.walk(corpus):
        for name in names:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                with open(path, "rb") as f:
                    while f.read(1 << 20):
                        pass
                files += 1
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated subset")
    parser.add_argument("--json", type=Path, help="write every sample and the medians here")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        raise SystemExit(f"no corpus at {args.corpus}: run benchmarks/corpus.py first")
    modes = [m for m in args.modes.split(",") if m]
    files = warm_page_cache(args.corpus)
    print(f"corpus {args.corpus}: {files} files; {args.workers} workers; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    samples: list[Sample] = []
    with tempfile.TemporaryDirectory(prefix="bench-dask-") as tmp:
        for repeat in range(args.repeat):
            rotated = modes[repeat % len(modes) :] + modes[: repeat % len(modes)]
            for mode in rotated:
                sample = run_mode(mode, args.corpus, Path(tmp), args.workers, repeat)
                samples.append(sample)
                print(f"  {mode:<10} run {repeat + 1}: {sample.wall_s:6.2f} s "
                      f"(other {sample.other_cores:.1f} cores)")  # fmt: skip
    medians = {m: statistics.median(s.wall_s for s in samples if s.mode == m) for m in modes}
    rows = {(s.files, s.symbols) for s in samples}
    print(f"\nmedian wall of {args.repeat} run(s), files and symbols written: {sorted(rows)}")
    for mode in modes:
        other = statistics.median(s.other_cores for s in samples if s.mode == mode)
        ratio = f"{medians[mode] / medians['process']:.2f}x process" if "process" in medians else ""
        print(f"  {mode:<10} {medians[mode]:7.2f} s  {ratio:<14}  other {other:.1f} cores")
    if args.json:
        data = {"samples": [asdict(s) for s in samples], "median_wall_s": medians}
        args.json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    if len(rows) != 1:
        raise SystemExit("the modes wrote different numbers of rows")


if __name__ == "__main__":
    main()
