"""Which paths are in the repository's inventory: ignore files, --include/--exclude, and why.

Git's precedence: a deeper ``.gitignore`` beats a shallower one, which beats
``.git/info/exclude``; the last matching line of a file wins; a directory that is ignored is
never entered, so nothing below it can be re-included. ``--exclude`` beats everything;
``--include``, when given, keeps only matching files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pathspec

from snake_pipe.config import Config
from snake_pipe.files import open_regular
from snake_pipe.gitindex import common_dir, git_dir

NEVER = frozenset({".git"})  # VCS metadata, at any depth (submodules carry a .git file)
_NAMED_GROUP = re.compile(r"\(\?P<[^>]+>")
_SUFFIX_GLOB = re.compile(r"\*\.[\w+.-]+")  # `*.py`: any path part ending in `.py`


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether a path is kept, and the rule that decided it (None: no rule matched)."""

    included: bool
    rule: str | None = None


KEEP = Decision(True, None)
_MATCHED = Decision(False, None)  # matched by a pattern of an ``exact`` file
_NOT_INCLUDED = Decision(False, "not matched by any --include pattern")


@dataclass(frozen=True, slots=True)
class RuleFile:
    """The patterns of one ignore file (or option), anchored at ``base`` (repo-relative)."""

    base: str
    label: str
    spec: pathspec.GitIgnoreSpec
    line_numbers: tuple[int, ...]
    texts: tuple[str, ...]
    prefilter: re.Pattern[str] | None
    # no negation and no directories-only `X/**/`: a file that a prefilter hits is ignored
    exact: bool
    suffixes: tuple[str, ...] | None  # when every pattern is `*.ext`: a faster prefilter
    # per pattern, last first: (index, regex, ends at a directory's slash, directories only)
    matchers: tuple[tuple[int, re.Pattern[str], bool, bool], ...]

    @classmethod
    def from_lines(cls, base: str, label: str, lines: list[str]) -> RuleFile:
        kept = [(i + 1, line.rstrip("\r\n")) for i, line in enumerate(lines)]
        kept = [(n, t) for n, t in kept if t.strip() and not t.startswith("#")]
        spec = pathspec.GitIgnoreSpec.from_lines([t for _, t in kept])
        texts = tuple(t for _, t in kept)
        matchers = []
        for index, p in reversed(list(enumerate(spec.patterns))):
            if p.include is None or p.regex is None:
                continue
            regex, dir_only = p.regex, False
            if texts[index].endswith("/**/"):  # `lib/**/`: the directories below lib
                regex, dir_only = _compiled(texts[index].lstrip("!")[:-1]), True
            if "ps_d" in regex.groupindex:  # matched where a directory's slash is: end there
                matchers.append((index, re.compile(rf"(?:{regex.pattern})\Z"), True, dir_only))
            else:
                matchers.append((index, regex, False, dir_only))
        regexes = [_NAMED_GROUP.sub("(?:", m[1].pattern) for m in matchers]
        prefilter = re.compile("|".join(f"(?:{r})" for r in regexes)) if regexes else None
        suffixes = None
        if texts and all(_SUFFIX_GLOB.fullmatch(t) for t in texts):
            suffixes = tuple(t[1:] for t in texts)
        exact = not any(p.include is False for p in spec.patterns) and not any(
            m[3] for m in matchers
        )  # fmt: skip
        return cls(
            base, label, spec, tuple(n for n, _ in kept), texts,
            prefilter, exact, suffixes, tuple(matchers),
        )  # fmt: skip

    def check(self, rel: str, is_dir: bool, why: bool = True) -> Decision | None:
        """Ignored (included=False), re-included by a negation (True), or None: no opinion.
        Without ``why`` the decision may name no rule."""
        if self.base:
            if not rel.startswith(self.base + "/"):
                return None
            rel = rel[len(self.base) + 1 :]
        if is_dir:
            rel += "/"
        if self.suffixes is not None:
            if not rel.rstrip("/").rpartition("/")[2].endswith(self.suffixes):
                return None  # (the walk asks about each directory on the way down)
        elif self.prefilter is None or not self.prefilter.search(rel):
            return None
        if not why and self.exact and not is_dir:
            return _MATCHED
        index = self.match(rel, is_dir)
        if index is None:
            return None
        where = f"{self.label}:{self.line_numbers[index]}"
        return Decision(not self.spec.patterns[index].include, f"{where}: {self.texts[index]}")

    def match(self, path: str, is_dir: bool) -> int | None:
        """The last pattern that matches ``path`` itself (a directory's with a trailing slash),
        as git decides for each path its walk reaches. pathspec's own answer is for a file's
        whole path, so a directory pattern also matches what is below it: `!packages/` would
        re-include packages/a/node_modules/ that `node_modules/` ignores, and `lib/**` would
        match lib itself."""
        for index, regex, at_slash, dir_only in self.matchers:
            if dir_only and not is_dir:
                continue
            if at_slash:
                if regex.search(path) is not None:
                    return index
            elif (m := regex.search(path)) is not None and not (is_dir and m.end() == len(path)):
                return index  # (`lib/**`, whose regex is `^lib/`, is not lib itself)
        return None


