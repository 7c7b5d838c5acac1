"""Discovery: walk a repository with ``os.scandir`` and yield every file to inventory.

Ignored paths are not yielded at all; everything else is, either as a ``WorkItem`` to parse or
as a finished ``FileResult`` (a symlink not followed, an unreadable directory), so that every
discovered file gets a row.
"""

from __future__ import annotations

import errno
import os
import re
import stat as stat_mod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from snake_pipe import languages
from snake_pipe.config import Config
from snake_pipe.errors import ConfigError
from snake_pipe.files import special_file
from snake_pipe.ignore import NEVER, Decision, RuleFile, Rules
from snake_pipe.records import FileResult, WorkItem
from snake_pipe.sinks import output_paths

# (path, size, mtime_ns, language) -> True when the file needs no work: it is counted, not yielded
Skip = Callable[[str, int, int, str | None], bool]


def record_path(rel: str) -> str:
    """A path as stored: undecodable bytes of a file name become ``\\xNN`` escapes, and a
    backslash is doubled, so that no two names give one path (``os_path`` undoes it)."""
    if "\\" in rel:
        rel = rel.replace("\\", "\\\\")
    elif rel.isascii():
        return rel
    try:
        rel.encode("utf-8")
        return rel
    except UnicodeEncodeError:
        raw = rel.encode("utf-8", "surrogateescape")
        return raw.decode("utf-8", "backslashreplace")


_ESCAPE = re.compile(r"\\(\\|x[0-9a-f]{2})")


def os_path(path: str) -> str:
    """The repository-relative file name a stored ``path`` was made from."""
    if "\\" not in path:
        return path
    return _ESCAPE.sub(_unescape, path)


def _unescape(found: re.Match[str]) -> str:
    escape = found[1]
    if escape == "\\":
        return escape
    return bytes([int(escape[1:], 16)]).decode("utf-8", "surrogateescape")


