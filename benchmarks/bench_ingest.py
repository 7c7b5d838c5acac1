#!/usr/bin/env python3
"""Cold-ingest benchmark: snake-pipe against ast-grep and a plain sequential loop.

    python benchmarks/corpus.py                     # once: builds benchmarks/corpus/
    python benchmarks/bench_ingest.py [--corpus DIR] [--repeat N] [--json FILE]

In one run, on the same corpus, each repeat measures (in a rotating order, every run in a fresh
subprocess, snake-pipe with a fresh store):

a. ``snake-pipe ingest CORPUS --store TMP --quiet --report R``: wall time, files/s, peak
   memory of the whole process tree (sampled here with psutil, and the report's own
   ``performance.peak_memory_mb``);
b. ``ast-grep scan`` (the ``ast-grep-cli`` PyPI package, never /usr/bin/sg) with one rule per
   language matching definitions, ``--json=stream`` output counted, on all cores (its
   default): wall time and peak RSS;
c. a plain sequential loop in one process: ``snake_pipe.discover.Walker`` lists the same
   files and ``snake_pipe.parse.worker.extract_file`` does, file after file, exactly what a
   parser process does (read, hash, detect, parse, tags and error queries), with no sink.

It prints the medians of ``--repeat`` runs (default 3) and the ratios the issue sets as
targets: ast-grep wall / snake-pipe wall >= 1 and sequential wall / snake-pipe wall >= 1.7.

Besides wall time it reports the CPU seconds of each process tree and the CPU used by other
processes on the machine while each run went (``other``, in cores): on a shared machine a run
with ``other`` well above 0 is not a clean measurement.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE / "corpus"
BIN = Path(sys.executable).parent
TOOLS = ("snake-pipe", "ast-grep", "sequential")

# One ast-grep rule per language: the node kinds of definitions (functions, methods, classes
# and other type definitions), the same family of things snake-pipe's tags queries capture.
# fmt: off
AST_GREP_KINDS: dict[str, list[str]] = {
    "Python": ["function_definition", "class_definition"],
    "JavaScript": ["function_declaration", "generator_function_declaration",
                   "class_declaration", "method_definition"],
    "TypeScript": ["function_declaration", "generator_function_declaration",
                   "class_declaration", "abstract_class_declaration", "method_definition",
                   "method_signature", "abstract_method_signature", "function_signature",
                   "interface_declaration", "type_alias_declaration", "enum_declaration",
                   "internal_module"],
    "Java": ["class_declaration", "interface_declaration", "enum_declaration",
             "record_declaration", "annotation_type_declaration", "method_declaration",
             "constructor_declaration"],
    "Kotlin": ["class_declaration", "object_declaration", "function_declaration"],
    "Go": ["function_declaration", "method_declaration", "type_spec"],
    "Rust": ["function_item", "function_signature_item", "struct_item", "enum_item",
             "union_item", "trait_item", "impl_item", "mod_item", "macro_definition",
             "type_item"],
    "C": ["function_definition", "struct_specifier", "union_specifier", "enum_specifier",
          "type_definition"],
    "Cpp": ["function_definition", "class_specifier", "struct_specifier", "union_specifier",
            "enum_specifier", "namespace_definition", "type_definition"],
    "Ruby": ["method", "singleton_method", "class", "module", "singleton_class"],
    "Php": ["function_definition", "method_declaration", "class_declaration",
            "interface_declaration", "trait_declaration", "enum_declaration"],
    "Bash": ["function_definition"],
}
AST_GREP_KINDS["Tsx"] = AST_GREP_KINDS["TypeScript"]
# The file extensions ast-grep gives those languages by default: --same-files limits
# snake-pipe and the sequential loop to them, so all three parse the same files.
AST_GREP_EXTENSIONS = (
    "py", "pyi", "js", "jsx", "mjs", "cjs", "ts", "mts", "cts", "tsx", "java", "kt", "kts",
    "go", "rs", "c", "h", "cc", "cpp", "cxx", "c++", "hh", "hpp", "cu", "ino", "rb",
    "gemspec", "php", "sh", "bash", "zsh", "ksh", "bats",
)
# fmt: on


def include_globs(args: argparse.Namespace) -> list[str]:
    return [f"*.{ext}" for ext in AST_GREP_EXTENSIONS] if args.same_files else []


# ---------------------------------------------------------------- measuring a process tree


@dataclass
class Sample:
    wall_s: float = 0.0
    peak_rss_mb: float = 0.0
    cpu_s: float = 0.0  # user + system of every process of the tree, as last sampled
    other_cores: float = 0.0  # CPU used by the rest of the machine meanwhile, in cores
    processes: int = 0
    returncode: int = 0


class TreeSampler:
    """Samples RSS and CPU times of a process and its descendants until stopped."""

    def __init__(self, pid: int, interval: float) -> None:
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak_rss = 0
        self.cpu: dict[int, float] = {}
        self._procs: dict[int, psutil.Process] = {pid: self.root}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def sample(self) -> None:
        try:
            children = self.root.children(recursive=True)
        except psutil.Error:
            children = []
        rss = 0
        for proc in [self.root, *children]:
            proc = self._procs.setdefault(proc.pid, proc)
            try:
                with proc.oneshot():
                    rss += proc.memory_info().rss
                    times = proc.cpu_times()
                self.cpu[proc.pid] = max(self.cpu.get(proc.pid, 0.0), times.user + times.system)
            except psutil.Error:
                continue
        self.peak_rss = max(self.peak_rss, rss)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def start(self) -> None:
        self.sample()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> TreeSampler:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def kill_tree(pid: int) -> None:
    try:
        root = psutil.Process(pid)
        procs = [*root.children(recursive=True), root]
    except psutil.Error:
        return
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(procs, timeout=5)


def on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds: the temporary directory is removed


def busy_cpu_seconds() -> float:
    t = psutil.cpu_times()
    return t.user + t.nice + t.system + getattr(t, "irq", 0) + getattr(t, "softirq", 0)


def wait_until_quiet(max_wait: float, threshold: float = 0.3, window: float = 2.0) -> float:
    """Wait (at most ``max_wait`` s) until the rest of the machine uses under ``threshold``
    cores; returns the load last seen, in cores. A shared machine skews every wall time."""
    me = psutil.Process()
    deadline = time.monotonic() + max_wait
    while True:
        busy0, mine0 = busy_cpu_seconds(), sum(me.cpu_times()[:2])
        time.sleep(window)
        other = (busy_cpu_seconds() - busy0 - (sum(me.cpu_times()[:2]) - mine0)) / window
        if other < threshold or time.monotonic() >= deadline:
            return max(0.0, other)


def measure(
    cmd: list[str], interval: float, stdout: Any = subprocess.DEVNULL, consume: Any = None
) -> tuple[Sample, str]:
    """Run ``cmd``; its wall time, peak tree RSS, tree CPU, and the rest of the machine's CPU."""
    me = psutil.Process()
    busy0, mine0 = busy_cpu_seconds(), sum(me.cpu_times()[:2])
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE)
    sampler = TreeSampler(proc.pid, interval)
    sampler.start()
    reader = threading.Thread(target=consume, args=(proc.stdout,), daemon=True) if consume else None
    if reader:
        reader.start()
    err_chunks: list[bytes] = []
    err_reader = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()), daemon=True)  # type: ignore[union-attr]
    err_reader.start()
    # wait4 gives the exact CPU of the root process (and of children it waited for)
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    except BaseException:  # Ctrl-C or SIGTERM: take the measured tree down with us
        kill_tree(proc.pid)
        raise
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    sampler.stop()
    if reader:
        reader.join()
    err_reader.join()
    busy = busy_cpu_seconds() - busy0
    mine = sum(me.cpu_times()[:2]) - mine0  # this script: sampler, output counting
    sampler.cpu[proc.pid] = max(sampler.cpu.get(proc.pid, 0.0), usage.ru_utime + usage.ru_stime)
    tree_cpu = sum(sampler.cpu.values())
    sample = Sample(
        wall_s=wall,
        peak_rss_mb=max(sampler.peak_rss, usage.ru_maxrss * 1024) / (1 << 20),
        cpu_s=tree_cpu,
        other_cores=max(0.0, busy - tree_cpu - mine) / wall,
        processes=len(sampler.cpu),
        returncode=proc.returncode,
    )  # fmt: skip
    return sample, b"".join(err_chunks).decode("utf-8", "replace")


