"""What runs inside a parser process: bytes in, a ``FileResult`` out.

Pure functions over ``WorkItem``s. Parsers and compiled queries are cached per process, so a
worker compiles each language's queries once, however many batches it runs.
"""

from __future__ import annotations

import gc
import hashlib
import importlib
import multiprocessing
import os
import select
import signal
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from functools import cache
from typing import Literal

import tree_sitter as ts
import tree_sitter_language_pack as tslp

from snake_pipe import languages, plugins
from snake_pipe.files import NotRegularFile, open_regular
from snake_pipe.parse.ast import encode_tree
from snake_pipe.parse.tags import extract_tags, tags_query
from snake_pipe.records import FileResult, ParseError, WorkItem


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    """The part of the configuration a parser process needs."""

    max_file_bytes: int = 1 << 20
    max_errors_per_file: int = 100
    ast: bool = False
    parse_timeout_ms: int = 0  # 0: no watchdog (the inline executor must never exit)


# A worker whose file takes longer than parse_timeout_ms is ended by the kernel's SIGALRM
# (its default action), which needs no GIL: a parse or query that holds it for minutes (a
# tree-sitter query over 100,000 unclosed brackets) would starve a watchdog thread. The
# coordinator reads this exit code to tell a timeout from a crash.
TIMEOUT_EXIT = -signal.SIGALRM
# Names a module imported by every worker, for fault-injection tests only.
TEST_HOOK_ENV = "SNAKE_PIPE_TEST_WORKER_HOOK"

_options = WorkerOptions()
# Dedup, per process: recent results by content, bounded by their rows (symbols, imports,
# errors) as well as their number, since a few big generated files can hold 100 MB of rows.
_by_content: OrderedDict[tuple[str, str], FileResult] = OrderedDict()
_dedup_rows = [0]
DEDUP_ENTRIES = 2048
DEDUP_ROWS = 50_000
DEDUP_MAX_AST = 64 << 10  # bigger trees are not kept for reuse: memory stays flat


def _rows(result: FileResult) -> int:
    return 1 + len(result.symbols) + len(result.imports) + len(result.parse_errors)


def init_worker(options: WorkerOptions) -> None:
    """Process-pool initializer: remember the options, load the extractor plug-ins once;
    grammars load on first use."""
    global _options
    _options = options
    _by_content.clear()  # results made under other options or plug-ins (inline executor)
    _dedup_rows[0] = 0
    if (
        multiprocessing.parent_process() is not None
        and threading.current_thread() is threading.main_thread()
    ):
        # Ctrl-C and a closed terminal's hangup reach the whole process group; the
        # coordinator alone decides what stops
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)  # the watchdog's: ends the process
        # the coordinator's stdout may carry `jsonl:-` or `--report -`: what a plug-in or a
        # library writes here, even from C, goes to stderr
        os.dup2(2, 1)
        # A parser makes many small tuples and no reference cycles worth hunting: the cyclic
        # collector would walk the young ones thousands of times per batch for nothing.
        gc.freeze()
        gc.set_threshold(50_000, 50, 50)
        if (parent := multiprocessing.parent_process()) is not None and parent.pid:
            threading.Thread(target=_exit_with, args=(parent.pid,),
                             name="snake-pipe-orphan-guard", daemon=True).start()  # fmt: skip
    plugins.load()
    if hook := os.environ.get(TEST_HOOK_ENV):
        try:
            importlib.import_module(hook)
        except ImportError as exc:  # one line, not a traceback per worker
            print(f"snake-pipe worker: {TEST_HOOK_ENV}={hook}: {exc}", file=sys.stderr)
            os._exit(3)


def _exit_with(pid: int) -> None:
    """Exit when the process that started this one is gone (killed with -9, say): a pool
    worker waits on a queue whose pipe it holds both ends of, so it would never notice."""
    try:
        pidfd: int | None = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):  # no pidfd (not Linux, or an old kernel)
        pidfd = None
    if pidfd is not None:
        select.select([pidfd], [], [])  # readable once the process is gone
        os._exit(1)
    import psutil  # only here: every parser would import it for nothing

    while psutil.pid_exists(pid):  # look every second instead
        time.sleep(1.0)
    os._exit(1)


