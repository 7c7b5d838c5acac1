"""Sinks: where records go, chosen by a URI whose scheme names the sink.

Built in: ``sqlite:PATH`` (default, in the store), ``jsonl:PATH``; with extras
``postgresql://USER@HOST:PORT/DB`` (``snake-pipe[postgres]``) and ``parquet:DIR``
(``snake-pipe[parquet]``). Third-party sinks register a factory in the entry-point group
``snake_pipe.sinks``: the entry point's name is the URI scheme and the factory receives the
part after ``scheme:``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib import import_module, metadata
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from snake_pipe.errors import ConfigError, SinkError
from snake_pipe.sinks.base import Sink

__all__ = ["ENTRY_POINT_GROUP", "SCHEMES", "Sink", "check_uri", "known_schemes", "mask_uri",
           "open_sink"]  # fmt: skip

ENTRY_POINT_GROUP = "snake_pipe.sinks"

# scheme -> "module:factory"; modules load only when used, so extras stay optional.
SCHEMES: dict[str, str] = {
    "sqlite": "snake_pipe.sinks.sqlite:SQLiteSink",
    "jsonl": "snake_pipe.sinks.jsonl:JSONLSink",
    "postgresql": "snake_pipe.sinks.postgres:PostgresSink",
    "postgres": "snake_pipe.sinks.postgres:PostgresSink",
    "parquet": "snake_pipe.sinks.parquet:ParquetSink",
}
# scheme -> the pip extra whose packages the sink imports.
EXTRAS: dict[str, str] = {"postgresql": "postgres", "postgres": "postgres", "parquet": "parquet"}
# Schemes whose factory takes the whole URI (libpq parses it), not the part after the colon.
WHOLE_URI = frozenset({"postgresql", "postgres"})
FORMS: dict[str, str] = {
    "sqlite": "sqlite[:PATH]",
    "jsonl": "jsonl:PATH",
    "postgresql": "postgresql://USER@HOST:PORT/DB",
    "parquet": "parquet:DIR",
}


def plugin_entry_points() -> dict[str, metadata.EntryPoint]:
    """Third-party sinks by scheme; built-in schemes cannot be taken over by a plug-in."""
    found = metadata.entry_points(group=ENTRY_POINT_GROUP)
    return {ep.name: ep for ep in found if ep.name not in SCHEMES}


def known_schemes() -> list[str]:
    return sorted(set(SCHEMES) | set(plugin_entry_points()))


def allowed() -> str:
    plugins = sorted(plugin_entry_points())
    return ", ".join([*FORMS.values(), *(f"{name}:..." for name in plugins)])


def split_uri(uri: str) -> tuple[str, str]:
    """The scheme and what its factory receives; a ConfigError names every known scheme."""
    scheme, sep, rest = uri.partition(":")
    if not sep or scheme not in SCHEMES and scheme not in plugin_entry_points():
        shown = mask_uri(uri)
        raise ConfigError(f"--sink: {shown!r} is not allowed: use {allowed()} "
                          f"(known schemes: {', '.join(known_schemes())})")  # fmt: skip
    if scheme in WHOLE_URI:
        if not rest.startswith("//"):
            raise ConfigError(f"--sink: {mask_uri(uri)!r} is not a PostgreSQL URI: "
                              "write postgresql://USER@HOST:PORT/DB")  # fmt: skip
        return scheme, uri
    if not rest:
        raise ConfigError(f"--sink: {uri!r} has no path: write {scheme}:PATH")
    return scheme, os.path.expanduser(rest)


# `--sink sqlite`: the store's database, kept beside other sinks.
STORE_SQLITE = ("sqlite", "sqlite:")


def check_uri(uri: str) -> None:
    if uri not in STORE_SQLITE:
        split_uri(uri)


# What a local sink writes, as suffixes of its path: discovery never ingests them (a feed
# inside the watched repository would otherwise feed itself).
_SQLITE_SIDE = ("-wal", "-shm", "-journal")
OUTPUT_SUFFIXES: dict[str, tuple[str, ...]] = {
    "sqlite": ("", *_SQLITE_SIDE, "-lock", "-late", *(f"-late{s}" for s in _SQLITE_SIDE)),
    "jsonl": ("", ".run", ".lock"),
    "parquet": ("",),
}


def sink_key(uri: str) -> tuple[str, str]:
    """What a sink URI writes to: two URIs with one key would write the same place."""
    if uri in STORE_SQLITE:
        return ("sqlite", "")
    scheme, rest = split_uri(uri)
    if scheme in OUTPUT_SUFFIXES and rest != "-":
        return (scheme, str(Path(rest).expanduser().resolve()))
    return (scheme, rest)


def repeated(uris: Sequence[str]) -> int | None:
    """The index of the first URI that writes where an earlier one does, if any."""
    keys = [sink_key(uri) for uri in uris]
    return next((i for i, key in enumerate(keys) if key in keys[:i]), None)


def output_paths(uris: Sequence[str]) -> list[Path]:
    """The files and directories the local sinks of ``uris`` write (the store's are the
    store's)."""
    found = []
    for uri in uris:
        if uri in STORE_SQLITE:
            continue
        scheme, rest = split_uri(uri)
        if scheme == "jsonl" and rest == "-":  # standard output
            continue
        found += [Path(rest + suffix).resolve() for suffix in OUTPUT_SUFFIXES.get(scheme, ())]
    return found


def mask_uri(uri: str) -> str:
    """The URI with any password replaced by ``***``: safe for messages, logs and reports."""
    scheme, _, rest = uri.partition(":")
    if not rest.startswith("//"):
        return uri
    try:
        parts = urlsplit(uri)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, hosts = netloc.rpartition("@")
            user, colon, _password = userinfo.partition(":")
            netloc = f"{user}{':***' if colon else ''}@{hosts}"
        query = parts.query
        if query:
            pairs = [(k, "***" if k == "password" else v) for k, v in parse_qsl(query, True)]
            query = urlencode(pairs, safe="*/:=")
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return f"{scheme}://***"


def load_factory(scheme: str) -> Any:
    """The factory of a scheme; a missing extra is one line naming what to install."""
    if scheme not in SCHEMES:
        try:
            return plugin_entry_points()[scheme].load()
        except Exception as exc:  # a broken plug-in must not take the CLI down with a traceback
            raise SinkError(f"--sink {scheme}: the plug-in sink failed to load "
                            f"({type(exc).__name__}: {exc})") from exc  # fmt: skip
    module_name, _, factory = SCHEMES[scheme].partition(":")
    try:
        module = import_module(module_name)
    except ImportError as exc:
        extra = EXTRAS.get(scheme)
        if extra is None:
            raise
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"--sink {scheme}: needs the {extra} extra: "
                        f"pip install 'snake-pipe[{extra}]' ({reason})") from exc  # fmt: skip
    return getattr(module, factory)


def open_sink(uri: str) -> Sink:
    scheme, rest = split_uri(uri)
    sink = load_factory(scheme)(rest)
    if not isinstance(sink, Sink):
        raise SinkError(f"--sink {scheme}: the plug-in returned {type(sink).__name__}, "
                        "not a snake_pipe.sinks.Sink")  # fmt: skip
    sink.uri = mask_uri(uri)
    return sink