# ---------------------------------------------------------------- the three tools


@dataclass
class Run:
    tool: str
    repeat: int
    sample: Sample
    files: int = 0  # files the tool went through
    parsed: int = 0  # files it parsed with a grammar
    extra: dict[str, Any] = field(default_factory=dict)


def tool_path(name: str) -> str | None:
    local = BIN / name
    return str(local) if local.exists() else shutil.which(name)


def run_snake_pipe(corpus: Path, work: Path, args: argparse.Namespace, repeat: int) -> Run:
    store, report_path = work / f"store-{repeat}", work / f"report-{repeat}.json"
    exe = tool_path("snake-pipe")
    cmd = [exe] if exe else [sys.executable, "-m", "snake_pipe"]
    cmd += ["ingest", str(corpus), "--store", str(store), "--quiet", "--report", str(report_path)]
    if args.workers:
        cmd += ["--workers", str(args.workers)]
    for glob in include_globs(args):
        cmd += ["--include", glob]
    cmd += args.snake_pipe_arg
    sample, err = measure(cmd, args.interval)
    if sample.returncode != 0:
        raise SystemExit(f"snake-pipe failed (exit {sample.returncode}):\n{err[-3000:]}")
    report = json.loads(report_path.read_text(encoding="utf-8"))
    progress, perf = report["progress"], report["performance"]
    extra: dict[str, Any] = {
        "report_peak_memory_mb": perf["peak_memory_mb"],
        "report_duration_s": report["timing"]["duration_seconds"],
        "report_files_per_second": perf["files_per_second"],
        "batches": progress["total_batches"],
        "avg_batch_ms": perf["avg_batch_duration_ms"],
        "skipped": progress["skipped_files"],
        "failed": progress["failed_files"],
    }
    db = store / "records.sqlite"
    if db.exists():
        with sqlite3.connect(db) as conn:
            extra["symbols"] = conn.execute("SELECT count(*) FROM symbols").fetchone()[0]
            rows = conn.execute(
                "SELECT language, count(*), round(sum(parse_ms)) FROM files"
                " WHERE status IN ('ok', 'syntax_error') GROUP BY language"
                " ORDER BY sum(parse_ms) DESC"
            ).fetchall()
            extra["parse_ms_by_language"] = {r[0]: {"files": r[1], "parse_ms": r[2]} for r in rows}
        extra["store_mb"] = round(sum(f.stat().st_size for f in store.iterdir()) / 1e6, 1)
    shutil.rmtree(store, ignore_errors=True)
    return Run("snake-pipe", repeat, sample, progress["processed_files"],
               progress["successful_files"], extra)  # fmt: skip


