#!/usr/bin/env python3
"""The generic batch engine on many small records, against a plain sequential loop.

    python benchmarks/bench_engine.py [--records 1000000] [--batch-size 1000] [--repeat 3]
                                      [--workers N] [--modes M,M] [--json FILE]

The issue's target: ``snake_pipe.BatchEngine`` processes 1,000,000 small records with batch
size 1,000 in at most 10 s on 2 cores with checkpoints on. For other ``--records`` the target
is scaled (10 s per 1,000,000 records).

Only the public API is used, as a user would: ``BatchEngine.for_items(work, batch_size=...)``
with the default executor (a process pool, one worker per usable core) and
``engine.execute(records(n), on_result=..., on_error=..., checkpoint_path=...,
checkpoint_frequency=1)``. The source is a lazy generator of ``n`` small dicts
(``{"id": 17, "text": "user-0017,25404780,ok"}``); ``work`` (module level, so it pickles to
the worker processes) does a small real amount of work per record: split the text, parse the
number, rebuild a string and hash it with BLAKE2b to a 64-bit integer.

The modes (``--modes``, default all three):

- ``sequential``: the baseline, a plain ``for`` loop in one process calling ``work`` over the
  same generator, no engine;
- ``engine+cp``: the engine with checkpoints on (``checkpoint_frequency=1``, a JSON-lines checkpoint
  file in a temporary directory): the run the target is about;
- ``engine-cp``: the engine with checkpoints off, to show what checkpoints cost.

Every run happens in a fresh Python process (this script, with a hidden ``--child`` option),
so no run inherits another's memory or worker pool; the modes rotate order between repeats.
Measured for each run:

- wall time, inside the child, from just before the engine is made (or the loop starts) to
  ``execute`` returning (pool start and shutdown included; interpreter start and imports not),
  and records/s;
- peak RSS of the whole process tree (the child, the forkserver and the worker processes),
  summed, sampled from this process with psutil every ``--interval`` s; and the CPU seconds of
  the tree, and the CPU used meanwhile by other processes on the machine (``other``, in cores:
  well above 0 means the machine was shared and the walls are inflated);
- checkpoints written (``EngineReport.checkpoints``; one per batch, as many in the file),
  and, after the run and not timed, that ``resume_from="latest"`` on its checkpoint file
  skips all the records;
- correctness: ``on_result`` marks every record id; each must be seen exactly once (no
  failure, no duplicate, none missing), and an order-independent checksum of (id, result) must
  equal the sequential loop's.

It prints the medians of ``--repeat`` runs (default 3), the ratio engine wall / sequential
wall, and the cost of checkpoints. The targets are reported, not asserted: the exit status is
0 unless the benchmark itself failed (a child crashed or a result was wrong: 2).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil
from bench_ingest import TreeSampler, busy_cpu_seconds, kill_tree, on_sigterm, wait_until_quiet

import snake_pipe
from snake_pipe import BatchEngine

MODES = ("sequential", "engine+cp", "engine-cp")
TARGET_S_PER_MILLION = 10.0
MASK64 = (1 << 64) - 1


# ---------------------------------------------------------------- the workload


def records(n: int) -> Iterator[dict[str, Any]]:
    """``n`` small records, made lazily: an id and a short text."""
    for i in range(n):
        yield {"id": i, "text": f"user-{i % 9973:04d},{(i * 2654435761) % 100_000_007},ok"}


def work(record: dict[str, Any]) -> int:
    """Per record, in the workers: parse the text, transform it, hash it to 64 bits."""
    name, number, flag = record["text"].split(",")
    canonical = f"{name.upper()}|{int(number) * 3 + record['id']}|{flag == 'ok'}"
    digest = hashlib.blake2b(canonical.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


class Tally:
    """What came back: each id seen exactly once, and a checksum of (id, value) pairs."""

    def __init__(self, n: int) -> None:
        self.seen = bytearray(n)
        self.results = self.duplicates = self.failed = self.out_of_range = 0
        self.checksum = 0

    def on_result(self, record: dict[str, Any], value: int) -> None:
        i = record["id"]
        if not 0 <= i < len(self.seen):
            self.out_of_range += 1
            return
        if self.seen[i]:
            self.duplicates += 1
        self.seen[i] = 1
        self.results += 1
        self.checksum = (self.checksum + (i + 1) * value) & MASK64

    def on_error(self, record: dict[str, Any], message: str) -> None:
        self.failed += 1
        if self.failed <= 3:
            print(f"record {record.get('id')} failed: {message}", file=sys.stderr)

    def summary(self) -> dict[str, Any]:
        unique = len(self.seen) - self.seen.count(0)
        return {"results": self.results, "unique": unique, "missing": len(self.seen) - unique,
                "duplicates": self.duplicates, "failed": self.failed,
                "out_of_range": self.out_of_range, "checksum": self.checksum}  # fmt: skip


# ---------------------------------------------------------------- one run, in a child process


def run_child(mode: str, n: int, batch_size: int, workers: int | None, out: Path) -> None:
    """One measured run; the results (and the checkpoint file) go beside ``out``."""
    tally = Tally(n)
    result: dict[str, Any] = {"mode": mode}
    if mode == "sequential":
        started = time.perf_counter()
        for record in records(n):
            tally.on_result(record, work(record))
        wall = time.perf_counter() - started
    else:
        checkpoint_path = checkpoint_file(out)
        checkpoint_path.unlink(missing_ok=True)
        started = time.perf_counter()
        engine = BatchEngine.for_items(work, batch_size=batch_size, workers=workers)
        report = engine.execute(
            records(n),
            on_result=tally.on_result,
            on_error=tally.on_error,
            checkpoint_path=checkpoint_path if mode == "engine+cp" else None,
            checkpoint_frequency=1,
        )
        wall = time.perf_counter() - started
        result.update(
            status=report.status, batches=len(report.batches),
            checkpoints=len(report.checkpoints),
            report_items_processed=report.items_processed,
            report_items_per_second=report.items_per_second,
            report_duration_s=report.duration_seconds,
            report_peak_memory_mb=report.peak_memory_mb,
        )  # fmt: skip
    result.update(wall_s=wall, **tally.summary())
    out.write_text(json.dumps(result), encoding="utf-8")


def checkpoint_file(out: Path) -> Path:
    return out.with_name(out.stem + ".checkpoints.json")


def count_checkpoints(path: Path) -> int | None:
    """Checkpoints in the engine's file: a JSON document, or JSON lines; None if neither."""
    text = path.read_text(encoding="utf-8")
    try:
        return len(json.loads(text)["checkpoints"])
    except (ValueError, KeyError, TypeError):
        pass
    try:
        return sum(1 for line in text.splitlines() if line.strip() and json.loads(line))
    except ValueError:
        return None


