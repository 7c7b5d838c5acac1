"""Symbols and imports from tags-style queries (``queries/<language>.scm``).

Capture names are the contract between a query file and this module:

- ``@definition.<kind>`` on a definition node, with ``@name`` on its name in the same
  pattern: one symbol. ``<kind>`` is one of ``records.SYMBOL_KINDS``.
- ``@scope.<kind>`` with ``@name``: a construct that names a scope for what it contains but is
  no symbol itself (a Rust ``impl`` block, say).
- ``@import.module``: the module, header or path of an import, one row per capture (a
  quantified capture such as ``_+`` gives one row spanning its nodes).
- ``@items`` on a ``{...}`` token tree: the body of a macro call among items (Rust's
  ``cfg_if! {...}``), which the grammar leaves as tokens. The bodies are parsed again, by
  themselves (``included_ranges``, so positions stay the file's), and what the query finds
  there counts as the file's; ``@items.nested`` marks the same in such a body's blocks (a
  ``cfg_if!`` branch), which is followed only there, to ``ITEM_DEPTH`` levels.
- captures starting with ``_`` only feed predicates (``#eq? @_fn "require"``), but for
  ``@_qualified`` (the `A::B` of an out-of-line `A::B::name`, which adds to its scope) and
  ``@_end`` (a node after the definition's that it ends with: Ruby's heredoc body).
- besides tree-sitter's own predicates, ``#parent-type? @capture "type" ...`` (at most one per
  pattern) keeps a match when the captured node's parent has one of the types: a parent step
  costs a pattern a share of the query's compile time, which for a big grammar (C++) is more
  than the parse of many files. It is checked here, on the match, not through the binding's
  predicate callback (py-tree-sitter 0.26.1 leaks each match's captures, and so the whole
  tree, when it calls one).

A ``function`` directly inside a class-like definition becomes a ``method``. When two patterns
capture the same node, the first pattern in the file wins.
"""

from __future__ import annotations

import hashlib
import re
import sys
from functools import cache
from importlib import metadata, resources
from typing import NamedTuple

import tree_sitter as ts
import tree_sitter_language_pack as tslp

from snake_pipe import languages
from snake_pipe.records import Import, Symbol

# Languages whose grammar ends an indented body where the next line's code starts.
INDENTED_BODIES = frozenset({"scala"})
# Languages where a member function named as its class can only be a constructor: one read as
# a method had a macro before it, taken for its return type (`FMT_CONSTEXPR rgb() : r(0) {}`).
NAMED_CONSTRUCTORS = frozenset({"cpp"})
# Bump when extraction code changes what records a file yields: files are parsed again.
EXTRACTOR_VERSION = 18
CLASS_LIKE = frozenset(
    {"class", "struct", "interface", "trait", "enum", "impl", "object", "union", "record"}
)
_QUOTES = "\"'`"
_DOTTED_NAMES = frozenset({"dotted_name", "relative_import"})
_CAPTURE = re.compile(r"@([\w.]+)")
_PREDICATE = re.compile(r"\(#([\w-]+[?!])")
_PARENT_TYPE = re.compile(r'\(#parent-type\?\s+@([\w.]+)((?:\s+"[^"]*")+)\s*\)')
# tree-sitter's predicates and directives, which the binding evaluates itself; not
# `#not-any-of?`, which py-tree-sitter 0.26.1 gets wrong: with two values or more it keeps
# every match (`#not-match? @name "^(a|b)$"` does its work).
BUILTIN_PREDICATES = frozenset({
    "eq?", "not-eq?", "any-eq?", "any-not-eq?", "match?", "not-match?", "any-match?",
    "any-not-match?", "any-of?", "is?", "is-not?", "set!",
})  # fmt: skip
_INCLUDE = re.compile(r"^; include: (_\w+\.scm)$", re.M)
# Grammars that are supersets of another's, sharing its query file.
QUERY_ALIASES = {"tsx": "typescript"}