def write_ast_grep_rules(work: Path) -> Path:
    rules = work / "ast-grep-rules"
    rules.mkdir(exist_ok=True)
    for language, kinds in AST_GREP_KINDS.items():
        lines = [f"id: definitions-{language.lower()}", f"language: {language}",
                 "severity: hint", "message: definition", "rule:", "  any:"]  # fmt: skip
        lines += [f"    - kind: {kind}" for kind in kinds]
        (rules / f"{language.lower()}.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = work / "sgconfig.yml"
    config.write_text(f"ruleDirs:\n  - {rules.name}\n", encoding="utf-8")
    return config


def run_ast_grep(corpus: Path, work: Path, args: argparse.Namespace, repeat: int) -> Run:
    exe = tool_path("ast-grep")
    if exe is None:
        raise SystemExit("ast-grep not found: pip install ast-grep-cli (not /usr/bin/sg)")
    config = work / "sgconfig.yml"
    # Discovery as snake-pipe's: the corpus's own ignore files only (not those of a repository
    # it sits in: this one's .gitignore says dist/, which hid 1,003 of rxjs's files), hidden
    # files too, and with --same-files exactly the extensions given to the other two.
    cmd = [exe, "scan", "-c", str(config), "--json=stream", "--inspect", "summary",
           "--no-ignore", "parent", "--no-ignore", "hidden", str(corpus)]  # fmt: skip
    for glob in include_globs(args):
        cmd += ["--globs", glob]
    if args.ast_grep_threads:
        cmd += ["--threads", str(args.ast_grep_threads)]
    counted = {"lines": 0, "bytes": 0}

    def count(stream: Any) -> None:
        fd = stream.fileno()
        while chunk := os.read(fd, 1 << 20):
            counted["lines"] += chunk.count(b"\n")
            counted["bytes"] += len(chunk)

    sample, err = measure(cmd, args.interval, stdout=subprocess.PIPE, consume=count)
    if sample.returncode != 0:
        raise SystemExit(f"ast-grep failed (exit {sample.returncode}):\n{err[-3000:]}")
    found = dict(re.findall(r"(scannedFileCount|skippedFileCount)=(\d+)", err))
    scanned, skipped = int(found.get("scannedFileCount", 0)), int(found.get("skippedFileCount", 0))
    extra = {"matches": counted["lines"], "json_mb": round(counted["bytes"] / 1e6, 1),
             "skipped_files": skipped}  # fmt: skip
    # Its scanned count includes the files it skips (empty, or over its size limit) unparsed.
    return Run("ast-grep", repeat, sample, scanned, scanned - skipped, extra)


def run_sequential(corpus: Path, work: Path, args: argparse.Namespace, repeat: int) -> Run:
    out = work / f"sequential-{repeat}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--sequential-child", str(corpus),
           "--child-out", str(out)]  # fmt: skip
    for glob in include_globs(args):
        cmd += ["--child-include", glob]
    sample, err = measure(cmd, args.interval)
    if sample.returncode != 0:
        raise SystemExit(f"sequential loop failed (exit {sample.returncode}):\n{err[-3000:]}")
    result = json.loads(out.read_text(encoding="utf-8"))
    return Run("sequential", repeat, sample, result["files"], result["parsed"], result)


