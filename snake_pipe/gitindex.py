"""Blob ids of unmodified tracked files, read from ``.git/index`` without running git.

Reading the index ourselves (formats 2, 3 and 4) instead of calling ``git`` means no hook,
fsmonitor or filter command configured in the repository is ever executed. A tracked file is
"unmodified" when its size and mtime (to the nanosecond) equal the index entry's and the entry
is not racily clean (modified in the same instant the index was written), which is git's own
rule. The blob is of the *cleaned* content (eol conversion, LFS): the planner trusts it only
for a file whose size is the checkpoint's too.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

_HEADER = struct.Struct(">4sII")
_ENTRY = struct.Struct(
    ">IIIIIIIIII20sH"
)  # ctime s/ns, mtime s/ns, dev, ino, mode, uid, gid, size, sha, flags


def git_dir(root: Path) -> Path:
    """The repository's git directory: ``.git``, or where a ``.git`` file points (a linked
    worktree, a submodule: ``gitdir: ../.git/modules/sub``)."""
    dot_git = root / ".git"
    try:
        first = dot_git.read_bytes()[:4096].split(b"\n", 1)[0] if dot_git.is_file() else b""
    except OSError:
        return dot_git
    if not first.startswith(b"gitdir:"):
        return dot_git
    return root / first[7:].strip().decode("utf-8", "surrogateescape")


def common_dir(gitdir: Path) -> Path:
    """Where a linked worktree's shared files (``info/exclude``) are: its ``commondir``."""
    try:
        return gitdir / (gitdir / "commondir").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return gitdir


Entry = tuple[int, int, int, str]  # size, mtime seconds, mtime nanoseconds, blob id
Listed = list[tuple[str, bool, Entry]]  # in the file's order: name, no blob to trust, entry
Link = tuple[str, set[int], list[int]]  # shared index id, positions deleted, replaced


def read_index(root: Path) -> dict[str, Entry]:
    """path -> (size, mtime seconds, mtime nanoseconds, blob id); empty if unreadable. A split
    index (``core.splitIndex``) is read with its ``sharedindex.<id>`` file."""
    gitdir = git_dir(root)
    try:
        entries, shared = _read(gitdir / "index")
        if shared is None:
            return {name: entry for name, _, entry in entries}
        base, _ = _read(gitdir / f"sharedindex.{shared[0]}")
        return _merge(base, entries, shared[1], shared[2])
    except (OSError, struct.error, ValueError, IndexError, UnicodeDecodeError):
        return {}  # a format we do not know: hash everything instead


def _read(index: Path) -> tuple[Listed, Link | None]:
    """An index file's entries in order (name, racy, entry) and its ``link`` extension (the
    shared index's id, the positions it deletes and those it replaces), if any."""
    with index.open("rb") as f:
        data = f.read()
        mtime_ns = os.fstat(f.fileno()).st_mtime_ns
    return _parse(data, mtime_ns)


def _parse(data: bytes, index_mtime_ns: int) -> tuple[Listed, Link | None]:
    signature, version, count = _HEADER.unpack_from(data)
    if signature != b"DIRC" or version not in (2, 3, 4):
        raise ValueError("not an index we read")
    entries: Listed = []
    pos, previous = _HEADER.size, b""
    for _ in range(count):
        start = pos
        fields = _ENTRY.unpack_from(data, pos)
        mtime_s, mtime_ns, size, sha, flags = (
            fields[2],
            fields[3],
            fields[9],
            fields[10],
            fields[11],
        )
        pos += _ENTRY.size
        if version >= 3 and flags & 0x4000:
            pos += 2  # extended flags
        if version == 4:
            strip, pos = _varint(data, pos)
            end = data.index(b"\0", pos)
            name = previous[: len(previous) - strip] + data[pos:end]
            pos = end + 1
        else:
            end = data.index(b"\0", pos)
            name = data[pos:end]
            pos = start + ((end - start + 8) & ~7)  # NUL-padded to a multiple of 8
        previous = name
        # Racily clean (modified in the instant the index was written) or a merge stage: no
        # blob to trust. Both still hold a place, which a split index's bitmaps count.
        unusable = (flags >> 12) & 3 != 0 or mtime_s * 1_000_000_000 + mtime_ns >= index_mtime_ns
        entries.append((name.decode("utf-8", "surrogateescape"), unusable,
                        (size, mtime_s, mtime_ns, sha.hex())))  # fmt: skip
    link = None
    while pos + 8 <= len(data) - 20:  # extensions, then the checksum
        signature, length = struct.unpack_from(">4sI", data, pos)
        if signature == b"link":
            link = _link(data[pos + 8 : pos + 8 + length])
        pos += 8 + length
    return [e for e in entries if not e[1]] if link is None else entries, link


def _link(ext: bytes) -> Link:
    """The ``link`` extension: shared index id, then EWAH bitmaps of deleted and replaced
    entries of the shared index."""
    deleted, pos = _ewah(ext, 20) if len(ext) > 20 else ([], 20)
    replaced, _ = _ewah(ext, pos) if len(ext) > pos else ([], pos)
    return ext[:20].hex(), set(deleted), replaced


def _ewah(data: bytes, pos: int) -> tuple[list[int], int]:
    """The positions set in git's EWAH bitmap at ``pos``, and where the bitmap ends."""
    _bits, words = struct.unpack_from(">II", data, pos)
    pos += 8
    values = struct.unpack_from(f">{words}Q", data, pos)
    bits: list[int] = []
    i = at = 0
    while i < words:
        marker = values[i]
        run, literals = (marker >> 1) & 0xFFFFFFFF, marker >> 33
        if marker & 1:
            bits.extend(range(at, at + run * 64))
        at += run * 64
        for word in values[i + 1 : i + 1 + literals]:
            bits.extend(at + b for b in range(64) if word >> b & 1)
            at += 64
        i += 1 + literals
    return bits, pos + words * 8 + 4  # the words, then the last marker's position


def _merge(base: Listed, split: Listed, deleted: set[int], replaced: list[int]) -> dict[str, Entry]:
    """Git's ``merge_base_index``: the split index's first entries (nameless) replace the
    shared ones at ``replaced``, the rest are added; ``deleted`` ones are gone."""
    merged = list(base)
    for n, at in enumerate(replaced):
        merged[at] = (base[at][0], split[n][1], split[n][2])
    entries = {name: entry for at, (name, unusable, entry) in enumerate(merged)
               if not unusable and at not in deleted}  # fmt: skip
    for name, unusable, entry in split[len(replaced) :]:
        entries.pop(name, None)
        if not unusable:
            entries[name] = entry
    return entries


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """Git's offset encoding used by index format 4."""
    byte = data[pos]
    value = byte & 0x7F
    pos += 1
    while byte & 0x80:
        byte = data[pos]
        value = ((value + 1) << 7) | (byte & 0x7F)
        pos += 1
    return value, pos


def unmodified_blob(
    entry: tuple[int, int, int, str] | None, size: int, mtime_ns: int
) -> str | None:
    """The blob id if the working file still matches its index entry, else None."""
    if entry is None:
        return None
    e_size, e_s, e_ns = entry[0], entry[1], entry[2]
    if e_size != size & 0xFFFFFFFF or e_s != (mtime_ns // 1_000_000_000) & 0xFFFFFFFF:
        return None
    if e_ns != mtime_ns % 1_000_000_000:  # an entry without nanoseconds (0) too: a file
        return None  # rewritten later in the same second is not the entry's blob
    return entry[3]