@dataclass
class Walker:
    """Walks one repository; ``.git``, the ``store``, what the configured sinks write and the
    run's other ``outputs`` (its report and event log) are never entered or listed."""

    root: Path
    config: Config
    store: Path | None = None
    outputs: Sequence[Path] = ()

    def __post_init__(self) -> None:
        self.root = self.root.resolve()
        never: dict[str, str] = {}
        for path in output_paths(self.config.sinks):
            if path.is_relative_to(self.root) and path != self.root:
                never[path.relative_to(self.root).as_posix()] = "a sink's output is never ingested"
        for path in self.outputs:
            if path.is_relative_to(self.root) and path != self.root:
                never[path.relative_to(self.root).as_posix()] = (
                    "the run's report and event log are never ingested"
                )
        if self.store is not None:
            store = self.store.resolve()
            if store.is_relative_to(self.root) and store != self.root:
                never[store.relative_to(self.root).as_posix()] = (
                    "the snake-pipe store is never ingested"
                )
        self.rules = Rules(self.root, self.config, never)
        # directories walked, by (device, inode): a followed link into one is not walked again
        self.seen_dirs: set[tuple[int, int]] = set()
        # followed links to files, by their targets' paths: a watch that sees a target change
        # redoes its links too (the OS reports the change at the target only)
        self.file_links: dict[str, set[str]] = {}
        # directories that could not be listed (a permission, an I/O error): the files known
        # below them are kept as they are, not taken for deleted
        self.unlisted: list[str] = []
        self._skip: Skip | None = None
        self.skipped = 0

    def walk(self, skip: Skip | None = None) -> Iterator[WorkItem | FileResult]:
        """Depth-first, with an explicit stack: no generator chain as deep as the tree.
        Followed directory links are walked last, so every real directory is reached by its
        real path first and walked once. Files ``skip`` accepts are only counted in
        ``skipped``: an unchanged re-run then builds no item for them."""
        self._skip, self.skipped = skip, 0
        root_stat = self.root.stat()
        self.seen_dirs = {(root_stat.st_dev, root_stat.st_ino)}
        self._linked_dirs: list[tuple[str, tuple[RuleFile, ...]]] = []
        stack: list[tuple[str, tuple[RuleFile, ...]]] = [("", self.rules.base_files)]
        while stack:
            rel_dir, parent_chain = stack.pop()
            subdirs: list[str] = []
            linked: list[str] = []
            chain = parent_chain
            for found in self.walk_dir(rel_dir, parent_chain, subdirs, linked):
                if isinstance(found, tuple):
                    chain = found
                else:
                    yield found
            stack.extend((rel, chain) for rel in reversed(subdirs))
            self._linked_dirs.extend((rel, chain) for rel in linked)
            while not stack and self._linked_dirs:
                rel, chain = self._linked_dirs.pop(0)
                if self._first_visit(rel):
                    stack.append((rel, chain))
                else:
                    yield walked_already(rel)

    def _first_visit(self, rel_dir: str) -> bool:
        """Remember a directory by device and inode; False if it was walked already."""
        try:
            st = os.stat(f"{self.root}/{rel_dir}" if rel_dir else self.root)
        except OSError:
            return False
        key = (st.st_dev, st.st_ino)
        if key in self.seen_dirs:
            return False
        self.seen_dirs.add(key)
        return True

    def walk_dir(
        self,
        rel_dir: str,
        parent_chain: tuple[RuleFile, ...],
        subdirs: list[str],
        linked: list[str] | None = None,
    ) -> Iterator[WorkItem | FileResult | tuple[RuleFile, ...]]:
        """The files of one directory; its subdirectories go to ``subdirs`` (followed directory
        links to ``linked`` if given), and its rule chain (with its own .gitignore) is yielded
        first when it has one."""
        abs_dir = f"{self.root}/{rel_dir}" if rel_dir else str(self.root)
        try:
            with os.scandir(abs_dir) as it:
                entries = list(it)
        except OSError as exc:
            if exc.errno != errno.ENOENT:  # still there: what it holds is not deleted
                self.unlisted.append(record_path(rel_dir))
            if rel_dir:  # a directory that vanished or may not be read still gets a row
                yield FileResult.failed(record_path(rel_dir), 0, 0, "read",
                                        f"cannot list directory: {exc.strerror or exc}")  # fmt: skip
            return
        if self.config.follow_symlinks and rel_dir:
            self._first_visit(rel_dir)  # so a link to it is not walked again
        chain = parent_chain
        if any(e.name == ".gitignore" for e in entries):
            chain = self.rules.dir_rules(rel_dir, parent_chain)
            yield chain
        decide = self.rules.decide
        prefix = f"{rel_dir}/" if rel_dir else ""
        for entry in entries:
            rel = prefix + entry.name
            try:
                is_link = entry.is_symlink()
                is_dir = not is_link and entry.is_dir(follow_symlinks=False)
            except OSError:
                continue  # vanished between listing and looking
            if not decide(rel, is_dir, chain, entry.name, why=False).included:
                continue
            if is_link:
                yield from self.symlink_items(rel, entry, subdirs if linked is None else linked)
            elif is_dir:
                subdirs.append(rel)
            elif (found := self.file_item(rel, entry.path, entry)) is not None:
                yield found

    def file_item(
        self, rel: str, abs_path: str, entry: os.DirEntry[str] | None
    ) -> WorkItem | FileResult | None:
        try:
            st = entry.stat(follow_symlinks=False) if entry else os.stat(abs_path)
        except OSError as exc:
            return FileResult.failed(record_path(rel), 0, 0, "read", exc.strerror or str(exc))
        path = record_path(rel)
        if (special := special_file(st.st_mode)) is not None:
            return FileResult.skipped(path, 0, st.st_mtime_ns, "special",
                                      f"{special}, not a regular file: never opened")  # fmt: skip
        language = languages.by_name(rel)
        if self._skip is not None and self._skip(path, st.st_size, st.st_mtime_ns, language):
            self.skipped += 1
            return None
        return WorkItem(path, abs_path, language, st.st_size, st.st_mtime_ns)

    def never_target(self, rel: str) -> str | None:
        """What a link's target is in that is never ingested (.git/, the store), if it is."""
        parts = rel.split("/")
        if any(part in NEVER for part in parts):
            return ".git/, which is never ingested"
        for depth in range(1, len(parts) + 1):
            if "/".join(parts[:depth]) in self.rules.never_paths:
                return f"{'/'.join(parts[:depth])}, which is never ingested"
        return None

    def symlink_items(
        self, rel: str, entry: os.DirEntry[str], subdirs: list[str]
    ) -> Iterator[WorkItem | FileResult]:
        path = record_path(rel)
        target = os.path.realpath(entry.path)
        if not self.config.follow_symlinks:
            yield FileResult.skipped(path, 0, 0, "symlink", "symbolic link, not followed "
                                     "(follow_symlinks = true follows links inside the repo)")  # fmt: skip
            return
        if not Path(target).is_relative_to(self.root):
            yield FileResult.skipped(path, 0, 0, "symlink", "symbolic link out of the repository")
            return
        target_rel = Path(target).relative_to(self.root).as_posix()
        if (why := self.never_target(target_rel)) is not None:
            yield FileResult.skipped(path, 0, 0, "symlink", f"symbolic link into {why}")
            return
        try:
            st = os.stat(entry.path)
        except OSError as exc:
            reason = "dangling" if not os.path.lexists(target) else exc.strerror or str(exc)
            self.file_links.setdefault(target_rel, set()).add(rel)  # redone when it is made
            yield FileResult.skipped(path, 0, 0, "symlink", f"symbolic link: {reason}")
            return
        if stat_mod.S_ISDIR(st.st_mode):
            if (st.st_dev, st.st_ino) in self.seen_dirs:
                yield walked_already(rel)  # a loop, or a second way into a walked directory
            else:
                subdirs.append(rel)
        else:
            if stat_mod.S_ISREG(st.st_mode):
                self.file_links.setdefault(target_rel, set()).add(rel)
            if found := self.file_item(rel, entry.path, None):
                yield found


