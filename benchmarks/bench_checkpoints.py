#!/usr/bin/env python3
"""Checkpoints, resume and incremental runs: figures against the issue's targets.

    python benchmarks/bench_checkpoints.py [--files 100000] [--repeat 3] [--json FILE]

On an N-file corpus of real code (``big_corpus.py``, built on first use), every run the real
``snake-pipe`` command in its own process group, with a store in a temporary directory:

1. Unchanged re-run: a cold ingest, then ``snake-pipe ingest CORPUS --store S --quiet --report R``
   ``--repeat`` times. Wall time of the whole command (interpreter start included); target
   <= 3 s (median), and nothing processed (report ``progress.processed_files == 0``).
2. kill -9 at half-way: a cold ingest with ``--batch-size 200`` is SIGKILLed (the whole process
   group: coordinator, forkserver, workers) once the checkpoint store holds ``--kill-at`` (0.5)
   of the files; the checkpoint store is read read-only with LMDB from this process, which is
   safe while the run writes it. Then the same command again, with ``--report``:
   a. time from the rerun's start (just before its process is started) to the first file a
      parser process begins on: a worker hook (``SNAKE_PIPE_TEST_WORKER_HOOK``, the same hook
      the fault tests use; nothing in the package changes) wraps ``extract_file`` and writes the
      wall-clock time of its first call. Target <= 3 s. The time to the rerun's first new
      checkpoint (from the checkpoint store's own ``created_at``) is shown beside it;
   b. files the rerun processed (its report) against the files not checkpointed at the kill:
      target <= remaining + 200 x workers;
   and the records after kill + rerun must equal those of the clean cold run of step 1: row
   counts of files, symbols, imports and parse_errors, and every files row (path, hash, status,
   counts) and per-file symbol count.
3. Cost of checkpointing: cold ingests with ``checkpoint_frequency = 1`` (the default) and with
   checkpoints off, ``--repeat`` times each, interleaved (on/off, off/on, ...). "Off" is
   ``SNAKE_PIPE_CHECKPOINT_FREQUENCY=0`` plus ``SNAKE_PIPE_CHECKPOINT_INTERVAL_S=1e9``:
   frequency 0 alone still commits every ``checkpoint_interval_s`` (30 s). Target: median wall
   with checkpoints <= 1.05 x median wall without. CPU seconds of the process trees are shown
   too: on a shared machine they are steadier than wall time.

Each run also shows the CPU other processes used meanwhile (``other``, in cores): well above 0
means the machine was shared and the wall times are noisy. Exit status: 0 all targets met,
1 a target missed (each one printed), 2 the benchmark itself failed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import lmdb
import psutil

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from big_corpus import DEFAULT_ROOT, CorpusError, describe, ensure_corpus  # noqa: E402

BIN = Path(sys.executable).parent
MB = 1 << 20


class BenchError(Exception):
    """The benchmark could not measure (a run failed, the corpus is too small...)."""


# ---------------------------------------------------------------- running and measuring


def snake_pipe_cmd() -> list[str]:
    exe = BIN / "snake-pipe"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "snake_pipe"]


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without any SNAKE_PIPE_* setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNAKE_PIPE_")}
    env.update(extra)
    return env


def _busy_seconds() -> float:
    t = psutil.cpu_times()
    return float(sum(t) - t.idle - getattr(t, "iowait", 0.0))


@dataclass
class Measured:
    """One command, run to its end (or killed) in its own process group."""

    cmd: list[str]
    returncode: int = 0
    pid: int = 0  # also the process group
    started_at: float = 0.0  # time.time() just before the process was started
    wall_s: float = 0.0
    cpu_s: float = 0.0  # user + system of the process tree (sampled, see TreeSampler)
    peak_rss_mb: float = 0.0  # sampled here with psutil, the whole tree
    other_cores: float = 0.0  # CPU other processes on the machine used meanwhile, in cores
    stderr_tail: str = ""
    report: dict[str, Any] | None = field(default=None, repr=False)


class TreeSampler:
    """RSS and CPU of a process and all its descendants, sampled: the peak of the summed RSS,
    and the CPU seconds each process had used when last seen (lost: at most one interval
    of each process's last moments)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_rss = 0
        self._procs: dict[int, psutil.Process] = {}
        self._cpu: dict[tuple[int, float], float] = {}

    def _tree(self) -> list[psutil.Process]:
        try:
            root = self._procs.get(self.pid) or psutil.Process(self.pid)
            found = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []
        procs = []
        for p in found:
            procs.append(self._procs.setdefault(p.pid, p))  # keep one object per process
        return procs

    def sample(self) -> int:
        rss = 0
        for p in self._tree():
            try:
                with p.oneshot():
                    rss += p.memory_info().rss
                    t = p.cpu_times()
                    self._cpu[(p.pid, p.create_time())] = t.user + t.system
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        self.peak_rss = max(self.peak_rss, rss)
        return rss

    @property
    def cpu_s(self) -> float:
        return sum(self._cpu.values())


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def run_measured(
    cmd: list[str],
    env: dict[str, str],
    workdir: Path,
    report_path: Path | None = None,
    on_tick: Callable[[subprocess.Popen[bytes], float], None] | None = None,
    interval: float = 0.05,
    timeout: float = 4 * 3600,
) -> Measured:
    """Run ``cmd`` in a new session (its own process group), sampling the RSS of its process
    tree every ``interval`` s and calling ``on_tick(proc, elapsed)`` as often. The group is
    killed if the command outlives ``timeout``, and on the way out whatever happens."""
    result = Measured(cmd)
    stderr_path = workdir / f"stderr-{time.monotonic_ns()}.txt"
    busy_before = _busy_seconds()
    with open(stderr_path, "wb") as stderr:
        result.started_at = time.time()
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=stderr,
                                start_new_session=True)  # fmt: skip
        result.pid = proc.pid
        sampler = TreeSampler(proc.pid)
        try:
            while True:
                sampler.sample()
                elapsed = time.perf_counter() - started
                if on_tick is not None:
                    on_tick(proc, elapsed)
                if proc.poll() is not None:
                    break
                if elapsed > timeout:
                    kill_group(proc.pid)
                    proc.wait()
                    raise BenchError(f"{' '.join(cmd)}: still running after {timeout:.0f} s")
                time.sleep(interval)
        finally:
            if proc.poll() is None:
                kill_group(proc.pid)
                proc.wait()
        result.wall_s = time.perf_counter() - started
        result.returncode = proc.returncode
    kill_group(proc.pid)  # anything of the group still alive (a killed run's orphans)
    result.cpu_s = sampler.cpu_s
    busy = _busy_seconds() - busy_before
    result.other_cores = max(0.0, (busy - result.cpu_s) / max(result.wall_s, 1e-9))
    result.peak_rss_mb = sampler.peak_rss / MB
    result.stderr_tail = "\n".join(stderr_path.read_text(errors="replace").splitlines()[-8:])
    stderr_path.unlink(missing_ok=True)
    if report_path is not None and report_path.exists():
        result.report = json.loads(report_path.read_text())
    return result