@cache
def query_languages() -> frozenset[str]:
    """Languages that have a tags query file (``_*.scm`` are parts included by others)."""
    files = resources.files("snake_pipe.parse").joinpath("queries")
    found = {p.name[:-4] for p in files.iterdir() if p.name.endswith(".scm")}
    found = {name for name in found if not name.startswith("_")}
    return frozenset(found | {alias for alias, base in QUERY_ALIASES.items() if base in found})


def query_source(language: str) -> str | None:
    """A language's query, with each ``; include: _part.scm`` line replaced by that file:
    the patterns stay in order, which matters (the first pattern wins)."""
    if language not in query_languages():
        return None
    return _INCLUDE.sub(
        lambda m: _query_file(m[1]), _query_file(f"{QUERY_ALIASES.get(language, language)}.scm")
    )


def _query_file(name: str) -> str:
    path = resources.files("snake_pipe.parse").joinpath("queries", name)
    return path.read_text(encoding="utf-8")


# A definition being collected: (pattern index, kind, is a symbol, names, start line, end line,
# qualifier: the `A::B` of an out-of-line `A::B::name`, which adds to its scope)
_Def = tuple[int, str, bool, tuple[str, ...], int, int, tuple[str, ...]]


class TagsQuery(NamedTuple):
    """A language's compiled tags query and what extraction looks up in it per match."""

    query: ts.Query
    # capture name -> (kind, is a symbol) for definition.<kind> and scope.<kind>, else None
    definitions: dict[str, tuple[str, bool] | None]
    # per pattern: (capture, kind, is a symbol) when its only role capture is one definition
    plans: tuple[tuple[str, str, bool] | None, ...]
    # per pattern: (capture, parent types) of its #parent-type?, if it has one
    parents: tuple[tuple[str, frozenset[str]] | None, ...]
    # a definition ends with its last token, not where its indented body ends (Scala 3's
    # bodies end where the next line's code starts)
    trim_ends: bool = False
    # a method named as its class is a constructor
    named_constructors: bool = False
    # the grammar, to parse @items bodies again
    language: ts.Language | None = None


@cache
def tags_query(language: str) -> TagsQuery | None:
    """The compiled tags query of a language, compiled once per process."""
    source = query_source(language)
    if source is None:
        return None
    return compile_tags(language, source)


def compile_tags(language: str, source: str) -> TagsQuery:
    """A tags query from its source; ``ValueError`` names a predicate we do not know."""
    grammar = tslp.get_language(language)  # type: ignore[arg-type]
    query = ts.Query(grammar, source)
    raw = source.encode()  # the pattern offsets count bytes
    texts = [
        raw[query.start_byte_for_pattern(i) : query.end_byte_for_pattern(i)].decode()
        for i in range(query.pattern_count)
    ]
    definitions = _definitions(query)
    return TagsQuery(
        query, definitions, _plans(texts, definitions), tuple(map(_parent_check, texts)),
        trim_ends=language in INDENTED_BODIES,
        named_constructors=language in NAMED_CONSTRUCTORS, language=grammar,
    )  # fmt: skip


def _parent_check(text: str) -> tuple[str, frozenset[str]] | None:
    """A pattern's ``#parent-type?`` as (capture, types); a predicate that nothing evaluates
    would let every match through, so an unknown one is refused here."""
    code = re.sub(r"^\s*;.*$", "", text, flags=re.MULTILINE)  # comments may follow a pattern
    for name in _PREDICATE.findall(code):
        if name not in BUILTIN_PREDICATES and name != "parent-type?":
            raise ValueError(f"unknown query predicate #{name}")
    found = _PARENT_TYPE.findall(code)
    if len(found) != code.count("#parent-type?") or len(found) > 1:
        raise ValueError(f'#parent-type? takes one @capture and "types", once per pattern: {code}')
    if not found:
        return None
    capture, types = found[0]
    return capture, frozenset(re.findall(r'"([^"]*)"', types))


