from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from snake_pipe import languages
from snake_pipe.config import resolve_config
from snake_pipe.discover import Walker, explain
from snake_pipe.parse.worker import WorkerOptions, extract_file, init_worker
from snake_pipe.records import FileResult, WorkItem
from tests.conftest import rows, run_cli, write_tree


def walk(root: Path, store: Path | None = None, **cli: object) -> dict[str, WorkItem | FileResult]:
    config = resolve_config(cli, None, {})
    return {item.path: item for item in Walker(root, config, store).walk()}


def test_nested_gitignore_negation_and_info_exclude(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        ".gitignore": "*.log\nbuild/\n!important.log\n",
        ".git/info/exclude": "secret.py\n",
        ".git/config": "[core]\n",
        "a.py": "", "debug.log": "", "important.log": "", "secret.py": "",
        "build/out.py": "",
        "src/.gitignore": "generated_*.py\n!important.log\n*.tmp\n",
        "src/generated_x.py": "", "src/keep.py": "", "src/x.tmp": "",
        "src/deep/.gitignore": "!x.tmp\n", "src/deep/x.tmp": "", "src/deep/y.log": "",
    })  # fmt: skip
    found = set(walk(tmp_path))
    assert found == {
        ".gitignore", "a.py", "important.log", "src/.gitignore", "src/keep.py",
        "src/deep/.gitignore", "src/deep/x.tmp",
    }  # fmt: skip


