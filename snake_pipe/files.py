"""What a path on disk is: files to read must be regular (opening a FIFO blocks), and outputs
that are streams (standard output, a FIFO, a device) are written in place, never replaced."""

from __future__ import annotations

import os
import stat as stat_mod
from typing import IO, BinaryIO

from snake_pipe.errors import ConfigError

_SPECIAL_FILES = (
    (stat_mod.S_ISFIFO, "a FIFO (named pipe)"), (stat_mod.S_ISSOCK, "a socket"),
    (stat_mod.S_ISCHR, "a device"), (stat_mod.S_ISBLK, "a device"),
    (stat_mod.S_ISDIR, "a directory"),
)  # fmt: skip


def special_file(mode: int) -> str | None:
    """What a non-regular file is (opening a FIFO blocks until a writer comes), else None."""
    if stat_mod.S_ISREG(mode):
        return None
    return next((what for test, what in _SPECIAL_FILES if test(mode)), "no regular file")


class NotRegularFile(OSError):
    """A path to read is a FIFO, socket, device or directory."""


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """``path`` opened for reading, unbuffered, if it is a regular file: a FIFO would block
    an ordinary open until some writer came, and a device's read may never end."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # no effect on a regular file's reads
    try:
        if (special := special_file(os.fstat(fd).st_mode)) is not None:
            raise NotRegularFile(f"{special}, not a regular file")
        return open(fd, "rb", buffering=0)
    except BaseException:
        os.close(fd)
        raise


def is_stream(path: str) -> bool:
    """``-`` (standard output), a path under /dev or /proc, or one that exists as no regular
    file (a FIFO): written as a stream, with no files made beside it, nothing resumed and no
    permissions changed."""
    if path == "-" or path.startswith(("/dev/", "/proc/")):
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat_mod.S_ISREG(mode) and not stat_mod.S_ISDIR(mode)


def open_append(path: str | os.PathLike[str]) -> IO[str]:
    """``path`` opened to append text; ``-`` is standard output, which closing leaves open."""
    stdout = str(path) == "-"
    return open(1 if stdout else path, "a", encoding="utf-8", closefd=not stdout)


def require_utf8(path: str, option: str, library: str, fix: str = "pass one that is") -> None:
    """Refuse a path for a library that takes UTF-8 names (LMDB, SQLite, Arrow): a name with
    bytes that are not UTF-8 comes to Python with surrogates."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigError(f"{option}: the path is not valid UTF-8, which {library} cannot "
                          f"open: {fix}") from None  # fmt: skip
