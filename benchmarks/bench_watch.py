#!/usr/bin/env python3
"""Watch-mode benchmark: write-to-committed-row latency, and a burst against a cold ingest.

    python benchmarks/bench_watch.py [--files 5000] [--edits 200] [--workers N] [--json FILE]

1. A generated repository of ``--files`` Python and JavaScript files is watched by
   ``snake-pipe watch REPO --quiet`` in a subprocess (process pool, default sink).
2. ``--edits`` single-file edits, one after another: each rewrites one file with new content;
   the latency is from just before the write to the moment a separate read-only SQLite
   connection, polling every 2 ms, sees the file's new ``content_hash``. Targets: p50 ≤ 300 ms,
   p95 ≤ 1 s.
3. A burst: every file rewritten at once; the time from the first write until every row has
   its new hash. Target: ≤ 2× a cold ``snake-pipe ingest`` of the same files into a fresh
   store (measured after, as wall time of the command and as the report's own duration).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = '''"""Module {i}."""
import os
from collections import OrderedDict


class Widget{i}(Base):
    def __init__(self):
        self.x = {i}

    def run(self, value):
        return value + {i}


def helper_{i}_{v}(a, b):
    return a * b + {i}
'''
JS = """import {{ readFile }} from "fs";

export class Reader{i} {{
  read(name) {{ return readFile(name + "{v}"); }}
}}

function main{i}() {{ return new Reader{i}(); }}
"""


def content(i: int, version: int) -> str:
    return (JS if i % 5 == 0 else PY).format(i=i, v=version)


def rel(i: int) -> str:
    return f"pkg{i % 50}/sub{i % 7}/mod{i}.{'js' if i % 5 == 0 else 'py'}"


def blob_id(text: str) -> str:
    data = text.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def write_all(repo: Path, n: int, version: int) -> dict[str, str]:
    expected = {}
    for i in range(n):
        path = repo / rel(i)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = content(i, version)
        path.write_text(text)
        expected[rel(i)] = blob_id(text)
    return expected


def hashes(db: Path) -> dict[str, str]:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return dict(conn.execute("SELECT path, content_hash FROM files").fetchall())
    except sqlite3.Error:
        return {}


def wait_hashes(db: Path, expected: dict[str, str], timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = hashes(db)
        if all(found.get(p) == h for p, h in expected.items()):
            return time.monotonic()
        time.sleep(0.05)
    raise SystemExit(f"timed out: {sum(hashes(db).get(p) != h for p, h in expected.items())} "
                     "files not committed")  # fmt: skip


def edit_latencies(repo: Path, db: Path, n: int, edits: int) -> list[float]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rng = random.Random(7)
    latencies = []
    for k in range(edits):
        i = rng.randrange(n)
        text = content(i, 1000 + k)
        want = blob_id(text)
        started = time.perf_counter()
        (repo / rel(i)).write_text(text)
        deadline = started + 30
        while True:
            row = conn.execute(
                "SELECT content_hash FROM files WHERE path = ?", (rel(i),)
            ).fetchone()
            if row and row[0] == want:
                latencies.append(time.perf_counter() - started)
                break
            if time.perf_counter() > deadline:
                raise SystemExit(f"edit {k} of {rel(i)} not committed in 30 s")
            time.sleep(0.002)
        time.sleep(0.02)  # edits are separate saves, not a burst
    conn.close()
    return latencies


def cold_ingest(n: int, workers: list[str], tmp: Path) -> tuple[float, float]:
    repo = tmp / "cold"
    write_all(repo, n, 1)
    report = tmp / "cold.json"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "snake_pipe", "ingest", str(repo), "--quiet",
                    "--store", str(tmp / "cold-store"), "--report", str(report), *workers],
                   check=True)  # fmt: skip
    wall = time.perf_counter() - started
    return wall, float(json.loads(report.read_text())["timing"]["duration_seconds"])


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()
    workers = ["--workers", str(args.workers)] if args.workers else []
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as tmp_dir:
        tmp = Path(tmp_dir)
        repo = tmp / "repo"
        db = tmp / "store" / "records.sqlite"
        first = write_all(repo, args.files, 0)
        proc = subprocess.Popen([sys.executable, "-m", "snake_pipe", "watch", str(repo), "--quiet",
                                 "--store", str(tmp / "store"), *workers])  # fmt: skip
        try:
            wait_hashes(db, first, 300)
            latencies = edit_latencies(repo, db, args.files, args.edits)
            started = time.monotonic()
            expected = write_all(repo, args.files, 1)
            burst = wait_hashes(db, expected, 600) - started
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(120)
        cold_wall, cold_run = cold_ingest(args.files, workers, tmp)
    p50, p95 = pct(latencies, 50), pct(latencies, 95)
    rows = [
        ("single-file edit → committed row, p50", f"{p50 * 1000:.0f} ms", "≤ 300 ms", p50 <= 0.3),
        ("single-file edit → committed row, p95", f"{p95 * 1000:.0f} ms", "≤ 1000 ms", p95 <= 1.0),
        ("single-file edit → committed row, max", f"{max(latencies) * 1000:.0f} ms", "", None),
        (f"burst: {args.files} files rewritten → all committed", f"{burst:.2f} s", "", None),
        (f"cold ingest of the same {args.files} files (command wall)", f"{cold_wall:.2f} s", "",
         None),
        ("cold ingest (its report's duration)", f"{cold_run:.2f} s", "", None),
        ("burst / cold wall", f"{burst / cold_wall:.2f}", "≤ 2.0", burst <= 2 * cold_wall),
        ("burst / cold duration", f"{burst / cold_run:.2f}", "≤ 2.0", burst <= 2 * cold_run),
    ]  # fmt: skip
    width = max(len(r[0]) for r in rows)
    print(f"snake-pipe watch: {args.files} files, {args.edits} edits, "
          f"{args.workers or os.cpu_count()} workers, exit code {code}")  # fmt: skip
    print(f"{'measure':<{width}}  {'value':>10}  {'target':>10}  ok")
    for name, value, target, ok in rows:
        mark = "" if ok is None else ("yes" if ok else "NO")
        print(f"{name:<{width}}  {value:>10}  {target:>10}  {mark}")
    if args.json:
        figures = {"p50_s": p50, "p95_s": p95, "max_s": max(latencies), "burst_s": burst,
                   "cold_wall_s": cold_wall, "cold_duration_s": cold_run}  # fmt: skip
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if code == 0 and all(ok is not False for *_, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
