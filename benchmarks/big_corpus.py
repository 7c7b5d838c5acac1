#!/usr/bin/env python3
"""Build a big benchmark corpus: N files of real third-party source, every file distinct.

    python benchmarks/big_corpus.py [--files 100000] [--root DIR] [--print-path]

Sources are pinned releases of other people's projects, fetched with the registries' own
clients (``pip download --no-deps --no-binary NAME``, ``npm pack``) and checked against the
SHA-256 pinned below. Downloads are cached in ``ROOT/downloads``; the source files used
("originals") are unpacked into ``ROOT/src``. The default ROOT is ``benchmarks/.work/big_corpus``
(ignored by git), *not* ``benchmarks/corpus/``: ``bench_ingest.py`` and ``bench_api.py`` ingest
everything under ``benchmarks/corpus/``, and 100,000 extra files there would change their numbers.

Originals are the files of the archives that snake-pipe detects a language for and that can
take a comment line: at most 1 MiB minus a little (so copies stay under ``max_file_bytes``), no
NUL byte in the first 8000 bytes, no ``.gitignore`` (it would hide files), distinct contents.
They are replicated into ``ROOT/files-N/copyKKK/<package>-<version>/<original path>`` until there
are N files: copy 0 is the original, copy K > 0 has a comment line appended that suits its
language (``# copy 17`` for Python, shell, Ruby; ``// copy 17`` for C-family, JS, TS, Java...;
``<!-- copy 17 -->`` for HTML/XML/Markdown; ``/* copy 17 */`` for CSS...). Every original is
checked once (cached) by parsing it with and without that line: an original the line would make
a syntax error is left out. Every file of the corpus has distinct bytes (checked while writing),
so snake-pipe's per-process dedup of equal contents never hides work.

The originals are taken in a fixed shuffled order, so any N gets the same language mix.
Idempotent: ``ROOT/files-N`` with its manifest ``ROOT/files-N.json`` is reused as it is; a
build goes to ``files-N.partial`` and is renamed at the end.

Other benchmarks import ``ensure_corpus(files)`` from here.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_ROOT = HERE / ".work" / "big_corpus"
FORMAT = 1  # bump when the layout or the selection rules change: corpora are rebuilt
MAX_ORIGINAL_BYTES = (1 << 20) - 256  # snake-pipe's default max_file_bytes, minus the comment
SNIFF = 8000  # git's (and snake-pipe's) binary sniff length
SEED = 20251123


@dataclass(frozen=True)
class Source:
    registry: str  # pypi | npm
    name: str
    version: str
    sha256: str
    what: str

    @property
    def dirname(self) -> str:
        return f"{self.name.replace('@', '').replace('/', '-')}-{self.version}"


# fmt: off
SOURCES: tuple[Source, ...] = (
    Source("pypi", "django", "5.2.8",
           "23254866a5bb9a2cfa6004e8b809ec6246eba4b58a7589bc2772f1bcc8456c7f",
           "Python, HTML, JavaScript, CSS, gettext"),
    Source("pypi", "sqlalchemy", "2.0.44",
           "0ae7454e1ab1d780aee69fd2aae7d6b8670a581d8847f2d1e0f7ddfbf47e5a22",
           "Python, HTML, reStructuredText"),
    Source("pypi", "grpcio", "1.76.0",
           "7be78388d6da1a25c0d5ec506523db58b18be22d9c37d8d3a32c08be4987bd73",
           "C, C++ (core, abseil, boringssl, upb), assembly, Python"),
    Source("pypi", "jpype1", "1.6.0",
           "2d46b2a14f8f0e6f17d8aa22b4fc3a64b2790851ebf1409ad79a37c698fd6e9a",
           "Java, C++, Python"),
    Source("npm", "typescript", "5.9.3",
           "10e108c9cf7d5f2879053dff18515fb405abf2ccef63eaaf017d9c571687a1d3",
           "TypeScript declarations, JavaScript"),
    Source("npm", "lodash", "4.17.21",
           "6a087ac9e5702a0c9d60fbcd48696012646ec8df1491dea472b150e79fcaf804",
           "JavaScript"),
    Source("npm", "rxjs", "7.8.2",
           "2312f8ffd9726ffd7bd53ea12c5f13663d09a3dc3326f448c70b88f5ef6fac82",
           "TypeScript, JavaScript"),
)
# numpy is not here: its sdist builds with meson-python, and pip download prepares the
# metadata of an sdist, which for numpy means compiling it.

# A comment line per language: (prefix, suffix). Languages not listed are not used (JSON has no
# comments; CSV, PEM... are not code).
_HASH, _SLASH, _DASH, _SEMI = ("# ", ""), ("// ", ""), ("-- ", ""), ("; ", "")
COMMENTS: dict[str, tuple[str, str]] = {
    **dict.fromkeys(("python", "ruby", "bash", "perl", "yaml", "toml", "cmake", "make",
                     "starlark", "r", "elixir", "nim", "dockerfile", "requirements",
                     "pymanifest", "meson", "gn", "julia", "tcl", "nix", "fish", "powershell",
                     "po", "properties", "hcl", "terraform", "asm"), _HASH),
    **dict.fromkeys(("c", "cpp", "cuda", "java", "javascript", "typescript", "tsx", "go", "rust",
                     "csharp", "kotlin", "swift", "scala", "php", "dart", "groovy", "objc",
                     "proto", "zig", "d", "glsl", "hlsl", "solidity", "verilog", "scss",
                     "thrift", "jsonnet"), _SLASH),
    **dict.fromkeys(("lua", "sql", "haskell", "elm", "ada"), _DASH),
    **dict.fromkeys(("commonlisp", "scheme", "racket", "clojure", "elisp", "ini"), _SEMI),
    **dict.fromkeys(("html", "xml", "markdown", "vue", "svelte"), ("<!-- ", " -->")),
    **dict.fromkeys(("erlang", "latex", "matlab"), ("% ", "")),
    "css": ("/* ", " */"), "fortran": ("! ", ""), "ocaml": ("(* ", " *)"),
    "rst": ("\n.. ", ""),  # an RST comment needs a blank line before it
}
# fmt: on


class CorpusError(Exception):
    pass


def say(message: str) -> None:
    print(message, flush=True)


def with_comment(content: bytes, language: str, copy: int) -> bytes:
    """``content`` with a comment line naming ``copy`` appended, in the language's syntax."""
    prefix, suffix = COMMENTS[language]
    if content and not content.endswith(b"\n"):
        content += b"\r\n" if content.endswith(b"\r") else b"\n"
    if content.rstrip(b"\r\n").endswith(b"\\"):
        content += b"\n"  # a line continuation must not swallow the comment
    return content + f"{prefix}copy {copy}{suffix}\n".encode()


