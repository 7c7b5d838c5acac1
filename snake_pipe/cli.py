"""The command line. Errors become one line on stderr and an exit code, here and only here.

Exit codes: 0 completed (files that failed are data, in the report), 1 the run failed,
2 usage or configuration error, 130/143 interrupted by SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys
from collections.abc import Sequence
from contextlib import ExitStack, closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

from snake_pipe import __version__
from snake_pipe.errors import ConfigError, SnakePipeError
from snake_pipe.executors import check_executor, prestart

if TYPE_CHECKING:  # pydantic and the config load after the parser processes begin to start
    from snake_pipe.config import Config


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, exit 2, as for every usage error
        command = self.prog.removeprefix("snake-pipe").strip()  # the prefix says snake-pipe
        raise ConfigError(f"{command + ': ' if command else ''}{message} (see {self.prog} --help)")


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("repo", help="repository directory to ingest")
    p.add_argument("--store", help="store directory (default REPO/.snake-pipe)")
    p.add_argument("--workers", type=_int("--workers"), help="parser processes (default: cores)")
    p.add_argument("--batch-size", help='files per batch, 50-500, or "auto" (default)')
    p.add_argument(
        "--sink",
        action="append",
        dest="sinks",
        metavar="URI",
        help="sqlite:PATH, jsonl:PATH (jsonl:- for stdout), postgresql://USER@HOST/DB or "
        "parquet:DIR; repeatable (default: sqlite in the store)",
    )
    p.add_argument("--report", metavar="FILE", type=os.path.expanduser,
                   help="write the run report as JSON (- for stdout)")  # fmt: skip
    p.add_argument("--ast", action="store_true", default=None, help="also store full syntax trees")
    _add_discovery_options(p)
    p.add_argument("--max-file-bytes", type=_int("--max-file-bytes"), help="skip bigger files")
    p.add_argument(
        "--executor",
        default="process",
        type=check_executor,
        metavar="{process,inline,dask-local,dask://HOST:PORT}",
        help="where parsers run (default: a process pool; dask: pip install 'snake-pipe[dask]')",
    )
    p.add_argument("--quiet", action="store_true", default=None, help="no progress, no summary")
    p.add_argument("--events", metavar="FILE", type=os.path.expanduser,
                   help="append run events (BatchExecuted, ExecutionFailed, "
                   "CheckpointCreated, ProgressUpdated) as JSON lines (- for stdout)")  # fmt: skip
    p.add_argument(
        "--restart",
        action="store_true",
        help="ignore the checkpoints of earlier runs and process everything again",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="list what the next run would add, update and delete; parse nothing",
    )


def _add_discovery_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config", metavar="FILE", type=os.path.expanduser,
        help="TOML file with settings (snake-pipe config prints them all)",
    )  # fmt: skip
    p.add_argument("--include", action="append", metavar="GLOB", help="only ingest matching files")
    p.add_argument("--exclude", action="append", metavar="GLOB", help="never ingest matching paths")
    p.add_argument("--no-ignore", action="store_true", default=None,
                   help="do not read .gitignore files or .git/info/exclude")  # fmt: skip
    p.add_argument("--follow-symlinks", action="store_true", default=None,
                   help="follow symbolic links that stay inside the repository")  # fmt: skip


def _int(option: str, low: int | None = None, high: int | None = None) -> Any:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(f"{option}: {value!r} is not allowed: must be an integer") from None
        if low is not None and high is not None and not low <= number <= high:
            raise ConfigError(f"{option}: {number} is not allowed: use {low} to {high}")
        return number

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="snake-pipe", description="Ingest source repositories into records.")
    parser.add_argument("--version", action="version", version=f"snake-pipe {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    ingest = sub.add_parser("ingest", help="inventory and parse every file of a repository")
    _add_run_options(ingest)
    explain = sub.add_parser(
        "explain", help="tell why a file is ingested, ignored or skipped",
        description="Tell which rule includes, ignores or skips a file, and its language: what "
        "an ingest with the same options would do.",
    )  # fmt: skip
    explain.add_argument("repo", help="repository directory")
    explain.add_argument("path", help="path of the file, relative to the repository")
    _add_discovery_options(explain)
    explain.add_argument("--store", help="store directory, never ingested")
    explain.add_argument("--max-file-bytes", type=_int("--max-file-bytes"),
                         help="files bigger are skipped")  # fmt: skip
    explain.add_argument("--sink", action="append", dest="sinks", metavar="URI",
                         help="a sink whose files are never ingested")  # fmt: skip
    watch = sub.add_parser("watch", help="ingest, then keep the records live as files change")
    _add_run_options(watch)
    watch.add_argument("--metrics-port", type=_int("--metrics-port", 0, 65535), metavar="N",
                       help="serve /metrics (Prometheus) and /healthz on this port")  # fmt: skip
    watch.add_argument("--metrics-host", default="127.0.0.1", metavar="ADDR",
                       help="address the metrics server binds (default 127.0.0.1)")  # fmt: skip
    watch.add_argument("--poll", action="store_true",
                       help="poll for changes instead of inotify (network filesystems)")  # fmt: skip
    status = sub.add_parser("status", help="the last run, its progress and the files by status")
    status.add_argument("repo", nargs="?", default=".", help="repository (default: .)")
    status.add_argument("--store", help="store directory (default REPO/.snake-pipe)")
    status.add_argument("--json", action="store_true", help="print JSON")
    sub.add_parser(
        "config", help="print every setting with its documentation and default (TOML)",
        description="Print config/default.toml: every setting, documented, at its default; "
        "a starting point for --config FILE.",
    )  # fmt: skip
    return parser


CONFIG_OPTIONS = ("store", "workers", "batch_size", "sinks", "ast", "include", "exclude",
                  "no_ignore", "follow_symlinks", "max_file_bytes", "quiet")  # fmt: skip


def config_from_args(args: argparse.Namespace) -> Config:
    from snake_pipe.config import resolve_config, unknown_env

    for warning in unknown_env(os.environ):
        print(f"snake-pipe: warning: {warning}", file=sys.stderr)

    cli: dict[str, Any] = {k: getattr(args, k, None) for k in CONFIG_OPTIONS}
    for key in ("sinks", "include", "exclude"):
        if isinstance(cli[key], list):
            cli[key] = tuple(cli[key])
    return resolve_config(cli, args.config)


def cmd_ingest(args: argparse.Namespace) -> int:
    if not args.dry_run:
        prestart(args.executor)
    from snake_pipe.events import EventLog
    from snake_pipe.pipeline import ingest
    from snake_pipe.progress import make_view, print_summary

    config = config_from_args(args)
    if args.dry_run:
        from snake_pipe.status import dry_run

        return dry_run(args.repo, config, sys.stdout, args.restart)
    with ExitStack() as stack:
        events = [stack.enter_context(closing(EventLog(args.events)))] if args.events else []
        report = ingest(args.repo, config, report_path=args.report, view=make_view(config.quiet),
                        executor=args.executor, restart=args.restart, events=events,
                        resume_command=same_command(args.argv))  # fmt: skip
    if not config.quiet:
        print_summary(report)
    return 0 if report.status == "completed" else 1


def same_command(argv: list[str]) -> str:
    """This command line, to run again: without --restart, and without sink passwords."""
    from snake_pipe.sinks import mask_uri

    shown = []
    for arg in argv:
        flag, eq, value = arg.partition("=")
        shown.append(f"{flag}={mask_uri(value)}" if eq and flag.startswith("--") else mask_uri(arg))
    command = shlex.join(["snake-pipe", *(a for a in shown if a != "--restart")])
    if shown != argv:  # a password was masked: say how to give it
        command += " (*** is the sink's password: put it back, or set PGPASSWORD and drop it)"
    return command


def cmd_watch(args: argparse.Namespace) -> int:
    if not args.dry_run:
        prestart(args.executor)
    from snake_pipe.events import EventLog
    from snake_pipe.watch import watch_command

    config = config_from_args(args)
    if args.dry_run:
        from snake_pipe.status import dry_run

        return dry_run(args.repo, config, sys.stdout, args.restart)
    metrics = None if args.metrics_port is None else (args.metrics_host, args.metrics_port)
    with ExitStack() as stack:
        events = [stack.enter_context(closing(EventLog(args.events)))] if args.events else []
        return watch_command(args.repo, config, executor=args.executor,
                             reload=lambda: config_from_args(args), config_path=args.config,
                             metrics=metrics, poll=args.poll, restart=args.restart,
                             report_path=args.report, events=events)  # fmt: skip


def cmd_explain(args: argparse.Namespace) -> int:
    from snake_pipe.discover import explain
    from snake_pipe.pipeline import check_repo

    config = config_from_args(args)
    root = check_repo(args.repo)
    store = Path(config.store) if config.store else root / ".snake-pipe"
    lines = explain(root, args.path, config, store)
    print("\n".join(lines))
    return 1 if lines[-1].startswith("not found:") else 0


def cmd_status(args: argparse.Namespace) -> int:
    from snake_pipe.config import ENV_PREFIX
    from snake_pipe.status import print_status

    store = args.store or os.environ.get(f"{ENV_PREFIX}STORE") or None
    return print_status(args.repo, store, args.json, sys.stdout)


def cmd_config(args: argparse.Namespace) -> int:
    from snake_pipe.config import render_default_toml

    sys.stdout.write(render_default_toml())
    return 0


COMMANDS = {"ingest": cmd_ingest, "watch": cmd_watch, "explain": cmd_explain,
            "status": cmd_status, "config": cmd_config}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    # psycopg's pool logs every failed reconnection; the PostgreSQL sink reports its own
    logging.getLogger("psycopg.pool").setLevel(logging.CRITICAL)
    ours = logging.getLogger("snake_pipe")
    if not ours.handlers:
        from snake_pipe.progress import LogHandler

        ours.addHandler(LogHandler())
        ours.propagate = False
    try:
        argv = list(sys.argv[1:] if argv is None else argv)
        args = build_parser().parse_args(argv)
        args.argv = argv
        return COMMANDS[args.command](args)
    except SnakePipeError as exc:
        print(f"snake-pipe: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("snake-pipe: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