def walked_already(rel: str) -> FileResult:
    return FileResult.skipped(record_path(rel), 0, 0, "symlink", "symbolic link to a directory "
                              "walked already (each directory is walked once)")  # fmt: skip


def explain(root: Path, rel: str, config: Config, store: Path | None = None) -> list[str]:
    """Why ``rel`` is ingested, ignored or skipped, one line per step, for ``snake-pipe explain``;
    the same rules in the same order as the walk. A path outside the repository is a
    ``ConfigError``; one that does not exist gets the rules' answer as if it did, then ends
    with a ``not found:`` line."""
    walker = Walker(root, config, store)
    rel = _repo_relative(walker.root, rel)
    parts = rel.split("/")
    chain = walker.rules.root_chain()
    lines: list[str] = []
    missing = ""  # the first part of the path that does not exist
    for depth in range(len(parts)):
        sub = "/".join(parts[: depth + 1])
        abs_path = walker.root / sub
        try:
            is_link = abs_path.is_symlink()
            is_dir = not is_link and (abs_path.is_dir() or depth < len(parts) - 1)
        except OSError as exc:  # a directory above it that may not be searched
            return [*lines, f"failed: cannot look at {sub} ({exc.strerror or exc}): the walk "
                    "records a directory it cannot list as failed (read)"]  # fmt: skip
        missing = missing or ("" if os.path.lexists(abs_path) else sub)
        decision: Decision = walker.rules.decide(sub, is_dir, chain)
        if not decision.included:
            what = "directory" if is_dir else "file"
            lines.append(f"ignored: {what} {sub} ({decision.rule})")
            break
        if decision.rule:
            lines.append(f"included by {decision.rule}")
        if is_link and (why := _link_stops(walker, sub)) is not None:
            return [*lines, f"skipped: {sub} is a symbolic link: {why}"]
        if is_dir or (is_link and abs_path.is_dir()):
            chain = walker.rules.dir_rules(sub, chain)
    else:
        if not missing:
            return [*lines, *_explain_file(walker.root / rel, rel, config)]
        lang = languages.by_name(rel)
        lines.append(f"included: language {lang} (by file name or extension)" if lang else
                     "included: no grammar for its name (unsupported, unless a shebang names one)")  # fmt: skip
    if missing:
        lines.append(f"not found: {missing} does not exist (the lines above say what the rules "
                     f"would do with {rel})")  # fmt: skip
    return lines