def signature() -> str:
    data = json.dumps([FORMAT, MAX_ORIGINAL_BYTES, SEED, sorted(COMMENTS.items()),
                       [(s.registry, s.name, s.version, s.sha256) for s in SOURCES]])  # fmt: skip
    return hashlib.sha256(data.encode()).hexdigest()[:16]


# ---------------------------------------------------------------- downloads


def _run(cmd: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=cwd, text=True, capture_output=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise CorpusError(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{tail}")
    return proc


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(src: Source, downloads: Path) -> Path:
    """The archive of ``src``, from the cache or its registry, checked against its pin."""
    downloads.mkdir(parents=True, exist_ok=True)
    target = downloads / f"{src.dirname}.{'tar.gz' if src.registry == 'pypi' else 'tgz'}"
    if not target.exists():
        with_tmp = downloads / f".tmp-{src.dirname}"
        shutil.rmtree(with_tmp, ignore_errors=True)
        with_tmp.mkdir()
        try:
            say(f"  download {src.registry}:{src.name}=={src.version}")
            if src.registry == "pypi":
                # --no-binary NAME (not :all:): the sdist of this package; its build backend
                # (setuptools), which pip runs to read the metadata, may come as a wheel.
                _run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary",
                      src.name, "--disable-pip-version-check", "--quiet", "-d", str(with_tmp),
                      f"{src.name}=={src.version}"])  # fmt: skip
            else:
                _run(["npm", "pack", f"{src.name}@{src.version}", "--silent",
                      "--pack-destination", str(with_tmp)])  # fmt: skip
            got = [p for p in with_tmp.iterdir() if p.name.endswith((".tar.gz", ".tgz"))]
            if len(got) != 1:
                raise CorpusError(f"{src.name}=={src.version}: expected one archive, got {got}")
            got[0].replace(target)
        finally:
            shutil.rmtree(with_tmp, ignore_errors=True)
    digest = sha256_of(target)
    if digest != src.sha256:
        raise CorpusError(f"{target}: sha256 {digest} is not the pinned {src.sha256}; "
                          "delete it to download again")  # fmt: skip
    return target


# ---------------------------------------------------------------- originals


def _language(rel: str) -> str | None:
    from snake_pipe import languages

    lang = languages.by_name(rel)
    return lang if lang in COMMENTS else None


def _wanted(rel: str, data: bytes) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return (
        name != ".gitignore"
        and len(data) <= MAX_ORIGINAL_BYTES
        and b"\0" not in data[:SNIFF]
        and not data.startswith((b"\xff\xfe", b"\xfe\xff"))  # UTF-16: a UTF-8 line would break it
    )