@cache
def extractor_version(language: str | None, fingerprint: str) -> int:
    """A 64-bit version of what extraction yields for a language: our code and queries, the
    grammar pack and the settings that change records. A change re-parses only what it affects."""
    digest = hashlib.blake2b(digest_size=8)
    pack = metadata.version("tree-sitter-language-pack")
    # Discovery names a .h file "c" and the worker may find it is C++ or Objective-C: such
    # languages share one version, so the checkpoint matches what the planner expects.
    family = languages.family(language)
    digest.update(
        f"{EXTRACTOR_VERSION}|{pack}|{ts.LANGUAGE_VERSION}|{fingerprint}|{family}".encode()
    )
    for member in (*family, "tsx") if language == "javascript" else family:  # Flow: tsx
        digest.update((query_source(member) or "").encode() if member else b"")
    return int.from_bytes(digest.digest(), "little") >> 1  # fits a signed 64-bit field


def _text(node: ts.Node) -> str:
    return _decoded(node.text or b"")


def _decoded(raw: bytes) -> str:
    """Text for records: bad UTF-8 and NUL (which PostgreSQL's text cannot hold) become
    U+FFFD here, so that every sink holds the same names."""
    return raw.decode("utf-8", "replace").replace("\x00", "\ufffd")


def module_text(node: ts.Node) -> str:
    """An import's module as written, without the quotes or angle brackets around it, and
    without the spaces Python allows in a dotted name (`from . factory import x`)."""
    if node.type in _DOTTED_NAMES:
        return "".join(_text(node).split())
    return _unquoted(_text(node))


def _unquoted(text: str) -> str:
    """`"a.h"` and `<vector>` lose their delimiters; `Alias<T>` keeps its brackets."""
    text = text.strip()
    if text[:1] == "<" and text[-1:] == ">":
        return text[1:-1].strip()
    return text.strip(_QUOTES).strip()


def _import(nodes: list[ts.Node]) -> Import:
    """One import per capture: several nodes (a Scala path captured as ``_+``) make one span."""
    first, last = nodes[0], nodes[-1]
    if len(nodes) == 1 or first.parent is None:
        return Import(module_text(first), first.start_point[0] + 1)
    parent = first.parent
    raw = (parent.text or b"")[
        first.start_byte - parent.start_byte : last.end_byte - parent.start_byte
    ]
    return Import(_unquoted(_decoded(raw)), first.start_point[0] + 1)


def _definitions(query: ts.Query) -> dict[str, tuple[str, bool] | None]:
    """One string per kind, shared by every symbol: smaller pickles on the way back."""
    table: dict[str, tuple[str, bool] | None] = {}
    for i in range(query.capture_count):
        role, _, kind = (capture := query.capture_name(i)).partition(".")
        if role == "ignore":  # a node that looks like a definition and is none
            table[capture] = ("", False)
            continue
        known = role in ("definition", "scope")
        table[capture] = (sys.intern(kind), role == "definition") if known else None
    return table


def _plans(
    texts: list[str], definitions: dict[str, tuple[str, bool] | None]
) -> tuple[tuple[str, str, bool] | None, ...]:
    """A pattern with one definition or scope capture needs no walk over a match's captures."""
    plans: list[tuple[str, str, bool] | None] = []
    for text in texts:
        roles = {c for c in _CAPTURE.findall(text) if c != "name" and not c.startswith("_")}
        role = roles.pop() if len(roles) == 1 else None
        known = definitions.get(role) if role else None
        plans.append(None if role is None or known is None else (role, *known))
    return tuple(plans)


