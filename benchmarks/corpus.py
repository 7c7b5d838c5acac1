#!/usr/bin/env python3
"""Build the benchmark corpus: real third-party source from package registries.

    python benchmarks/corpus.py [--dest benchmarks/corpus] [--only pypi,npm,deb] [--list]

Every source is a pinned release of someone else's project, fetched with the registry's own
client (pip, npm, apt-get) and unpacked into ``benchmarks/corpus/<registry>/<name>-<version>/``
(ignored by git: third-party code is never committed). Downloads are cached in
``benchmarks/.work/downloads/`` and checked against the SHA-256 pinned below.

Idempotent: a source whose directory exists is complete (each is unpacked into a temporary
directory and renamed at the end) and is skipped. Needs no network but PyPI, npm and Debian.
At the end it prints the files per language (as snake-pipe detects them) and per extension.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DEST = HERE / "corpus"
DEFAULT_DOWNLOADS = HERE / ".work" / "downloads"


@dataclass(frozen=True)
class Source:
    registry: str  # pypi | npm | deb
    name: str
    version: str
    sha256: str
    what: str  # the languages it is there for
    keep: tuple[str, ...] = ()  # deb only: the directories of the package to keep

    @property
    def dirname(self) -> str:
        safe = self.name.replace("@", "").replace("/", "-")
        version = self.version.split(":", 1)[-1]  # a Debian epoch is not part of the name
        return f"{safe}-{version}"


# fmt: off
SOURCES: tuple[Source, ...] = (
    # PyPI sdists (pip download --no-deps --no-binary NAME NAME==VERSION)
    Source("pypi", "django", "5.2.8",
           "23254866a5bb9a2cfa6004e8b809ec6246eba4b58a7589bc2772f1bcc8456c7f",
           "Python, JavaScript, HTML, CSS"),
    Source("pypi", "grpcio", "1.76.0",
           "7be78388d6da1a25c0d5ec506523db58b18be22d9c37d8d3a32c08be4987bd73",
           "C, C++ (core, abseil, boringssl, upb), Cython, Python"),
    Source("pypi", "orjson", "3.11.4",
           "39485f4ab4c9b30a3943cfe99e1a213c4776fb69e8abd68f66b83d5a0b0fdc6d",
           "Rust (vendored crates), Python"),
    Source("pypi", "jpype1", "1.6.0",
           "2d46b2a14f8f0e6f17d8aa22b4fc3a64b2790851ebf1409ad79a37c698fd6e9a",
           "Java, C++, Python"),
    # npm tarballs (npm pack NAME@VERSION)
    Source("npm", "react-native", "0.76.9",
           "aef5ca9b8a621db566488b82e46c86ed5662d48b7a1080f8a14a86d5454b97b3",
           "JavaScript, Java, Kotlin, Objective-C, C++, Ruby"),
    Source("npm", "rxjs", "7.8.2",
           "2312f8ffd9726ffd7bd53ea12c5f13663d09a3dc3326f448c70b88f5ef6fac82",
           "TypeScript, JavaScript"),
    Source("npm", "typescript", "5.9.3",
           "10e108c9cf7d5f2879053dff18515fb405abf2ccef63eaaf017d9c571687a1d3",
           "TypeScript declarations, JavaScript"),
    Source("npm", "lodash", "4.17.21",
           "6a087ac9e5702a0c9d60fbcd48696012646ec8df1491dea472b150e79fcaf804",
           "JavaScript"),
    # Debian bookworm packages (apt-get download NAME=VERSION; dpkg-deb -x)
    Source("deb", "golang-golang-x-tools-dev", "1:0.5.0+ds-1",
           "d0cf4252c020c3ee79707619f925444779070dc1307cd8af1ed99bc8eaf7b3c5",
           "Go", ("usr/share/gocode",)),
    Source("deb", "rubocop", "1.39.0+dfsg-1",
           "86f71a1cebf53f9bd336a3f17bf0d3a1dadea104a956e65c8fa1ec03097772d9",
           "Ruby", ("usr/share/rubygems-integration", "usr/lib/ruby", "usr/bin")),
    Source("deb", "ruby-sequel", "5.63.0-1",
           "2aa39e0a84fd91a802f28223e8146d5d43d9f742e5d6e33c13381edc28a42d85",
           "Ruby", ("usr/share/rubygems-integration", "usr/lib/ruby", "usr/bin")),
    Source("deb", "dokuwiki", "0.0.20220731.a-2",
           "7c96577fdbb0045efbe47be3f68390fb7302dd938fb9ae3f4c79103be4743f32",
           "PHP, JavaScript, CSS", ("usr/share/dokuwiki", "var/lib/dokuwiki")),
    Source("deb", "php-doctrine-orm", "2.14.1+dfsg-1",
           "3546996a38cf87c87e3651c4365de0d1356003b3e7931191d00d816d92658115",
           "PHP", ("usr/share/php",)),
)
# fmt: on
# sha256 "0" would mean not pinned: the download then prints the hash to pin.


class CorpusError(Exception):
    pass


def run(cmd: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
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


# ---------------------------------------------------------------- downloads, one per registry


def download_pypi(src: Source, downloads: Path) -> Path:
    for existing in sorted(downloads.glob("*.tar.gz")) + sorted(downloads.glob("*.zip")):
        stem = existing.name.lower().replace("_", "-")
        if stem.startswith(f"{src.name.lower()}-{src.version}."):
            return existing
    before = set(downloads.iterdir())
    # --no-binary NAME (not :all:): the sdist of this package, build backends as wheels.
    run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", src.name,
         "--disable-pip-version-check", "-d", str(downloads), f"{src.name}=={src.version}"])  # fmt: skip
    new = [p for p in set(downloads.iterdir()) - before if p.suffix in (".gz", ".zip")]
    if len(new) != 1:
        raise CorpusError(f"pip download {src.name}=={src.version}: expected one sdist, got {new}")
    return new[0]


def download_npm(src: Source, downloads: Path) -> Path:
    safe = src.name.replace("@", "").replace("/", "-")
    existing = downloads / f"{safe}-{src.version}.tgz"
    if existing.exists():
        return existing
    proc = run(["npm", "pack", f"{src.name}@{src.version}", "--json", "--silent",
                "--pack-destination", str(downloads)])  # fmt: skip
    start = proc.stdout.find("[")
    filename = json.loads(proc.stdout[start:])[0]["filename"]
    return downloads / filename


_apt_updated = False


def download_deb(src: Source, downloads: Path) -> Path:
    global _apt_updated
    for existing in downloads.glob(f"{src.name}_*.deb"):
        if run(["dpkg-deb", "-f", str(existing), "Version"]).stdout.strip() == src.version:
            return existing
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise CorpusError(f"{src.name}: apt-get and dpkg-deb are needed for Debian packages")
    before = set(downloads.iterdir())
    try:
        run(["apt-get", "download", f"{src.name}={src.version}"], cwd=downloads)
    except CorpusError:
        if _apt_updated or os.geteuid() != 0:
            raise
        print("  apt-get download failed: running apt-get update once and retrying")
        run(["apt-get", "update"])
        _apt_updated = True
        run(["apt-get", "download", f"{src.name}={src.version}"], cwd=downloads)
    new = [p for p in set(downloads.iterdir()) - before if p.suffix == ".deb"]
    if len(new) != 1:
        raise CorpusError(f"apt-get download {src.name}: expected one .deb, got {new}")
    return new[0]


DOWNLOADERS = {"pypi": download_pypi, "npm": download_npm, "deb": download_deb}


# ---------------------------------------------------------------- unpacking


def _safe_members(tar: tarfile.TarFile, strip: int) -> list[tarfile.TarInfo]:
    members = []
    for m in tar.getmembers():
        parts = Path(m.name).parts[strip:]
        if not parts or m.isdev() or Path(m.name).is_absolute() or ".." in parts:
            continue
        if (m.issym() or m.islnk()) and (
            os.path.isabs(m.linkname) or ".." in Path(m.linkname).parts
        ):
            continue  # links that could leave the tree: not needed for a corpus
        m.name = str(Path(*parts))
        members.append(m)
    return members


def unpack_tar(archive: Path, into: Path, strip: int = 1) -> None:
    with tarfile.open(archive) as tar:
        members = _safe_members(tar, strip)
        try:
            tar.extractall(into, members=members, filter="data")
        except TypeError:  # Python without extraction filters
            tar.extractall(into, members=members)


def unpack_deb(archive: Path, into: Path, keep: tuple[str, ...]) -> None:
    raw = into.parent / (into.name + ".deb-raw")
    shutil.rmtree(raw, ignore_errors=True)
    run(["dpkg-deb", "-x", str(archive), str(raw)])
    into.mkdir(parents=True)
    for sub in keep:
        src = raw / sub
        if src.exists():
            (into / sub).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(src), str(into / sub))
    shutil.rmtree(raw)
    for link in [p for p in into.rglob("*") if p.is_symlink()]:
        if os.path.isabs(os.readlink(link)):
            link.unlink()  # points into the system, not into the corpus


def unpack(src: Source, archive: Path, into: Path) -> None:
    if src.registry == "deb":
        unpack_deb(archive, into, src.keep)
    else:
        into.mkdir(parents=True)
        unpack_tar(archive, into, strip=1)


# ---------------------------------------------------------------- the build


def build(sources: list[Source], dest: Path, downloads: Path, verify: bool) -> list[str]:
    problems: list[str] = []
    downloads.mkdir(parents=True, exist_ok=True)
    for src in sources:
        target = dest / src.registry / src.dirname
        label = f"{src.registry}:{src.name}=={src.version}"
        if target.is_dir():
            print(f"  have   {label}")
            continue
        print(f"  fetch  {label}  ({src.what})", flush=True)
        try:
            archive = DOWNLOADERS[src.registry](src, downloads)
            digest = sha256_of(archive)
            if src.sha256 != "0" and digest != src.sha256:
                message = f"{label}: sha256 {digest} is not the pinned {src.sha256}"
                if verify:
                    raise CorpusError(message + " (--no-verify to accept it)")
                print(f"  warning: {message}")
            elif src.sha256 == "0":
                print(f"    sha256 {digest} (not pinned)")
            tmp = target.with_name(target.name + ".partial")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.parent.mkdir(parents=True, exist_ok=True)
            unpack(src, archive, tmp)
            tmp.rename(target)
        except CorpusError as exc:
            problems.append(str(exc))
            print(f"  FAILED {label}: {exc}", file=sys.stderr)
    return problems


def summarize(dest: Path, top: int = 25) -> dict[str, object]:
    try:
        from snake_pipe.languages import by_name
    except ImportError:  # the summary by extension still works without the package

        def by_name(rel_path: str) -> str | None:  # type: ignore[misc]
            return None

    by_lang: collections.Counter[str] = collections.Counter()
    by_ext: collections.Counter[str] = collections.Counter()
    per_source: dict[str, int] = {}
    total_bytes = 0
    for registry_dir in sorted(p for p in dest.iterdir() if p.is_dir()):
        for source_dir in sorted(p for p in registry_dir.iterdir() if p.is_dir()):
            if source_dir.name.endswith((".partial", ".deb-raw")):
                continue
            count = 0
            for dirpath, _dirs, files in os.walk(source_dir):
                for name in files:
                    path = os.path.join(dirpath, name)
                    if os.path.islink(path):
                        continue
                    count += 1
                    total_bytes += os.path.getsize(path)
                    ext = name.rsplit(".", 1)[1].lower() if "." in name.lstrip(".") else "(none)"
                    by_ext[ext] += 1
                    by_lang[by_name(name) or "(no grammar by name)"] += 1
            per_source[f"{registry_dir.name}/{source_dir.name}"] = count
    total = sum(per_source.values())
    print(f"\ncorpus {dest}: {total} files, {total_bytes / 1e6:.1f} MB")
    for name, count in per_source.items():
        print(f"  {count:7d}  {name}")
    print("\nfiles per language (snake-pipe detection by name):")
    for lang, count in by_lang.most_common(top):
        print(f"  {count:7d}  {lang}")
    print(f"\nfiles per extension (top {top}):")
    for ext, count in by_ext.most_common(top):
        print(f"  {count:7d}  .{ext}")
    return {"files": total, "bytes": total_bytes, "per_source": per_source,
            "by_language": dict(by_lang), "by_extension": dict(by_ext)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help="corpus directory")
    parser.add_argument("--downloads", type=Path, default=DEFAULT_DOWNLOADS,
                        help="where archives are cached")  # fmt: skip
    parser.add_argument("--only", help="comma-separated registries to fetch: pypi,npm,deb")
    parser.add_argument("--no-verify", action="store_true", help="accept sha256 mismatches")
    parser.add_argument("--list", action="store_true", help="list the sources and exit")
    parser.add_argument("--summary-json", type=Path, help="also write the summary as JSON")
    args = parser.parse_args(argv)

    sources = list(SOURCES)
    if args.only:
        wanted = {r.strip() for r in args.only.split(",")}
        sources = [s for s in sources if s.registry in wanted]
    if args.list:
        for s in sources:
            print(f"{s.registry:5s} {s.name}=={s.version:22s} {s.what}")
        return 0
    dest = args.dest.resolve()
    dest.mkdir(parents=True, exist_ok=True)
    print(f"building {dest} ({len(sources)} sources)")
    problems = build(sources, dest, args.downloads.resolve(), verify=not args.no_verify)
    summary = summarize(dest)
    if args.summary_json:
        args.summary_json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    if problems:
        print(f"\n{len(problems)} source(s) failed; run again to retry them", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
