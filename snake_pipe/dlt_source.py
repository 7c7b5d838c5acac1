"""snake-pipe as a dlt source: records into any dlt destination (``pip install 'snake-pipe[dlt]'``).

    import dlt
    from snake_pipe.dlt_source import repository

    pipeline = dlt.pipeline("code", destination="duckdb", dataset_name="code")
    pipeline.run(repository("path/to/repo", store="path/to/store", include=["*.py"]))

One table, ``files``, keyed by ``path``, with dlt's nested tables ``files__symbols``,
``files__imports`` and ``files__parse_errors`` (joined on ``_dlt_parent_id``); ``extra`` and
``ast`` are JSON columns. With a ``store`` the load is incremental: each run carries only the
files that changed since the last one (merged on ``path``) and deletes the rows of removed
files. Without one, each run replaces the tables.

The store commits a batch once dlt has taken it from the resource (dlt's extract step). dlt
keeps what it extracted in its pipeline directory until it is loaded, and loads a pending
package on the next ``run`` if a load failed. What dlt took but lost before saving its extract
(the extract failed, or the process was killed) the store does not know about; so the resource
state, which dlt saves with the extract, records the store's run it holds, and a run that finds
another one there (or none: a first load, another destination, ``refresh="drop_sources"``) loads
every file again, replacing the tables.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, Unpack, get_args, get_origin

import dlt  # type: ignore[import-not-found,unused-ignore]
from pydantic import BaseModel

from snake_pipe.api import Options, PathLike, extract
from snake_pipe.models import FileRecord, Import, ParseErrorRecord, Symbol

__all__ = ["DELETED", "columns", "repository", "rows"]

DELETED = "deleted"  # a row with deleted = true removes its path from the destination
DATA_TYPES = {str: "text", int: "bigint", float: "double", bool: "bool", dict: "json"}
STORE_RUN = "store_run"  # resource state: the store's run whose changes dlt last extracted


def columns(model: type[BaseModel] = FileRecord) -> dict[str, dict[str, Any]]:
    """dlt column hints from a record model: every column exists from the first load on,
    even one no file filled yet (``error`` in a repository without errors)."""
    hints = {}
    for name, field in model.model_fields.items():
        kind = field.annotation
        if get_origin(kind) is types.UnionType:  # X | None
            kind = next(k for k in get_args(kind) if k is not type(None))
        kind = str if get_origin(kind) is Literal else get_origin(kind) or kind
        if kind in DATA_TYPES:  # lists of symbols, imports, errors: nested tables
            hints[name] = {"name": name, "data_type": DATA_TYPES[kind], "nullable": name != "path"}
    return hints


NESTED: dict[str, type[BaseModel]] = {
    "symbols": Symbol, "imports": Import, "parse_errors": ParseErrorRecord
}  # fmt: skip


def rows(repo: PathLike, **options: Unpack[Options]) -> Iterator[Any]:
    """The resource's rows: every file, or with a ``store`` the changes as upserts and
    hard deletes."""
    if options.get("store") is None:
        for record in extract(repo, **options):
            yield record.model_dump(mode="json")
        return
    for change in extract(repo, changes_only=True, **options):
        if change.record is None:
            yield {"path": change.path, DELETED: True}
        else:
            yield {**change.record.model_dump(mode="json"), DELETED: False}


def store_run(store: PathLike) -> str | None:
    """The id of the store's last run, None for a store that has none yet."""
    from snake_pipe.checkpoints import CheckpointStore  # as the API: not at import, which
    from snake_pipe.pipeline import CHECKPOINTS  # every parser process repeats

    path = Path(store).expanduser() / CHECKPOINTS
    if not path.is_dir():
        return None
    with CheckpointStore(path) as checkpoints:
        run = checkpoints.last_run()
    return None if run is None else str(run["id"])


def extracted_rows(repo: PathLike, table_name: str, **options: Unpack[Options]) -> Iterator[Any]:
    """``rows`` in a dlt extract: the changes if this pipeline's state holds the store's last
    run (dlt saved the extract of every change the store has delivered), else every file,
    replacing the tables (``rows`` without a store would not know the deleted paths)."""
    store = options.get("store")
    if store is None:
        yield from rows(repo, **options)
        return
    state = dlt.current.resource_state(table_name)
    saved = state.get(STORE_RUN)
    if saved is not None and saved == store_run(store):
        yield from rows(repo, **options)
    else:  # no row to delete: hard_delete off, else dlt warns that replace ignores it
        reload = dlt.mark.make_hints(write_disposition="replace", columns={
            DELETED: {"name": DELETED, "data_type": "bool", "hard_delete": False}})  # fmt: skip
        yield dlt.mark.with_hints([], reload)
        for record in extract(repo, **options):  # restarts the store
            yield {**record.model_dump(mode="json"), DELETED: False}
    state[STORE_RUN] = store_run(store)  # saved by dlt only with this extract


def repository(repo: PathLike, *, table_name: str = "files", **options: Unpack[Options]) -> Any:
    """A dlt source with one resource, ``table_name``: the records of ``repo``. Options are
    those of ``snake_pipe.extract``, ``store`` included; invalid ones raise ``ConfigError``
    here, not in dlt's extract step."""
    extract(repo, **options).close()
    nested = {name: {"columns": columns(model)} for name, model in NESTED.items()}
    hints: dict[str, Any] = {"columns": columns(), "nested_hints": nested,
                             "write_disposition": "replace"}  # fmt: skip
    if options.get("store") is not None:
        hints["columns"][DELETED] = {"data_type": "bool", "hard_delete": True}
        hints.update(write_disposition={"disposition": "merge", "strategy": "delete-insert"},
                     primary_key="path")  # fmt: skip
    resource = dlt.resource(extracted_rows(repo, table_name, **options), name=table_name,
                            **hints)  # fmt: skip

    # root_key: nested tables keep their link to the root row when a reload replaces the tables
    @dlt.source(name="snake_pipe", max_table_nesting=1, root_key=options.get("store") is not None)
    def snake_pipe() -> Any:
        return resource

    return snake_pipe()