def extract_tags(tags: TagsQuery, root: ts.Node) -> tuple[list[Symbol], list[Import]]:
    defs: dict[tuple[int, int], _Def] = {}  # by the definition node's bytes
    imports: list[Import] = []
    bodies = _match(tags, root, defs, imports, _ITEMS)
    if bodies and tags.language is not None:
        parser, source = ts.Parser(tags.language), root.text or b""
        for _ in range(ITEM_DEPTH):
            bodies = [
                inner for body in bodies
                for inner in _match(tags, _body_tree(parser, source, body), defs, imports,
                                    _NESTED_ITEMS)
            ]  # fmt: skip
    imports.sort(key=lambda i: i.line)
    ordered = sorted(defs.items(), key=lambda kv: (kv[0][0], -kv[0][1]))
    return _nest(ordered, tags.named_constructors), imports


ITEM_DEPTH = 3  # cfg_if! in a cfg_if! in a cfg_if!
_ITEMS = frozenset({"items"})
_NESTED_ITEMS = frozenset({"items", "items.nested"})


def _braced(node: ts.Node) -> bool:
    """``{...}`` with both braces (a body cut off by the end of the file is not read)."""
    if node.child_count < 2:
        return False
    first, last = node.child(0), node.child(node.child_count - 1)
    return bool(first and first.type == "{" and last and last.type == "}" and not last.is_missing)


def _body_tree(parser: ts.Parser, source: bytes, body: ts.Node) -> ts.Node:
    """A body's inside parsed by itself (alone: a body that is no Rust must not run on into
    the next), at its place in the file."""
    (start_row, start_col), (end_row, end_col) = body.start_point, body.end_point
    parser.included_ranges = [ts.Range((start_row, start_col + 1), (end_row, end_col - 1),
                                       body.start_byte + 1, body.end_byte - 1)]  # fmt: skip
    return parser.parse(source).root_node


def _match(
    tags: TagsQuery, root: ts.Node, defs: dict[tuple[int, int], _Def], imports: list[Import],
    items: frozenset[str],
) -> list[ts.Node]:  # fmt: skip
    """The query's definitions and imports under ``root`` into ``defs`` and ``imports``; the
    whole ``{...}`` bodies captured as one of ``items`` are returned, to be read again."""
    query, definitions, plans, parents, trim = (
        tags.query, tags.definitions, tags.plans, tags.parents, tags.trim_ends
    )
    bodies: list[ts.Node] = []
    for pattern, captures in ts.QueryCursor(query).matches(root):
        if (check := parents[pattern]) is not None and not _parent_is(captures, *check):
            continue
        names = captures.get("name")
        if (plan := plans[pattern]) is not None:  # the usual case: one definition
            if names and (nodes := captures.get(plan[0])):
                _define(defs, pattern, plan[1], plan[2], nodes[0], names[0],
                        captures.get("_qualified"), trim, captures.get("_end"))  # fmt: skip
            continue
        for capture, nodes in captures.items():
            if capture == "import.module":
                imports.append(_import(nodes))
            elif capture in items and _braced(nodes[0]):
                bodies.append(nodes[0])
            elif names and (definition := definitions[capture]) is not None:
                _define(defs, pattern, *definition, nodes[0], names[0],
                        captures.get("_qualified"), trim, captures.get("_end"))  # fmt: skip
    return bodies


def _parent_is(captures: dict[str, list[ts.Node]], capture: str, types: frozenset[str]) -> bool:
    nodes = captures.get(capture)
    parent = nodes[0].parent if nodes else None
    return parent is not None and parent.type in types