RUNNERS = {"snake-pipe": run_snake_pipe, "ast-grep": run_ast_grep, "sequential": run_sequential}


def sequential_child(corpus: str, out: str, include: list[str]) -> None:
    """The plain loop (runs in its own process): walk, then extract each file in turn."""
    started = time.perf_counter()
    from snake_pipe.config import resolve_config
    from snake_pipe.discover import Walker
    from snake_pipe.parse.worker import WorkerOptions, extract_file, init_worker
    from snake_pipe.records import WorkItem

    config = resolve_config({"quiet": True, "include": tuple(include) or None})
    init_worker(WorkerOptions(config.max_file_bytes, config.max_errors_per_file, config.ast))
    imported = time.perf_counter()
    files = parsed = symbols = 0
    statuses: dict[str, int] = {}
    for item in Walker(Path(corpus), config).walk():
        files += 1
        if not isinstance(item, WorkItem):
            statuses[item.status] = statuses.get(item.status, 0) + 1
            continue
        result = extract_file(item)
        statuses[result.status] = statuses.get(result.status, 0) + 1
        parsed += result.status in ("ok", "syntax_error")
        symbols += len(result.symbols)
    done = time.perf_counter()
    summary = {"files": files, "parsed": parsed, "symbols": symbols, "statuses": statuses,
               "import_s": round(imported - started, 3), "loop_s": round(done - imported, 3)}  # fmt: skip
    Path(out).write_text(json.dumps(summary), encoding="utf-8")


# ---------------------------------------------------------------- the run and the table


def warm_page_cache(corpus: Path) -> tuple[int, int]:
    """Read every file once, untimed, so no tool pays for the disk and all see a warm cache."""
    files = size = 0
    for dirpath, _dirs, names in os.walk(corpus):
        for name in names:
            path = os.path.join(dirpath, name)
            if os.path.islink(path):
                continue
            try:
                with open(path, "rb") as f:
                    while chunk := f.read(1 << 20):
                        size += len(chunk)
                files += 1
            except OSError:
                continue
    return files, size