def check_resume(path: Path, n: int, batch_size: int) -> dict[str, Any]:
    """After a run (not timed): does its checkpoint file let a rerun skip every record?"""
    engine = BatchEngine.for_items(work, batch_size=batch_size, executor="inline")
    resumed = engine.execute(records(n), checkpoint_path=path, resume_from="latest")
    return {"checkpoint_file_kb": round(path.stat().st_size / 1024, 1),
            "checkpoints_in_file": count_checkpoints(path),
            "resume_skipped": resumed.resumed_from_item,
            "resume_processed": resumed.items_processed}  # fmt: skip


@dataclass
class Run:
    mode: str
    repeat: int
    wall_s: float  # inside the child: the loop, or engine made to execute returned
    process_s: float  # the child process, interpreter start and imports included
    peak_rss_mb: float
    cpu_s: float
    other_cores: float
    result: dict[str, Any] = field(default_factory=dict)


def measure(mode: str, repeat: int, args: argparse.Namespace, work_dir: Path) -> Run:
    out = work_dir / f"{mode}-{repeat}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", mode,
           "--records", str(args.records), "--batch-size", str(args.batch_size),
           "--child-out", str(out)]  # fmt: skip
    if args.workers:
        cmd += ["--workers", str(args.workers)]
    me = psutil.Process()
    busy0, mine0 = busy_cpu_seconds(), sum(me.cpu_times()[:2])
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE)
    with TreeSampler(proc.pid, args.interval) as sampler:
        # wait4 gives the exact CPU and max RSS of the child (and the children it waited for)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # Ctrl-C or SIGTERM: take the measured tree down with us
            kill_tree(proc.pid)
            raise
    process_s = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    if proc.returncode != 0 or not out.exists():
        raise SystemExit(f"{mode} run failed (exit {proc.returncode}):\n{err[-3000:]}")
    if err.strip():
        print(err.rstrip(), file=sys.stderr)
    busy = busy_cpu_seconds() - busy0
    mine = sum(me.cpu_times()[:2]) - mine0  # this script: the sampler
    result = json.loads(out.read_text(encoding="utf-8"))
    if mode == "engine+cp":
        result.update(check_resume(checkpoint_file(out), args.records, args.batch_size))
    sampler.cpu[proc.pid] = max(sampler.cpu.get(proc.pid, 0.0), usage.ru_utime + usage.ru_stime)
    tree_cpu = sum(sampler.cpu.values())
    return Run(
        mode=mode, repeat=repeat, wall_s=result["wall_s"], process_s=process_s,
        peak_rss_mb=max(sampler.peak_rss, usage.ru_maxrss * 1024) / (1 << 20),
        cpu_s=tree_cpu, other_cores=max(0.0, busy - tree_cpu - mine) / process_s, result=result,
    )  # fmt: skip


