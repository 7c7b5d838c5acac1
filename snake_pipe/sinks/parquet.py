"""Parquet: one dataset per table, plain part files that DuckDB, Spark and pandas read as is.

Layout of ``parquet:DIR``::

    files/part-*.parquet  symbols/  imports/  parse_errors/  nodes/ (with --ast only)
    extra/ (only with extractor plug-ins)
    _staging/SESSION/NNNNNN.DATASET.parquet, NNNNNN.touched.parquet   batches not yet merged
    _snake_pipe.json   schema version and run ids
    _commit.json       a merge being published (finished by the next writer if we crash)
    _lock              held by the one writer

DIR is new, empty or the sink's own: one holding other files (the repository, with
``parquet:.``) is refused, and one deleted or replaced under a watch ends it (``missing``).

Read ``read_parquet('DIR/symbols/*.parquet')`` in DuckDB or ``spark.read.parquet('DIR/symbols')``
(Spark skips names starting with ``_``). Every dataset always has at least one file, so a glob
never comes back empty.

Why staging: Parquet files cannot be updated in place, and an incremental run must leave no
stale rows. Each batch is streamed to its own staging files (fsynced, then a ``touched`` file
listing its paths, written last, marks it complete), so a batch that returned is durable and
nothing is held in memory. ``end_run`` merges: part files holding a touched path (and small
ones, to keep the file count down) are rewritten without those paths' rows, the latest staged
rows of each path are appended, deleted paths simply get none. Batches of a run that crashed
stay staged and are merged by the next run's ``end_run``. The merge is published by renaming
new files in and deleting old ones, recorded first in ``_commit.json``; a reader during those
milliseconds may see a path's rows twice, never none.

``nodes``: one row per syntax-tree node; ``text`` is the source text of leaves (the compact
AST's ``"text"`` list), null for inner nodes. ``extra``: one row per file that extractor
plug-ins gave fields, ``data`` their JSON object (DuckDB: ``data::JSON``).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from snake_pipe.errors import ConfigError, SinkError
from snake_pipe.files import require_utf8
from snake_pipe.records import FileResult
from snake_pipe.sinks.base import Sink, writer_lock
from snake_pipe.sinks.sqlite import file_row

SCHEMA_VERSION = 1
ROWS_PER_FILE = 1_000_000  # a merged part file rolls over here
SMALL_FILE_ROWS = ROWS_PER_FILE // 4  # smaller part files are merged whenever a run merges
ROW_GROUP_ROWS = 128 * 1024
COMPRESSION = "zstd"

STR, I32, I64 = pa.string(), pa.int32(), pa.int64()
SCHEMAS: dict[str, pa.Schema] = {
    "files": pa.schema([
        ("path", STR), ("language", STR), ("size_bytes", I64), ("mtime_ns", I64),
        ("content_hash", STR), ("line_count", I64), ("status", STR), ("error_category", STR),
        ("error", STR), ("syntax_error_count", I64), ("node_count", I64),
        ("parse_ms", pa.float64()),
    ]),
    "symbols": pa.schema([("path", STR), ("name", STR), ("kind", STR), ("start_line", I32),
                          ("end_line", I32), ("scope", STR)]),
    "imports": pa.schema([("path", STR), ("module", STR), ("line", I32)]),
    "parse_errors": pa.schema([("path", STR), ("kind", STR), ("start_line", I32),
                               ("start_col", I32), ("end_line", I32), ("end_col", I32)]),
    "nodes": pa.schema([
        ("path", STR), ("id", I32), ("parent", I32), ("type", STR), ("field", STR),
        ("named", pa.bool_()), ("start_byte", I64), ("end_byte", I64), ("start_row", I32),
        ("start_col", I32), ("end_row", I32), ("end_col", I32), ("text", STR),
    ]),
    "extra": pa.schema([("path", STR), ("data", STR)]),
}  # fmt: skip
BASE_DATASETS = ("files", "symbols", "imports", "parse_errors")
OPTIONAL_DATASETS = ("nodes", "extra")  # made by the first batch that has such rows
MARKS = {"_lock", "_snake_pipe.json"}
OWN_NAMES = {*MARKS, *SCHEMAS, "_staging", "_commit.json", "._commit.json.tmp",
             "._snake_pipe.json.tmp"}  # fmt: skip
TOUCHED = pa.schema([("path", STR), ("deleted", pa.bool_())])
STATS = pa.schema([("path", STR), ("size_bytes", I64), ("mtime_ns", I64)])
T = TypeVar("T")


class ParquetSink(Sink):
    """Streams each batch to staging files; ``end_run`` merges them into the datasets."""

    tracks_runs = True

    def __init__(self, path: str | Path) -> None:
        self.root = Path(path)
        self.display = f"parquet:{self.root}"
        if self.root.exists() and not self.root.is_dir():
            raise ConfigError(f"--sink {self.display}: is a file: pass a directory")
        require_utf8(str(self.root), f"--sink {self.display}", "Arrow")
        if foreign(self.root):  # the repository itself: its files, and ours, as records
            raise ConfigError(f"--sink {self.display}: holds other files and no snake-pipe "
                              "Parquet datasets: pass a new or empty directory")  # fmt: skip
        self._session: Path | None = None
        self._seq = 0
        self._lock: IO[bytes] | None = writer_lock(self.root / "_lock", self.display)
        meta = self._meta()
        if int(meta.get("schema_version", SCHEMA_VERSION)) > SCHEMA_VERSION:
            self.close()
            raise SinkError(f"{self.display}: written by a newer snake-pipe: upgrade it")
        self._guard("finishing an earlier merge", self._roll_forward)
        self._guard("creating the datasets", self._ensure_datasets)

    # -- helpers -------------------------------------------------------------------------------

    def _guard(self, what: str, work: Callable[..., T], *args: Any) -> T:
        """Translate file-system and Arrow errors into one-line SinkErrors."""
        try:
            return work(*args)
        except (OSError, pa.ArrowException, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
            raise SinkError(f"{self.display}: {what} failed ({reason})") from exc

    def _meta(self) -> dict[str, Any]:
        try:
            data = json.loads((self.root / "_snake_pipe.json").read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _set_meta(self, **values: str) -> None:
        meta = {"schema_version": SCHEMA_VERSION, **self._meta(), **values}
        atomic_write(self.root / "_snake_pipe.json", json.dumps(meta, indent=1).encode())

    def _ensure_datasets(self) -> None:
        for name in BASE_DATASETS:
            directory = self.root / name
            directory.mkdir(exist_ok=True)
            if not part_files(directory):
                write_empty(directory, name, f"part-{token()}-00000.parquet")

    # -- the Sink interface --------------------------------------------------------------------

    def write(self, results: Sequence[FileResult], deleted: Sequence[str] = ()) -> None:
        if results or deleted:
            self._guard("writing a batch", self._stage, results, deleted)

    def _next_prefix(self) -> Path:
        """Where the next staged batch goes: its files are PREFIX.DATASET.parquet."""
        if self._session is None:
            self._session = self.root / "_staging" / f"{time.time_ns():020d}-{os.getpid()}"
            self._session.mkdir(parents=True)
        self._seq += 1
        return self._session / f"{self._seq:06d}"

    def _stage(self, results: Sequence[FileResult], deleted: Sequence[str]) -> None:
        prefix = self._next_prefix()
        latest = {r.path: r for r in results}  # a path twice in one batch: the last one wins
        for name, table in batch_tables(list(latest.values())):
            if table.num_rows:
                write_durable(prefix.with_name(f"{prefix.name}.{name}.parquet"), table)
        gone = [p for p in dict.fromkeys(deleted) if p not in latest]
        touched = pa.table([list(latest) + gone, [False] * len(latest) + [True] * len(gone)],
                           schema=TOUCHED)  # fmt: skip
        # Written last: a batch without its touched file never happened.
        write_durable(prefix.with_name(f"{prefix.name}.touched.parquet"), touched)

    def touch(self, stats: Sequence[tuple[str, int, int]]) -> None:
        """New size and mtime of unchanged files: staged like a batch, applied by the merge."""
        if stats:
            self._guard("updating file stats", self._stage_stats, stats)

    def _stage_stats(self, stats: Sequence[tuple[str, int, int]]) -> None:
        prefix = self._next_prefix()
        write_durable(prefix.with_name(f"{prefix.name}.stats.parquet"),
                      rows_table(STATS, list(stats)))  # fmt: skip
        write_durable(prefix.with_name(f"{prefix.name}.touched.parquet"), TOUCHED.empty_table())

    def begin_run(self, run_id: str) -> None:
        self._guard("recording the run", lambda: self._set_meta(current_run_id=run_id))

    def end_run(self, run_id: str) -> None:
        self._guard("merging the run", self._merge)
        self._guard("recording the run", lambda: self._set_meta(last_run_id=run_id))

    def publish(self) -> None:
        self._guard("merging the batches", self._merge)

    def last_run_id(self) -> str | None:
        value = self._meta().get("current_run_id")
        return None if value is None else str(value)

    def paths(self) -> set[str]:
        """Merged paths, with the staged batches applied in order."""
        return self._guard("reading paths", self._paths)

    def _paths(self) -> set[str]:
        result = self._committed_paths()
        for _, touched_file in self._staged_batches():
            table = pq.read_table(touched_file)
            for path, deleted in zip(table["path"].to_pylist(), table["deleted"].to_pylist(),
                                     strict=True):  # fmt: skip
                if deleted:
                    result.discard(path)
                else:
                    result.add(path)
        return result

    def missing(self) -> str | None:
        """The directory went (deleted, or replaced) if its ``_lock`` is not the one we hold."""
        if self._lock is None:
            return None
        try:
            same = os.path.samestat(os.fstat(self._lock.fileno()), os.stat(self.root / "_lock"))
        except OSError:
            same = False
        return None if same else f"{self.display}: the directory was deleted or replaced"

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()  # releases the flock
            self._lock = None

    # -- merging -------------------------------------------------------------------------------

    def _committed_paths(self) -> set[str]:
        paths: set[str] = set()
        for part in part_files(self.root / "files"):
            paths.update(pq.read_table(part, columns=["path"])["path"].to_pylist())
        return paths

    def _staged_batches(self) -> list[tuple[str, Path]]:
        """Complete staged batches, oldest first, as (prefix, touched file)."""
        staging = self.root / "_staging"
        if not staging.is_dir():
            return []
        found = []
        for session in sorted(p for p in staging.iterdir() if p.is_dir()):
            for touched in sorted(session.glob("*.touched.parquet")):
                found.append((str(touched)[: -len(".touched.parquet")], touched))
        return found

    def _merge(self) -> None:
        batches = self._staged_batches()
        if not batches:
            return
        touched = pa.concat_tables(
            numbered(pq.read_table(t), i) for i, (_, t) in enumerate(batches)
        )
        latest = touched.group_by("path").aggregate([("order", "max")])
        touched_paths = latest["path"].combine_chunks()
        superseded = older_rows(touched, latest)
        stats = latest_stats(batches)
        stamp = token()
        work = self.root / "_staging" / f"_merge-{stamp}"
        plan: dict[str, list[Any]] = {"new": [], "old": [], "cleanup": []}
        datasets = list(BASE_DATASETS)
        for optional in OPTIONAL_DATASETS:
            if (self.root / optional).is_dir() or any(
                Path(f"{prefix}.{optional}.parquet").exists() for prefix, _ in batches
            ):
                datasets.append(optional)
        for name in datasets:
            staged = [
                (i, Path(f"{prefix}.{name}.parquet")) for i, (prefix, _) in enumerate(batches)
            ]
            new, old = merge_dataset(self.root / name, work / name, name, stamp, touched_paths,
                                     [(i, f) for i, f in staged if f.exists()], superseded,
                                     stats if name == "files" else None)  # fmt: skip
            plan["new"] += [[rel(f, self.root), rel(self.root / name / f.name, self.root)]
                            for f in new]  # fmt: skip
            plan["old"] += [rel(f, self.root) for f in old]
        # Everything staged is merged now, and crashed merges left only garbage: all of it goes.
        plan["cleanup"] = [rel(p, self.root) for p in sorted((self.root / "_staging").iterdir())]
        atomic_write(self.root / "_commit.json", json.dumps(plan, indent=1).encode())
        self._session, self._seq = None, 0
        self._roll_forward()

    def _roll_forward(self) -> None:
        """Publish a recorded merge; every step may be repeated after a crash."""
        marker = self.root / "_commit.json"
        if not marker.exists():
            return
        plan = json.loads(marker.read_text(encoding="utf-8"))
        for src, dst in plan["new"]:
            (self.root / dst).parent.mkdir(parents=True, exist_ok=True)
            if (self.root / src).exists():
                os.replace(self.root / src, self.root / dst)
        for old in plan["old"]:
            (self.root / old).unlink(missing_ok=True)
        for directory in {str(Path(dst).parent) for _, dst in plan["new"]}:
            fsync_dir(self.root / directory)
        marker.unlink()
        fsync_dir(self.root)
        for directory in plan["cleanup"]:
            shutil.rmtree(self.root / directory, ignore_errors=True)


def merge_dataset(
    directory: Path, work: Path, name: str, stamp: str, touched: pa.Array,
    staged: list[tuple[int, Path]], superseded: dict[int, pa.Array],
    stats: pa.Table | None = None,
) -> tuple[list[Path], list[Path]]:  # fmt: skip
    """New part files for one dataset and the old ones they replace; streams, batch by batch."""
    directory.mkdir(exist_ok=True)
    changed = (
        touched if stats is None else pa.concat_arrays([touched, stats["path"].combine_chunks()])
    )
    rewrite = []
    for part in part_files(directory):
        if (
            pq.read_metadata(part).num_rows < SMALL_FILE_ROWS
            or pc.any(
                pc.is_in(pq.read_table(part, columns=["path"])["path"], value_set=changed)
            ).as_py()
        ):
            rewrite.append(part)
    if not rewrite and not staged:
        return [], []
    writer = RollingWriter(work, SCHEMAS[name], f"part-{stamp}")
    for part in rewrite:
        for batch in pq.ParquetFile(part).iter_batches(batch_size=ROW_GROUP_ROWS):
            kept = batch.filter(pc.invert(pc.is_in(batch["path"], value_set=touched)))
            writer.write_table(apply_stats(pa.Table.from_batches([kept]), -1, stats))
    for order, path in staged:
        table = pq.read_table(path, schema=SCHEMAS[name])
        if order in superseded:
            table = table.filter(pc.invert(pc.is_in(table["path"], value_set=superseded[order])))
        writer.write_table(apply_stats(table, order, stats))
    return writer.close(), rewrite


def latest_stats(batches: list[tuple[str, Path]]) -> pa.Table | None:
    """Per path, the newest touched size and mtime, with the order of the batch that set them."""
    tables = [numbered(pq.read_table(f"{prefix}.stats.parquet"), i)
              for i, (prefix, _) in enumerate(batches) if Path(f"{prefix}.stats.parquet").exists()]  # fmt: skip
    if not tables:
        return None
    stats = pa.concat_tables(tables)
    newest = stats.join(stats.group_by("path").aggregate([("order", "max")]), "path")
    return newest.filter(pc.equal(newest["order"], newest["order_max"])).drop_columns("order_max")


def apply_stats(table: pa.Table, order: int, stats: pa.Table | None) -> pa.Table:
    """Rows written before a touch (batch ``order``; -1 for merged rows) take its stats."""
    if stats is None or not table.num_rows:
        return table
    newer = stats.filter(pc.greater(stats["order"], order))
    if not newer.num_rows or not pc.any(pc.is_in(table["path"], value_set=newer["path"])).as_py():
        return table
    update = newer.select(["path", "size_bytes", "mtime_ns"]).rename_columns(
        ["path", "new_size", "new_mtime"])  # fmt: skip
    joined = table.join(update, "path", join_type="left outer")
    for column, new in (("size_bytes", "new_size"), ("mtime_ns", "new_mtime")):
        index = joined.schema.get_field_index(column)
        joined = joined.set_column(index, column, pc.coalesce(joined[new], joined[column]))
    return joined.select(table.schema.names).cast(table.schema)


def numbered(table: pa.Table, order: int) -> pa.Table:
    return table.append_column("order", pa.array([order] * table.num_rows, I32))


def older_rows(touched: pa.Table, latest: pa.Table) -> dict[int, pa.Array]:
    """Per staged batch, the paths that a later batch rewrote or deleted (usually none)."""
    joined = touched.join(latest, "path")
    stale = joined.filter(pc.not_equal(joined["order"], joined["order_max"]))
    found: dict[int, list[str]] = {}
    for path, order in zip(stale["path"].to_pylist(), stale["order"].to_pylist(), strict=True):
        found.setdefault(order, []).append(path)
    return {order: pa.array(paths, STR) for order, paths in found.items()}


class RollingWriter:
    """Row groups of about ROW_GROUP_ROWS, a new file every ROWS_PER_FILE rows."""

    def __init__(self, directory: Path, schema: pa.Schema, stem: str) -> None:
        self.directory, self.schema, self.stem = directory, schema, stem
        self.files: list[Path] = []
        self._writer: pq.ParquetWriter | None = None
        self._buffer: list[pa.RecordBatch] = []
        self._buffered = 0
        self._in_file = 0

    def write_table(self, table: pa.Table) -> None:
        for batch in table.to_batches():
            self.write(batch)

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows:
            self._buffer.append(batch)
            self._buffered += batch.num_rows
            if self._buffered >= ROW_GROUP_ROWS:
                self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        if self._writer is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / f"{self.stem}-{len(self.files):05d}.parquet"
            self.files.append(path)
            self._writer = pq.ParquetWriter(path, self.schema, compression=COMPRESSION)
        table = pa.Table.from_batches(self._buffer, self.schema)
        self._writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
        self._in_file += table.num_rows
        self._buffer, self._buffered = [], 0
        if self._in_file >= ROWS_PER_FILE:
            self._close_file()

    def _close_file(self) -> None:
        if self._writer is not None:
            self._writer.close()
            fsync_file(self.files[-1])
            self._writer, self._in_file = None, 0

    def close(self) -> list[Path]:
        self._flush()
        self._close_file()
        if not self.files:  # the dataset became empty: keep one file so readers' globs match
            self.files.append(
                write_empty(self.directory, self.schema, f"{self.stem}-00000.parquet")
            )
        return self.files


# -- records to Arrow -----------------------------------------------------------------------------


def batch_tables(results: list[FileResult]) -> Iterator[tuple[str, pa.Table]]:
    yield "files", rows_table("files", [file_row(r) for r in results])
    yield "symbols", rows_table("symbols", [(r.path, *s) for r in results for s in r.symbols])
    yield "imports", rows_table("imports", [(r.path, *i) for r in results for i in r.imports])
    yield "parse_errors", rows_table("parse_errors",
                                     [(r.path, *e) for r in results for e in r.parse_errors])  # fmt: skip
    trees = [(r.path, r.ast) for r in results if r.ast]
    if trees:
        yield "nodes", node_table(trees)
    extra = [(r.path, json.dumps(r.extra)) for r in results if r.extra]
    if extra:
        yield "extra", rows_table("extra", extra)


def rows_table(name: str | pa.Schema, rows: list[tuple[Any, ...]]) -> pa.Table:
    schema = SCHEMAS[name] if isinstance(name, str) else name
    if not rows:
        return schema.empty_table()
    columns = list(zip(*rows, strict=True))
    return pa.Table.from_arrays(
        [pa.array(col, type=f.type) for col, f in zip(columns, schema, strict=True)], schema=schema
    )


def node_table(trees: list[tuple[str, str]]) -> pa.Table:
    """One row per node of each compact AST (see snake_pipe.parse.ast), for a whole batch.

    Arrow calls cost tens of microseconds each, so columns are gathered for the batch in
    plain lists (zip transposes in C) and converted once.
    """
    cols: list[list[Any]] = [[] for _ in range(13)]
    for path, ast in trees:
        doc = json.loads(ast)
        nodes: list[list[Any]] = doc["nodes"]
        if not nodes:
            continue
        types, fields, count = doc["types"], doc["fields"], len(nodes)
        node_cols = list(zip(*nodes, strict=False))
        cols[0] += [path] * count
        cols[1] += range(count)
        cols[2] += [p if p >= 0 else None for p in node_cols[2]]
        cols[3] += [types[t] for t in node_cols[0]]
        cols[4] += [fields[f] if f >= 0 else None for f in node_cols[1]]
        for k in range(3, 10):
            cols[k + 2] += node_cols[k]
        texts = doc.get("text")
        if texts is None and any(len(n) > 10 for n in nodes):
            texts = [n[10] if len(n) > 10 else None for n in nodes]
        cols[12] += texts if texts is not None else [None] * count
    schema = SCHEMAS["nodes"]
    arrays = [pa.array(col, type=f.type if f.name != "named" else I32)
              for col, f in zip(cols, schema, strict=True)]  # fmt: skip
    arrays[5] = pc.not_equal(arrays[5], 0)
    return pa.Table.from_arrays(arrays, schema=schema)


# -- files --------------------------------------------------------------------------------------


def token() -> str:
    return f"{time.time_ns():x}-{os.getpid()}"


def rel(path: Path, root: Path) -> str:
    return str(path.relative_to(root))


def foreign(root: Path) -> bool:
    """Whether ``root`` holds other files than a sink's, and no ``_lock`` (made at the first
    open) or ``_snake_pipe.json`` that says it is one."""
    try:
        names = set(os.listdir(root)) if root.is_dir() else set()
    except OSError:
        return False  # opening it says why
    return not names & MARKS and bool(names - OWN_NAMES)


def part_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.parquet")) if directory.is_dir() else []


def write_empty(directory: Path, schema: str | pa.Schema, name: str) -> Path:
    schema = SCHEMAS[schema] if isinstance(schema, str) else schema
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    write_durable(path, schema.empty_table())
    return path


def write_durable(path: Path, table: pa.Table) -> None:
    """Write to a hidden temporary name, fsync, rename: a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as out:
        pq.write_table(table, out, compression=COMPRESSION, row_group_size=ROW_GROUP_ROWS)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