@cache
def parser_for(language: str) -> ts.Parser:
    return tslp.get_parser(language)  # type: ignore[arg-type]


def git_blob_id(content: bytes) -> str:
    """The id git gives these bytes, so hashes compare with ``git ls-files -s``."""
    digest = hashlib.sha1(b"blob %d\0" % len(content), usedforsecurity=False)
    digest.update(content)
    return digest.hexdigest()


def count_lines(content: bytes) -> int:
    if not content:
        return 0
    return content.count(b"\n") + (0 if content.endswith(b"\n") else 1)


def read_item(item: WorkItem) -> bytes:
    if item.content is not None:
        return item.content
    limit = _options.max_file_bytes + 1
    with open_regular(item.abs_path) as f:  # replaced by a FIFO since discovery: no hang
        # Ask for the size discovery saw (+1 to notice growth): a read of max_file_bytes would
        # allocate a MiB buffer for every small file.
        content = f.read(min(item.size + 1, limit))
        if item.size < len(content) < limit:  # grew since discovery
            content += f.read(limit - len(content))
        return content


def unreadable(item: WorkItem, exc: OSError) -> FileResult:
    """The record of a file that could not be read."""
    if isinstance(exc, NotRegularFile):  # a FIFO or the like since discovery
        return FileResult.skipped(item.path, 0, item.mtime_ns, "special", f"{exc}: not read")
    return FileResult.failed(
        item.path, item.size, item.mtime_ns, "read", f"{exc.strerror or exc}", item.language
    )


def extract_file(item: WorkItem) -> FileResult:
    """Extract one file; every failure becomes a record, never an exception."""
    opts = _options
    if item.size > opts.max_file_bytes:
        return FileResult.skipped(
            item.path, item.size, item.mtime_ns, "too_large",
            f"{item.size} bytes is over max_file_bytes={opts.max_file_bytes}", item.language,
        )  # fmt: skip
    try:
        content = read_item(item)
    except OSError as exc:
        return unreadable(item, exc)
    if len(content) > opts.max_file_bytes:  # grew since discovery
        return FileResult.skipped(
            item.path, item.size, item.mtime_ns, "too_large",
            f"over max_file_bytes={opts.max_file_bytes}", item.language,
        )  # fmt: skip
    content_hash = git_blob_id(content)
    if content_hash == item.prior_hash:
        return FileResult(item.path, item.language, item.size, item.mtime_ns, content_hash,
                          unchanged=True)  # fmt: skip
    result = FileResult(
        item.path, item.language, item.size, item.mtime_ns,
        content_hash=content_hash, line_count=count_lines(content),
    )  # fmt: skip
    if languages.is_binary(content):
        result.status, result.error_category, result.error = "skipped", "binary", "binary file"
        return result
    try:
        source = languages.source_text(content)
    except UnicodeDecodeError as exc:  # UTF-16 after its byte-order mark, cut or corrupt
        result.status, result.error_category = "failed", "decode"
        result.error = (f"not valid UTF-16 after its byte-order mark ({exc.reason} at byte "
                        f"{exc.start}): save it again as UTF-8 or UTF-16")  # fmt: skip
        return result
    if source is not content:  # UTF-16 counts its lines in two-byte units; a CR may end one
        result.line_count = count_lines(source)
    language = item.language
    if language is None and (named := languages.by_text(source)):
        language = named[0]
    if language is None:
        result.status, result.error_category = "skipped", "unsupported"
        result.error = "no grammar for this file name, extension, shebang or mode line"
        return result
    language = result.language = languages.by_content(language, item.path, source)
    if language not in languages.supported_languages():  # named by content: VBA, Prolog, ...
        result.status, result.error_category = "skipped", "unsupported"
        result.error = f"{language} (by its content): tree-sitter-language-pack has no grammar"
        return result
    key = (content_hash, language)
    if (seen := _by_content.get(key)) is not None:
        return replace(seen, path=item.path, size_bytes=item.size, mtime_ns=item.mtime_ns,
                       duplicate=True)  # fmt: skip
    parse_into(result, language, source)
    rows = _rows(result)
    if (result.ast is None or len(result.ast) < DEDUP_MAX_AST) and rows < DEDUP_ROWS:
        _by_content[key] = result
        _dedup_rows[0] += rows
        while len(_by_content) > DEDUP_ENTRIES or _dedup_rows[0] > DEDUP_ROWS:
            _dedup_rows[0] -= _rows(_by_content.popitem(last=False)[1])
    return result