# ---------------------------------------------------------------- checking and reporting


def problems(run: Run, n: int, reference: int | None) -> list[str]:
    """What is wrong with a run's results: every record exactly once, the right values."""
    r, found = run.result, []
    if r["unique"] != n or r["missing"] or r["duplicates"] or r["failed"] or r["out_of_range"]:
        found.append(f"{r['unique']}/{n} records seen, {r['missing']} missing, "
                     f"{r['duplicates']} duplicates, {r['failed']} failed")  # fmt: skip
    if reference is not None and r["checksum"] != reference:
        found.append(f"checksum {r['checksum']:#x} != sequential {reference:#x}")
    if run.mode != "sequential" and r.get("status") != "completed":
        found.append(f"engine status {r.get('status')}")
    if run.mode == "engine+cp":
        # checkpoint_frequency=1: one each time the done prefix grew, so at most one a batch
        if not 0 < r["checkpoints"] <= r["batches"]:
            found.append(f"{r['checkpoints']} checkpoints for {r['batches']} batches")
        if r["checkpoints_in_file"] not in (None, r["checkpoints"]):
            found.append(f"{r['checkpoints']} checkpoints reported, "
                         f"{r['checkpoints_in_file']} in the file")  # fmt: skip
        if r["resume_skipped"] != n or r["resume_processed"] != 0:
            found.append(f"resume_from='latest' skipped {r['resume_skipped']} of {n} records "
                         f"and processed {r['resume_processed']}")  # fmt: skip
    return found


def median_run(runs: list[Run], n: int, target_s: float) -> dict[str, Any]:
    def med(values: list[float]) -> float:
        return statistics.median(values)

    wall = med([r.wall_s for r in runs])
    first = runs[0].result
    return {
        "wall_s": wall, "records_per_s": n / wall if wall else 0.0,
        "peak_rss_mb": med([r.peak_rss_mb for r in runs]), "cpu_s": med([r.cpu_s for r in runs]),
        "other_cores": med([r.other_cores for r in runs]),
        "process_s": med([r.process_s for r in runs]),
        "checkpoints": first.get("checkpoints"),
        "checkpoint_file_kb": first.get("checkpoint_file_kb"),
        "report_peak_memory_mb": first.get("report_peak_memory_mb"),
        "target_met": wall <= target_s,
        "walls": [round(r.wall_s, 3) for r in runs],
    }  # fmt: skip


def print_table(summary: dict[str, dict[str, Any]], args: argparse.Namespace,
                target_s: float, correct: dict[str, bool]) -> None:  # fmt: skip
    print(f"\nmedian of {args.repeat} run(s), {args.records:,} records, batch size "
          f"{args.batch_size} (each run in a fresh process):\n")  # fmt: skip
    head = (f"{'mode':11s} {'wall s':>7s} {'records/s':>10s} {'peak RSS MB':>11s} "
            f"{'checkpoints':>11s} {'CPU s':>6s} {'other':>5s} {'correct':>7s} "
            f"{f'target <={target_s:g} s':>15s}  walls")  # fmt: skip
    print(head)
    print("-" * len(head))
    for mode, m in summary.items():
        cps = "-" if m["checkpoints"] is None else str(m["checkpoints"])
        print(f"{mode:11s} {m['wall_s']:7.2f} {m['records_per_s']:10,.0f} "
              f"{m['peak_rss_mb']:11.0f} {cps:>11s} {m['cpu_s']:6.1f} {m['other_cores']:5.2f} "
              f"{'yes' if correct[mode] else 'NO':>7s} {'yes' if m['target_met'] else 'no':>15s}"
              f"  {m['walls']}")  # fmt: skip
    print()
    if "engine+cp" in summary:
        m = summary["engine+cp"]
        print(f"target: {args.records:,} records in <= {target_s:g} s with checkpoints on "
              f"(10 s per 1,000,000): {m['wall_s']:.2f} s -> "
              f"{'met' if m['target_met'] else 'NOT met'}")  # fmt: skip
        print(f"engine report (first run): peak_memory_mb {m['report_peak_memory_mb']}, "
              f"checkpoint file {m['checkpoint_file_kb']} KB")  # fmt: skip
    if "sequential" in summary:
        base = summary["sequential"]["wall_s"]
        for mode in ("engine+cp", "engine-cp"):
            if mode in summary:
                ratio = summary[mode]["wall_s"] / base
                print(f"{mode} wall / sequential wall = {ratio:5.2f}")
    if "engine+cp" in summary and "engine-cp" in summary:
        on, off = summary["engine+cp"]["wall_s"], summary["engine-cp"]["wall_s"]
        print(f"checkpoints cost: {on - off:+.2f} s ({on / off:.2f} x the run without)")
    noisy = [mode for mode, m in summary.items() if m["other_cores"] > 0.25]
    if noisy:
        print(f"\nwarning: other processes used CPU during the runs of {', '.join(noisy)} "
              "(the 'other' column, in cores): the machine was not quiet, so walls are inflated.")  # fmt: skip