def _define(
    defs: dict[tuple[int, int], _Def],
    pattern: int, kind: str, emit: bool, node: ts.Node, name_node: ts.Node,
    qualified: list[ts.Node] | None = None, trim: bool = False,
    ends: list[ts.Node] | None = None,
) -> None:  # fmt: skip
    key = node.byte_range
    if (seen := defs.get(key)) is not None and pattern >= seen[0]:  # the first pattern wins
        # one declaration naming several: `var a, b = 1, 2`, `A, B = 1, 2` (in other kinds,
        # a second name is a macro the grammar misread: `F_ATTR SeqState(...) : whence(...)`)
        if pattern == seen[0] and kind in _LISTED:
            name = _name(name_node)
            if name not in ("", "_", *seen[3]):
                defs[key] = (*seen[:3], (*seen[3], name), *seen[4:])
        return
    # `_` names nothing (Go's `var _ I = (*T)(nil)`), except a function's (Python's
    # singledispatch `def _(arg: int)`, underscore.js's `var _ = function () {}`)
    if (name := _name(name_node)) and (name != "_" or kind in _CALLABLE):
        # 1-based lines; a node ending at column 0 (a #define's newline) ends the line before
        (start_row, _), (end_row, end_col) = node.start_point, node.end_point
        if (
            kind == "namespace" and node.type in _STATEMENT_NAMESPACES
            and node.child_by_field_name("body") is None
        ):  # fmt: skip
            key, (end_row, end_col) = _namespace_extent(node)
        elif trim:
            end_row, end_col = _last_token_end(node)
            marker = node.next_sibling  # Scala 3's `end Name`, the next node but one
            if marker is not None and marker.type == "end" and marker.next_sibling is not None:
                end_row, end_col = marker.next_sibling.end_point
        if ends:  # @_end: a node after the definition's that still belongs to it (a heredoc)
            end_row, end_col = ends[-1].end_point
        end_line = end_row + (0 if end_col == 0 and end_row > start_row else 1)
        if start_row != name_node.start_point[0]:
            first = node.child(0)
            if first is not None and first.type in _LEADING:
                start_row = _code_start_row(node)
        qualifier = _qualifier(qualified[0], name_node) if qualified else ()
        defs[key] = (pattern, kind, emit, (name,), start_row + 1, end_line, qualifier)


_COMMENTS = frozenset({"comment", "block_comment", "line_comment"})


def _last_token_end(node: ts.Node) -> tuple[int, int]:
    """Where the last token of ``node`` ends; comments and zero-width tokens (an outdent) do
    not count."""
    while node.child_count:
        i = node.child_count - 1
        last = node.child(i)
        while (
            last is not None and i > 0
            and (last.start_byte == last.end_byte or last.type in _COMMENTS)
        ):  # fmt: skip
            i -= 1
            last = node.child(i)
        if last is None:
            break
        node = last
    return node.end_point


# `namespace A.B;` (C#) and `namespace App\Models;` (PHP) hold no body: they name the scope
# of what follows, to the next such statement or the end of the file.
_STATEMENT_NAMESPACES = frozenset({"file_scoped_namespace_declaration", "namespace_definition"})


def _namespace_extent(node: ts.Node) -> tuple[tuple[int, int], tuple[int, int]]:
    """The byte range and end point of a namespace statement's scope."""
    end = node.parent
    sibling = node.next_named_sibling
    while sibling is not None and end is not None:
        if sibling.type == node.type:
            return (node.start_byte, sibling.start_byte), sibling.start_point
        sibling = sibling.next_named_sibling
    if end is None:
        return node.byte_range, node.end_point
    return (node.start_byte, end.end_byte), end.end_point


def _qualifier(qualified: ts.Node, name_node: ts.Node) -> tuple[str, ...]:
    """What a query's @_qualified node adds to a definition's scope: the `A::B` of
    `A::B::name` (template arguments dropped), or all of a node before the name (a Go
    method's receiver type)."""
    raw = (qualified.text or b"")[: name_node.start_byte - qualified.start_byte]
    head = raw.decode("utf-8", "replace")
    head = re.sub(r"<[^<>]*>", "", re.sub(r"<[^<>]*>", "", head))  # one nested level, `A<B<C>>`
    head = re.sub(r"\binline\s", "", head)  # `namespace a::inline b::c`
    return tuple(part for part in "".join(head.split()).split("::") if part)


