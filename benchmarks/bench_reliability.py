#!/usr/bin/env python3
"""Reliability at scale: a big repository with 1% bad files of every kind and two crashes.

    python benchmarks/bench_reliability.py [--files 100000] [--json FILE]

The repository (in a temporary directory beside the corpus, so good files can be hard links)
has N files: N - 1% good files of real code from ``big_corpus.py``, and 1% bad files, each made
next to a good file of the tree (its "twin", whose content most of them start from):

============== ======================================================== ========================
kind           what                                                     expected row
============== ======================================================== ========================
invalid_utf8   twin + a comment line with bytes that are not UTF-8      ok / syntax_error
bom            UTF-8 byte-order mark + twin                             ok / syntax_error
utf16          twin re-encoded as UTF-16 with its BOM                   ok / syntax_error
crlf           twin with CRLF line ends                                 ok / syntax_error
nul_bytes      twin with NUL bytes after its first line                 skipped, binary
huge_50mb      ``--big-mb`` (50) MiB of real code (``--big-files``, 3)  skipped, too_large
deep_nesting   ``--depth`` (10,000)-deep brackets, Python/JSON/JS       ok / syntax_error
symlink_loop   pairs of links pointing at each other                    skipped, symlink
dangling_link  links to files that do not exist                         skipped, symlink
non_utf8_name  twin + a comment, in a file whose name is not UTF-8      ok / syntax_error,
                                                                        path with ``\\xNN``
vanished       small file deleted once the run has checkpointed its     failed, read; or no row
               first batch (or after ``--vanish-after`` s)              (deleted before the walk
                                                                        reached it)
crash          ``SNAKE-PIPE-FAULT:segv`` + twin (``--crashes``, 2), with failed, crash
               ``SNAKE_PIPE_TEST_WORKER_HOOK=tests.faults``
unreadable     mode 000 (only when not root: root reads any file, so    failed, read
               as root this kind cannot be staged and is left out)
============== ======================================================== ========================

Besides the files, ``--dir-loops`` (2) directory links pointing at their own directory: with
``--follow-symlinks`` (the default here; ``--no-follow-symlinks`` to turn it off) the walk must
enter each directory once, so no row may have such a link in its path; without following, the
link itself is a ``skipped``/``symlink`` row.

The real ``snake-pipe ingest`` runs once (``--report``; the process tree's RSS sampled here
with psutil every 0.1 s). Targets: the run completes (exit 0, status completed); >= 99.9% of
the good files are ok or syntax_error; every bad file has the expected row (and no row is
unexpected); peak memory of the process tree <= 1 GB, by the report's
``performance.peak_memory_mb`` and by the sampling here. Also shown: for the bad files made
from a twin by re-encoding (bom, utf16, crlf, invalid_utf8, non_utf8_name), how many have the
same status and symbols (name, kind, line) as their twin.

Exit status: 0 all targets met, 1 a target missed (each one printed), 2 the benchmark failed.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import errno
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from bench_checkpoints import (  # noqa: E402
    BenchError,
    Results,
    StoreProbe,
    clean_env,
    ingest_cmd,
    log,
    print_table,
    run_measured,
    warm_page_cache,
)
from big_corpus import (  # noqa: E402
    COMMENTS,
    DEFAULT_ROOT,
    CorpusError,
    corpus_files,
    describe,
    ensure_corpus,
)

from snake_pipe import languages  # noqa: E402
from snake_pipe.discover import record_path  # noqa: E402

SEED = 4242
PARSED = frozenset({"ok", "syntax_error"})
ABSENT = "absent"
TWIN_LANGUAGES = ("python", "javascript", "typescript", "c", "cpp", "java")
SHARED_KINDS = ("invalid_utf8", "bom", "utf16", "crlf", "nul_bytes", "deep_nesting",
                "symlink_loop", "dangling_link", "non_utf8_name", "vanished")  # fmt: skip
SAME_AS_TWIN = ("invalid_utf8", "bom", "utf16", "crlf", "non_utf8_name")


def describe_expected(expected: frozenset[str]) -> str:
    parts = sorted(e for e in expected if e not in PARSED)
    return " | ".join((["ok/syntax_error"] if expected & PARSED else []) + parts)


def outcome(row: tuple[str, str | None] | None) -> str:
    """ "ok", "skipped/binary", "failed/read", ... or "absent" for no row."""
    if row is None:
        return ABSENT
    status, category = row
    return status if status in PARSED else f"{status}/{category}"


@dataclass
class BadFile:
    kind: str
    path: str  # as snake-pipe records it
    abs_path: bytes
    expected: frozenset[str]
    twin: str | None = None


@dataclass
class Plan:
    counts: dict[str, int]
    bad_total: int
    good_total: int


def plan_counts(total: int, fraction: float, big: int, crashes: int, unreadable: bool) -> Plan:
    kinds = list(SHARED_KINDS) + (["unreadable"] if unreadable else [])
    bad_total = round(total * fraction)
    rest = bad_total - big - crashes
    if rest < 2 * len(kinds):
        raise BenchError(f"{total} files at {fraction:.1%} leave {rest} bad files for "
                         f"{len(kinds)} kinds: use a bigger --files")  # fmt: skip
    counts = dict.fromkeys(kinds, rest // len(kinds))
    for kind in kinds[: rest % len(kinds)]:
        counts[kind] += 1
    if counts["symlink_loop"] % 2:  # links come in pairs
        counts["symlink_loop"] -= 1
        counts["dangling_link"] += 1
    counts.update(huge_50mb=big, crash=crashes)
    return Plan(counts, bad_total, total - bad_total)


# ---------------------------------------------------------------- building the repository


def link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK):
            raise
        shutil.copy2(src, dst)


def comment(language: str, text: bytes) -> bytes:
    prefix, suffix = COMMENTS[language]
    return prefix.encode() + text + suffix.encode() + b"\n"


def ending(content: bytes) -> bytes:
    return content if content.endswith(b"\n") else content + b"\n"


class Builder:
    def __init__(self, corpus: Path, repo: Path, plan: Plan, args: argparse.Namespace) -> None:
        self.corpus, self.repo, self.plan, self.args = corpus, repo, plan, args
        self.rng = random.Random(SEED)
        self.bad: list[BadFile] = []
        self.good: list[str] = []
        self.dir_loops: list[str] = []
        self._used: set[str] = set()

    def build(self) -> None:
        files = corpus_files(self.corpus)
        if len(files) < self.plan.good_total:
            raise BenchError(f"corpus {self.corpus} has {len(files)} files, "
                             f"{self.plan.good_total} needed")  # fmt: skip
        self.good = sorted(self.rng.sample(files, self.plan.good_total))
        made: set[str] = set()
        for rel in self.good:
            parent = os.path.dirname(rel)
            if parent not in made:
                os.makedirs(self.repo / parent, exist_ok=True)
                made.add(parent)
            link_or_copy(str(self.corpus / rel), str(self.repo / rel))
        self.candidates = [r for r in self.good if languages.by_name(r) in TWIN_LANGUAGES]
        self.rng.shuffle(self.candidates)
        counts = self.plan.counts
        for kind in ("invalid_utf8", "bom", "utf16", "crlf", "nul_bytes", "non_utf8_name"):
            for i in range(counts[kind]):
                self.variant(kind, i)
        for i in range(counts["huge_50mb"]):
            self.huge(i)
        for i in range(counts["deep_nesting"]):
            self.deep(i)
        for i in range(counts["symlink_loop"] // 2):
            self.loop_pair(i)
        for i in range(counts["dangling_link"]):
            self.dangling(i)
        for i in range(counts["vanished"]):
            self.vanishing(i)
        for i in range(counts["crash"]):
            self.crash(i)
        for i in range(counts.get("unreadable", 0)):
            self.unreadable(i)
        for i in range(self.args.dir_loops):
            self.dir_loop(i)

    def twin(self, max_bytes: int = 64 << 10) -> tuple[str, bytes]:
        """An unused good file of a common language: UTF-8, LF line ends, not too big."""
        while self.candidates:
            rel = self.candidates.pop()
            if rel in self._used or os.path.getsize(self.repo / rel) > max_bytes:
                continue
            data = (self.repo / rel).read_bytes()
            if b"\r" in data or data.startswith(b"\xef\xbb\xbf") or not data.strip():
                continue
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                continue
            self._used.add(rel)
            return rel, data
        raise BenchError("ran out of good files to make bad files from: use a bigger --files")

    def add(self, kind: str, rel_dir: str, name: bytes, content: bytes | None,
            expected: frozenset[str] | set[str], twin: str | None = None) -> BadFile:  # fmt: skip
        rel = os.fsencode(rel_dir) + b"/" + name if rel_dir else name
        abs_path = os.fsencode(self.repo) + b"/" + rel
        if content is not None:
            with open(abs_path, "wb") as f:
                f.write(content)
        bad = BadFile(kind, record_path(os.fsdecode(rel)), abs_path, frozenset(expected), twin)
        self.bad.append(bad)
        return bad

    @staticmethod
    def split(rel: str) -> tuple[str, str, str]:
        """directory, stem, extension (with its dot)."""
        parent, name = os.path.split(rel)
        stem, dot, ext = name.rpartition(".")
        return parent, stem, dot + ext

    def variant(self, kind: str, i: int) -> None:
        rel, data = self.twin()
        language = languages.by_name(rel)
        assert language is not None
        parent, stem, ext = self.split(rel)
        name = f"{stem}.{kind}{i}{ext}".encode()
        if kind == "invalid_utf8":
            content = ending(data) + comment(language, b"caf\xe9 \xff\xfe \xc3(" + b"%d" % i)
        elif kind == "bom":
            content = b"\xef\xbb\xbf" + data
        elif kind == "utf16":
            content = data.decode("utf-8").encode("utf-16")
        elif kind == "crlf":
            content = data.replace(b"\n", b"\r\n")
        elif kind == "nul_bytes":
            cut = min(data.find(b"\n") + 1 or len(data), 4000)
            content = data[:cut] + b"\0\0\0" + data[cut:]
        else:  # non_utf8_name
            name = f"{stem}.".encode() + b"caf\xe9_" + f"{i}{ext}".encode()
            content = ending(data) + comment(language, b"non-utf8 name %d" % i)
        if kind in SAME_AS_TWIN:
            expected: frozenset[str] = PARSED
        else:
            expected = frozenset({"skipped/binary"})
        self.add(kind, parent, name, content, expected, twin=rel)

    def huge(self, i: int) -> None:
        rel, data = self.twin()
        language = languages.by_name(rel)
        assert language is not None
        parent, stem, ext = self.split(rel)
        size = self.args.big_mb << 20
        chunk = ending(data) * max(1, (1 << 20) // max(len(data), 1))
        bad = self.add("huge_50mb", parent, f"{stem}.huge{i}{ext}".encode(), None,
                       {"skipped/too_large"})  # fmt: skip
        with open(bad.abs_path, "wb") as f:
            f.write(comment(language, b"huge %d" % i))
            written = 0
            while written < size:
                f.write(chunk)
                written += len(chunk)

    def deep(self, i: int) -> None:
        rel, _ = self.twin()
        parent = os.path.dirname(rel)
        d = self.args.depth
        language, ext, content = [
            ("python", "py", f"x = {'[' * d}{i}{']' * d}\n"),
            ("json", "json", f"{'[' * d}{i}{']' * d}"),
            ("javascript", "js", f"var x = {'[' * d}{i}{']' * d};\n"),
        ][i % 3]
        assert languages.by_name(f"x.{ext}") == language
        self.add("deep_nesting", parent, f"deep_nesting{i}.{ext}".encode(), content.encode(),
                 PARSED)  # fmt: skip

    def loop_pair(self, i: int) -> None:
        rel, _ = self.twin()
        parent, _stem, ext = self.split(rel)
        a = self.add("symlink_loop", parent, f"loop{i}a{ext}".encode(), None, {"skipped/symlink"})
        b = self.add("symlink_loop", parent, f"loop{i}b{ext}".encode(), None, {"skipped/symlink"})
        os.symlink(os.path.basename(b.abs_path), a.abs_path)
        os.symlink(os.path.basename(a.abs_path), b.abs_path)

    def dangling(self, i: int) -> None:
        rel, _ = self.twin()
        parent, _stem, ext = self.split(rel)
        bad = self.add("dangling_link", parent, f"dangling{i}{ext}".encode(), None,
                       {"skipped/symlink"})  # fmt: skip
        os.symlink(f"missing_target{i}{ext}".encode(), bad.abs_path)

    def vanishing(self, i: int) -> None:
        # small, so largest_first order parses it last: it is gone before its turn
        rel, data = self.twin(max_bytes=4096)
        language = languages.by_name(rel)
        assert language is not None
        parent, stem, ext = self.split(rel)
        self.add("vanished", parent, f"{stem}.vanish{i}{ext}".encode(),
                 ending(data) + comment(language, b"vanish %d" % i),
                 {"failed/read", ABSENT})  # fmt: skip

    def crash(self, i: int) -> None:
        rel, data = self.twin()
        language = languages.by_name(rel)
        assert language is not None
        parent, stem, ext = self.split(rel)
        content = comment(language, b"SNAKE-PIPE-FAULT:segv crash %d" % i) + data
        self.add("crash", parent, f"{stem}.crash{i}{ext}".encode(), content, {"failed/crash"})

    def unreadable(self, i: int) -> None:
        rel, data = self.twin()
        language = languages.by_name(rel)
        assert language is not None
        parent, stem, ext = self.split(rel)
        bad = self.add("unreadable", parent, f"{stem}.unreadable{i}{ext}".encode(),
                       ending(data) + comment(language, b"unreadable %d" % i),
                       {"failed/read"})  # fmt: skip
        os.chmod(bad.abs_path, 0)

    def dir_loop(self, i: int) -> None:
        rel, _ = self.twin()
        parent = os.path.dirname(rel)
        link = self.repo / parent / f"dir_loop{i}"
        os.symlink(".", link)
        self.dir_loops.append(record_path(f"{parent}/dir_loop{i}" if parent else f"dir_loop{i}"))


# ---------------------------------------------------------------- checking


def load_rows(store: Path) -> dict[str, tuple[str, str | None]]:
    with contextlib.closing(sqlite3.connect(f"file:{store / 'records.sqlite'}?mode=ro",
                                            uri=True)) as db:  # fmt: skip
        return {
            p: (s, c) for p, s, c in db.execute("SELECT path, status, error_category FROM files")
        }


def symbols_of(store: Path, paths: list[str]) -> dict[str, list[tuple[str, str, int]]]:
    found: dict[str, list[tuple[str, str, int]]] = {p: [] for p in paths}
    with contextlib.closing(sqlite3.connect(f"file:{store / 'records.sqlite'}?mode=ro",
                                            uri=True)) as db:  # fmt: skip
        for i in range(0, len(paths), 500):
            part = paths[i : i + 500]
            marks = ",".join("?" * len(part))
            for path, name, kind, line in db.execute(
                f"SELECT path, name, kind, start_line FROM symbols WHERE path IN ({marks})", part
            ):
                found[path].append((name, kind, line))
    return {p: sorted(v) for p, v in found.items()}


def check(builder: Builder, store: Path, rows: dict[str, tuple[str, str | None]],
          follow: bool, res: Results) -> dict[str, Any]:  # fmt: skip
    details: dict[str, Any] = {}
    # good files
    good_outcomes = collections.Counter(outcome(rows.get(p)) for p in builder.good)
    parsed = sum(good_outcomes[s] for s in PARSED)
    share = parsed / max(len(builder.good), 1)
    not_parsed = [(p, outcome(rows.get(p))) for p in builder.good
                  if outcome(rows.get(p)) not in PARSED]  # fmt: skip
    details["good_not_parsed"] = not_parsed[:50]
    res.add("good files", "ok or syntax_error",
            f"{parsed}/{len(builder.good)} = {share:.3%}", ">= 99.9%", share >= 0.999)  # fmt: skip
    res.add("good files", "outcomes", ", ".join(f"{k} {v}" for k, v in good_outcomes.most_common()))
    # bad files, per kind
    by_kind: dict[str, list[BadFile]] = collections.defaultdict(list)
    for bad in builder.bad:
        by_kind[bad.kind].append(bad)
    wrong: list[tuple[str, str, str]] = []
    for kind, bads in by_kind.items():
        seen = collections.Counter(outcome(rows.get(b.path)) for b in bads)
        misses = [b for b in bads if outcome(rows.get(b.path)) not in b.expected]
        wrong += [(b.kind, b.path, outcome(rows.get(b.path))) for b in misses]
        expected = describe_expected(bads[0].expected)
        value = f"{len(bads) - len(misses)}/{len(bads)} ({', '.join(f'{k} {v}' for k, v in seen.most_common())})"
        res.add("bad files", kind, value, expected, not misses)
    details["bad_wrong"] = wrong[:100]
    if "vanished" in by_kind:
        vanished = [outcome(rows.get(b.path)) for b in by_kind["vanished"]]
        if all(v in PARSED for v in vanished):
            res.add("bad files", "vanished: exercised?", "no: all parsed before the deletion")
    if "unreadable" not in by_kind:
        res.add("bad files", "unreadable", "not staged: running as root, which reads any file")
    # directory loops, and rows nobody expects
    known = set(builder.good) | {b.path for b in builder.bad}
    unexpected = sorted(set(rows) - known - set(builder.dir_loops))
    loop_rows = [p for p in unexpected if any(p.startswith(d + "/") for d in builder.dir_loops)]
    if builder.dir_loops:
        link_rows = collections.Counter(outcome(rows.get(d)) for d in builder.dir_loops)
        want = ABSENT if follow else "skipped/symlink"
        ok = not loop_rows and set(link_rows) == {want}
        res.add("bad files", "dir_loop (links to own dir)",
                f"{len(loop_rows)} rows through the links; links: "
                + ", ".join(f"{k} {v}" for k, v in link_rows.items()),
                f"0 rows through; links {want}", ok)  # fmt: skip
    # same as the twin
    twins = [b for b in builder.bad if b.kind in SAME_AS_TWIN and b.twin]
    paths = [b.path for b in twins] + [b.twin for b in twins if b.twin]
    symbols = symbols_of(store, paths)
    same: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    differ: list[str] = []
    for b in twins:
        assert b.twin is not None
        total[b.kind] += 1
        if (
            rows.get(b.path, ("?",))[0] == rows.get(b.twin, ("!",))[0]
            and symbols[b.path] == symbols[b.twin]
        ):
            same[b.kind] += 1
        else:
            differ.append(b.path)
    res.add("bad files", "same status+symbols as twin",
            ", ".join(f"{k} {same[k]}/{total[k]}" for k in SAME_AS_TWIN if total[k]))  # fmt: skip
    details["differ_from_twin"] = differ[:50]
    others = [p for p in unexpected if p not in loop_rows]
    res.add("rows", "unexpected rows (other)", str(len(others)), "= 0", not others)
    details["unexpected_rows"] = unexpected[:50]
    return details


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Reliability: 1% bad files of every kind plus injected crashes, at scale.",
        epilog="See the module docstring for the bad files and the expected rows.",
    )
    parser.add_argument("--files", type=int, default=100_000,
                        help="files in the repository, good and bad (default 100000)")  # fmt: skip
    parser.add_argument("--bad-fraction", type=float, default=0.01, help="default 0.01")
    parser.add_argument("--big-files", type=int, default=3, help="huge files (default 3)")
    parser.add_argument("--big-mb", type=int, default=50, help="size of a huge file (default 50)")
    parser.add_argument("--depth", type=int, default=10_000, help="nesting depth (default 10000)")
    parser.add_argument("--crashes", type=int, default=2, help="segv files (default 2)")
    parser.add_argument("--dir-loops", type=int, default=2,
                        help="directory links to their own directory (default 2)")  # fmt: skip
    parser.add_argument("--no-follow-symlinks", dest="follow", action="store_false",
                        help="run without --follow-symlinks")  # fmt: skip
    parser.add_argument("--vanish-after", type=float, default=5.0,
                        help="delete the vanishing files at the first checkpoint or after this "
                        "many seconds (default 5)")  # fmt: skip
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)),
                        help="parser processes (default: usable cores)")  # fmt: skip
    parser.add_argument("--memory-target-mb", type=float, default=1024.0, help="default 1024")
    parser.add_argument("--corpus-root", type=Path, default=DEFAULT_ROOT,
                        help=f"where big_corpus.py keeps corpora (default {DEFAULT_ROOT})")  # fmt: skip
    parser.add_argument("--tmp", type=Path,
                        help="parent of the work directory (default: beside the corpus, so good "
                        "files can be hard links)")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the repository and store")
    parser.add_argument("--timeout", type=float, default=4 * 3600, help="for the run, seconds")
    parser.add_argument("--json", type=Path, help="also write the figures and details as JSON")
    args = parser.parse_args(argv)
    if not 0 < args.bad_fraction < 0.5:
        parser.error("--bad-fraction must be between 0 and 0.5")

    unreadable = os.geteuid() != 0
    try:
        plan = plan_counts(args.files, args.bad_fraction, args.big_files, args.crashes, unreadable)
    except BenchError as exc:
        parser.error(str(exc))
    try:
        corpus = ensure_corpus(args.files, args.corpus_root)
    except CorpusError as exc:
        print(f"bench_reliability: error: {exc}", file=sys.stderr)
        return 2
    describe(corpus, log)
    parent = args.tmp or corpus.parent
    work = Path(tempfile.mkdtemp(prefix="snake-pipe-bench-reliability-", dir=parent))
    res = Results()
    details: dict[str, Any] = {}
    status = 0
    try:
        repo, store, report = work / "repo", work / "store", work / "report.json"
        repo.mkdir()
        started = time.monotonic()
        builder = Builder(corpus, repo, plan, args)
        builder.build()
        log(f"repository {repo}: {len(builder.good)} good files, {len(builder.bad)} bad "
            f"({', '.join(f'{k} {v}' for k, v in plan.counts.items())}), "
            f"{len(builder.dir_loops)} directory loops; built in "
            f"{time.monotonic() - started:.0f} s")  # fmt: skip
        warm_page_cache(repo)
        vanishing = [b for b in builder.bad if b.kind == "vanished"]
        probe = StoreProbe(store)
        state: dict[str, Any] = {}

        def vanish(proc: subprocess.Popen[bytes], elapsed: float) -> None:
            if "vanished_at_s" in state or not vanishing:
                return
            count = probe.count() if elapsed < args.vanish_after else None
            if elapsed >= args.vanish_after or (count or 0) > 0:
                for b in vanishing:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(b.abs_path)
                state.update(vanished_at_s=round(elapsed, 2), checkpointed_then=count)

        extra = ["--follow-symlinks"] if args.follow else []
        env = clean_env(SNAKE_PIPE_TEST_WORKER_HOOK="tests.faults",
                        PYTHONPATH=os.pathsep.join(p for p in (str(REPO_ROOT),
                                                   os.environ.get("PYTHONPATH")) if p))  # fmt: skip
        preflight = subprocess.run([sys.executable, "-c", "import tests.faults"], env=env,
                                   capture_output=True, text=True)  # fmt: skip
        if preflight.returncode != 0:  # else every batch "crashes" and is bisected, for hours
            raise BenchError(f"the fault hook tests.faults cannot be imported with PYTHONPATH="
                             f"{env['PYTHONPATH']}: {preflight.stderr.strip().splitlines()[-1]}")  # fmt: skip
        log(f"ingest with {args.workers} workers{' --follow-symlinks' if args.follow else ''}, "
            f"crash hook on ...")  # fmt: skip
        run = run_measured(ingest_cmd(repo, store, report, args.workers, *extra), env, work,
                           report, on_tick=vanish, interval=0.1, timeout=args.timeout)  # fmt: skip
        probe.close()
        rep = run.report or {}
        completed = run.returncode == 0 and rep.get("status") == "completed"
        log(f"  exit {run.returncode}, {rep.get('status')}, {run.wall_s:.1f} s; vanishing files "
            f"deleted at {state.get('vanished_at_s')} s")  # fmt: skip
        res.add("run", "completes", f"exit {run.returncode}, status {rep.get('status')}",
                "exit 0, completed", completed)  # fmt: skip
        progress, perf = rep.get("progress", {}), rep.get("performance", {})
        res.add("run", "wall", f"{run.wall_s:.1f} s, {progress.get('processed_files')} files, "
                f"{perf.get('files_per_second')} files/s (other load {run.other_cores:.2f})")  # fmt: skip
        res.add("run", "retried batches", str(progress.get("retried_batches")))
        res.add("run", "errors by category", json.dumps(rep.get("errors_by_category", {})))
        peak_report = float(perf.get("peak_memory_mb") or 0)
        target = args.memory_target_mb
        res.add("memory", "peak, report (tree)", f"{peak_report:.0f} MB" if rep else "no report",
                f"<= {target:.0f} MB", bool(rep) and peak_report <= target)  # fmt: skip
        res.add("memory", "peak, psutil here (tree)", f"{run.peak_rss_mb:.0f} MB",
                f"<= {target:.0f} MB", run.peak_rss_mb <= target)  # fmt: skip
        if (store / "records.sqlite").exists():
            rows = load_rows(store)
            details = check(builder, store, rows, args.follow, res)
        else:
            res.add("rows", "records", "no database", "exists", False)
        details["run"] = asdict(run) | {"vanish": state}
        if not completed:
            details["stderr"] = run.stderr_tail
            log(f"  the run did not complete; its stderr ends with:\n{run.stderr_tail}")
    except BenchError as exc:
        print(f"bench_reliability: error: {exc}", file=sys.stderr)
        status = 2
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if res.figures:
        log(f"\nresults: {args.files} files ({plan.good_total} good, {plan.bad_total} bad), "
            f"{args.workers} workers\n")  # fmt: skip
        print_table(res.figures, log)
    for key in ("good_not_parsed", "bad_wrong", "unexpected_rows", "differ_from_twin"):
        if details.get(key):
            log(f"\n{key} (first {min(len(details[key]), 10)}):")
            for item in details[key][:10]:
                log(f"  {item}")
    if args.json:
        args.json.write_text(json.dumps({"files": args.files, "plan": asdict(plan),
                                         "figures": [asdict(f) for f in res.figures],
                                         "details": details}, indent=2, default=str) + "\n")  # fmt: skip
    for f in res.missed:
        print(f"MISSED: {f.section}: {f.metric} = {f.value} (target {f.target})", file=sys.stderr)
    if status:
        return status
    return 1 if res.missed else 0


if __name__ == "__main__":
    sys.exit(main())
