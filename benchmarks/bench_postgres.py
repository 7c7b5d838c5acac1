"""How fast the PostgreSQL sink writes into a local server; prints a table.

    python benchmarks/bench_postgres.py [--dsn postgresql://...] [--check]

The server is --dsn, else $SNAKE_PIPE_TEST_PG (see .ci/postgres.sh), else one started in a
temporary directory with the helper of the tests. Every case writes into a fresh schema that
is dropped afterwards. Targets: at least 50,000 symbol rows/s, and a batch of 10,000 records
committed within 1 s. Record shapes: "light" has 3 symbols and 2 imports per file; "typical"
has 18 symbols and 9 imports, the averages measured on real Python packages (pydantic, rich,
psycopg, pyarrow, anyio, hypothesis).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402

from snake_pipe.records import FileResult, Import, Symbol  # noqa: E402
from snake_pipe.sinks.postgres import PostgresSink  # noqa: E402
from tests.pg import destroy, start_server, with_schema  # noqa: E402

SYMBOL_TARGET = 50_000  # rows/s
BATCH_TARGET = 1.0  # seconds for 10,000 records
SHAPES = {"light": (3, 2), "typical": (18, 9)}


@dataclass
class Result:
    case: str
    records: int
    rows: int
    seconds: float
    target: str
    ok: bool | None

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def records(prefix: str, count: int, n_symbols: int, n_imports: int) -> list[FileResult]:
    """Records shaped like a parse of Python files: paths in packages, distinct names."""
    return [
        FileResult(
            f"{prefix}/pkg{i % 97}/module_{i}.py", "python", 4096, 1_700_000_000_000_000_000 + i,
            f"{i:032x}", 120, "ok", parse_ms=2.5, node_count=900,
            symbols=[Symbol(f"name_{i}_{j}", "function" if j % 3 else "class", j * 5 + 1,
                            j * 5 + 4, None if j % 4 == 0 else f"Class{j // 4}")
                     for j in range(n_symbols)],
            imports=[Import(f"package{j}.module{i % 13}", j + 1) for j in range(n_imports)],
        )
        for i in range(count)
    ]  # fmt: skip


def rows_of(batch: list[FileResult]) -> int:
    return sum(1 + len(r.symbols) + len(r.imports) for r in batch)


@contextmanager
def fresh_sink(dsn: str) -> Iterator[PostgresSink]:
    schema = "bench_" + secrets.token_hex(4)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        with PostgresSink(with_schema(dsn, schema)) as sink:
            assert isinstance(sink, PostgresSink)
            yield sink
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def timed(work: Callable[[], None]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def symbol_throughput(dsn: str) -> Result:
    """A run's steady state: 40 batches of 500 typical files into growing tables."""
    batches = [records(f"b{b}", 500, *SHAPES["typical"]) for b in range(40)]
    with fresh_sink(dsn) as sink:
        seconds = 0.0
        for batch in batches:
            started = time.perf_counter()
            sink.write(batch)
            seconds += time.perf_counter() - started
    symbols = sum(len(r.symbols) for batch in batches for r in batch)
    rate = symbols / seconds
    return Result("symbol rows/s, 40 x 500 typical files", 20_000, symbols, seconds,
                  f">= {SYMBOL_TARGET:,} rows/s", rate >= SYMBOL_TARGET)  # fmt: skip


def big_batches(dsn: str, shape: str) -> list[Result]:
    """One 10,000-record batch: into empty tables, then replacing itself (delete + copy)."""
    batch = records("big", 10_000, *SHAPES[shape])
    target = f"<= {BATCH_TARGET:.1f} s"
    with fresh_sink(dsn) as sink:
        sink.write(records("warm", 2_000, *SHAPES[shape]))  # tables and indexes not empty
        fresh = timed(lambda: sink.write(batch))
        again = timed(lambda: sink.write(batch))
    return [
        Result(f"10,000 {shape} records, new paths", 10_000, rows_of(batch), fresh, target,
               fresh <= BATCH_TARGET),
        Result(f"10,000 {shape} records, replaced", 10_000, rows_of(batch), again, target,
               again <= BATCH_TARGET),
    ]  # fmt: skip


def print_table(results: list[Result]) -> None:
    header = f"{'case':42} {'records':>8} {'rows':>9} {'seconds':>8} {'rows/s':>9}  target"
    print(header)
    print("-" * len(header))
    for r in results:
        verdict = {True: "ok", False: "MISSED", None: ""}[r.ok]
        print(f"{r.case:42} {r.records:>8,} {r.rows:>9,} {r.seconds:>8.3f} {r.rate:>9,.0f}  "
              f"{r.target} {verdict}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default=os.environ.get("SNAKE_PIPE_TEST_PG"))
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    server = None
    dsn = args.dsn
    if not dsn:
        server = start_server()
        dsn = server.dsn
        print("started a server of our own (fsync off: numbers are optimistic)\n")
    try:
        results = [symbol_throughput(dsn), *big_batches(dsn, "light"),
                   *big_batches(dsn, "typical")]  # fmt: skip
    finally:
        if server is not None:
            destroy(server)
    print_table(results)
    target_cases = [r for r in results if "typical" not in r.case or "rows/s" in r.case]
    return 1 if args.check and not all(r.ok for r in target_cases) else 0


if __name__ == "__main__":
    sys.exit(main())
