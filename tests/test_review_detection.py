"""Language detection and per-file extraction on the files that break naive tools: a parse
that holds the GIL past the timeout, odd encodings and line endings, odd names."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from snake_pipe.parse import worker
from tests.conftest import rows, run_cli, write_tree

# 200,000 unclosed brackets: tree-sitter's query cursor takes seconds to walk the error node's
# children (quadratic), all in C holding the GIL, so no Python thread can run meanwhile.
UNCLOSED = "x = " + "(" * 200_000 + "\n"


def test_a_parse_holding_the_gil_past_the_timeout_is_stopped_at_the_timeout(
    tmp_path: Path,
) -> None:
    """A watchdog thread never runs while tree-sitter holds the GIL: the worker hung until
    batch_timeout_s (600 s) on a COBOL file of one letter, whose parse never ends."""
    repo = write_tree(tmp_path / "repo", {"deep.py": UNCLOSED, "stub.cbl": "x", "ok.py": "x = 1\n"})
    # the worker itself: ended by the kernel at parse_timeout_ms, with the timeout's exit code
    code = (
        "import sys\nfrom snake_pipe.parse import worker\nfrom snake_pipe.records import WorkItem\n"
        "worker.init_worker(worker.WorkerOptions(parse_timeout_ms=300))\n"
        "worker.process_batch([WorkItem('deep.py', sys.argv[1], 'python', "
        f"{len(UNCLOSED)}, 0)])\n"
    )
    started = time.monotonic()
    child = subprocess.run([sys.executable, "-c", code, str(repo / "deep.py")], timeout=120)
    assert child.returncode == worker.TIMEOUT_EXIT
    assert time.monotonic() - started < 5  # the query alone takes 15 s here
    # a whole run: the file is a timeout, the rest goes on, and it takes the timeouts' time
    started = time.monotonic()
    result = run_cli("ingest", repo, "--quiet", env={"SNAKE_PIPE_PARSE_TIMEOUT_MS": "300"},
                     timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 15
    assert rows(repo / ".snake-pipe" / "records.sqlite",
                "SELECT path, status, error_category FROM files ORDER BY path") == [
        ("deep.py", "failed", "timeout"), ("ok.py", "ok", None), ("stub.cbl", "failed", "timeout"),
    ]  # fmt: skip


CPP_HEADER = """#pragma once
#include <vector>

