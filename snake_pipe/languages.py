"""Language detection by file name, extension, shebang and content, and binary detection.

Names are those of tree-sitter-language-pack (``csharp``, ``tsx``, ...). Detection by name
happens during discovery; the worker, which reads the file anyway, looks again at a file with
no known name (its shebang) and at a file whose extension several languages use (a ``.h``
header is C, C++ or Objective-C by its content: see ``SHARED_EXTENSIONS``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import get_args

import tree_sitter_language_pack as tslp

# Extension (lower-case, without the dot) -> grammar. Only grammars the pack ships appear.
EXTENSIONS: dict[str, str] = {
    "as": "actionscript", "adb": "ada", "ads": "ada", "agda": "agda", "cls": "apex",
    "trigger": "apex", "ino": "arduino", "asm": "asm", "s": "asm", "astro": "astro",
    "sh": "bash", "bash": "bash", "zsh": "bash", "ksh": "bash", "bats": "bash",
    "beancount": "beancount", "bib": "bibtex", "bicep": "bicep", "bb": "bitbake",
    "bbappend": "bitbake", "bbclass": "bitbake", "bsl": "bsl", "os": "bsl",
    "c": "c", "h": "c", "cairo": "cairo", "capnp": "capnp", "chatito": "chatito",
    "clar": "clarity", "clj": "clojure", "cljs": "clojure", "cljc": "clojure", "edn": "clojure",
    "cmake": "cmake", "cob": "cobol", "cbl": "cobol", "cpy": "cobol",
    "lisp": "commonlisp", "lsp": "commonlisp", "cl": "commonlisp", "asd": "commonlisp",
    "cpon": "cpon",
    "cc": "cpp", "cpp": "cpp", "cxx": "cpp", "c++": "cpp", "hh": "cpp", "hpp": "cpp",
    "hxx": "cpp", "h++": "cpp", "ipp": "cpp", "tpp": "cpp", "inl": "cpp", "ixx": "cpp",
    "cppm": "cpp",
    "cs": "csharp", "csx": "csharp", "css": "css", "csv": "csv", "cu": "cuda", "cuh": "cuda",
    "d": "d", "di": "d", "dart": "dart", "dockerfile": "dockerfile", "dtd": "dtd",
    "el": "elisp", "ex": "elixir", "exs": "elixir", "elm": "elm", "erl": "erlang",
    "hrl": "erlang", "fnl": "fennel", "fir": "firrtl", "fish": "fish",
    "f": "fortran", "f90": "fortran", "f95": "fortran", "f03": "fortran", "f08": "fortran",
    "for": "fortran", "fs": "fsharp", "fsx": "fsharp", "fsi": "fsharp_signature",
    "fc": "func", "gd": "gdscript", "gleam": "gleam", "glsl": "glsl", "vert": "glsl",
    "frag": "glsl", "geom": "glsl", "comp": "glsl", "gn": "gn", "gni": "gn", "go": "go",
    "graphql": "graphql", "gql": "graphql", "groovy": "groovy", "gradle": "groovy",
    "gvy": "groovy", "hack": "hack", "hck": "hack", "ha": "hare", "hs": "haskell",
    "lhs": "haskell", "hx": "haxe", "hcl": "hcl", "nomad": "hcl", "heex": "heex",
    "hlsl": "hlsl", "fx": "hlsl", "html": "html", "htm": "html", "xhtml": "html",
    "ini": "ini", "cfg": "ini", "ispc": "ispc", "janet": "janet", "java": "java",
    "js": "javascript", "mjs": "javascript", "cjs": "javascript", "jsx": "javascript",
    "json": "json", "jsonc": "json", "json5": "json", "jsonnet": "jsonnet",
    "libsonnet": "jsonnet", "jl": "julia", "kdl": "kdl", "kt": "kotlin", "kts": "kotlin",
    "tex": "latex", "sty": "latex", "ld": "linkerscript", "lds": "linkerscript", "ll": "llvm",
    "lua": "lua", "luau": "luau", "mk": "make", "mak": "make", "md": "markdown",
    "markdown": "markdown", "mdx": "markdown", "mermaid": "mermaid", "mmd": "mermaid",
    "axs": "netlinx", "axi": "netlinx", "nim": "nim", "nims": "nim", "nimble": "nim",
    "ninja": "ninja", "nix": "nix", "nqc": "nqc", "m": "objc", "mm": "objc",
    "ml": "ocaml", "mli": "ocaml_interface", "odin": "odin", "org": "org",
    "pas": "pascal", "pp": "pascal", "dpr": "pascal", "lpr": "pascal", "pem": "pem",
    "crt": "pem", "pl": "perl", "pm": "perl", "t": "perl", "pgn": "pgn", "php": "php",
    "phtml": "php", "po": "po", "pot": "po", "pony": "pony", "ps1": "powershell",
    "psm1": "powershell", "psd1": "powershell", "prisma": "prisma",
    "properties": "properties", "proto": "proto", "psv": "psv", "epp": "puppet",
    "purs": "purescript", "py": "python", "pyi": "python", "pyw": "python",
    "qml": "qmljs", "r": "r", "rkt": "racket", "re": "re2c", "rego": "rego", "ron": "ron",
    "rst": "rst", "rb": "ruby", "rake": "ruby", "gemspec": "ruby", "ru": "ruby",
    "rs": "rust", "scala": "scala", "sc": "scala", "sbt": "scala", "scm": "scheme",
    "ss": "scheme", "scss": "scss", "smali": "smali", "smithy": "smithy", "sol": "solidity",
    "rq": "sparql", "sparql": "sparql", "swift": "swift", "sql": "sql",
    "nut": "squirrel", "bzl": "starlark", "star": "starlark", "svelte": "svelte",
    "td": "tablegen", "tcl": "tcl", "tf": "terraform", "tfvars": "terraform",
    "thrift": "thrift", "toml": "toml", "tsv": "tsv", "tsx": "tsx", "twig": "twig",
    "ts": "typescript", "mts": "typescript", "cts": "typescript", "typ": "typst",
    "rules": "udev", "ungram": "ungrammar", "tal": "uxntal", "v": "verilog",
    "sv": "verilog", "svh": "verilog", "vh": "verilog", "vhd": "vhdl", "vhdl": "vhdl",
    "vim": "vim", "vue": "vue", "wast": "wast", "wat": "wat", "wgsl": "wgsl", "xml": "xml",
    "xsd": "xml", "xsl": "xml", "xslt": "xml", "svg": "xml", "plist": "xml", "csproj": "xml",
    "yaml": "yaml", "yml": "yaml", "yuck": "yuck", "zig": "zig", "magik": "magik",
    "erb": "embeddedtemplate", "ejs": "embeddedtemplate", "mat": "matlab",
    "vsh": "v", "vv": "v",
}  # fmt: skip
# Grammars for text embedded in other files (comments, doc comments, format strings) or for
# tests of the pack itself: no file is ever of these languages.
EMBEDDED = frozenset({"comment", "doxygen", "gstlaunch", "jsdoc", "luadoc", "luap",
                      "markdown_inline", "printf", "test"})  # fmt: skip

# Exact file names (case-sensitive first, then lower-case) -> grammar.
FILENAMES: dict[str, str] = {
    "Makefile": "make", "makefile": "make", "GNUmakefile": "make", "BSDmakefile": "make",
    "Kbuild": "make",
    "Dockerfile": "dockerfile", "Containerfile": "dockerfile",
    "CMakeLists.txt": "cmake", "go.mod": "gomod", "go.sum": "gosum",
    "requirements.txt": "requirements", "constraints.txt": "requirements",
    ".gitignore": "gitignore", ".dockerignore": "gitignore", ".gitattributes": "gitattributes",
    "COMMIT_EDITMSG": "gitcommit", "BUILD": "starlark", "BUILD.bazel": "starlark",
    "WORKSPACE": "starlark", "WORKSPACE.bazel": "starlark", "MODULE.bazel": "starlark",
    "Tiltfile": "starlark", "BUCK": "starlark", "meson.build": "meson",
    "meson_options.txt": "meson", "Kconfig": "kconfig", "MANIFEST.in": "pymanifest",
    "qmldir": "qmldir", ".inputrc": "readline", "inputrc": "readline", "Gemfile": "ruby",
    "Rakefile": "ruby", "Podfile": "ruby", "Vagrantfile": "ruby", "Brewfile": "ruby",
    "Jenkinsfile": "groovy", "BUILD.gn": "gn", ".bashrc": "bash", ".bash_profile": "bash",
    ".zshrc": "bash", ".profile": "bash", "PKGBUILD": "bash", "APKBUILD": "bash",
    "Pipfile": "toml", "Cargo.lock": "toml", "poetry.lock": "toml", "flake.lock": "json",
    ".babelrc": "json", ".eslintrc": "json", "tsconfig.json": "json", "XCompose": "xcompose",
    ".XCompose": "xcompose", "hyprland.conf": "hyprlang", ".vimrc": "vim", "vimrc": "vim",
    ".emacs": "elisp", "build.ninja": "ninja", "SConstruct": "python", "SConscript": "python",
}  # fmt: skip

# Interpreter in a shebang (basename, version digits stripped) -> grammar.
INTERPRETERS: dict[str, str] = {
    "python": "python", "pypy": "python", "sh": "bash", "bash": "bash", "dash": "bash",
    "zsh": "bash", "ksh": "bash", "ash": "bash", "node": "javascript", "nodejs": "javascript",
    "deno": "typescript", "bun": "typescript", "ts-node": "typescript", "tsx": "typescript",
    "ruby": "ruby", "perl": "perl", "php": "php", "lua": "lua", "luajit": "lua",
    "fish": "fish", "Rscript": "r", "tclsh": "tcl", "wish": "tcl", "elixir": "elixir",
    "escript": "erlang", "julia": "julia", "groovy": "groovy", "make": "make",
    "pwsh": "powershell", "runghc": "haskell", "runhaskell": "haskell", "scala": "scala",
    "kotlin": "kotlin", "swift": "swift", "racket": "racket", "guile": "scheme",
    "janet": "janet",
}  # fmt: skip
# Programs that run a script with another (`uv run --script`, `npx tsx`, `pnpm dlx ts-node`):
# the file is in the language of the interpreter named after them, else in the runner's own
# (a PEP 723 script under `uv run` or `pipx run`).
RUNNERS: dict[str, str | None] = {
    "uv": "python", "pipx": "python", "npx": None, "pnpx": None, "bunx": None, "pnpm": None,
    "yarn": None,
}  # fmt: skip
# nix-shell runs what a second `#!` line names (`#! nix-shell -i python3 -p ...`), else bash:
# such a script is never in the Nix language
_NIX_SHELL_INTERPRETER = re.compile(rb"\n#![ \t]*nix-shell\b[^\n]*?[ \t]-i[ \t]*['\"]?([^\s'\"]+)")

# A ``.h`` file is C++ or Objective-C when a line starts with a construct C does not have
# (GitHub linguist decides the same way). Parsed as C, a C++ header is mostly ERROR nodes: no
# classes or methods, thousands of bogus parse errors, and three times the parse time.
HEADER_LANGUAGES = ("c", "cpp", "objc")
_OBJC_LINE = re.compile(
    rb"\n[ \t]*(?:@(?:interface|protocol|implementation|end|property|class)\b|#[ \t]*import\b)"
)
_CPP_LINE = re.compile(
    rb"""\n[ \t]*(?:
        template[ \t]*<
      | class(?:[ \t]+[A-Za-z_]\w*)+[ \t]*(?:final[ \t]*)?(?:[:{;]|\r?$)
      | struct(?:[ \t]+[A-Za-z_]\w*)+[ \t]*(?:final[ \t]*)?:[ \t]*(?:public|protected|private)\b
      | (?:inline[ \t]+)?namespace\b(?:[ \t]+[\w:]+)?[ \t]*(?:\{|\r?$)
      | using[ \t]+(?:namespace[ \t]|[A-Za-z_]\w*[ \t]*=)
      | (?:public|private|protected)[ \t]*:
      | virtual[ \t]
      | \#[ \t]*include[ \t]*<(?:c(?:assert|ctype|errno|float|limits|math|stddef|stdint|stdio
        |stdlib|string|time)|string|string_view|vector|map|set|list|deque|array|memory|utility
        |algorithm|functional|iostream|ostream|istream|sstream|fstream|iosfwd|unordered_map
        |unordered_set|optional|tuple|type_traits|atomic|mutex|thread|chrono|limits
        |initializer_list|variant|new|numeric|iterator|exception|stdexcept|bitset|queue|stack)>
    )""",
    re.M | re.X,
)
# A qualified name (``ns::Type``) on a line that is not a comment or directive; C has ``::``
# only in C23 attributes.
_CPP_QUALIFIED = re.compile(
    rb"\n[ \t]*+(?![/*#])[^\n]*?(?<![\w:])(?!gnu::|clang::)[A-Za-z_]\w*::[A-Za-z_~]"
)
_SHEBANG = re.compile(rb"^#![ \t]*(\S+)(?:[ \t]+(.*))?")
_VERSION_SUFFIX = re.compile(r"[\d.]+$")
BINARY_SNIFF_BYTES = 8000  # what git looks at to decide "binary"


@cache
def supported_languages() -> frozenset[str]:
    """Every grammar the installed tree-sitter-language-pack can load."""
    return frozenset(get_args(tslp.SupportedLanguage))


@cache
def _tables() -> tuple[dict[str, str], dict[str, str]]:
    """The name and extension tables, restricted to grammars the installed pack has."""
    have = supported_languages()
    names = {k: v for k, v in FILENAMES.items() if v in have}
    names.update({k.lower(): v for k, v in names.items() if k.lower() not in names})
    return names, {k: v for k, v in EXTENSIONS.items() if v in have}


def by_name(rel_path: str) -> str | None:
    """Grammar for a repo-relative path from its file name or extension, or None."""
    names, extensions = _tables()
    name = rel_path[rel_path.rfind("/") + 1 :]
    lang = names.get(name) or names.get(name.lower())
    if lang is not None:
        return lang
    stem, dot, ext = name.rpartition(".")
    if ext == "scm" and "/queries/" in f"/{rel_path}":
        return "query"  # tree-sitter query files, like ours; other .scm files are Scheme
    if dot and stem.strip("."):
        lang = extensions.get(ext) or extensions.get(ext.lower())
        if ext in ("C", "H") and not stem.isupper() and "cpp" in supported_languages():
            lang = "cpp"  # C++ to GCC (CERN ROOT's macros); C in a DOS name (`WL_MAIN.C`)
    if lang is None and name.lower().startswith("dockerfile"):
        return "dockerfile" if "dockerfile" in supported_languages() else None
    if lang is None and name.lower().startswith("makefile."):  # automake's Makefile.am, .in
        return "make" if "make" in supported_languages() else None
    return lang


def by_shebang(head: bytes) -> str | None:
    """Grammar named by a ``#!`` line, following ``/usr/bin/env [-S] prog``, a runner
    (``uv run``, ``npx``) and ``nix-shell -i prog``."""
    match = _SHEBANG.match(head.split(b"\n", 1)[0])
    if not match:
        return None
    words = match[0][2:].decode("utf-8", "replace").split()
    if words[0].rsplit("/", 1)[-1] == "env":  # without its options and NAME=value settings
        words = [word for word in words[1:] if not word.startswith("-") and "=" not in word]
    program = words[0].rsplit("/", 1)[-1] if words else ""
    if program == "nix-shell":
        found = _NIX_SHELL_INTERPRETER.search(head)
        lang = _interpreter(found[1].decode("utf-8", "replace")) if found else "bash"
    elif program in RUNNERS:
        lang = next(filter(None, map(_interpreter, words[1:])), RUNNERS[program])
    else:
        lang = _interpreter(program)
    return lang if lang in supported_languages() else None


def _interpreter(word: str) -> str | None:
    program = word.rsplit("/", 1)[-1]
    return INTERPRETERS.get(program) or INTERPRETERS.get(_VERSION_SUFFIX.sub("", program))


# Editor mode lines naming a file's language where its name and shebang do not (bash-completion's
# scripts say `# -*- shell-script -*-`): Emacs's on the first two lines, Vim's on the first or
# last five. Mode names that are not grammar names:
_MODES = {
    "sh": "bash", "shell-script": "bash", "ksh": "bash", "zsh": "bash", "c++": "cpp",
    "js": "javascript", "cperl": "perl", "makefile": "make", "emacs-lisp": "elisp",
    "py": "python", "rb": "ruby", "ts": "typescript", "yml": "yaml",
}  # fmt: skip
_EMACS_MODE = re.compile(
    rb"-\*-[ \t]*(?:([\w+-]+)[ \t]*-\*-|(?:[^\n]*?;[ \t]*)?[Mm]ode:[ \t]*([\w+-]+))"
)
_VIM_MODE = re.compile(rb"(?:^|[ \t])(?:vim?|ex):[^\n]*?\b(?:ft|filetype)=([\w+-]+)", re.M)


def by_modeline(content: bytes) -> str | None:
    """Grammar named by an Emacs or Vim mode line."""
    lines = content[:1024].split(b"\n", 2)
    for line in lines[:2]:
        if b"-*-" in line and (match := _EMACS_MODE.search(line)):
            return _mode_grammar(match[1] or match[2])
    head = b"\n".join(content[:2048].split(b"\n", 5)[:5])
    tail = b"\n".join(content[-2048:].rsplit(b"\n", 6)[-6:])
    for part in (head, tail):
        if (b"ft=" in part or b"filetype=" in part) and (match := _VIM_MODE.search(part)):
            return _mode_grammar(match[1])
    return None


def by_text(text: bytes) -> tuple[str, str] | None:
    """For a file its name gives no grammar: the one its text (``source_text`` of its
    content) names, and how (its shebang or an editor's mode line)."""
    if language := by_shebang(text[:1024]):
        return language, "shebang"
    if language := by_modeline(text):
        return language, "mode line"
    return None


def _mode_grammar(mode: bytes) -> str | None:
    name = mode.decode("ascii", "replace").lower()
    grammar = _MODES.get(name, name)
    return grammar if grammar in supported_languages() and grammar not in EMBEDDED else None


def header_language(content: bytes) -> str:
    """``objc``, ``cpp`` or ``c`` for the bytes of a ``.h`` file."""
    text = b"\n" + content  # the patterns anchor on a newline: much faster than ^ with re.M
    if _OBJC_LINE.search(text):
        return "objc"
    if _CPP_LINE.search(text) or (b"::" in content and _CPP_QUALIFIED.search(text)):
        return "cpp"
    return "c"


# `.m`: Objective-C has `@interface` and the like or C's directives (`#` and the word, as
# written in practice; Octave's comments have a space) at a line's start, MATLAB (and Octave)
# a `%` or `#` comment, `function`, `classdef` or a lone `end` there.
_OBJC_SOURCE = re.compile(
    rb"\n[ \t]*(?:@[a-z]+\b|#(?:import|include|define|undef|if|ifdef|ifndef|elif|else|endif|pragma"
    rb"|error|warning)\b)"
)
_MATLAB_LINE = re.compile(
    rb"\n[ \t]*(?:%|#(?![ \t]*!)|function\b|classdef\b|end[ \t]*(?:%[^\n]*)?\r?(?:\n|$))"
)
# `.pp`: Pascal's units and programs; Puppet's classes, defines, nodes, resources, type aliases,
# `key => value` and `#` comments (Pascal has none).
_PASCAL_LINE = re.compile(
    rb"\n[ \t]*(?:(?:unit|program|library|uses)[ \t]+\w|end[ \t]*[.;]|begin\b|\{\$)", re.I
)
_PUPPET_LINE = re.compile(
    rb"\n[ \t]*(?:(?:class|define|node)[ \t]+['\"]?[\w:.-]+['\"]?[ \t]*[({]|[\w:]+[ \t]+=>[ \t]"
    rb"|[a-z][\w:]*[ \t]*\{[ \t]*['\"$]|include[ \t]+[\w:]+[ \t]*\r?\n"
    rb"|type[ \t]+[A-Z]\w*(?:::[A-Z]\w*)+[ \t]*=|#)"
)
# `.cls`: a LaTeX class starts with a comment or a command.
_LATEX_CLASS = re.compile(rb"\n[ \t]*\\(?:NeedsTeXFormat|ProvidesClass|LoadClass)\b")


def _start(text: bytes) -> bytes:
    """The first 16 bytes after leading white space."""
    return text[:4096].lstrip()[:16]


def _marked(content: bytes, mark: re.Pattern[bytes], against: re.Pattern[bytes]) -> bool:
    """A line of ``content`` has ``mark`` and none has ``against``."""
    text = b"\n" + content
    return mark.search(text) is not None and against.search(text) is None


def m_language(content: bytes) -> str:
    return "matlab" if _marked(content, _MATLAB_LINE, _OBJC_SOURCE) else "objc"


def ts_language(content: bytes) -> str:
    """Qt Linguist's translations are XML, TypeScript never starts with `<?` or `<!`."""
    start = _start(content)
    return "xml" if start.startswith((b"<?xml", b"<!DOCTYPE", b"<TS ", b"<TS>")) else "typescript"


def pp_language(content: bytes) -> str:
    return "puppet" if _marked(content, _PUPPET_LINE, _PASCAL_LINE) else "pascal"


_LISP_DEFINITION = re.compile(rb"\n\((?:def|in-package\b)", re.I)


def cl_language(content: bytes) -> str:
    """Common Lisp starts with a form, a `;` comment or a reader macro, or has a line that
    starts with a `(def...` form; OpenCL kernels, which have no grammar of their own, are C
    with a few qualifiers."""
    if _start(content).startswith((b"(", b";", b"#|", b"#+", b"#-")):
        return "commonlisp"
    return "commonlisp" if _LISP_DEFINITION.search(b"\n" + content) else "c"


# A VBA class module, exported from Office: no grammar in the pack.
_VBA_CLASS = re.compile(rb"\n(?:VERSION[ \t]+\d+\.\d+[ \t]+CLASS|Attribute[ \t]+VB_Name[ \t]*=)")


def cls_language(content: bytes) -> str:
    if _start(content).startswith((b"%", b"\\")) or _LATEX_CLASS.search(b"\n" + content):
        return "latex"
    return "vba" if _VBA_CLASS.search(b"\n" + content[:4096]) else "apex"


# `.pl`: Perl's pragmas, packages, subs and variables, else Prolog's `:-` directives and
# clauses (no grammar in the pack).
_PERL_LINE = re.compile(
    rb"\n[ \t]*(?:use[ \t]+(?:strict|warnings|v?5)\b|package[ \t]+[\w:]+[ \t]*[;{]|sub[ \t]+\w"
    rb"|my[ \t]+[$@%(]|#![^\n]*perl)"
)
# a directive, a rule's head, or a fact (`parent(tom, bob).`)
_PROLOG_LINE = re.compile(
    rb"\n(?::-|[a-z]\w*(?:\([^\n]*\))?[ \t]*:-|[a-z]\w*\([^\n]*\)\.[ \t]*(?:%[^\n]*)?\r?\n)"
)


def pl_language(content: bytes) -> str:
    return "prolog" if _marked(content, _PROLOG_LINE, _PERL_LINE) else "perl"


# `.v`: Coq (Rocq) proofs, which have no grammar in the pack, against Verilog's modules.
_COQ_LINE = re.compile(
    rb"\n[ \t]*(?:(?:Local|Global|#\[[^\]\n]*\])[ \t]+)?(?:From|Require|Import|Export|Theorem"
    rb"|Lemma|Corollary|Definition|Inductive|CoInductive|Fixpoint|CoFixpoint|Proof|Qed|Notation"
    rb"|Infix|Ltac|Tactic|Module|Section|Set|Unset|Declare|Class|Instance|Existing|Axiom"
    rb"|Parameter|Variable|Hypothesis|Hint|Arguments|Record|Structure|Extract|Open|Scheme)\b"
)
_VERILOG_LINE = re.compile(
    rb"\n[ \t]*(?:module[ \t]+\w+[ \t]*(?:[#(;]|\r?\n)|`timescale\b|`include\b|`define\b)"
)


def v_language(content: bytes) -> str:
    coq = _start(content).startswith(b"(*") or _COQ_LINE.search(b"\n" + content)
    return "coq" if coq and not _VERILOG_LINE.search(b"\n" + content) else "verilog"


# `.fs`: a GLSL shader has `#version`, `uniform`, `in vec4 ...` or `void main(` at a line's
# start, and none of F#'s `module`, `namespace`, `open`, `let`, `type` or `#light`.
_GLSL_LINE = re.compile(
    rb"\n[ \t]*(?:#version\b|(?:precision|uniform|varying|attribute)[ \t]|layout[ \t]*\("
    rb"|(?:in|out)[ \t]+(?:vec|mat|float|int|uint|bool|sampler)|void[ \t]+main[ \t]*\()"
)
_FSHARP_LINE = re.compile(rb"\n[ \t]*(?:(?:module|namespace|open|let|type)[ \t]|#light\b)")
# `.d`: a compiler's dependency file (`gcc -MD`) names an object file as a make target.
_DEPENDENCY_RULE = re.compile(rb"\n[^\s:#][^:\n]*\.(?:o|obj|lo)[ \t]*:")


def fs_language(content: bytes) -> str:
    return "glsl" if _marked(content, _GLSL_LINE, _FSHARP_LINE) else "fsharp"


def d_language(content: bytes) -> str:
    return "make" if _DEPENDENCY_RULE.search(b"\n" + content) else "d"


# Extensions more than one language uses (resolved much as GitHub linguist does): the language
# the extension names, the languages the content may make it, and how it decides. A language
# the pack has no grammar for (`vba`, `prolog`, `coq`) is named in the file's row, which is
# skipped as unsupported. (Patterns anchor on a newline put before the text: much faster than
# ^ with re.M.)
SHARED_EXTENSIONS: dict[str, tuple[str, tuple[str, ...], Callable[[bytes], str]]] = {
    "h": ("c", HEADER_LANGUAGES, header_language),
    "m": ("objc", ("objc", "matlab"), m_language),
    "ts": ("typescript", ("typescript", "xml"), ts_language),
    "pp": ("pascal", ("pascal", "puppet"), pp_language),
    "cl": ("commonlisp", ("commonlisp", "c"), cl_language),
    "cls": ("apex", ("apex", "latex", "vba"), cls_language),
    "pl": ("perl", ("perl", "prolog"), pl_language),
    "v": ("verilog", ("verilog", "coq"), v_language),
    "fs": ("fsharp", ("fsharp", "glsl"), fs_language),
    "d": ("d", ("d", "make"), d_language),
}


def by_content(language: str, rel_path: str, text: bytes) -> str:
    """The language of a file whose extension more than one language uses, from its text
    (``source_text`` of its content)."""
    ext = rel_path[rel_path.rfind(".") + 1 :].lower() if "." in rel_path else ""
    shared = SHARED_EXTENSIONS.get(ext)
    if shared is None or shared[0] != language:
        return language
    return shared[2](text)


@cache
def family(language: str | None) -> tuple[str | None, ...]:
    """The languages a file of ``language`` may have been named before its content was read:
    they share one extractor version, so the checkpoint of a `.h` file parsed as C++ matches
    what discovery, which only saw a C name, expects."""
    if language is None:
        return (None,)
    members = {language}
    grown = True
    while grown:
        grown = False
        for named, outcomes, _ in SHARED_EXTENSIONS.values():
            group = {named, *outcomes}
            if members & group and not group <= members:
                members |= group
                grown = True
    return tuple(sorted(members))


# Flow-typed JavaScript (a ``@flow`` pragma in a comment before the code) is full of type
# annotations the JavaScript grammar does not know: most of such a file becomes ERROR nodes and
# its definitions are lost. TSX, whose annotations are close to Flow's, parses most of it.
_FLOW_PRAGMA = re.compile(rb"@flow\b")


def grammar_for(language: str, content: bytes) -> str:
    """The grammar to parse a file with: its language's, but ``tsx`` for Flow JavaScript."""
    if language != "javascript" or b"@flow" not in content[:4096]:
        return language
    head, pos = content[:4096], 0
    if head.startswith(b"#!"):
        pos = head.find(b"\n") + 1 or len(head)
    while True:  # the leading comments
        while pos < len(head) and head[pos] in b" \t\r\n":
            pos += 1
        if head.startswith(b"//", pos):
            end = head.find(b"\n", pos)
        elif head.startswith(b"/*", pos):
            end = head.find(b"*/", pos)
        else:
            return language
        end = len(head) if end < 0 else end
        if _FLOW_PRAGMA.search(head, pos, end):
            return "tsx"
        pos = end + 1


# A line that only opens or closes a namespace, an extern "C" or an export block through a
# macro (`ABSL_NAMESPACE_BEGIN`, `G_BEGIN_DECLS`, `NS_ASSUME_NONNULL_END`, `FMT_BEGIN_EXPORT`) is
# unknown to the grammar, which then misreads the definition after it (`class Bar {` becomes a
# function named `class`).
_SCOPE_WORDS = (b"NAMESPACE", b"EXTERN_C", b"DECLS", b"NONNULL", b"EXPORT")
_SCOPE_MACRO_LINE = re.compile(  # anchored on newlines: 2.5 times as fast as ^ with re.M
    rb"\n[ \t]*(?=[A-Z0-9_]*(?:BEGIN|END))(?=[A-Z0-9_]*(?:" + b"|".join(_SCOPE_WORDS) + rb"))"
    rb"[A-Z_][A-Z0-9_]*[ \t]*(?=\r?\n)"
)
# An export or attribute macro between `class` or `struct` and the name (`class GTEST_API_ Foo
# : Base {`, `struct OPENSSL_EXPORT Bar {`, up to two of them) makes the grammar read a function
# returning `class GTEST_API_` whose body holds the members: constructors and the rest come out
# wrong, with parse errors. One regex per keyword: a literal start is searched for 4 times as
# fast as an alternation.
_CLASS_MACROS = tuple(
    re.compile(keyword + rb"[ \t]+((?:[A-Z][A-Z0-9_]*[ \t]+){1,2})"
               rb"(?=(?!final\b)[A-Za-z_][A-Za-z0-9_]*\s*(?:\{|:(?!:)|final\b))")
    for keyword in (rb"class", rb"struct")
)  # fmt: skip


# Export, inline or attribute macros before a declaration's return type, at the start of a line
# (`HWY_API Vec<T> Add(`, `static HWY_INLINE bool F(`, `GTEST_API_ void Init();`, numpy's
# `NPY_NO_EXPORT PyObject *` with the name on the next line, up to three of them): the grammar
# takes the first for the type and the rest of the line for an ERROR; a free function may come
# out as a method, and the parse costs more. Blanked only where a type and a name with its `(`
# follow, so a type in capitals (`DWORD WINAPI Run(`) leaves a type behind. The look-ahead on
# the line's first letter makes the other lines cost next to nothing.
_DECL_MACROS = re.compile(
    rb"\n[ \t]*(?=[A-Zcefisv])(?:(?:static|inline|extern|constexpr|virtual|explicit|friend)[ \t]+)*"
    rb"((?:[A-Z][A-Z0-9_]*[ \t]+){1,3})"
    rb"(?=(?:(?:const|unsigned|signed|struct|enum|static|inline)[ \t]+)*"
    rb"[A-Za-z_][\w:]*(?:<[^;{}()\n]*>)?(?:[ \t*&]|\r?\n)+"
    rb"(?:[\w:]*operator[^\w\s]{1,3}|[A-Za-z_~][\w:]*)[ \t]*\()"
)


# A C header's `extern "C" {` and its `}`, each alone between `#ifdef __cplusplus` and
# `#endif`: the grammar sees a block cut by an `#endif`, and the whole header becomes an
# error. Blanked only when openers and closers pair up.
_EXTERN_C_LINE = re.compile(
    rb"\n[ \t]*#[ \t]*if[^\n]*__cplusplus[^\n]*\n"
    rb"([ \t]*(?:(extern[ \t]+\"C\"[ \t]*\{)|\})[^\n]*)(?=\n[ \t]*#[ \t]*endif)"
)


def _blank_extern_c(source: bytes) -> bytes:
    """``source`` (after a newline) with its paired ``extern "C"`` lines blanked."""
    found = [match[2] for match in _EXTERN_C_LINE.finditer(source)]
    if not found or 2 * sum(1 for opener in found if opener) != len(found):
        return source
    return _EXTERN_C_LINE.sub(_blank_macros, source)


def _blank_macros(match: re.Match[bytes]) -> bytes:
    """The match with its group 1, which ends it, turned to spaces."""
    keep = match.start(1) - match.start()
    return match[0][:keep] + b" " * (len(match[0]) - keep)


# A line holding only a statement-like macro without its `;` (Qt's `Q_OBJECT`,
# `Q_DECLARE_PRIVATE(Foo)`, `Q_PROPERTY(...)`, `Q_DISABLE_COPY(Foo)`, Eigen's
# `EIGEN_MAKE_ALIGNED_OPERATOR_NEW`, CPython's `Py_BEGIN_ALLOW_THREADS`) is taken by the grammar
# for the type of what follows: `explicit Widget(QWidget *parent)` after a `Q_OBJECT` is lost
# and the class body has errors. A run of them (blank and `//` lines between) is blanked after a
# line ending with `{`, `;`, `}` or `:`, where the next line starts a statement or a member: not
# `{` (`TEST_SUBMODULE(m)` then a body), an operator (`GRPC_TRACE_LOG(...)` then `<< ...` is an
# expression), nor a function head at the start of a line (`PyMODINIT_FUNC` then
# `PyInit_foo(void)`: a return type). Where the macro is an attribute or makes a declaration,
# blanking it loses nothing the grammar could read.
_MACRO_CALL = rb"[A-Z][A-Za-z0-9]*_[A-Z0-9_]*[A-Z0-9](?:\((?:[^()\n]|\([^()\n]*\))*\))?"
# Each line of the run starts with its newline and owns its spaces: no two ways to split a line's
# blanks, so no backtracking blow-up on thousands of blank lines.
_STATEMENT_MACROS = re.compile(
    rb"\n(?:(?<=[{;}:]\n)|(?<=[{;}:]\r\n))"
    rb"((?:[ \t]*\r?\n)*[ \t]*(?=[A-Z])" + _MACRO_CALL + rb"[ \t]*"
    + rb"(?:\r?\n[ \t]*(?:" + _MACRO_CALL + rb"[ \t]*|//[^\n]*)?)*)"
    rb"(?=\r?\n[ \t]*(?:[A-Za-z_~#}]|//|/\*))(?!\r?\n[A-Za-z_][\w:]*[ \t]*\()"
)  # fmt: skip
_NOT_NEWLINE = re.compile(rb"[^\r\n]")


def _blank_statement_macros(match: re.Match[bytes]) -> bytes:
    return b"\n" + _NOT_NEWLINE.sub(b" ", match[1])


# OpenCL C (a `.cl` file is C, see cl_language) qualifies kernels, pointers and images with
# words C does not have. In a file with a kernel they are blanked: with or without their `__`
# (the bare ones only before a name, where C could not have a variable of that name), not on
# directive lines (`#define __global`, in a header that lets C compile a kernel).
_OPENCL_QUALIFIERS = rb"global|local|constant|private|read_only|write_only|read_write"
_OPENCL_WORDS = re.compile(
    rb"^[ \t]*#[^\n]*|\b(?:__(?:kernel|const|" + _OPENCL_QUALIFIERS + rb")\b"
    rb"|(?:kernel|" + _OPENCL_QUALIFIERS + rb")(?=[ \t]+[A-Za-z_]))",
    re.M,
)


def _blank_opencl_word(match: re.Match[bytes]) -> bytes:
    return match[0] if b"#" in match[0] else b" " * len(match[0])  # a directive line: kept


# Octave (a `.m` file is `matlab`, see m_language) writes MATLAB's `%` comments and `~` negation
# as `#` and `!` (which mean nothing else to either outside a string; inside one, the swap
# changes no structure), and its blocks end in `endfunction`, `endif`, ... as well as `end`.
_OCTAVE_SIGNS = bytes.maketrans(b"#!", b"%~")
_OCTAVE_ENDS = re.compile(
    rb"\bend(?:function|if|while|for|switch|parfor|_try_catch|_unwind_protect)\b"
)


def _blank_end_suffix(match: re.Match[bytes]) -> bytes:
    return b"end" + b" " * (len(match[0]) - 3)


# Apple's `typedef NS_ENUM(NSInteger, Name) {...};` (and NS_OPTIONS, CF_ENUM, ...) is read as
# the `enum Name {...};` it declares: the grammar knows no such macro, and the error it makes
# swallows the rest of the file.
_APPLE_ENUM = re.compile(
    rb"\btypedef[ \t]+(?:NS|CF)_(?:ENUM|OPTIONS|CLOSED_ENUM|ERROR_ENUM)[ \t]*\([^,()\n]*,"
    rb"[ \t]*(\w+)[ \t]*\)"
)


def _apple_enum(match: re.Match[bytes]) -> bytes:
    return b"enum " + match[1] + b" " * (len(match[0]) - len(match[1]) - 5)


def as_read(grammar: str, source: bytes) -> bytes:
    """The bytes ``grammar`` is given for ``source``: for the C family, the macros above
    blanked to spaces (or made the enum they declare); for MATLAB, Octave's own syntax made
    MATLAB's. Every byte offset, line and column stays."""
    if grammar == "matlab":
        return _OCTAVE_ENDS.sub(_blank_end_suffix, source.translate(_OCTAVE_SIGNS))
    if grammar not in HEADER_LANGUAGES:
        return source
    if grammar == "c" and (b"__kernel" in source or b"kernel void" in source):
        source = _OPENCL_WORDS.sub(_blank_opencl_word, source)
    if b"_ENUM" in source or b"_OPTIONS" in source:
        source = _APPLE_ENUM.sub(_apple_enum, source)
    for pattern in _CLASS_MACROS:
        source = pattern.sub(_blank_macros, source)
    # a newline first, so that a macro on the first line is found too
    lines = _DECL_MACROS.sub(_blank_macros, b"\n" + source)
    if b"__cplusplus" in lines:
        lines = _blank_extern_c(lines)
    if b"BEGIN" in lines and any(word in lines for word in _SCOPE_WORDS):
        lines = _SCOPE_MACRO_LINE.sub(lambda m: b"\n" + b" " * (len(m[0]) - 1), lines)
    lines = _STATEMENT_MACROS.sub(_blank_statement_macros, lines)
    return lines[1:]


# What a grammar stumbles over, for a second reading of a file whose first parse has errors:
# conditional-compilation lines inside a type body or a parameter list (Swift's `#if os(iOS)`
# as a class's first member loses the whole class), blanked to spaces with every branch kept;
# Bash's extended globs in a test (`[[ $cur == @(*/|[.~])* ]]`, bash-completion's), which
# make the rest of the file an error, turned into a word of `x`s.
_SECOND_READING = {
    "swift": (b"#", re.compile(rb"^[ \t]*#(?:if|elseif|else|endif)\b[^\n]*", re.M), b" "),
    "csharp": (b"#", re.compile(rb"^[ \t]*#(?:if|elif|else|endif)\b[^\n]*", re.M), b" "),
    "bash": (b"(", re.compile(rb"[@!?+*]\((?:[^()\n]|\([^()\n]*\))*\)"), b"x"),
}


def second_reading(grammar: str, source: bytes) -> bytes | None:
    """``source`` with what its grammar stumbles over replaced (offsets, lines and columns
    kept), or None if the grammar has none or the source holds none. For a file whose first
    parse has errors: the worker keeps the tree with fewer."""
    entry = _SECOND_READING.get(grammar)
    if entry is None or entry[0] not in source:
        return None
    _, pattern, fill = entry
    blanked, count = pattern.subn(lambda m: fill * len(m[0]), source)
    return blanked if count else None


UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def is_binary(head: bytes) -> bool:
    """Git's rule, a NUL byte in the first 8000 bytes means binary, except after a UTF-16
    byte-order mark: that text is re-encoded and parsed. (UTF-32's little-endian mark starts
    as UTF-16's does; its NULs make it binary, as git says.)"""
    if head[:2] in UTF16_BOMS and head[2:4] != b"\0\0":
        return False
    return b"\0" in head[:BINARY_SNIFF_BYTES]


def source_text(content: bytes, errors: str = "strict") -> bytes:
    """The bytes a file is parsed and detected from: a UTF-8 byte-order mark dropped, UTF-16
    re-encoded as UTF-8 (``errors`` as for ``bytes.decode``), and classic Mac line ends (a CR
    alone, in a file with no LF) made LFs, since tree-sitter counts lines by LF."""
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    elif content[:2] in UTF16_BOMS:
        content = content.decode("utf-16", errors).encode("utf-8")
    if b"\n" not in content and b"\r" in content:
        content = content.replace(b"\r", b"\n")
    return content