def environment() -> dict[str, Any]:
    from snake_pipe.config import usable_cores

    commit = dirty = None
    try:
        here = Path(__file__).resolve().parent
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=here,
                                capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", "../snake_pipe"],
                                    cwd=here, capture_output=True, text=True).stdout.strip())  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        pass
    return {
        "python": sys.version.split()[0], "platform": platform.platform(),
        "cpu_count": psutil.cpu_count(), "usable_cores": usable_cores(),
        "snake_pipe": snake_pipe.__version__, "snake_pipe_commit": commit,
        "snake_pipe_dirty": dirty, "loadavg_at_start": os.getloadavg(),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per mode (median shown)")
    parser.add_argument("--workers", type=int, help="engine workers (default: its own, all cores)")
    parser.add_argument("--modes", default=",".join(MODES), help="subset of " + ",".join(MODES))
    parser.add_argument("--interval", type=float, default=0.1, help="RSS sampling period, s")
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="S",
                        help="before each run wait up to S seconds for other processes to "
                        "use under 0.3 cores (default 0: do not wait)")  # fmt: skip
    parser.add_argument("--json", type=Path, help="save all runs and medians here")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        run_child(args.child, args.records, args.batch_size, args.workers, args.child_out)
        return 0
    signal.signal(signal.SIGTERM, on_sigterm)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = set(modes) - set(MODES)
    if unknown or not modes:
        raise SystemExit(f"--modes: unknown {sorted(unknown)}; choose from {', '.join(MODES)}")
    target_s = TARGET_S_PER_MILLION * args.records / 1_000_000
    env = environment()
    print(f"{args.records:,} records, batch size {args.batch_size}; {env['usable_cores']} usable "
          f"cores, engine workers {args.workers or 'default'}; snake-pipe {env['snake_pipe']} "
          f"({env['snake_pipe_commit']}{', dirty' if env['snake_pipe_dirty'] else ''}); "
          f"Python {env['python']}; load average {env['loadavg_at_start'][0]:.2f}")  # fmt: skip

    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="snake-pipe-bench-engine-") as tmp:
        for repeat in range(args.repeat):
            order = modes[repeat % len(modes) :] + modes[: repeat % len(modes)]
            for mode in order:
                if args.wait_quiet > 0:
                    load = wait_until_quiet(args.wait_quiet)
                    if load >= 0.3:
                        print(f"  (machine still busy: {load:.2f} cores used by others)")
                run = measure(mode, repeat, args, Path(tmp))
                runs.append(run)
                cps = run.result.get("checkpoints")
                print(f"  run {repeat + 1}/{args.repeat} {mode:10s} {run.wall_s:7.2f} s  "
                      f"{run.peak_rss_mb:5.0f} MB  cpu {run.cpu_s:5.1f} s  "
                      f"other {run.other_cores:4.2f} cores"
                      f"{'' if cps is None else f'  {cps} checkpoints'}", flush=True)  # fmt: skip

    reference = None
    sequential = [r for r in runs if r.mode == "sequential"]
    if sequential:
        reference = sequential[0].result["checksum"]
    else:  # no baseline run: compute the expected checksum here
        tally = Tally(args.records)
        for record in records(args.records):
            tally.on_result(record, work(record))
        reference = tally.checksum
    found = {id(r): problems(r, args.records, reference) for r in runs}
    correct = {m: not any(found[id(r)] for r in runs if r.mode == m) for m in modes}
    summary = {m: median_run([r for r in runs if r.mode == m], args.records, target_s)
               for m in modes}  # fmt: skip
    print_table(summary, args, target_s, correct)
    wrong = [(r, p) for r in runs for p in found[id(r)]]
    for run, problem in wrong:
        print(f"WRONG: {run.mode} run {run.repeat + 1}: {problem}")
    if args.json:
        data: dict[str, Any] = {
            "environment": env, "records": args.records, "batch_size": args.batch_size,
            "target_s": target_s, "median": summary, "correct": correct,
            "runs": [{**asdict(r), "problems": found[id(r)]} for r in runs],
        }  # fmt: skip
        if "sequential" in summary:
            base = summary["sequential"]["wall_s"]
            data["ratios"] = {f"{m}/sequential": summary[m]["wall_s"] / base
                              for m in summary if m != "sequential"}  # fmt: skip
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        print(f"\nsaved {args.json}")
    return 2 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