def ingest_cmd(corpus: Path, store: Path, report: Path, workers: int, *extra: str) -> list[str]:
    return [*snake_pipe_cmd(), "ingest", str(corpus), "--store", str(store), "--quiet",
            "--report", str(report), "--workers", str(workers), *extra]  # fmt: skip


def require_completed(run: Measured, what: str) -> dict[str, Any]:
    if run.returncode != 0 or run.report is None or run.report.get("status") != "completed":
        status = run.report.get("status") if run.report else "no report"
        raise BenchError(f"{what}: exit {run.returncode}, {status}; stderr: {run.stderr_tail}")
    return run.report


def warm_page_cache(corpus: Path) -> tuple[int, int]:
    """Read every file once, so the first timed run does not pay for the disk alone."""
    files = size = 0
    for dirpath, _dirs, names in os.walk(corpus):
        for name in names:
            with contextlib.suppress(OSError), open(os.path.join(dirpath, name), "rb") as f:
                size += len(f.read())
                files += 1
    return files, size


# ---------------------------------------------------------------- the stores, read from outside


class StoreProbe:
    """The checkpoint store of a run, opened read-only (LMDB allows readers in other
    processes while the run writes): how many files are checkpointed, which checkpoints."""

    def __init__(self, store: Path) -> None:
        self.path = store / "checkpoints.lmdb"
        self.env: Any = None
        self.dbs: dict[bytes, Any] = {}

    def _open(self) -> bool:
        if self.env is not None:
            return True
        if not (self.path / "data.mdb").exists():
            return False
        try:
            env = lmdb.open(str(self.path), readonly=True, lock=True, max_dbs=8, subdir=True)
        except lmdb.Error:
            return False
        try:  # (in a read-only environment, open_db uses a read transaction of its own)
            self.dbs = {name: env.open_db(name, create=False)
                        for name in (b"files", b"checkpoints", b"runs", b"meta")}  # fmt: skip
        except lmdb.Error:
            env.close()
            return False
        self.env = env
        return True

    def _begin(self) -> lmdb.Transaction:
        """A read transaction; the run grows the map as it writes, so adopt its new size."""
        try:
            return self.env.begin()
        except lmdb.MapResizedError:
            self.env.set_mapsize(0)
            return self.env.begin()

    def count(self) -> int | None:
        """Checkpointed files, or None while the store is not there yet."""
        if not self._open():
            return None
        with self._begin() as txn:
            return int(txn.stat(self.dbs[b"files"])["entries"])

    def checkpoints(self) -> list[dict[str, Any]]:
        if not self._open():
            return []
        with self._begin() as txn:
            return [json.loads(bytes(v)) for _, v in txn.cursor(db=self.dbs[b"checkpoints"])]

    def close(self) -> None:
        if self.env is not None:
            self.env.close()
            self.env = None


