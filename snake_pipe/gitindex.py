"""Blob ids of unmodified tracked files, read from ``.git/index`` without running git.

Reading the index ourselves (formats 2, 3 and 4) instead of calling ``git`` means no hook,
fsmonitor or filter command configured in the repository is ever executed. A tracked file is
"unmodified" when its size and mtime equal the index entry's and the entry is not racily clean
(modified in the same instant the index was written), which is git's own rule.
"""

from __future__ import annotations

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


def read_index(root: Path) -> dict[str, tuple[int, int, int, str]]:
    """path -> (size, mtime seconds, mtime nanoseconds, blob id); empty if unreadable."""
    index = git_dir(root) / "index"
    try:
        data = index.read_bytes()
        index_mtime = index.stat().st_mtime_ns
    except OSError:
        return {}
    try:
        return _parse(data, index_mtime)
    except (struct.error, ValueError, UnicodeDecodeError):
        return {}  # a format we do not know: hash everything instead


def _parse(data: bytes, index_mtime_ns: int) -> dict[str, tuple[int, int, int, str]]:
    signature, version, count = _HEADER.unpack_from(data)
    if signature != b"DIRC" or version not in (2, 3, 4):
        return {}
    entries: dict[str, tuple[int, int, int, str]] = {}
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
        stage = (flags >> 12) & 3
        racy = mtime_s * 1_000_000_000 + mtime_ns >= index_mtime_ns
        if stage == 0 and not racy:
            entries[name.decode("utf-8", "surrogateescape")] = (size, mtime_s, mtime_ns, sha.hex())
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
    if e_ns and e_ns != mtime_ns % 1_000_000_000:
        return None
    return entry[3]