def _name(node: ts.Node) -> str:
    """A definition's name as written."""
    if node.type in _SELECTOR_NODES:
        return _selector(node)
    name = _text(node)
    if name[:8] == "operator" and node.type == "operator_cast":  # C++'s `operator bool() const`
        return f"operator {_text(to)}" if (to := node.child_by_field_name("type")) else name
    if "\n" in name:  # a macro call spread over lines, `TEST_P(Suite,\n    Name)`
        return " ".join(name.split())
    if name[:1] == "`":  # Kotlin's and Swift's quoted names: fun `two words`()
        return name.strip("`")
    if name[:1] == ":" and node.type == "simple_symbol":  # Ruby's attr_reader :name
        return name[1:]
    if name[:1] in _QUOTES and node.type == "string":  # a JS key, `"a\\b": function () {}`
        return name[1:-1]
    return name


_SELECTOR_NODES = frozenset({"method_declaration", "method_definition"})


def _selector(method: ts.Node) -> str:
    """An Objective-C method's selector: its keywords, each with a `:` where a parameter
    follows (`initWithFrame:bridge:`); an identifier after a keyword that takes none is a
    macro (`- (void)layout NS_REQUIRES_SUPER;`)."""
    parts: list[str] = []
    for child in method.named_children:
        if child.type == "identifier" and (not parts or parts[-1].endswith(":")):
            parts.append(_text(child))
        elif child.type == "method_parameter":
            parts.append(":")
        elif parts and child.type == "identifier":
            break
    return "".join(parts)


_LISTED = frozenset({"constant", "variable", "field"})
_CALLABLE = frozenset({"function", "method"})
# Annotations, attributes and decorators (Java, Kotlin, Swift, C#, PHP, TypeScript, C++)
# inside a definition's node: its line is the first after them, as for Python's decorators.
_ANNOTATIONS = frozenset({
    "annotation", "marker_annotation", "attribute", "attribute_list", "decorator",
    "attribute_declaration", "comment", "line_comment", "block_comment", "multiline_comment",
})  # fmt: skip
_LEADING = _ANNOTATIONS | {"modifiers"}


def _code_start_row(node: ts.Node) -> int:
    """The row of the first child (or modifier) of ``node`` that is not an annotation."""
    for child in node.children:
        if child.type == "modifiers":
            for inner in child.children:
                if inner.type not in _ANNOTATIONS:
                    return inner.start_point[0]
        elif child.type not in _ANNOTATIONS:
            return child.start_point[0]
    return node.start_point[0]


def _nest(
    defs: list[tuple[tuple[int, int], _Def]], named_constructors: bool
) -> list[Symbol]:
    """Give each definition its enclosing scope, turning functions in classes into methods."""
    symbols: list[Symbol] = []
    stack: list[tuple[int, str, str]] = []  # (end_byte, kind, dotted name)
    for (start, end), (_, kind, emit, names, start_line, end_line, qualifier) in defs:
        while stack and stack[-1][0] <= start:
            stack.pop()
        if not kind:  # @ignore
            continue
        parent = stack[-1] if stack else None
        in_class = parent is not None and parent[1] in CLASS_LIKE
        if kind == "function" and in_class:
            kind = "method"
        name = names[0]
        if kind == "constructor" or (kind == "method" and named_constructors):
            cls = parent[2].rpartition(".")[2] if parent is not None and in_class else None
            owner = qualifier[-1] if qualifier else cls
            if kind == "constructor" and cls and name != owner:
                if name.isupper():
                    continue  # a macro taken for a constructor: `ABSL_LOCKS_REQUIRED(mu);`
                if named_constructors:  # `MACRO int get() const {}`: `get()` after a field
                    kind = "method"
            elif kind == "method" and owner and name == owner:
                kind = "constructor"  # `FMT_CONSTEXPR rgb() {}`: a method returning the macro
        scope = parent[2] if parent else None
        if qualifier:  # `void Foo::bar() {}` in namespace ns: scope ns.Foo
            scope = ".".join((scope, *qualifier) if scope else qualifier)
        if emit:
            symbols.extend(Symbol(each, kind, start_line, end_line, scope) for each in names)
        stack.append((end, kind, f"{scope}.{name}" if scope else name))
    return symbols