def parse_into(result: FileResult, language: str, source: bytes) -> None:
    started = time.perf_counter()
    grammar = languages.grammar_for(language, source)
    tree = parse(grammar, source)
    root = tree.root_node
    result.node_count = root.descendant_count
    tags = tags_query(grammar)
    if tags is not None:
        result.symbols, result.imports = extract_tags(tags, root)
    if root.has_error:
        errors = collect_errors(root)
        result.syntax_error_count = len(errors)
        result.parse_errors = errors[: _options.max_errors_per_file]
        result.status = "syntax_error"
    if _options.ast:
        result.ast = encode_tree(tree)
    result.parse_ms = round((time.perf_counter() - started) * 1000, 3)
    if plugins.active:
        plugins.run_plugins(result, language, source, tree)


def parse(grammar: str, source: bytes) -> ts.Tree:
    """The tree of ``source``; where it has errors, the tree of a second reading (every
    branch of conditional compilation at once, Bash's extended globs as words) if that has
    fewer."""
    parser = parser_for(grammar)
    tree = parser.parse(languages.as_read(grammar, source))
    if tree.root_node.has_error and (blanked := languages.second_reading(grammar, source)):
        other = parser.parse(blanked)
        if not other.root_node.has_error or (
            len(collect_errors(other.root_node)) < len(collect_errors(tree.root_node))
        ):
            return other
    return tree


def collect_errors(root: ts.Node) -> list[ParseError]:
    """Every ERROR and MISSING node, in source order. The walk descends only into subtrees
    that hold an error: a query would visit every node, and most of a broken file is fine."""
    found: list[tuple[int, int, bool, ts.Node]] = []  # (row, column, is MISSING, node)
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_missing:
            found.append((*node.start_point, True, node))
            continue
        if node.is_error:
            found.append((*node.start_point, False, node))
        # an ERROR node inside another may have no error cost, so no has_error of its own
        inner = [c for c in node.children if c.has_error or c.is_error]
        if not inner and not node.is_error:
            # a hidden MISSING token (some external scanners make them): at its closest
            # visible ancestor
            found.append((*node.start_point, True, node))
        stack.extend(reversed(inner))
    found.sort(key=lambda f: f[:3])
    kinds: tuple[Literal["ERROR"], Literal["MISSING"]] = ("ERROR", "MISSING")
    return [
        ParseError(kinds[missing], row + 1, col + 1, n.end_point[0] + 1, n.end_point[1] + 1)
        for row, col, missing, n in found
    ]


def process_batch(items: list[WorkItem | FileResult]) -> list[FileResult]:
    """The batch function the executors run: one result per item, in order. Items that
    discovery already finished (a symlink not followed, say) pass through unchanged."""
    results = []
    # the watchdog: a file that runs too long cannot be interrupted from inside (its parse is
    # C code), so the kernel ends the process and the coordinator marks the file timeout
    timeout_s = _options.parse_timeout_ms / 1000
    for item in items:
        if isinstance(item, FileResult):
            results.append(item)
            continue
        if timeout_s:
            signal.setitimer(signal.ITIMER_REAL, timeout_s)
        try:
            results.append(extract_file(item))
        except Exception as exc:  # a bug must cost one file, not the batch
            results.append(FileResult.failed(
                item.path, item.size, item.mtime_ns, "internal",
                f"{type(exc).__name__}: {exc}", item.language,
            ))  # fmt: skip
        finally:
            if timeout_s:
                signal.setitimer(signal.ITIMER_REAL, 0)
    return results