def test_info_exclude_of_a_linked_worktree_and_a_submodule(tmp_path: Path) -> None:
    """Their .git is a file naming the git directory; a worktree's info/exclude is shared."""
    main = write_tree(tmp_path / "main", {"a.py": "", "secret.py": ""})
    git = ["git", "-C", str(main), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    (main / ".git" / "info").mkdir(exist_ok=True)
    (main / ".git" / "info" / "exclude").write_text("secret.py\n")
    subprocess.run([*git, "worktree", "add", "-q", str(tmp_path / "wt")], check=True)
    assert set(walk(tmp_path / "wt")) == {"a.py"}
    sub = write_tree(tmp_path / "sub", {"b.py": "", "local.py": "",
                                        ".git": "gitdir: ../modules/sub\n"})  # fmt: skip
    write_tree(tmp_path / "modules" / "sub", {"info/exclude": "local.py\n"})
    assert set(walk(sub)) == {"b.py"}


@pytest.mark.parametrize(
    ("ignores", "files"),
    [
        # a negated directory re-includes it, not what other patterns ignore below it
        ({".gitignore": "node_modules/\n!packages/\n"},
         ["packages/foo/node_modules/dep/index.js", "packages/foo/a.js", "node_modules/x.js"]),
        # `lib/**/` and `lib/**` match what is inside lib, not lib itself
        ({".gitignore": "lib/**/\n"}, ["lib/keep.py", "lib/sub/gen.py", "x.py"]),
        ({".gitignore": "logs/**\n!logs/keep.py\n"}, ["logs/keep.py", "logs/a.log", "logs/b/c.log"]),
        # the whitelist idiom: ignore everything, then bring back directories and *.py
        ({".gitignore": "*\n!.gitignore\n!*/\n!*.py\n"}, ["src/a.py", "src/in/b.py", "top.py", "c.txt"]),
        ({".gitignore": "gen/\n", "src/.gitignore": "!gen/\ngen/*\n!gen/keep.py\n"},
         ["src/gen/x.py", "src/gen/keep.py", "src/y.py", "gen/z.py"]),
        ({".gitignore": "*/\n"}, ["a/b.py", "c/d/e.py", "f.py"]),
    ],
)  # fmt: skip
def test_ignore_rules_decide_as_git_does(
    tmp_path: Path, ignores: dict[str, str], files: list[str]
) -> None:
    repo = write_tree(tmp_path / "repo", {**{f: "x = 1\n" for f in files}, **ignores})
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    listed = subprocess.run(["git", "-C", str(repo), "ls-files", "--others", "--exclude-standard"],
                            capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    ours = [p for p in walk(repo) if not p.endswith(".gitignore")]
    assert sorted(ours) == sorted(p for p in listed if not p.endswith(".gitignore"))


def test_no_ignore_include_exclude(tmp_path: Path) -> None:
    write_tree(
        tmp_path, {".gitignore": "*.log\n", "a.py": "", "b.log": "", "lib/c.js": "", "lib/d.py": ""}
    )
    assert set(walk(tmp_path, no_ignore=True)) == {
        ".gitignore",
        "a.py",
        "b.log",
        "lib/c.js",
        "lib/d.py",
    }
    assert set(walk(tmp_path, include=("*.py",))) == {"a.py", "lib/d.py"}
    assert set(walk(tmp_path, exclude=("lib/",))) == {".gitignore", "a.py"}
    assert set(walk(tmp_path, include=("*.py",), exclude=("lib/d.py",))) == {"a.py"}


def test_suffix_patterns_decide_as_pathspec_does() -> None:
    """`*.ext` lists (the usual --include) skip the regexes and must agree with them."""
    from snake_pipe.ignore import RuleFile

    lines = ["*.py", "*.tar.gz", "*.c++", "*.d.ts"]
    fast = RuleFile.from_lines("sub", "--include", lines)
    slow = RuleFile.from_lines("sub", "--include", [*lines, "zz[z]"])  # not all suffixes
    assert fast.suffixes == (".py", ".tar.gz", ".c++", ".d.ts") and slow.suffixes is None
    paths = [
        "sub/a.py", "sub/a.pyc", "sub/x/.py", "sub/x.py/readme", "sub/a.py.txt", "sub/b.tar.gz",
        "sub/b.gz", "sub/d/e.c++", "sub/e.cxx", "sub/t.d.ts", "sub/t.ts", "a.py", "subx/a.py",
        "sub/A.PY", "sub/nothing", "sub/deep/er/f.py",
    ]  # fmt: skip
    for path in paths:
        for is_dir in (False, True):
            got = fast.check(path, is_dir, why=False)
            want = slow.check(path, is_dir, why=False)
            assert (got is not None) == (want is not None), (path, is_dir)
            if is_dir is False:
                assert fast.check(path, is_dir) == slow.check(path, is_dir)


def test_store_and_git_never_walked(tmp_path: Path) -> None:
    write_tree(
        tmp_path, {"a.py": "", ".git/HEAD": "ref", "store/x.py": "", "sub/.git": "gitdir: x"}
    )
    assert set(walk(tmp_path, tmp_path / "store", no_ignore=True)) == {"a.py"}


def test_symlinks(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", {"a.py": "x = 1\n", "pkg/m.py": ""})
    write_tree(tmp_path / "outside", {"o.py": ""})
    os.symlink(repo / "a.py", repo / "link.py")
    os.symlink(tmp_path / "outside", repo / "out")
    os.symlink(repo / "missing.py", repo / "dangling.py")
    os.symlink(repo, repo / "pkg" / "loop")
    os.symlink(repo / "pkg", repo / "pkg2")
    default = walk(repo)
    assert {p for p, i in default.items() if isinstance(i, FileResult)} == {
        "link.py",
        "out",
        "dangling.py",
        "pkg/loop",
        "pkg2",
    }
    assert all(i.error_category == "symlink" for i in default.values() if isinstance(i, FileResult))
    followed = walk(repo, follow_symlinks=True)
    assert isinstance(followed["link.py"], WorkItem)
    # a link to a directory walked by its real path adds nothing
    assert "pkg2/m.py" not in followed and "pkg/m.py" in followed
    assert "symbolic link out of the repository" in str(followed["out"].error)  # type: ignore[union-attr]
    assert "dangling" in str(followed["dangling.py"].error)  # type: ignore[union-attr]
    assert not any(p.startswith("pkg/loop/") for p in followed)  # no loop
    (repo / ".git").mkdir()
    (repo / ".git" / "config").write_text("[core]\n")
    os.symlink(".git", repo / "gitdir")
    os.symlink(".git/config", repo / "gitcfg")
    into_git = walk(repo, follow_symlinks=True)
    assert not any(p.startswith("gitdir/") for p in into_git)
    for link in ("gitdir", "gitcfg"):
        assert "symbolic link into .git/" in str(into_git[link].error)  # type: ignore[union-attr]
    config = resolve_config({"follow_symlinks": True}, None, {})
    assert explain(repo, "gitdir", config) == [
        "skipped: gitdir is a symbolic link: it links into .git/, which is never ingested"
    ]


def test_followed_links_never_walk_a_directory_twice(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", {"a/b/x.py": "", "z/real.py": ""})
    os.symlink(".", repo / "a" / "b" / "self")
    os.symlink("..", repo / "a" / "b" / "up")
    os.symlink("../z", repo / "a" / "early")  # reached before z/ itself is walked
    found = walk(repo, follow_symlinks=True)
    assert {p for p, i in found.items() if isinstance(i, WorkItem)} == {"a/b/x.py", "z/real.py"}
    # every link still has its row: a file was found, it is only not walked again
    links = {p: i.error for p, i in found.items() if isinstance(i, FileResult)}
    assert set(links) == {"a/b/self", "a/b/up", "a/early"}
    assert all("walked already" in str(error) for error in links.values())


def test_languages_by_name_and_shebang() -> None:
    assert languages.by_name("src/x.tsx") == "tsx"
    assert languages.by_name("Makefile") == "make"
    assert languages.by_name("a/Dockerfile.prod") == "dockerfile"
    assert languages.by_name("x.unknownext") is None
    assert languages.by_name("lib.CS") == "csharp"
    assert languages.by_shebang(b"#!/usr/bin/env python3\nprint()") == "python"
    assert languages.by_shebang(b"#!/bin/bash -e\n") == "bash"
    assert languages.by_shebang(b"#!/usr/bin/env -S node --harmony\n") == "javascript"
    assert languages.by_shebang(b"print()") is None
    assert languages.is_binary(b"\x89PNG\r\n\x1a\n\0\0") and not languages.is_binary(b"text")
    assert languages.by_name("snake_pipe/parse/queries/go.scm") == "query"
    assert languages.by_name("lib/srfi.scm") == "scheme"
    # every extension maps to a grammar the pack really has, and every file grammar is reachable
    assert set(languages.EXTENSIONS.values()) <= languages.supported_languages()
    reachable = {*languages.EXTENSIONS.values(), *languages.FILENAMES.values(), "query"}
    assert languages.supported_languages() - reachable == languages.EMBEDDED


CPP_HEADER = """#pragma once
#include <vector>

namespace geo {
class Shape {
 public:
  virtual double area() const = 0;
};
}  // namespace geo
"""
C_HEADER = """#ifndef LIST_H
#define LIST_H
/* Like std::list, in C. See list::push below. */
typedef struct list { struct list *next; int value : 31; } list;
int list_push(list **head, int value);
#endif
"""
OBJC_HEADER = """#import <Foundation/Foundation.h>

@interface Greeter : NSObject
- (NSString *)greet:(NSString *)name;
@end
"""


def test_h_headers_are_c_cpp_or_objc_by_content(tmp_path: Path) -> None:
    assert languages.header_language(C_HEADER.encode()) == "c"
    assert languages.header_language(CPP_HEADER.encode()) == "cpp"
    assert languages.header_language(OBJC_HEADER.encode()) == "objc"
    assert languages.header_language(b"void f(ns::Type t);\n") == "cpp"
    assert languages.header_language(b"[[gnu::unused]] static int x;\n// a::b\n") == "c"
    assert languages.by_content("c", "src/x.c", CPP_HEADER.encode()) == "c"  # .c is C
    write_tree(tmp_path, {"shape.h": CPP_HEADER, "list.h": C_HEADER, "greeter.h": OBJC_HEADER})
    config = resolve_config({}, None, {})
    assert explain(tmp_path, "list.h", config) == [
        "included: language c (by file name or extension)"
    ]
    assert explain(tmp_path, "shape.h", config) == [
        "included: language cpp (by content: c by file name or extension, but it has cpp "
        "constructs)"
    ]
    assert run_cli("ingest", tmp_path, "--quiet").returncode == 0
    db = tmp_path / ".snake-pipe" / "records.sqlite"
    assert rows(db, "SELECT path, language, status FROM files ORDER BY path") == [
        ("greeter.h", "objc", "ok"), ("list.h", "c", "ok"), ("shape.h", "cpp", "ok"),
    ]  # fmt: skip
    report = tmp_path / "report.json"  # c, cpp and objc share one extractor version
    assert run_cli("ingest", tmp_path, "--quiet", "--report", report).returncode == 0
    assert json.loads(report.read_text())["progress"]["processed_files"] == 0
    assert rows(db, "SELECT name, kind, scope FROM symbols WHERE path = 'shape.h'") == [
        ("geo", "namespace", None), ("Shape", "class", "geo"), ("area", "method", "geo.Shape"),
    ]  # fmt: skip


# Extensions two languages use: one file of each language per extension.
SHARED_EXTENSION_FILES = {
    "ios/AppDelegate.m": (
        "#import \"AppDelegate.h\"\n\n@implementation AppDelegate\n"
        "- (BOOL)application:(UIApplication *)app { return YES; }\n@end\n", "objc"),
    "matlab/rms_norm.m": (
        "function y = rms_norm(x)\n% RMS_NORM  root mean square of a vector.\n"
        "y = sqrt(mean(x .^ 2));\nend\n", "matlab"),
    "octave/demo.m": (  # Octave's own `#` comments, `!` and `endif`, read as MATLAB's
        "# an Octave script\nx = linspace(0, 1, 10); # ten points\nif (! isempty (x))\n"
        "  plot(x, x .^ 2);\nendif\n", "matlab"),
    "web/app.ts": ("export function add(a: number, b: number): number {\n  return a + b;\n}\n",
                   "typescript"),
    "i18n/app_de.ts": (
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n<TS version="2.1" language="de">\n'
        "<context>\n    <name>MainWindow</name>\n    <message>\n        <source>&amp;File</source>\n"
        "        <translation>&amp;Datei</translation>\n    </message>\n</context>\n</TS>\n", "xml"),
    "manifests/web.pp": (
        "class profile::web (\n  Integer $port = 80,\n) {\n  package { 'nginx':\n"
        "    ensure => installed,\n  }\n}\n", "puppet"),
    "fpc/strutils2.pp": (
        "unit StrUtils2;\n\n{$mode objfpc}\n\ninterface\n\nfunction Twice(const S: string): string;\n\n"
        "implementation\n\nfunction Twice(const S: string): string;\nbegin\n  Result := S + S;\n"
        "end;\n\nend.\n", "pascal"),
    "kernels/saxpy.cl": (
        "// y = a * x + y\n__kernel void saxpy(const float a, __global const float *x,\n"
        "                    __global float *y)\n{\n    int i = get_global_id(0);\n"
        "    y[i] = a * x[i] + y[i];\n}\n\n"
        "kernel void scale(global float4 *v, constant float *s, local float4 *tmp)\n"
        "{\n    v[get_global_id(0)] *= s[0];\n}\n", "c"),
    "lisp/util.cl": (";;;; util.cl\n(in-package :cl-user)\n\n(defun square (x)\n  (* x x))\n",
                     "commonlisp"),
    "tex/report2.cls": (
        "%% report2.cls\n\\NeedsTeXFormat{LaTeX2e}\n\\ProvidesClass{report2}[2024/01/01]\n"
        "\\LoadClass{report}\n", "latex"),
    "force-app/AccountService.cls": (
        "public with sharing class AccountService {\n    public static Integer count() {\n"
        "        return [SELECT COUNT() FROM Account];\n    }\n}\n", "apex"),
    "shaders/blur.fs": (
        "#version 330 core\nin vec2 uv;\nout vec4 color;\nuniform sampler2D tex;\n\n"
        "void main() {\n    color = texture(tex, uv);\n}\n", "glsl"),
    "src/Lib.fs": ("module Lib\n\nopen System\n\nlet square x = x * x\n", "fsharp"),
    "build/main.d": ("build/main.o: src/main.c src/util.h \\\n  include/config.h\n\nsrc/util.h:\n",
                     "make"),
    "src/app.d": ('module app;\nimport std.stdio;\n\nvoid main() {\n    writeln("hi");\n}\n', "d"),
    "scripts/tidy.pl": ("#!/usr/bin/perl\nuse strict;\nmy $n = 0;\nsub bump { $n++ }\n", "perl"),
    "rtl/counter.v": (
        "`timescale 1ns / 1ps\nmodule counter(input clk, output reg [3:0] q);\n"
        "  always @(posedge clk) q <= q + 1;\nendmodule\n", "verilog"),
    # languages the pack has no grammar for: skipped as unsupported, named in the row
    "logic/family.pl": (":- module(family, [parent/2]).\n\nparent(tom, bob).\n"
                        "grandparent(X, Z) :- parent(X, Y), parent(Y, Z).\n", "prolog"),
    "proofs/Plus.v": ("Require Import Arith.\n\nLemma plus_0 : forall n, n + 0 = n.\n"
                      "Proof. auto. Qed.\n", "coq"),
    "vba/Sheet.cls": ('VERSION 1.0 CLASS\nBEGIN\n  MultiUse = -1  \'True\nEND\n'
                      'Attribute VB_Name = "Sheet"\n', "vba"),
}


def test_shared_extensions_are_decided_by_content(tmp_path: Path) -> None:
    """`.m`, `.ts`, `.pp`, `.cl`, `.cls`, `.fs`, `.d`, `.pl` and `.v` each name two languages
    or more; the content decides, and a second run reads none of them again (the languages a
    name may become share a version)."""
    write_tree(tmp_path, {path: text for path, (text, _) in SHARED_EXTENSION_FILES.items()})
    config = resolve_config({}, None, {})
    assert explain(tmp_path, "i18n/app_de.ts", config) == [
        "included: language xml (by content: typescript by file name or extension, but it has "
        "xml constructs)"
    ]
    assert explain(tmp_path, "web/app.ts", config) == [
        "included: language typescript (by file name or extension)"
    ]
    assert run_cli("ingest", tmp_path, "--quiet").returncode == 0
    db = tmp_path / ".snake-pipe" / "records.sqlite"
    assert dict(rows(db, "SELECT path, language FROM files WHERE path LIKE '%.%'")) == {
        path: language for path, (_, language) in SHARED_EXTENSION_FILES.items()
    }
    assert rows(db, "SELECT path, error FROM files WHERE status != 'ok' AND path LIKE '%.%' "
                    "ORDER BY path") == [
        ("logic/family.pl", "prolog (by its content): tree-sitter-language-pack has no grammar"),
        ("proofs/Plus.v", "coq (by its content): tree-sitter-language-pack has no grammar"),
        ("vba/Sheet.cls", "vba (by its content): tree-sitter-language-pack has no grammar"),
    ]  # fmt: skip
    assert explain(tmp_path, "logic/family.pl", config) == [
        "skipped: unsupported (prolog, by content: perl by file name or extension, but it has "
        "prolog constructs: tree-sitter-language-pack has no grammar for it)"
    ]
    assert rows(db, "SELECT name, kind FROM symbols WHERE path = 'kernels/saxpy.cl'") == [
        ("saxpy", "function"), ("scale", "function"),
    ]
    report = tmp_path / "report.json"
    assert run_cli("ingest", tmp_path, "--quiet", "--report", report).returncode == 0
    assert json.loads(report.read_text())["progress"]["processed_files"] == 0
    # the names alone still decide where the content has none of either language's marks
    assert languages.by_content("objc", "x.m", b"int x = 1;\n") == "objc"
    assert languages.by_content("pascal", "x.pp", b"x := 1\n") == "pascal"
    assert languages.by_content("typescript", "X.TS", b"<?xml version='1.0'?><TS/>") == "xml"
    assert languages.by_content("cpp", "x.H", b"#import <x.h>\n") == "cpp"  # C++ by its name
    # OpenCL's qualifiers are blanked for the C grammar, not where a directive names them,
    # and the bare ones only before a name (`global` may be a C variable)
    kernel = b"#define __global\n__kernel void f(__global int *a) { int global = local ? 1 : 2; }\n"
    assert languages.as_read("c", kernel) == (
        b"#define __global\n         void f(         int *a) { int global = local ? 1 : 2; }\n"
    )


def test_explain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree(tmp_path, {".gitignore": "*.log\nvendor/\n!keep.log\n", "a.log": "", "keep.log": "",
                          "vendor/x.py": "", "tool": "#!/bin/sh\necho\n", "big.py": "x" * 3000,
                          "img.png": b"\x89PNG\0\0", "notes.txt": "hi",
                          "completions/git": "# git completion  -*- shell-script -*-\n_git() { :; }\n",
                          "conf": "x = 1\n# vim: set ft=python:\n"})  # fmt: skip
    config = resolve_config({"max_file_bytes": 2000}, None, {})
    assert explain(tmp_path, "a.log", config) == ["ignored: file a.log (.gitignore:1: *.log)"]
    assert explain(tmp_path, "keep.log", config)[0] == "included by .gitignore:3: !keep.log"
    assert explain(tmp_path, "vendor/x.py", config) == [
        "ignored: directory vendor (.gitignore:2: vendor/)"
    ]
    assert explain(tmp_path, "tool", config) == ["included: language bash (by shebang)"]
    assert explain(tmp_path, "completions/git", config) == ["included: language bash (by mode line)"]
    assert explain(tmp_path, "conf", config) == ["included: language python (by mode line)"]
    assert "max_file_bytes" in explain(tmp_path, "big.py", config)[0]
    assert explain(tmp_path, "img.png", config)[0].startswith("skipped: binary")
    assert explain(tmp_path, "notes.txt", config)[0].startswith("skipped: unsupported")
    assert explain(tmp_path, ".git/config", config)[0].startswith("ignored")
    result = run_cli("explain", tmp_path, "a.log")
    assert result.returncode == 0 and "(.gitignore:1: *.log)" in result.stdout
    monkeypatch.chdir(tmp_path / "vendor")  # a path from the current directory, as a shell completes it
    assert explain(tmp_path, "./x.py", config)[0].startswith("ignored: directory vendor")
    monkeypatch.chdir(tmp_path.parent)
    assert explain(tmp_path, f"{tmp_path.name}/a.log", config)[0].startswith("ignored: file a.log")
    # the repository reached through a link (a shell's $PWD under a linked home)
    linked = tmp_path.parent / f"{tmp_path.name}-link"
    linked.symlink_to(tmp_path)
    assert explain(tmp_path, str(linked / "a.log"), config)[0].startswith("ignored: file a.log")


def test_explain_says_what_the_walk_does_with_links_and_odd_files(tmp_path: Path) -> None:
    """For every case the walk decides, explain gives the same verdict as an ingest's row."""
    repo = write_tree(tmp_path / "repo", {"src/a/m.py": "x = 1\n"})
    (repo / "src" / "utf16.py").write_bytes("def w():\n    pass\n".encode("utf-16"))
    os.symlink("a", repo / "src" / "alias")
    os.symlink("..", repo / "src" / "a" / "loop")
    os.symlink(tmp_path, repo / "src" / "out")
    os.symlink("nowhere", repo / "src" / "dangling")
    off, on = resolve_config({}, None, {}), resolve_config({"follow_symlinks": True}, None, {})
    assert explain(repo, "src/utf16.py", off) == [
        "included: language python (by file name or extension)"
    ]
    assert explain(repo, "src/alias/m.py", off) == [
        "skipped: src/alias is a symbolic link: not followed (follow_symlinks is off)"
    ]
    assert "walked by its own path" in explain(repo, "src/alias/m.py", on)[0]
    assert "walked by its own path" in explain(repo, "src/a/loop", on)[0]
    assert "links out of the repository" in explain(repo, "src/out", on)[0]
    assert explain(repo, "src/dangling", on) == [
        "skipped: src/dangling is a symbolic link: dangling"
    ]
    rows_on = walk(repo, follow_symlinks=True)
    assert isinstance(rows_on["src/utf16.py"], WorkItem)
    assert {p for p, i in rows_on.items() if isinstance(i, FileResult)} == {
        "src/alias", "src/a/loop", "src/out", "src/dangling"
    }  # fmt: skip
    outside = run_cli("explain", repo, "../elsewhere.py")
    assert outside.returncode == 2 and "not a path inside the repository" in outside.stderr
    # a path that does not exist yet: what the rules would do, then exit 1
    missing = run_cli("explain", repo, "src/new.py")
    assert missing.returncode == 1 and missing.stdout.splitlines() == [
        "included: language python (by file name or extension)",
        "not found: src/new.py does not exist (the lines above say what the rules would do "
        "with src/new.py)",
    ]  # fmt: skip
    (repo / ".gitignore").write_text("build/\n")
    ignored = run_cli("explain", repo, "build/new.py")
    assert ignored.returncode == 1 and ignored.stdout.splitlines() == [
        "ignored: directory build (.gitignore:1: build/)",
        "not found: build does not exist (the lines above say what the rules would do with "
        "build/new.py)",
    ]  # fmt: skip


def test_fifos_and_sockets_are_skipped_never_opened(tmp_path: Path) -> None:
    """Opening a FIFO blocks until a writer comes: the walk, explain, a worker (the path turned
    into a FIFO after discovery) and a FIFO .gitignore must neither open one nor hang."""
    repo = write_tree(tmp_path / "repo", {"a.py": "x = 1\n", "sub/b.py": "y = 2\n"})
    os.mkfifo(repo / "pipe.py")
    os.mkfifo(repo / "sub" / ".gitignore")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(repo / "app.sock"))
    os.symlink("pipe.py", repo / "to_pipe.py")
    try:
        result = run_cli("ingest", repo, "--quiet", timeout=60)
        assert result.returncode == 0, result.stderr
        db = repo / ".snake-pipe" / "records.sqlite"
        assert rows(db, "SELECT path, status, error_category, error FROM files WHERE "
                    "error_category IS NOT NULL ORDER BY path") == [
            ("app.sock", "skipped", "special", "a socket, not a regular file: never opened"),
            ("pipe.py", "skipped", "special",
             "a FIFO (named pipe), not a regular file: never opened"),
            ("sub/.gitignore", "skipped", "special",
             "a FIFO (named pipe), not a regular file: never opened"),
            ("to_pipe.py", "skipped", "symlink",
             "symbolic link, not followed (follow_symlinks = true follows links inside the repo)"),
        ]  # fmt: skip
        assert rows(db, "SELECT status FROM files WHERE path = 'sub/b.py'") == [("ok",)]
        followed = walk(repo, follow_symlinks=True)["to_pipe.py"]
        assert isinstance(followed, FileResult) and followed.error_category == "special"
        config = resolve_config({}, None, {})
        assert explain(repo, "pipe.py", config) == [
            "skipped: a FIFO (named pipe), not a regular file (never opened)"
        ]
        init_worker(WorkerOptions())
        item = WorkItem("pipe.py", str(repo / "pipe.py"), "python", 6, 0)  # a file at discovery
        late = extract_file(item)
        assert (late.status, late.error_category) == ("skipped", "special")
    finally:
        server.close()


def test_sink_outputs_inside_the_repository_are_never_ingested(tmp_path: Path) -> None:
    """A feed written into the repository (and watched) must not feed itself."""
    repo = write_tree(tmp_path / "repo", {"a.py": "x = 1\n"})
    sinks = (
        "--sink",
        f"jsonl:{repo / 'feed.jsonl'}",
        "--sink",
        f"sqlite:{repo / 'out' / 'db.sqlite'}",
    )
    for _ in range(2):
        assert run_cli("ingest", repo, *sinks, "--quiet").returncode == 0
    assert rows(repo / "out" / "db.sqlite", "SELECT path FROM files") == [("a.py",)]
    said = run_cli("explain", repo, "feed.jsonl", *sinks[:2]).stdout
    assert said == "ignored: file feed.jsonl (a sink's output is never ingested)\n"