def version_of(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def environment(corpus: Path, files: int, size: int) -> dict[str, Any]:
    from importlib.metadata import version

    repo = HERE.parent
    commit = version_of(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"])
    dirty = version_of(["git", "-C", str(repo), "status", "--porcelain", "--", "snake_pipe"])
    return {
        "corpus": str(corpus), "corpus_files": files, "corpus_mb": round(size / 1e6, 1),
        "cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(), "platform": platform.platform(),
        "snake_pipe": version("snake-pipe"), "snake_pipe_commit": commit,
        "snake_pipe_dirty": bool(dirty), "tree_sitter": version("tree-sitter"),
        "tree_sitter_language_pack": version("tree-sitter-language-pack"),
        "ast_grep": version_of([tool_path("ast-grep") or "ast-grep", "--version"]),
        "loadavg_at_start": os.getloadavg(),
    }  # fmt: skip


def median_run(runs: list[Run]) -> dict[str, Any]:
    def med(values: list[float]) -> float:
        return statistics.median(values)

    s = [r.sample for r in runs]
    wall = med([x.wall_s for x in s])
    files = runs[0].files
    return {
        "wall_s": wall, "files": files, "parsed": runs[0].parsed,
        "files_per_s": files / wall if wall else 0.0,
        "peak_rss_mb": med([x.peak_rss_mb for x in s]), "cpu_s": med([x.cpu_s for x in s]),
        "other_cores": med([x.other_cores for x in s]),
        "walls": [round(x.wall_s, 3) for x in s],
    }  # fmt: skip


def print_table(summary: dict[str, dict[str, Any]], runs: list[Run], repeat: int) -> None:
    print(f"\nmedian of {repeat} run(s), cold (fresh process and store each run):\n")
    head = (f"{'tool':12s} {'wall s':>8s} {'files':>7s} {'parsed':>7s} {'files/s':>8s} "
            f"{'peak RSS MB':>11s} {'CPU s':>7s} {'other':>6s}  walls")  # fmt: skip
    print(head)
    print("-" * len(head))
    for tool, m in summary.items():
        print(f"{tool:12s} {m['wall_s']:8.2f} {m['files']:7d} {m['parsed']:7d} "
              f"{m['files_per_s']:8.0f} {m['peak_rss_mb']:11.0f} {m['cpu_s']:7.1f} "
              f"{m['other_cores']:6.2f}  {m['walls']}")  # fmt: skip
    sp = [r for r in runs if r.tool == "snake-pipe"]
    if sp:
        rep = statistics.median(r.extra["report_peak_memory_mb"] for r in sp)
        print(f"\nsnake-pipe report: peak_memory_mb {rep:.0f} (median), "
              f"{sp[0].extra['batches']} batches, avg batch {sp[0].extra['avg_batch_ms']} ms, "
              f"{sp[0].extra.get('symbols', '?')} symbols")  # fmt: skip
    ag = [r for r in runs if r.tool == "ast-grep"]
    if ag:
        print(f"ast-grep: {ag[0].extra['matches']} matches, {ag[0].extra['json_mb']} MB of JSON")
    seq = [r for r in runs if r.tool == "sequential"]
    if seq:
        print(f"sequential: {seq[0].extra['symbols']} symbols, import {seq[0].extra['import_s']} s")
    if "snake-pipe" in summary:
        base = summary["snake-pipe"]["wall_s"]
        print()
        if "ast-grep" in summary:
            r = summary["ast-grep"]["wall_s"] / base
            verdict = "met" if r >= 1.0 else "NOT met"
            print(f"ast-grep wall / snake-pipe wall   = {r:5.2f}  (target >= 1.0: {verdict})")
        if "sequential" in summary:
            r = summary["sequential"]["wall_s"] / base
            verdict = "met" if r >= 1.7 else "NOT met"
            print(f"sequential wall / snake-pipe wall = {r:5.2f}  (target >= 1.7: {verdict})")
    noisy = [t for t, m in summary.items() if m["other_cores"] > 0.25]
    if noisy:
        print(f"\nwarning: other processes used CPU during the runs of {', '.join(noisy)} "
              "(the 'other' column, in cores): the machine was not quiet, so walls are inflated.")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool (median shown)")
    parser.add_argument("--json", type=Path, help="save all runs and medians here")
    parser.add_argument("--tools", default=",".join(TOOLS), help="subset of " + ",".join(TOOLS))
    parser.add_argument("--workers", type=int, help="snake-pipe --workers (default: its own)")
    parser.add_argument("--snake-pipe-arg", action="append", default=[], metavar="ARG",
                        help="extra argument for snake-pipe ingest (repeatable)")  # fmt: skip
    parser.add_argument("--ast-grep-threads", type=int, help="ast-grep --threads (default: 0)")
    parser.add_argument("--interval", type=float, default=0.1, help="sampling period, seconds")
    parser.add_argument("--no-warm", action="store_true", help="do not pre-read the corpus")
    parser.add_argument("--wait-quiet", type=float, default=120.0, metavar="S",
                        help="before each run wait up to S seconds for other processes to "
                        "use under 0.3 cores (0: do not wait; default 120)")  # fmt: skip
    parser.add_argument("--sequential-child", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    parser.add_argument("--child-include", action="append", default=[], help=argparse.SUPPRESS)
    parser.add_argument("--same-files", action="store_true",
                        help="limit snake-pipe and the sequential loop (--include) to the "
                        "extensions ast-grep scans, so all three parse the same files")  # fmt: skip
    args = parser.parse_args(argv)

    if args.sequential_child:
        sequential_child(args.sequential_child, args.child_out, args.child_include)
        return 0
    signal.signal(signal.SIGTERM, on_sigterm)
    corpus = args.corpus.resolve()
    if not corpus.is_dir() or not any(corpus.iterdir()):
        raise SystemExit(f"no corpus at {corpus}: run python benchmarks/corpus.py first")
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = set(tools) - set(TOOLS)
    if unknown:
        raise SystemExit(f"--tools: unknown {sorted(unknown)}; choose from {', '.join(TOOLS)}")

    files, size = (0, 0) if args.no_warm else warm_page_cache(corpus)
    env = environment(corpus, files, size)
    print(f"corpus {corpus}: {files} files, {size / 1e6:.0f} MB; {env['usable_cores']} cores; "
          f"snake-pipe {env['snake_pipe']} ({env['snake_pipe_commit']}"
          f"{', dirty' if env['snake_pipe_dirty'] else ''}); {env['ast_grep']}")  # fmt: skip
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="snake-pipe-bench-") as tmp:
        work = Path(tmp)
        write_ast_grep_rules(work)
        for repeat in range(args.repeat):
            order = tools[repeat % len(tools) :] + tools[: repeat % len(tools)]
            for tool in order:
                if args.wait_quiet > 0:
                    load = wait_until_quiet(args.wait_quiet)
                    if load >= 0.3:
                        print(f"  (machine still busy: {load:.2f} cores used by others)")
                run = RUNNERS[tool](corpus, work, args, repeat)
                runs.append(run)
                s = run.sample
                print(f"  run {repeat + 1}/{args.repeat} {tool:11s} {s.wall_s:7.2f} s  "
                      f"{run.files:6d} files  {s.peak_rss_mb:6.0f} MB  cpu {s.cpu_s:6.1f} s  "
                      f"other {s.other_cores:4.2f} cores", flush=True)  # fmt: skip
    summary = {t: median_run([r for r in runs if r.tool == t]) for t in tools}
    print_table(summary, runs, args.repeat)
    if args.json:
        data = {"environment": env, "median": summary,
                "runs": [{**asdict(r), "sample": asdict(r.sample)} for r in runs]}  # fmt: skip
        if "snake-pipe" in summary:
            base = summary["snake-pipe"]["wall_s"]
            data["ratios"] = {f"{t}/snake-pipe": summary[t]["wall_s"] / base
                              for t in summary if t != "snake-pipe"}  # fmt: skip
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        print(f"\nsaved {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