def unpack_originals(src: Source, archive: Path, into: Path) -> None:
    """The regular files of the archive that can be originals, first path component dropped."""
    tmp = into.with_name(into.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        for member in tar:
            if not member.isfile():
                continue
            parts = Path(member.name).parts[1:]
            if not parts or Path(member.name).is_absolute() or ".." in parts:
                continue
            rel = "/".join(parts)
            if ".git" in parts or _language(rel) is None:
                continue
            f = tar.extractfile(member)
            data = f.read() if f else b""
            if not _wanted(rel, data):
                continue
            dest = tmp / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
    tmp.rename(into)


_parsers: dict[str, object] = {}


def _has_error(language: str, data: bytes) -> bool:
    import tree_sitter_language_pack as tslp

    parser = _parsers.get(language)
    if parser is None:
        parser = _parsers[language] = tslp.get_parser(language)  # type: ignore[arg-type]
    return bool(parser.parse(data).root_node.has_error)  # type: ignore[attr-defined]


def _check_one(job: tuple[str, str, str]) -> tuple[str, str, str | None]:
    """(rel, language, why not) for one original: the comment must not add a syntax error."""
    path, rel, language = job
    data = Path(path).read_bytes()
    data_for_parse = data[3:] if data.startswith(b"\xef\xbb\xbf") else data  # as snake-pipe
    try:
        before = _has_error(language, data_for_parse)
        after = _has_error(language, with_comment(data_for_parse, language, 1))
    except Exception as exc:  # a grammar that cannot load: not a usable original
        return rel, language, f"{type(exc).__name__}: {exc}"
    if after and not before:
        return rel, language, "the comment line makes it a syntax error"
    return rel, language, None


@dataclass(frozen=True)
class Original:
    rel: str  # <package>-<version>/<path inside the package>
    language: str


def originals(root: Path, downloads: Path, check: bool = True) -> list[Original]:
    """The checked originals, in the fixed shuffled order; cached in ROOT/src."""
    src_root = root / "src"
    cache = src_root / f"originals-{signature()}{'' if check else '-unchecked'}.json"
    if cache.exists():
        data = json.loads(cache.read_text())
        return [Original(rel, lang) for rel, lang in data["originals"]]
    for src in SOURCES:
        into = src_root / src.dirname
        if not into.is_dir():
            archive = download(src, downloads)
            say(f"  unpack   {archive.name}")
            unpack_originals(src, archive, into)
    jobs: list[tuple[str, str, str]] = []
    seen: set[bytes] = set()
    duplicates = 0
    for src in SOURCES:
        base = src_root / src.dirname
        for dirpath, dirnames, names in os.walk(base):
            dirnames.sort()
            for name in sorted(names):
                path = Path(dirpath) / name
                rel = path.relative_to(src_root).as_posix()
                language = _language(rel)
                if language is None:
                    continue
                digest = hashlib.sha1(path.read_bytes()).digest()
                if digest in seen:
                    duplicates += 1
                    continue
                seen.add(digest)
                jobs.append((str(path), rel, language))
    rejected: list[tuple[str, str]] = []
    if check:
        say(f"  checking {len(jobs)} originals: does a comment line keep them error-free?")
        started = time.monotonic()
        ctx = multiprocessing.get_context("forkserver")
        with ctx.Pool(max(1, len(os.sched_getaffinity(0)))) as pool:
            results = pool.map(_check_one, jobs, chunksize=64)
        good = []
        for rel, language, why in results:
            if why is None:
                good.append((rel, language))
            else:
                rejected.append((rel, why))
        say(f"  checked in {time.monotonic() - started:.0f} s: {len(rejected)} left out")
    else:
        good = [(rel, language) for _, rel, language in jobs]
    random.Random(SEED).shuffle(good)
    cache.write_text(json.dumps({"signature": signature(), "duplicates_dropped": duplicates,
                                 "rejected": rejected, "originals": good}) + "\n")  # fmt: skip
    return [Original(rel, lang) for rel, lang in good]


# ---------------------------------------------------------------- the corpus


def corpus_path(files: int, root: Path = DEFAULT_ROOT) -> Path:
    return root / f"files-{files}"


def manifest_path(corpus: Path) -> Path:
    return corpus.with_name(corpus.name + ".json")


def read_manifest(corpus: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(manifest_path(corpus).read_text())
    except (OSError, ValueError):
        return None
    return data if corpus.is_dir() and data.get("signature") == signature() else None


def _plan(origs: list[Original]) -> Iterator[tuple[int, Original]]:
    copy = 0
    while True:
        for orig in origs:
            yield copy, orig
        copy += 1


def build(files: int, root: Path, downloads: Path, check: bool) -> Path:
    origs = originals(root, downloads, check)
    if not origs:
        raise CorpusError("no originals: the downloads hold no usable source files")
    corpus = corpus_path(files, root)
    tmp = corpus.with_name(corpus.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    say(f"  writing {files} files from {len(origs)} originals into {corpus}")
    started = time.monotonic()
    hashes: set[bytes] = set()
    by_language: collections.Counter[str] = collections.Counter()
    total_bytes = written = skipped = 0
    made_dirs: set[Path] = set()
    cache: dict[str, bytes] = {}
    for copy, orig in _plan(origs):
        if written >= files:
            break
        data = cache.get(orig.rel)
        if data is None:
            data = (root / "src" / orig.rel).read_bytes()
            if len(origs) <= 50_000:
                cache[orig.rel] = data
        content = data if copy == 0 else with_comment(data, orig.language, copy)
        digest = hashlib.sha1(content).digest()
        if digest in hashes:
            skipped += 1
            continue
        hashes.add(digest)
        dest = tmp / f"copy{copy:03d}" / orig.rel
        if dest.parent not in made_dirs:
            dest.parent.mkdir(parents=True, exist_ok=True)
            made_dirs.add(dest.parent)
        dest.write_bytes(content)
        written += 1
        total_bytes += len(content)
        by_language[orig.language] += 1
        if written % 20_000 == 0:
            say(f"    {written} files")
    if written < files:
        raise CorpusError(f"only {written} distinct files could be made")
    tmp.rename(corpus)
    manifest = {
        "signature": signature(), "files": written, "bytes": total_bytes,
        "copies": len({p.name for p in corpus.iterdir()}), "originals": len(origs),
        "equal_contents_skipped": skipped,
        "by_language": dict(by_language.most_common()),
        "sources": [f"{s.registry}:{s.name}=={s.version}" for s in SOURCES],
        "built_in_s": round(time.monotonic() - started, 1),
    }  # fmt: skip
    manifest_path(corpus).write_text(json.dumps(manifest, indent=2) + "\n")
    return corpus


def ensure_corpus(
    files: int,
    root: Path = DEFAULT_ROOT,
    downloads: Path | None = None,
    check: bool = True,
    rebuild: bool = False,
) -> Path:
    """The directory of an N-file corpus, built if it is not there yet."""
    root = root.resolve()
    corpus = corpus_path(files, root)
    if not rebuild and read_manifest(corpus) is not None:
        return corpus
    if corpus.exists():
        say(f"  {corpus}: stale or incomplete, rebuilding")
        shutil.rmtree(corpus)
    return build(files, root, (downloads or root / "downloads").resolve(), check)


def corpus_files(corpus: Path) -> list[str]:
    """Every file of a corpus, relative, sorted (for benchmarks that pick some)."""
    found = []
    for dirpath, dirnames, names in os.walk(corpus):
        dirnames.sort()
        rel_dir = os.path.relpath(dirpath, corpus)
        for name in sorted(names):
            found.append(name if rel_dir == "." else f"{rel_dir}/{name}")
    return found


def describe(corpus: Path, out: Callable[[str], None] = say) -> None:
    manifest: dict[str, Any] = read_manifest(corpus) or {}
    out(f"corpus {corpus}: {manifest.get('files')} files, "
        f"{int(manifest.get('bytes', 0)) / 1e6:.0f} MB, {manifest.get('copies')} copies of "
        f"{manifest.get('originals')} originals")  # fmt: skip
    langs: dict[str, int] = manifest.get("by_language") or {}
    top = ", ".join(f"{k} {v}" for k, v in list(langs.items())[:10])
    out(f"  languages: {top}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="See the module docstring for the layout and the rules.",
    )
    parser.add_argument("--files", type=int, default=100_000, help="files (default 100000)")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT,
                        help=f"downloads, originals and corpora (default {DEFAULT_ROOT})")  # fmt: skip
    parser.add_argument("--downloads", type=Path, help="archive cache (default ROOT/downloads)")
    parser.add_argument("--no-check", action="store_true",
                        help="do not parse the originals to check the comment lines")  # fmt: skip
    parser.add_argument("--rebuild", action="store_true", help="build again even if present")
    parser.add_argument("--print-path", action="store_true", help="print only the corpus path")
    args = parser.parse_args(argv)
    if args.files < 1:
        parser.error("--files must be at least 1")
    try:
        corpus = ensure_corpus(args.files, args.root, args.downloads, not args.no_check,
                               args.rebuild)  # fmt: skip
    except CorpusError as exc:
        print(f"big_corpus: error: {exc}", file=sys.stderr)
        return 1
    if args.print_path:
        print(corpus)
    else:
        describe(corpus)
    return 0


if __name__ == "__main__":
    sys.exit(main())
