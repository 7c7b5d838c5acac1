"""Configuration: one frozen model, resolved as CLI > env ``SNAKE_PIPE_<FIELD>`` > file > defaults.

The field docstrings are the documentation: ``config/default.toml`` is rendered from them
(``render_default_toml``) and a test keeps the two equal.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from snake_pipe.errors import ConfigError

ENV_PREFIX = "SNAKE_PIPE_"
TEST_PREFIX = ENV_PREFIX + "TEST_"
MIN_BATCH, MAX_BATCH = 50, 500
QueueOrder = Literal["largest_first", "smallest_first", "newest_first", "discovery"]


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Config(BaseModel):
    """Every setting of a run. Frozen: a run never sees its configuration change under it."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    def __init__(self, **values: Any) -> None:
        """A wrong value is a one-line ``ConfigError`` naming the field, as everywhere else."""
        try:
            super().__init__(**values)
        except ValidationError as exc:
            error = config_error(exc, values, {}, keywords=True)
            error.validation = exc  # for callers that name where the value came from
            raise error from None

    workers: int = Field(default_factory=usable_cores, ge=1, le=1024)
    """Parser processes; the default is the number of usable cores."""

    batch_size: int | Literal["auto"] = "auto"
    """Files per batch: "auto" adapts between 50 and 500 toward target_batch_seconds."""

    target_batch_seconds: float = Field(default=0.5, gt=0, le=60)
    """With batch_size = "auto": how long one batch should take in a worker."""

    batches_in_flight_per_worker: int = Field(default=2, ge=1, le=16)
    """Batches queued per worker, so workers never wait for the coordinator."""

    max_file_bytes: int = Field(default=1 << 20, ge=1)
    """Bigger files are recorded as skipped with error_category "too_large" and not read."""

    max_errors_per_file: int = Field(default=100, ge=0)
    """parse_errors rows kept per file; syntax_error_count still counts all of them."""

    include: tuple[str, ...] = ()
    """Gitignore-style globs; when set, only matching files are ingested."""

    exclude: tuple[str, ...] = ()
    """Gitignore-style globs of files and directories never ingested."""

    no_ignore: bool = False
    """Ignore .gitignore files and .git/info/exclude (include/exclude still apply)."""

    follow_symlinks: bool = False
    """Follow symbolic links that stay inside the repository (never out of it, never in loops)."""

    queue_order: QueueOrder = "largest_first"
    """Order of work: largest_first shortens the tail of a run; newest_first suits watching."""

    ast: bool = False
    """Also store each file's full syntax tree (compact form, table "ast")."""

    sinks: tuple[str, ...] = ()
    """Where records go: sqlite:PATH, jsonl:PATH, postgresql://USER@HOST:PORT/DB,
    parquet:DIR (or a plug-in scheme). Empty means sqlite in the store."""

    store: str | None = None
    """Store directory (checkpoints, records.sqlite); default REPO/.snake-pipe."""

    quiet: bool = False
    """No progress output and no summary table."""

    checkpoint_frequency: int = Field(default=1, ge=0)
    """Commit a checkpoint every N batches (0: only at the end of the run)."""

    checkpoint_interval_s: float = Field(default=30.0, gt=0)
    """...and at least this often, in seconds, whatever checkpoint_frequency says."""

    parse_timeout_ms: int = Field(default=10_000, ge=0)
    """A file parsing longer than this is stopped (its worker is replaced) and recorded
    failed with error_category "timeout"; 0 turns the watchdog off."""

    batch_timeout_s: float = Field(default=600.0, gt=0)
    """A batch in flight longer than this means a stuck worker: the pool is replaced."""

    dask_worker_wait_s: float = Field(default=60.0, gt=0)
    """With a Dask executor: how long to wait for the cluster to have a worker before the run
    stops with an error, instead of holding its batches until one comes."""

    max_retries: int = Field(default=3, ge=0, le=100)
    """Retries of a failed sink write (or batch), with exponential backoff and jitter."""

    initial_backoff_ms: float = Field(default=200.0, ge=0)
    """Wait before the first retry; doubles with each retry."""

    max_backoff_ms: float = Field(default=10_000.0, ge=0)
    """Longest wait between two retries."""

    on_batch_error: Literal["continue", "stop", "retry"] = "continue"
    """After retries run out: continue (the batch is reported failed and redone by the next
    run), stop the run, or retry forever."""

    circuit_breaker_window: int = Field(default=10, ge=1)
    """Batches the circuit breaker looks back over."""

    circuit_breaker_threshold: float = Field(default=0.5, gt=0, le=1)
    """Stop the run when this share of the last circuit_breaker_window batches failed."""

    memory_limit_mb: int = Field(default=0, ge=0)
    """Resident memory of the whole process tree; above it batches shrink and workers are
    recycled. 0: no limit."""

    shutdown_grace_s: float = Field(default=30.0, ge=0)
    """On SIGINT/SIGTERM, how long batches in flight may take to finish before they are dropped."""

    @field_validator("batch_size", mode="before")
    @classmethod
    def _batch_size(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            if not MIN_BATCH <= value <= MAX_BATCH:
                raise ValueError(f'must be "auto" or an integer from {MIN_BATCH} to {MAX_BATCH}')
            return value
        if value == "auto":
            return value
        raise ValueError(f'must be "auto" or an integer from {MIN_BATCH} to {MAX_BATCH}')

    @field_validator("store")
    @classmethod
    def _store(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must be a directory, not empty (leave it unset for REPO/.snake-pipe)")
        return value

    @field_validator("include", "exclude")
    @classmethod
    def _globs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not glob.strip() for glob in value):  # `--include ''` would match nothing
            raise ValueError("a glob may not be empty")
        return value

    @field_validator("*", mode="before")
    @classmethod
    def _no_stray_bools(cls, value: Any, info: ValidationInfo) -> Any:
        """`workers = true` in a TOML file is a mistake, not 1 (pydantic would take it)."""
        field = cls.model_fields.get(info.field_name or "")
        if isinstance(value, bool) and field is not None and not isinstance(field.default, bool):
            raise ValueError("true or false is not allowed here")
        return value

    @field_validator("sinks")
    @classmethod
    def _sinks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from snake_pipe.sinks import check_uri, repeated

        for uri in value:
            check_uri(uri)
        if (i := repeated(value)) is not None:
            raise ValueError(f"{value[i]} is given twice: give each sink once")
        return value

    def fingerprint(self) -> str:
        """Hash of the settings that make a run what it is: an interrupted run resumes only
        under the same ones."""
        return self._hash(EXTRACTION_FIELDS + DISCOVERY_FIELDS)

    def extraction_fingerprint(self) -> str:
        """Hash of the settings that change what records a file yields: part of each file's
        extractor version. Discovery settings only change which files there are."""
        return self._hash(EXTRACTION_FIELDS)

    def _hash(self, keys: tuple[str, ...]) -> str:
        data = json.dumps({k: getattr(self, k) for k in keys}, sort_keys=True)
        return hashlib.sha256(data.encode()).hexdigest()[:16]


EXTRACTION_FIELDS = ("max_file_bytes", "max_errors_per_file", "ast")
DISCOVERY_FIELDS = ("include", "exclude", "no_ignore", "follow_symlinks")


LIST_FIELDS = frozenset({"include", "exclude", "sinks"})


def unknown_env(env: Mapping[str, str]) -> list[str]:
    """One warning per ``SNAKE_PIPE_*`` variable that names no setting (a typo is otherwise
    silently ignored); ``SNAKE_PIPE_TEST_*`` belong to the test suite."""
    known = {ENV_PREFIX + name.upper() for name in Config.model_fields}
    warnings = []
    for var in sorted(env):
        if var.startswith(ENV_PREFIX) and var not in known and not var.startswith(TEST_PREFIX):
            close = difflib.get_close_matches(var, known, n=1, cutoff=0.85)
            hint = f" (did you mean {close[0]}?)" if close else " (snake-pipe config lists them)"
            warnings.append(f"{var} is not a setting{hint}: ignored")
    return warnings


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in Config.model_fields:
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is None:
            continue
        if name in LIST_FIELDS:
            values[name] = tuple(v.strip() for v in raw.split(",") if v.strip())
        elif raw.lower() in ("true", "false", "1", "0", "yes", "no") and isinstance(
            Config.model_fields[name].default, bool
        ):
            values[name] = raw.lower() in ("true", "1", "yes")
        else:
            values[name] = raw
    return values


def _from_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"--config {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--config {path}: cannot read it ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"--config {path}: not valid TOML ({exc})") from None
    unknown = sorted(set(data) - set(Config.model_fields))
    if unknown:
        allowed = ", ".join(Config.model_fields)
        raise ConfigError(f"--config {path}: unknown setting {unknown[0]!r}; known: {allowed}")
    for name in LIST_FIELDS & set(data):
        if isinstance(data[name], str):  # `include = "*.py"`: a list of one
            data[name] = [data[name]]
    return data


def option_name(field: str, source: str) -> str:
    if source == "command line":
        return "--sink" if field == "sinks" else "--" + field.replace("_", "-")
    if source == "environment":
        return ENV_PREFIX + field.upper()
    return f"{field} in {source}"


def resolve_config(
    cli: Mapping[str, Any] | None = None,
    config_file: str | Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """Merge CLI values (None means unset) over env over the file over the defaults."""
    layers: list[tuple[str, dict[str, Any]]] = []
    if config_file is not None:
        layers.append((str(config_file), _from_file(Path(config_file))))
    layers.append(("environment", _from_env(os.environ if env is None else env)))
    layers.append(("command line", {k: v for k, v in (cli or {}).items() if v is not None}))
    merged: dict[str, Any] = {}
    source: dict[str, str] = {}
    for name, values in layers:
        for key, value in values.items():
            merged[key] = value
            source[key] = name
    try:
        return Config(**merged)
    except ConfigError as exc:
        if exc.validation is not None:
            raise config_error(exc.validation, merged, source) from None
        # a sink URI, checked by the sinks' own code as for --sink
        where = option_name("sinks", source.get("sinks", "command line"))
        raise ConfigError(str(exc).replace("--sink", where, 1)) from None


def config_error(
    exc: ValidationError, merged: Mapping[str, Any], source: Mapping[str, str],
    keywords: bool = False,
) -> ConfigError:  # fmt: skip
    """The first error, naming the option where it was set (``keywords``: as Python's
    ``field=value``)."""
    err = exc.errors()[0]
    field = str(err["loc"][0]) if err["loc"] else "?"
    message = str(err["msg"]).removeprefix("Value error, ")
    value = merged.get(field, err.get("input"))
    if keywords:
        return ConfigError(f"{field}={value!r} is not allowed: {message}")
    where = option_name(field, source.get(field, "command line"))
    return ConfigError(f"{where}: {value!r} is not allowed: {message}")


def render_default_toml() -> str:
    """The text of config/default.toml: every field, its documentation and its default."""
    lines = [
        "# snake-pipe configuration: every setting with its default.",
        "# Precedence: command line > environment SNAKE_PIPE_<FIELD> > --config FILE > these.",
        "",
    ]
    for name, info in Config.model_fields.items():
        lines += [f"# {line}" for line in (info.description or "").splitlines()]
        if name == "workers":
            lines.append("# workers = <usable cores>")
        elif name == "store":
            lines.append('# store = "REPO/.snake-pipe"')
        else:
            lines.append(f"{name} = {_toml_value(info.default)}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)