def _compiled(text: str) -> re.Pattern[str]:
    regex = pathspec.GitIgnoreSpec.from_lines([text]).patterns[0].regex
    assert regex is not None
    return regex


def read_rule_file(path: Path, base: str, label: str) -> RuleFile | None:
    try:
        with open_regular(path) as f:
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    return RuleFile.from_lines(base, label, text.splitlines())


class Rules:
    """The ignore rules of one repository, loading nested .gitignore files as the walk goes."""

    def __init__(self, root: Path, config: Config, never: dict[str, str] | None = None) -> None:
        self.root = root
        self.config = config
        self.never_paths = never or {}  # repo-relative path -> why (the store, sink outputs)
        self.exclude = (
            RuleFile.from_lines("", "--exclude", list(config.exclude)) if config.exclude else None
        )
        self.include = (
            RuleFile.from_lines("", "--include", list(config.include)) if config.include else None
        )
        self.base_files: tuple[RuleFile, ...] = ()
        if not config.no_ignore:
            info = common_dir(git_dir(root)) / "info" / "exclude"
            found = read_rule_file(info, "", ".git/info/exclude")
            self.base_files = (found,) if found else ()

    def dir_rules(self, rel_dir: str, parent: tuple[RuleFile, ...]) -> tuple[RuleFile, ...]:
        """The rule chain inside ``rel_dir``: its parent's plus its own .gitignore, if any."""
        if self.config.no_ignore:
            return parent
        label = f"{rel_dir}/.gitignore" if rel_dir else ".gitignore"
        own = read_rule_file(self.root / label, rel_dir, label)
        return (*parent, own) if own else parent

    def decide(
        self,
        rel: str,
        is_dir: bool,
        chain: tuple[RuleFile, ...],
        name: str | None = None,
        why: bool = True,
    ) -> Decision:
        """Keep or drop one path, given the rule chain of its directory; ``why`` names the rule
        (for ``explain``), which costs a pathspec lookup per matched path."""
        if name is None:
            name = rel.rsplit("/", 1)[-1]
        if name in NEVER:
            return Decision(False, f"{name}/ is never ingested")
        if (why_not := self.never_paths.get(rel)) is not None:
            return Decision(False, why_not)
        if self.exclude and (d := self.exclude.check(rel, is_dir, why)) and not d.included:
            return d
        for rule_file in reversed(chain):
            decision = rule_file.check(rel, is_dir, why)
            if decision is not None:
                if not decision.included:
                    return decision
                break
        else:
            decision = None
        if not is_dir and self.include:
            matched = self.include.check(rel, False, why)
            if matched is None or matched.included:
                return _NOT_INCLUDED
            return Decision(True, matched.rule)
        return decision or KEEP

    def root_chain(self) -> tuple[RuleFile, ...]:
        return self.dir_rules("", self.base_files)
