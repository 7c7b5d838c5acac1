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
package on the next ``run`` if a load failed, so nothing falls between the two.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Any, Literal, Unpack, get_args, get_origin

import dlt  # type: ignore[import-not-found,unused-ignore]
from pydantic import BaseModel

from snake_pipe.api import Options, PathLike, extract
from snake_pipe.models import FileRecord, Import, ParseErrorRecord, Symbol

__all__ = ["DELETED", "columns", "repository", "rows"]

DELETED = "deleted"  # a row with deleted = true removes its path from the destination
DATA_TYPES = {str: "text", int: "bigint", float: "double", bool: "bool", dict: "json"}


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
    resource = dlt.resource(rows(repo, **options), name=table_name, **hints)

    @dlt.source(name="snake_pipe", max_table_nesting=1)
    def snake_pipe() -> Any:
        return resource

    return snake_pipe()
