"""The records that flow from parsers to sinks.

Plain slotted dataclasses and tuples: they cross process boundaries in every batch, so they
stay small and cheap to pickle. Pydantic models for the public API wrap them in ``models``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal, NamedTuple

Status = Literal["ok", "syntax_error", "failed", "skipped"]
STATUSES: tuple[Status, ...] = ("ok", "syntax_error", "failed", "skipped")

# error_category values: why a file is skipped or failed.
ERROR_CATEGORIES: dict[str, str] = {
    "unsupported": "skipped: no tree-sitter grammar for this file",
    "binary": "skipped: a NUL byte in the first 8000 bytes",
    "too_large": "skipped: bigger than max_file_bytes",
    "symlink": "skipped: a symbolic link (not followed, dangling, looping or leaving the repo)",
    "special": "skipped: not a regular file (a FIFO, socket or device), never opened",
    "read": "failed: the file could not be read (vanished, permission denied, I/O error)",
    "decode": "failed: the bytes could not be decoded as text",
    "timeout": "failed: parsing took longer than parse_timeout_ms",
    "crash": "failed: the parser process died on this file",
    "sink": "failed: a sink rejected the file's rows",
    "internal": "failed: an unexpected error in snake-pipe itself",
}

# Symbol kinds produced by the tags queries.
SYMBOL_KINDS: tuple[str, ...] = (
    "class", "constant", "constructor", "enum", "field", "function", "interface", "macro",
    "method", "module", "namespace", "property", "struct", "trait", "type", "union", "variable",
)  # fmt: skip


class Symbol(NamedTuple):
    """A definition: lines are 1-based; scope is the dotted names of enclosing definitions."""

    name: str
    kind: str
    start_line: int
    end_line: int
    scope: str | None


class Import(NamedTuple):
    """An import, include, require or use: the module or path as written, without quotes."""

    module: str
    line: int


class ParseError(NamedTuple):
    """An ERROR or MISSING node of the syntax tree; lines and columns 1-based, columns in bytes."""

    kind: Literal["ERROR", "MISSING"]
    start_line: int
    start_col: int
    end_line: int
    end_col: int


@dataclass(slots=True)
class FileResult:
    """Everything extracted from one file; one row of ``files`` plus its child rows."""

    path: str
    language: str | None
    size_bytes: int
    mtime_ns: int
    content_hash: str | None = None
    line_count: int | None = None
    status: Status = "ok"
    error_category: str | None = None
    error: str | None = None
    syntax_error_count: int = 0
    node_count: int = 0
    parse_ms: float = 0.0
    symbols: list[Symbol] = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
    parse_errors: list[ParseError] = field(default_factory=list)
    ast: str | None = None  # compact JSON, see snake_pipe.parse.ast
    unchanged: bool = False  # content equals the checkpoint's: nothing to write
    duplicate: bool = False  # same content as a file parsed before: its result, reused
    extra: dict[str, Any] | None = None  # fields from extractor plug-ins, see snake_pipe.plugins

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Results cross a process boundary in every batch: rows go as plain tuples, which
        # pickle in C; a NamedTuple pickles through a Python call per row, 3x slower.
        return _rebuild, (
            self.path, self.language, self.size_bytes, self.mtime_ns, self.content_hash,
            self.line_count, self.status, self.error_category, self.error,
            self.syntax_error_count, self.node_count, self.parse_ms,
            list(map(tuple, self.symbols)), list(map(tuple, self.imports)),
            list(map(tuple, self.parse_errors)), self.ast, self.unchanged, self.duplicate,
            self.extra,
        )  # fmt: skip

    @classmethod
    def skipped(
        cls, path: str, size: int, mtime_ns: int, category: str, message: str,
        language: str | None = None,
    ) -> FileResult:  # fmt: skip
        return cls(path, language, size, mtime_ns, status="skipped",
                   error_category=category, error=message)  # fmt: skip

    @classmethod
    def failed(
        cls, path: str, size: int, mtime_ns: int, category: str, message: str,
        language: str | None = None,
    ) -> FileResult:  # fmt: skip
        return cls(path, language, size, mtime_ns, status="failed",
                   error_category=category, error=message)  # fmt: skip


_symbol = partial(tuple.__new__, Symbol)
_import = partial(tuple.__new__, Import)
_parse_error = partial(tuple.__new__, ParseError)


def _rebuild(*fields: Any) -> FileResult:
    result = FileResult(*fields)
    result.symbols = list(map(_symbol, result.symbols))
    result.imports = list(map(_import, result.imports))
    result.parse_errors = list(map(_parse_error, result.parse_errors))
    return result


@dataclass(slots=True, frozen=True)
class WorkItem:
    """A file to extract, as discovery saw it. ``content`` is set when workers share no disk."""

    path: str
    abs_path: str
    language: str | None
    size: int
    mtime_ns: int
    content: bytes | None = None
    prior_hash: str | None = None  # the checkpoint's hash: equal content is not parsed again

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Every file crosses to a parser: a tuple pickles in C, a slotted dataclass's state
        # through Python calls per field, at three times the cost each way.
        return WorkItem, (
            self.path, self.abs_path, self.language, self.size, self.mtime_ns, self.content,
            self.prior_hash,
        )  # fmt: skip