def iso_time(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def db_connect(store: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{store / 'records.sqlite'}?mode=ro", uri=True)


def row_counts(store: Path) -> dict[str, int]:
    with contextlib.closing(db_connect(store)) as db:
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("files", "symbols", "imports", "parse_errors")}  # fmt: skip


FILE_KEY = ("path, language, size_bytes, mtime_ns, content_hash, line_count, status, "
            "error_category, syntax_error_count, node_count")  # fmt: skip


def record_differences(store: Path, reference: Path) -> dict[str, int]:
    """Rows of ``files`` and per-file symbol counts that differ between two stores."""
    with contextlib.closing(db_connect(store)) as db:
        db.execute("ATTACH DATABASE ? AS ref", (f"file:{reference / 'records.sqlite'}?mode=ro",))
        diff = {}
        for name, a, b in (("files_only_after_resume", "main", "ref"),
                           ("files_only_in_clean_run", "ref", "main")):  # fmt: skip
            diff[name] = db.execute(f"SELECT count(*) FROM (SELECT {FILE_KEY} FROM {a}.files "
                                    f"EXCEPT SELECT {FILE_KEY} FROM {b}.files)").fetchone()[0]  # fmt: skip
        per_file = "SELECT path, count(*) FROM {}.symbols GROUP BY path"
        diff["symbol_counts_differing"] = db.execute(
            f"SELECT count(*) FROM ({per_file.format('main')} EXCEPT {per_file.format('ref')})"
        ).fetchone()[0]
    return diff


# ---------------------------------------------------------------- a probe in the workers

PROBE_MODULE = "snake_pipe_bench_probe"
PROBE_SOURCE = '''"""Benchmark probe, imported by every parser process through SNAKE_PIPE_TEST_WORKER_HOOK:
writes the wall-clock time at which this process starts on its first file."""
import os
import time

from snake_pipe.parse import worker

_real_extract_file = worker.extract_file
_first = []


def extract_file(item):
    if not _first:
        _first.append(time.time())
        path = os.path.join(os.environ["SNAKE_PIPE_BENCH_PROBE_DIR"], f"first-{os.getpid()}")
        with open(path, "w") as f:
            f.write(repr(_first[0]))
    return _real_extract_file(item)


worker.extract_file = extract_file
'''


def probe_env(workdir: Path) -> tuple[dict[str, str], Path]:
    """Environment that loads the probe into the parser processes; and where it writes."""
    code_dir, out_dir = workdir / "probe-code", workdir / "probe-out"
    shutil.rmtree(out_dir, ignore_errors=True)
    code_dir.mkdir(exist_ok=True)
    out_dir.mkdir()
    (code_dir / f"{PROBE_MODULE}.py").write_text(PROBE_SOURCE)
    path = os.pathsep.join(p for p in (str(code_dir), os.environ.get("PYTHONPATH")) if p)
    env = clean_env(PYTHONPATH=path, SNAKE_PIPE_TEST_WORKER_HOOK=PROBE_MODULE,
                    SNAKE_PIPE_BENCH_PROBE_DIR=str(out_dir))  # fmt: skip
    return env, out_dir


def first_parse_time(out_dir: Path) -> float | None:
    times = [float(p.read_text()) for p in out_dir.glob("first-*")]
    return min(times) if times else None


# ---------------------------------------------------------------- the table


@dataclass
class Figure:
    section: str
    metric: str
    value: str
    target: str = ""
    ok: bool | None = None  # None: no target


@dataclass
class Results:
    figures: list[Figure] = field(default_factory=list)
    runs: dict[str, Any] = field(default_factory=dict)

    def add(self, section: str, metric: str, value: str, target: str = "",
            ok: bool | None = None) -> None:  # fmt: skip
        self.figures.append(Figure(section, metric, value, target, ok))

    @property
    def missed(self) -> list[Figure]:
        return [f for f in self.figures if f.ok is False]


def print_table(figures: list[Figure], out: Callable[[str], None] = print) -> None:
    widths = [max(len(getattr(f, k)) for f in figures) for k in ("section", "metric", "value")]
    target_w = max(len(f.target) for f in figures)
    header = ("section".ljust(widths[0]), "metric".ljust(widths[1]), "value".ljust(widths[2]),
              "target".ljust(target_w), "")  # fmt: skip
    out("  ".join(header))
    out("  ".join("-" * len(h) if h else "----" for h in header))
    for f in figures:
        verdict = "" if f.ok is None else ("ok" if f.ok else "MISSED")
        out("  ".join((f.section.ljust(widths[0]), f.metric.ljust(widths[1]),
                       f.value.ljust(widths[2]), f.target.ljust(target_w), verdict)))  # fmt: skip


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def fmt_runs(values: list[float], unit: str = "s") -> str:
    return ", ".join(f"{v:.2f}" for v in values) + f" {unit}"


def noise(runs: list[Measured]) -> str:
    return f"{max(r.other_cores for r in runs):.2f}" if runs else "-"


# ---------------------------------------------------------------- the three measurements


@dataclass
class Setup:
    corpus: Path
    files: int
    workers: int
    repeat: int
    kill_at: float
    batch: int
    work: Path
    timeout: float

    def fresh(self, name: str) -> tuple[Path, Path]:
        """A new store directory and report path under the work directory."""
        store = self.work / f"store-{name}"
        shutil.rmtree(store, ignore_errors=True)
        return store, self.work / f"report-{name}.json"


def log(message: str) -> None:
    print(message, flush=True)


def unchanged_reruns(s: Setup, res: Results) -> Path:
    """Cold run (the clean reference), then unchanged re-runs. Returns the reference store."""
    store, report = s.fresh("clean")
    log(f"cold ingest of {s.files} files (the reference) ...")
    cold = run_measured(ingest_cmd(s.corpus, store, report, s.workers), clean_env(), s.work,
                        report, timeout=s.timeout)  # fmt: skip
    rep = require_completed(cold, "cold ingest")
    res.runs["cold"] = asdict(cold)
    processed = rep["progress"]["processed_files"]
    res.add(
        "cold run", "wall (one run)", f"{cold.wall_s:.1f} s (other load {cold.other_cores:.2f})"
    )
    res.add("cold run", "files processed", str(processed), f"= {s.files}", processed == s.files)
    walls, parsed, reruns = [], [], []
    for i in range(s.repeat):
        rr_report = s.work / f"report-rerun-{i}.json"
        run = run_measured(ingest_cmd(s.corpus, store, rr_report, s.workers), clean_env(),
                           s.work, rr_report, timeout=s.timeout)  # fmt: skip
        rep = require_completed(run, "unchanged re-run")
        walls.append(run.wall_s)
        parsed.append(rep["progress"]["processed_files"])
        reruns.append(run)
        log(f"  unchanged re-run {i + 1}: {run.wall_s:.2f} s, processed "
            f"{parsed[-1]}, unchanged {rep.get('unchanged_files')}")  # fmt: skip
    res.runs["unchanged_reruns"] = [asdict(r) for r in reruns]
    res.add("unchanged re-run", "wall, median", f"{median(walls):.2f} s", "<= 3 s",
            median(walls) <= 3.0)  # fmt: skip
    res.add("unchanged re-run", "wall, each run", fmt_runs(walls))
    res.add("unchanged re-run", "files processed (max)", str(max(parsed)), "= 0",
            max(parsed) == 0)  # fmt: skip
    res.add("unchanged re-run", "other load (cores, max)", noise(reruns))
    return store


def kill_and_resume(s: Setup, res: Results, reference: Path | None) -> None:
    store, report = s.fresh("killed")
    probe = StoreProbe(store)
    threshold = max(1, int(s.files * s.kill_at))
    state: dict[str, Any] = {}

    def watch(proc: subprocess.Popen[bytes], elapsed: float) -> None:
        if "killed_at_s" in state or proc.poll() is not None:
            return
        count = probe.count()
        if count is not None and count >= threshold:
            kill_group(proc.pid)
            state.update(killed_at_s=elapsed, seen=count)

    log(f"cold ingest, --batch-size {s.batch}, SIGKILL at {s.kill_at:.0%} checkpointed ...")
    cmd = ingest_cmd(s.corpus, store, report, s.workers, "--batch-size", str(s.batch))
    killed = run_measured(cmd, clean_env(), s.work, None, on_tick=watch, interval=0.02,
                          timeout=s.timeout)  # fmt: skip
    if "killed_at_s" not in state:
        raise BenchError(f"the run ended (exit {killed.returncode}) before {threshold} files were "
                         "checkpointed: use a bigger --files")  # fmt: skip
    done = probe.count() or 0
    probe.close()
    rows_at_kill = row_counts(store)["files"]
    remaining = s.files - done
    log(f"  killed after {state['killed_at_s']:.1f} s: {done} files checkpointed, "
        f"{rows_at_kill} rows in SQLite, {remaining} to go")  # fmt: skip

    env, probe_out = probe_env(s.work)
    rerun = run_measured(cmd, env, s.work, report, timeout=s.timeout)
    rep = require_completed(rerun, "rerun after kill -9")
    first = first_parse_time(probe_out)
    first_parse_s = None if first is None else first - rerun.started_at
    probe = StoreProbe(store)
    new_checkpoints = [
        c for c in probe.checkpoints() if iso_time(c["created_at"]) >= rerun.started_at
    ]
    probe.close()
    first_ckpt_s = (min(iso_time(c["created_at"]) for c in new_checkpoints) - rerun.started_at
                    if new_checkpoints else None)  # fmt: skip
    processed = rep["progress"]["processed_files"]
    bound = remaining + s.batch * s.workers
    res.runs["killed"] = {**asdict(killed), **state, "checkpointed": done,
                          "rows_at_kill": rows_at_kill}  # fmt: skip
    res.runs["resumed"] = asdict(rerun)
    sec = "kill -9 at half-way"
    res.add(sec, "killed at", f"{state['killed_at_s']:.1f} s, {done}/{s.files} checkpointed "
            f"({rows_at_kill} rows in SQLite)")  # fmt: skip
    res.add(sec, "rerun: start -> first file parsed",
            "never" if first_parse_s is None else f"{first_parse_s:.2f} s", "<= 3 s",
            first_parse_s is not None and first_parse_s <= 3.0)  # fmt: skip
    res.add(sec, "rerun: start -> first new checkpoint",
            "none" if first_ckpt_s is None else f"{first_ckpt_s:.2f} s")  # fmt: skip
    res.add(sec, "rerun: files processed", f"{processed} (remaining {remaining})",
            f"<= {bound} (+{s.batch}x{s.workers})", remaining <= processed <= bound)  # fmt: skip
    res.add(sec, "rerun: resumed / unchanged",
            f"{rep.get('resumed')} / {rep.get('unchanged_files')}")  # fmt: skip
    res.add(sec, "rerun: wall", f"{rerun.wall_s:.1f} s (other load {rerun.other_cores:.2f})")
    if reference is None:
        res.add(sec, "records = clean run", "not compared (--only without rerun)")
        return
    after, clean = row_counts(store), row_counts(reference)
    for table in ("files", "symbols", "imports", "parse_errors"):
        res.add(sec, f"rows: {table}", f"{after[table]} (clean {clean[table]})", "= clean run",
                after[table] == clean[table])  # fmt: skip
    diff = record_differences(store, reference)
    res.add(sec, "files rows / symbol counts differing",
            f"{diff['files_only_after_resume']}+{diff['files_only_in_clean_run']} / "
            f"{diff['symbol_counts_differing']}", "= 0 / 0", not any(diff.values()))  # fmt: skip


def checkpoint_cost(s: Setup, res: Results) -> None:
    variants = {
        "on": clean_env(SNAKE_PIPE_CHECKPOINT_FREQUENCY="1"),
        "off": clean_env(SNAKE_PIPE_CHECKPOINT_FREQUENCY="0",
                         SNAKE_PIPE_CHECKPOINT_INTERVAL_S="1000000000"),
    }  # fmt: skip
    runs: dict[str, list[Measured]] = {"on": [], "off": []}
    for i in range(s.repeat):
        for name in ("on", "off") if i % 2 == 0 else ("off", "on"):
            store, report = s.fresh(f"cost-{name}-{i}")
            run = run_measured(ingest_cmd(s.corpus, store, report, s.workers), variants[name],
                               s.work, report, timeout=s.timeout)  # fmt: skip
            rep = require_completed(run, f"cold ingest, checkpoints {name}")
            runs[name].append(run)
            log(f"  checkpoints {name:3s} run {i + 1}: {run.wall_s:.1f} s wall, {run.cpu_s:.1f} s "
                f"CPU, {rep['checkpoints'].get('total')} checkpoints, other load "
                f"{run.other_cores:.2f}")  # fmt: skip
            shutil.rmtree(store, ignore_errors=True)
    res.runs["checkpoint_cost"] = {k: [asdict(r) for r in v] for k, v in runs.items()}
    wall = {k: median([r.wall_s for r in v]) for k, v in runs.items()}
    cpu = {k: median([r.cpu_s for r in v]) for k, v in runs.items()}
    total = {k: median([float((r.report or {}).get("checkpoints", {}).get("total") or 0)
                        for r in v]) for k, v in runs.items()}  # fmt: skip
    extra = wall["on"] / wall["off"] - 1
    sec = "checkpointing cost"
    for k in ("on", "off"):
        res.add(sec, f"wall, checkpoints {k}",
                f"median {wall[k]:.1f} s ({fmt_runs([r.wall_s for r in runs[k]])})")  # fmt: skip
    res.add(sec, "extra wall (median on / off - 1)", f"{extra:+.1%}", "<= +5%", extra <= 0.05)
    res.add(sec, "extra CPU (median on / off - 1)", f"{cpu['on'] / cpu['off'] - 1:+.1%} "
            f"({cpu['on']:.1f} / {cpu['off']:.1f} s)")  # fmt: skip
    res.add(sec, "checkpoints committed (on / off)", f"{total['on']:.0f} / {total['off']:.0f}")
    res.add(sec, "other load (cores, max)", noise(runs["on"] + runs["off"]))


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Checkpoints, resume and incremental runs: figures against the targets.",
        epilog="Phases: 'rerun' (cold run + unchanged re-runs), 'kill' (kill -9 at half-way and "
        "resume), 'cost' (checkpointing on vs off). See the module docstring for the methods.",
    )  # fmt: skip
    parser.add_argument("--files", type=int, default=100_000, help="corpus size (default 100000)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="unchanged re-runs, and cold runs per checkpoint setting (default 3)")  # fmt: skip
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)),
                        help="parser processes (default: usable cores)")  # fmt: skip
    parser.add_argument("--batch-size", type=int, default=200, dest="batch",
                        help="fixed batch size of the killed run and its rerun (default 200)")  # fmt: skip
    parser.add_argument("--kill-at", type=float, default=0.5,
                        help="share of files checkpointed when the run is killed (default 0.5)")  # fmt: skip
    parser.add_argument("--only", help="comma-separated phases: rerun,kill,cost (default all)")
    parser.add_argument("--corpus-root", type=Path, default=DEFAULT_ROOT,
                        help=f"where big_corpus.py keeps corpora (default {DEFAULT_ROOT})")  # fmt: skip
    parser.add_argument("--tmp", type=Path, help="parent of the temporary work directory")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (stores)")
    parser.add_argument("--timeout", type=float, default=4 * 3600, help="per run, seconds")
    parser.add_argument("--json", type=Path, help="also write every figure and run as JSON")
    args = parser.parse_args(argv)
    phases = {p.strip() for p in (args.only or "rerun,kill,cost").split(",") if p.strip()}
    if bad := phases - {"rerun", "kill", "cost"}:
        parser.error(f"--only: unknown phase(s) {sorted(bad)}")
    if args.files < 1000:
        parser.error("--files must be at least 1000")
    if not 0 < args.kill_at < 1:
        parser.error("--kill-at must be between 0 and 1")
    if not 50 <= args.batch <= 500:
        parser.error("--batch-size must be from 50 to 500")

    try:
        corpus = ensure_corpus(args.files, args.corpus_root)
    except CorpusError as exc:
        print(f"bench_checkpoints: error: {exc}", file=sys.stderr)
        return 2
    describe(corpus, log)
    files, size = warm_page_cache(corpus)
    if files != args.files:
        raise SystemExit(f"corpus {corpus} has {files} files, not {args.files}")
    log(f"page cache warm ({size / 1e6:.0f} MB); {args.workers} workers; load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}; {psutil.cpu_count()} cores")  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="snake-pipe-bench-ckpt-", dir=args.tmp))
    setup = Setup(corpus, args.files, args.workers, args.repeat, args.kill_at, args.batch, work,
                  args.timeout)  # fmt: skip
    res = Results()
    status = 0
    try:
        reference = unchanged_reruns(setup, res) if "rerun" in phases else None
        if "kill" in phases:
            kill_and_resume(setup, res, reference)
        if "cost" in phases:
            checkpoint_cost(setup, res)
    except BenchError as exc:
        print(f"bench_checkpoints: error: {exc}", file=sys.stderr)
        status = 2
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if res.figures:
        log(f"\nresults: {args.files} files, {args.workers} workers "
            f"(load average now {os.getloadavg()[0]:.1f})\n")  # fmt: skip
        print_table(res.figures, log)
    if args.json:
        args.json.write_text(json.dumps({"files": args.files, "workers": args.workers,
                                         "figures": [asdict(f) for f in res.figures],
                                         "runs": res.runs}, indent=2, default=str) + "\n")  # fmt: skip
    for f in res.missed:
        print(f"MISSED: {f.section}: {f.metric} = {f.value} (target {f.target})", file=sys.stderr)
    if status:
        return status
    return 1 if res.missed else 0


if __name__ == "__main__":
    sys.exit(main())