def _repo_relative(root: Path, rel: str) -> str:
    """``rel`` from the repository, or else from the current directory (``explain R R/a.py``,
    ``./a.py`` inside it); lexical: a link in the path is explained."""
    path = _within(root, Path(os.path.normpath(root / rel)))
    here = _within(root, Path(os.path.normpath(Path.cwd() / rel)))
    if not os.path.lexists(path) and here.is_relative_to(root) and os.path.lexists(here):
        path = here
    if not path.is_relative_to(root) or path == root:
        raise ConfigError(f"explain: {rel} is not a path inside the repository {root}")
    return path.relative_to(root).as_posix()


def _within(root: Path, path: Path) -> Path:
    """``path``, or if it reaches the repository through links in its directories (a shell's
    $PWD through a linked /home), the same path from the repository's real one."""
    if path.is_relative_to(root):
        return path
    real = Path(os.path.realpath(path.parent)) / path.name
    return real if real.is_relative_to(root) else path


def _link_stops(walker: Walker, rel: str) -> str | None:
    """Why the walk stops at the link ``rel``, as ``symlink_items`` decides; None if it goes on."""
    if not walker.config.follow_symlinks:
        return "not followed (follow_symlinks is off)"
    target = Path(os.path.realpath(walker.root / rel))
    if not target.is_relative_to(walker.root):
        return f"it links out of the repository, to {target}"
    if (never := walker.never_target(target.relative_to(walker.root).as_posix())) is not None:
        return f"it links into {never}"
    if not target.exists():
        return "dangling"
    if target.is_dir() and _walked(walker, target.relative_to(walker.root).as_posix()):
        return "it links to a directory walked by its own path (each directory is walked once)"
    return None


def _walked(walker: Walker, rel_dir: str) -> bool:
    """True if the walk reaches directory ``rel_dir`` by its real path."""
    if not rel_dir or rel_dir == ".":
        return True
    chain = walker.rules.root_chain()
    parts = rel_dir.split("/")
    for depth in range(len(parts)):
        sub = "/".join(parts[: depth + 1])
        if not walker.rules.decide(sub, True, chain).included:
            return False
        chain = walker.rules.dir_rules(sub, chain)
    return True


def _explain_file(abs_path: Path, rel: str, config: Config) -> list[str]:
    if abs_path.is_dir():
        return [f"included: directory {rel} is walked"]
    try:
        st = abs_path.stat()
        if (special := special_file(st.st_mode)) is not None:
            return [f"skipped: {special}, not a regular file (never opened)"]
        size = st.st_size
        if size > config.max_file_bytes:
            return [f"skipped: {size} bytes is over max_file_bytes={config.max_file_bytes}"]
        content = abs_path.read_bytes()
    except OSError as exc:
        return [f"failed: cannot read it ({exc.strerror or exc}): ingest records it as failed "
                "(read)"]  # fmt: skip
    if languages.is_binary(content):
        return ["skipped: binary (a NUL byte in the first 8000 bytes)"]
    text = languages.source_text(content, "replace")  # a UTF-16 file too, or one after a BOM
    by_name = languages.by_name(rel)
    named = (by_name, "file name or extension") if by_name else languages.by_text(text)
    if named is None:
        return ["skipped: unsupported (no grammar for this name, extension, shebang or mode line)"]
    lang, how = named
    if (by_content := languages.by_content(lang, rel, text)) != lang:
        lang, how = by_content, f"content: {lang} by {how}, but it has {by_content} constructs"
    if lang not in languages.supported_languages():
        return [f"skipped: unsupported ({lang}, by {how}: tree-sitter-language-pack has no "
                "grammar for it)"]  # fmt: skip
    return [f"included: language {lang} (by {how})"]
