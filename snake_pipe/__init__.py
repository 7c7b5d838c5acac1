"""snake-pipe: ingest source-code repositories into queryable records with tree-sitter.

The public API; everything else is internal::

    import snake_pipe

    for record in snake_pipe.extract("path/to/repo", include=["*.py"]):
        print(record.path, [s.name for s in record.symbols])

Names load on first use: parser processes import this package too, and should not pay for
the pipeline, pydantic models and LMDB they never use.
"""

import typing as _typing
from importlib import import_module as _import_module

__version__ = "0.1.0"

__all__ = [
    "BatchEngine",
    "Change",
    "Config",
    "ConfigError",
    "FileRecord",
    "Import",
    "Options",
    "ParseErrorRecord",
    "RepositoryError",
    "RunInterrupted",
    "RunReport",
    "SinkError",
    "SnakePipeError",
    "StoreError",
    "Symbol",
    "TransientSinkError",
    "__version__",
    "aextract",
    "awatch",
    "extract",
    "ingest",
]

# name -> the module that defines it
_LAZY = {
    "BatchEngine": "snake_pipe.batching",
    "Change": "snake_pipe.models",
    "Config": "snake_pipe.config",
    "ConfigError": "snake_pipe.errors",
    "FileRecord": "snake_pipe.models",
    "Import": "snake_pipe.models",
    "Options": "snake_pipe.api",
    "ParseErrorRecord": "snake_pipe.models",
    "RepositoryError": "snake_pipe.errors",
    "RunInterrupted": "snake_pipe.errors",
    "RunReport": "snake_pipe.report",
    "SinkError": "snake_pipe.errors",
    "SnakePipeError": "snake_pipe.errors",
    "StoreError": "snake_pipe.errors",
    "Symbol": "snake_pipe.models",
    "TransientSinkError": "snake_pipe.errors",
    "aextract": "snake_pipe.api",
    "awatch": "snake_pipe.api",
    "extract": "snake_pipe.api",
    "ingest": "snake_pipe.api",
}

if _typing.TYPE_CHECKING:
    from snake_pipe.api import Options, aextract, awatch, extract, ingest
    from snake_pipe.batching import BatchEngine
    from snake_pipe.config import Config
    from snake_pipe.errors import (
        ConfigError,
        RepositoryError,
        RunInterrupted,
        SinkError,
        SnakePipeError,
        StoreError,
        TransientSinkError,
    )
    from snake_pipe.models import Change, FileRecord, Import, ParseErrorRecord, Symbol
    from snake_pipe.report import RunReport


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'snake_pipe' has no attribute {name!r}")
    value = getattr(_import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
