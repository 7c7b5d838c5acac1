"""Extractor plug-ins: extra per-file fields, from the entry-point group ``snake_pipe.extractors``.

A plug-in is a callable that takes a ``SourceFile`` and returns a dict of JSON values; the dict
is merged into the record's ``extra``. A package declares it in its ``pyproject.toml``::

    [project.entry-points."snake_pipe.extractors"]
    todos = "snake_pipe_todos:count_todos"

Plug-ins run in the parser processes, right after the parse, on every file that parsed (status
``ok`` or ``syntax_error``); each process loads them once. A plug-in that fails to load, raises,
or returns anything but a dict of JSON values costs only its own fields: the record carries the
error in ``extra["plugin_errors"][name]`` and the run goes on. Files with identical content
share one result, so a plug-in should compute from the content, not the path.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from snake_pipe.records import FileResult

__all__ = ["ENTRY_POINT_GROUP", "ERRORS_KEY", "Extractor", "Plugin", "SourceFile", "active",
           "discover", "load", "run_plugins"]  # fmt: skip

ENTRY_POINT_GROUP = "snake_pipe.extractors"
ERRORS_KEY = "plugin_errors"
# What a plug-in may raise and cost only its fields: also SystemExit, which a library calls on
# a "fatal" error (argparse reading the parser process's argv), and which would otherwise end
# the parser process (every file of the batch a crash) or, run inline, the whole run.
PLUGIN_ERRORS = (Exception, SystemExit)


@dataclass(frozen=True, slots=True)
class SourceFile:
    """What an extractor sees. ``source`` is the UTF-8 the parser read; ``tree`` is its
    ``tree_sitter.Tree``, valid only during the call (it never leaves the parser process)."""

    path: str
    language: str
    source: bytes
    tree: Any

    @property
    def text(self) -> str:
        return self.source.decode("utf-8", "replace")


Extractor = Callable[[SourceFile], Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class Plugin:
    """A loaded entry point, or the reason it could not be loaded."""

    name: str
    extract: Extractor | None
    error: str | None = None


# The plug-ins of this process: filled by ``load``, which the parser pool's initializer calls.
# Empty when none is installed, so the parser's check costs one truth test.
active: list[Plugin] = []


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def stdout_to_stderr() -> contextlib.AbstractContextManager[Any]:
    """In a parser process, what plug-ins print goes to stderr: its stdout is the coordinator's
    (``jsonl:-``, ``--report -``). Not in the caller's own process (``executor="inline"``),
    where another thread may be printing its output meanwhile."""
    if multiprocessing.parent_process() is None:
        return contextlib.nullcontext()
    return contextlib.redirect_stdout(sys.stderr)


def discover() -> list[Plugin]:
    """Every extractor entry point, by name; one that fails to import is kept with its error."""
    plugins = []
    for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            with stdout_to_stderr():
                extract = ep.load()
            if not callable(extract):
                raise TypeError(f"{type(extract).__name__} object is not callable")
            plugins.append(Plugin(ep.name, extract))
        except PLUGIN_ERRORS as exc:  # a broken plug-in must not stop the parser process
            plugins.append(Plugin(ep.name, None, f"cannot load {ep.value}: {describe(exc)}"))
    return plugins


def load() -> list[Plugin]:
    """(Re)load this process's plug-ins from the installed entry points."""
    active[:] = discover()
    return active


def checked(value: object, extra: Mapping[str, Any]) -> Mapping[str, Any]:
    """``value`` if it is a dict of JSON values whose keys no other plug-in took, as JSON
    reads it back (a tuple is a list, a key 1 is "1"): the record holds what the sinks do."""
    if not isinstance(value, Mapping):
        raise TypeError(f"returned {type(value).__name__}, not a dict")
    for key in value:
        if not isinstance(key, str):
            raise TypeError(f"returned a non-string key {key!r}")
        if key == ERRORS_KEY or key in extra:
            raise ValueError(f"key {key!r} is already taken")
    try:
        text = json.dumps(dict(value), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"returned data that is not JSON: {exc}") from None
    return dict(json.loads(text))


def run_plugins(result: FileResult, language: str, source: bytes, tree: Any) -> None:
    """Merge every plug-in's fields into ``result.extra``; each failure becomes an error there."""
    file = SourceFile(result.path, language, source, tree)
    extra: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for plugin in active:
        if plugin.extract is None:
            errors[plugin.name] = plugin.error or "not loaded"
            continue
        try:
            with stdout_to_stderr():
                value = plugin.extract(file)
            extra.update(checked(value, extra))
        except PLUGIN_ERRORS as exc:  # the plug-in's bug costs its fields on this file, no more
            errors[plugin.name] = describe(exc)
    if errors:
        extra[ERRORS_KEY] = errors
    result.extra = extra