namespace geo {
class Shape {
 public:
  virtual double area() const = 0;
};
}
"""
PY = "def a():\n    pass\n\ndef b(:\n    pass\n"


def test_utf16_bom_and_cr_only_files_are_read_like_their_utf8_twins(tmp_path: Path) -> None:
    """A Windows repository's UTF-16 header or script, a script saved with a BOM and a classic
    Mac file (CR line ends) get the language, lines and positions of the same text in UTF-8;
    ``explain`` agrees with the records; UTF-32 is binary, as git says."""
    repo = write_tree(tmp_path / "repo", {
        "shape.h": CPP_HEADER.encode("utf-16"),
        "shape_mac.h": CPP_HEADER.replace("\n", "\r").encode(),
        "tool": "#!/usr/bin/env python3\ndef main():\n    pass\n".encode("utf-16"),
        "tool_bom": b"\xef\xbb\xbf#!/usr/bin/env python3\ndef main():\n    pass\n",
        "conf": "x = 1\n# vim: set ft=python:\n".encode("utf-16"),
        "mac.py": PY.replace("\n", "\r").encode(), "unix.py": PY,
        "wide.py": PY.encode("utf-32"), "cut.py": PY.encode("utf-16")[:-1],
    })  # fmt: skip
    assert run_cli("ingest", repo, "--quiet").returncode == 0
    db = repo / ".snake-pipe" / "records.sqlite"
    assert rows(db, "SELECT path, language, line_count, status, error_category FROM files "
                "ORDER BY path") == [
        ("conf", "python", 2, "ok", None),
        ("cut.py", "python", 5, "failed", "decode"),
        ("mac.py", "python", 5, "syntax_error", None),
        ("shape.h", "cpp", 9, "ok", None),
        ("shape_mac.h", "cpp", 9, "ok", None),
        ("tool", "python", 3, "ok", None),
        ("tool_bom", "python", 3, "ok", None),
        ("unix.py", "python", 5, "syntax_error", None),
        ("wide.py", "python", 6, "skipped", "binary"),
    ]  # fmt: skip
    for table in ("symbols", "parse_errors"):
        unix = rows(db, f"SELECT * FROM {table} WHERE path = 'unix.py'")
        assert rows(db, f"SELECT * FROM {table} WHERE path = 'mac.py'") == [
            ("mac.py", *row[1:]) for row in unix
        ]
    assert rows(db, "SELECT name, start_line FROM symbols WHERE path = 'unix.py'") == [
        ("a", 1), ("b", 4)
    ]  # fmt: skip
    assert rows(db, "SELECT count(*) FROM symbols WHERE path = 'shape.h'") == [(3,)]
    assert rows(db, "SELECT error FROM files WHERE path = 'cut.py'") == [
        ("not valid UTF-16 after its byte-order mark (truncated data at byte 72): save it again "
         "as UTF-8 or UTF-16",)
    ]  # fmt: skip
    said = {name: run_cli("explain", repo, name).stdout for name in ("shape.h", "tool", "conf")}
    assert said == {
        "shape.h": "included: language cpp (by content: c by file name or extension, but it "
                   "has cpp constructs)\n",
        "tool": "included: language python (by shebang)\n",
        "conf": "included: language python (by mode line)\n",
    }  # fmt: skip


def test_scripts_run_through_nix_shell_uv_or_npx_are_in_their_interpreters_language(
    tmp_path: Path,
) -> None:
    """A nix-shell script is in the language its `#! nix-shell -i` line names (bash if none),
    never Nix; a PEP 723 script under `uv run` is Python, `npx tsx` runs TypeScript."""
    py = "import sys\n\ndef main():\n    pass\n"
    pep723 = '# /// script\n# dependencies = ["requests"]\n# ///\n'
    repo = write_tree(tmp_path / "repo", {
        "fetch": f"#! /usr/bin/env nix-shell\n#! nix-shell -i python3 -p python3.pkgs.rich\n{py}",
        "deploy": "#!/usr/bin/env nix-shell\n#!nix-shell -p jq\necho hi | jq .\n",
        "tool": f"#!/usr/bin/env -S uv run --with requests --script\n{pep723}{py}",
        "pipx-tool": f"#!/usr/bin/env -S pipx run\n{py}",
        "gen": "#!/usr/bin/env -S npx tsx\nexport function f(x: number): void {}\n",
        "node-tool": "#!/usr/bin/env -S node --no-warnings\nfunction f() {}\n",
    })  # fmt: skip
    assert run_cli("ingest", repo, "--quiet").returncode == 0
    db = repo / ".snake-pipe" / "records.sqlite"
    assert rows(db, "SELECT path, language, status FROM files ORDER BY path") == [
        ("deploy", "bash", "ok"), ("fetch", "python", "ok"), ("gen", "typescript", "ok"),
        ("node-tool", "javascript", "ok"), ("pipx-tool", "python", "ok"), ("tool", "python", "ok"),
    ]  # fmt: skip
    assert rows(db, "SELECT DISTINCT name FROM symbols ORDER BY name") == [("f",), ("main",)]
    said = run_cli("explain", repo, "fetch")
    assert said.stdout == "included: language python (by shebang)\n"


def test_capital_c_and_h_are_cpp_as_gcc_has_them_unless_the_name_is_a_dos_one(
    tmp_path: Path,
) -> None:
    """CERN ROOT's macros are `.C` files of C++ (`new`, `delete`: errors in C); an old DOS
    project's `WL_MAIN.C` is C."""
    macro = 'void hist() {\n  TH1F *h = new TH1F("h", "t", 100, -3, 3);\n  delete h;\n}\n'
    repo = write_tree(tmp_path / "repo", {
        "macros/hist.C": macro, "macros/Hist.H": "int f(int);\n",
        "WOLF/WL_MAIN.C": "int main(void) { return 0; }\n", "WOLF/WL_DEF.H": "int f(int);\n",
        "src/a.c": "int a;\n", "src/A.Cpp": "int b;\n", "src/b.CC": "int c;\n",
    })  # fmt: skip
    assert run_cli("ingest", repo, "--quiet").returncode == 0
    assert rows(repo / ".snake-pipe" / "records.sqlite",
                "SELECT path, language, status FROM files ORDER BY path") == [
        ("WOLF/WL_DEF.H", "c", "ok"), ("WOLF/WL_MAIN.C", "c", "ok"),
        ("macros/Hist.H", "cpp", "ok"), ("macros/hist.C", "cpp", "ok"),
        ("src/A.Cpp", "cpp", "ok"), ("src/a.c", "c", "ok"), ("src/b.CC", "cpp", "ok"),
    ]  # fmt: skip
    said = run_cli("explain", repo, "macros/hist.C").stdout
    assert said == "included: language cpp (by file name or extension)\n"


def test_a_crlf_cpp_header_with_braces_on_their_own_lines_is_cpp(tmp_path: Path) -> None:
    """Windows code: CRLF line ends and `namespace config` / `class Widget` with the brace
    on the next line; the same header with LF line ends was C++ already."""
    header = "#pragma once\nnamespace config\n{\nclass Widget\n{\n  int x;\n};\n}\n"
    repo = write_tree(tmp_path / "repo", {
        "lf.h": header, "crlf.h": header.replace("\n", "\r\n").encode(),
    })  # fmt: skip
    assert run_cli("ingest", repo, "--quiet").returncode == 0
    db = repo / ".snake-pipe" / "records.sqlite"
    assert rows(db, "SELECT path, language, status FROM files ORDER BY path") == [
        ("crlf.h", "cpp", "ok"), ("lf.h", "cpp", "ok"),
    ]  # fmt: skip
    assert rows(db, "SELECT name, kind, scope FROM symbols WHERE path = 'crlf.h'") == [
        ("config", "namespace", None), ("Widget", "class", "config"),
    ]  # fmt: skip


def test_automake_and_kbuild_makefiles_are_make(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", {
        "Makefile.am": "bin_PROGRAMS = hello\nhello_SOURCES = main.c\n",
        "Makefile.in": "CC = @CC@\nall: hello\n", "drivers/Kbuild": "obj-y += foo.o\n",
        "Makefile.PL": "use ExtUtils::MakeMaker;\n",
    })  # fmt: skip
    assert run_cli("ingest", repo, "--quiet").returncode == 0
    assert rows(repo / ".snake-pipe" / "records.sqlite",
                "SELECT path, language FROM files ORDER BY path") == [
        ("Makefile.PL", "perl"), ("Makefile.am", "make"), ("Makefile.in", "make"),
        ("drivers/Kbuild", "make"),
    ]  # fmt: skip
