"""The public records: pydantic models of what ``extract`` yields.

Inside the pipeline, plain ``records`` dataclasses travel between processes; at the API
boundary each becomes a validated ``FileRecord`` (``FileRecord.from_result``). The field names
are those of the SQLite tables and of the JSON lines sink.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from snake_pipe.records import FileResult, Status

__all__ = ["Change", "FileRecord", "Import", "ParseErrorRecord", "Symbol"]

_CONFIG = ConfigDict(frozen=True, extra="forbid", from_attributes=True,
                     use_attribute_docstrings=True)  # fmt: skip


class Symbol(BaseModel):
    """A definition; lines are 1-based."""

    model_config = _CONFIG

    name: str
    kind: str
    """One of ``snake_pipe.records.SYMBOL_KINDS``: function, method, class, ..."""
    start_line: int
    end_line: int
    scope: str | None
    """Dotted names of the enclosing definitions (``Widget.run``), None at top level."""


class Import(BaseModel):
    """An import, include, require or use: the module or path as written, without quotes."""

    model_config = _CONFIG

    module: str
    line: int


class ParseErrorRecord(BaseModel):
    """An ERROR or MISSING node of the syntax tree; lines and columns 1-based, columns in bytes."""

    model_config = _CONFIG

    kind: Literal["ERROR", "MISSING"]
    start_line: int
    start_col: int
    end_line: int
    end_col: int


class FileRecord(BaseModel):
    """Everything extracted from one file: a row of ``files`` with its child rows."""

    model_config = _CONFIG

    path: str
    """Relative to the repository root, with ``/`` separators."""
    language: str | None
    size_bytes: int
    mtime_ns: int
    content_hash: str | None = None
    """The git blob id of the content (``git hash-object``)."""
    line_count: int | None = None
    status: Status = "ok"
    """ok, syntax_error (parsed, with ERROR/MISSING nodes), failed or skipped."""
    error_category: str | None = None
    """Why a file is skipped or failed: see ``snake_pipe.records.ERROR_CATEGORIES``."""
    error: str | None = None
    syntax_error_count: int = 0
    node_count: int = 0
    parse_ms: float = 0.0
    duplicate: bool = False
    """Same content as a file parsed before in this run: its result, reused."""
    symbols: list[Symbol] = Field(default_factory=list)
    imports: list[Import] = Field(default_factory=list)
    parse_errors: list[ParseErrorRecord] = Field(default_factory=list)
    ast: dict[str, Any] | None = None
    """With ``ast=True``: the syntax tree in the compact form of ``snake_pipe.parse.ast``."""
    extra: dict[str, Any] = Field(default_factory=dict)
    """Fields added by extractor plug-ins; their failures under ``plugin_errors``."""

    @field_validator("ast", mode="before")
    @classmethod
    def _ast(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("extra", mode="before")
    @classmethod
    def _extra(cls, value: Any) -> Any:
        return {} if value is None else value

    @classmethod
    def from_result(cls, result: FileResult) -> FileRecord:
        """The validated public form of a pipeline record."""
        return cls.model_validate(result, from_attributes=True)


class Change(BaseModel):
    """One change since the last committed run: a file to upsert (with its record) or a path
    to delete."""

    model_config = _CONFIG

    op: Literal["upsert", "delete"]
    path: str
    record: FileRecord | None = None
    """The new record of an upsert; None for a delete."""

    @model_validator(mode="after")
    def _record_matches(self) -> Change:
        if self.op == "upsert" and (self.record is None or self.record.path != self.path):
            raise ValueError("an upsert carries the record of its path")
        if self.op == "delete" and self.record is not None:
            raise ValueError("a delete carries no record")
        return self

    @classmethod
    def upsert(cls, result: FileResult) -> Change:
        return cls(op="upsert", path=result.path, record=FileRecord.from_result(result))

    @classmethod
    def delete(cls, path: str) -> Change:
        return cls(op="delete", path=path)
