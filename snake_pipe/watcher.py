"""The watcher stage: which directories are watched, their OS watches, and the feed that
turns their events into work for the queue.

One watch per non-ignored directory, never a recursive watch from the root: a monorepo's
``node_modules/`` or build output alone can exhaust ``fs.inotify.max_user_watches``. New
directories are watched as they appear, before they are listed, so nothing created in them is
missed; ignored trees, ``.git/`` and the store are never watched.

Why our own inotify (ctypes, Linux) rather than watchfiles: watchfiles (Rust ``notify``)
watches each path it is given recursively; with ``recursive=False`` it watches exactly the
given directories, but its set of paths is fixed when the watcher starts, so every new
directory means a new watcher re-adding every watch (O(directories) per ``mkdir``, with a gap
in which events are lost), and after a directory rename its inotify backend keeps reporting
the old paths. Talking to inotify directly costs ~60 lines and gives exact control: one
``inotify_add_watch`` per directory as it appears, ``inotify_rm_watch`` as it goes or becomes
ignored, a watch-descriptor → directory map we keep right across renames, and the kernel's
queue-overflow flag (answered by a resynchronising walk). Where inotify is missing, or with
``--poll`` (network filesystems deliver no inotify events), ``Poller`` lists the same
directories on a timer, which still never touches ignored trees.
"""

from __future__ import annotations

import ctypes
import errno
import os
import select
import stat as stat_mod
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from snake_pipe.checkpoints import CheckpointStore
from snake_pipe.discover import Walker, os_path, record_path, walked_already
from snake_pipe.gitindex import git_dir
from snake_pipe.ignore import RuleFile
from snake_pipe.incremental import Planner
from snake_pipe.records import FileResult, WorkItem
from snake_pipe.workqueue import WorkQueue

Item = WorkItem | FileResult
Chain = tuple[RuleFile, ...]

IN_MODIFY, IN_ATTRIB, IN_CLOSE_WRITE = 0x2, 0x4, 0x8
IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x40, 0x80, 0x100, 0x200
IN_DELETE_SELF, IN_MOVE_SELF = 0x400, 0x800
IN_Q_OVERFLOW, IN_IGNORED, IN_ISDIR = 0x4000, 0x8000, 0x40000000
IN_ONLYDIR, IN_EXCL_UNLINK = 0x01000000, 0x04000000
GIT_BUSY = ("index.lock", "rebase-merge", "rebase-apply", "MERGE_HEAD")
GIT_QUIET_S = 0.3  # after git's lock goes, wait this long for the next git command's
GIT_HOLD_MAX_S = 30.0  # a checkout takes less; a lock left this long is a stopped git's
COALESCE_S = 0.05  # a save's events (create, write, close, rename) settle together
MASK = (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE
        | IN_DELETE | IN_ONLYDIR | IN_EXCL_UNLINK)  # fmt: skip
_HEADER = struct.Struct("iIII")  # wd, mask, cookie, name length


@dataclass(frozen=True, slots=True)
class RawEvent:
    """Something happened to ``name`` in the watched directory ``dir`` (repo-relative)."""

    dir: str
    name: str
    is_dir: bool = False
    gone: bool = False  # deleted or moved away
    overflow: bool = False  # the OS dropped events: resynchronise

    @property
    def rel(self) -> str:
        return f"{self.dir}/{self.name}" if self.dir else self.name


class WatchLimitError(OSError):
    """The OS refuses more watches (``fs.inotify.max_user_watches``)."""


class DirWatcher(Protocol):
    polling: bool

    def add(self, rel_dir: str) -> bool: ...
    def remove(self, rel_dir: str) -> None: ...
    def read(self, timeout: float) -> list[RawEvent]: ...
    def count(self) -> int: ...
    def close(self) -> None: ...


class Inotify:
    """Linux inotify through libc: one descriptor, one watch per directory added."""

    polling = False

    def __init__(self, root: Path) -> None:
        self.root = str(root)
        self._libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self._libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"inotify_init1: {os.strerror(err)}")
        self._dir_of: dict[int, str] = {}
        self._wd_of: dict[str, int] = {}
        self._poll = select.poll()
        self._poll.register(self.fd, select.POLLIN)

    def add(self, rel_dir: str) -> bool:
        path = os.fsencode(f"{self.root}/{rel_dir}" if rel_dir else self.root)
        wd = self._libc.inotify_add_watch(self.fd, path, MASK)
        if wd < 0:
            err = ctypes.get_errno()
            if err == errno.ENOSPC:
                raise WatchLimitError(err, "inotify watch limit reached "
                                      "(raise fs.inotify.max_user_watches, or use --poll)")  # fmt: skip
            return False  # vanished, unreadable or no longer a directory
        old = self._wd_of.pop(rel_dir, None)
        if old is not None and old != wd:
            self._dir_of.pop(old, None)
        self._dir_of[wd] = rel_dir  # the same inode under a new name: the new name wins
        self._wd_of[rel_dir] = wd
        return True

    def remove(self, rel_dir: str) -> None:
        wd = self._wd_of.pop(rel_dir, None)
        if wd is not None and self._dir_of.get(wd) == rel_dir:
            del self._dir_of[wd]
            self._libc.inotify_rm_watch(self.fd, wd)  # EINVAL if the kernel dropped it: fine

    def count(self) -> int:
        return len(self._dir_of)

    def read(self, timeout: float) -> list[RawEvent]:
        if not self._poll.poll(int(timeout * 1000)):
            return []
        events: list[RawEvent] = []
        while True:
            try:
                data = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                return events
            events.extend(self._parse(data))

    def _parse(self, data: bytes) -> Iterator[RawEvent]:
        pos = 0
        while pos < len(data):
            wd, mask, _cookie, length = _HEADER.unpack_from(data, pos)
            name = os.fsdecode(data[pos + _HEADER.size : pos + _HEADER.size + length].rstrip(b"\0"))
            pos += _HEADER.size + length
            if mask & IN_Q_OVERFLOW:
                yield RawEvent("", "", overflow=True)
                continue
            rel_dir = self._dir_of.get(wd)
            if mask & IN_IGNORED:
                if rel_dir is not None:
                    del self._dir_of[wd]
                    if self._wd_of.get(rel_dir) == wd:
                        del self._wd_of[rel_dir]
                continue
            if rel_dir is None or not name:
                continue  # a watch removed since, or the directory itself: its parent tells
            gone = bool(mask & (IN_DELETE | IN_MOVED_FROM))
            yield RawEvent(rel_dir, name, bool(mask & IN_ISDIR), gone)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


_Snapshot = dict[str, tuple[bool, int, int, int, int]]  # name -> is_dir, size, mtime, ino, mode


class Poller:
    """Lists the watched directories on a timer and reports what differs. The interval grows
    with the time one pass takes, so polling never uses more than about a tenth of a core."""

    polling = True

    def __init__(self, root: Path, interval: float = 0.5) -> None:
        self.root = str(root)
        self.interval = interval
        self._dirs: dict[str, _Snapshot] = {}
        self._next = time.monotonic() + interval

    def _list(self, rel_dir: str) -> _Snapshot | None:
        snapshot: _Snapshot = {}
        try:
            with os.scandir(f"{self.root}/{rel_dir}" if rel_dir else self.root) as it:
                for entry in it:
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    is_dir = stat_mod.S_ISDIR(st.st_mode)
                    snapshot[entry.name] = (is_dir, st.st_size, st.st_mtime_ns, st.st_ino,
                                            st.st_mode)  # fmt: skip
        except OSError:
            return None
        return snapshot

    def add(self, rel_dir: str) -> bool:
        snapshot = self._list(rel_dir)
        if snapshot is not None:
            self._dirs[rel_dir] = snapshot
        return snapshot is not None

    def remove(self, rel_dir: str) -> None:
        self._dirs.pop(rel_dir, None)

    def count(self) -> int:
        return len(self._dirs)

    def read(self, timeout: float) -> list[RawEvent]:
        wait = self._next - time.monotonic()
        if wait > timeout:
            time.sleep(timeout)
            return []
        time.sleep(max(wait, 0))
        started = time.monotonic()
        events: list[RawEvent] = []
        for rel_dir, old in list(self._dirs.items()):
            new = self._list(rel_dir)
            if new is None:
                continue  # gone: its parent reports it
            self._dirs[rel_dir] = new
            for name in old.keys() | new.keys():
                before, after = old.get(name), new.get(name)
                if before == after:
                    continue
                if after is None or (before is not None and before[3] != after[3]):
                    assert before is not None
                    events.append(RawEvent(rel_dir, name, before[0], gone=True))
                if after is not None:
                    events.append(RawEvent(rel_dir, name, after[0]))
        took = time.monotonic() - started
        self._next = time.monotonic() + max(self.interval, 10 * took)
        return events

    def close(self) -> None:
        self._dirs.clear()


def open_watcher(root: Path, poll: bool, say: Callable[[str], None]) -> DirWatcher:
    """Inotify where it works; polling when asked or forced, said once through ``say``."""
    if poll:
        say("watching by polling (--poll)")
    elif not sys.platform.startswith("linux"):
        say(f"watching by polling: no inotify on {sys.platform}")
    else:
        try:
            return Inotify(root)
        except OSError as exc:
            say(f"watching by polling: inotify is unavailable ({exc.strerror or exc})")
    return Poller(root)


class Tree:
    """The non-ignored directories of a repository, each with its rule chain and a watch.

    The OS keeps one watch per directory: one reached by a second name (a followed link to
    it, or to an ancestor) is watched under its first name only, the real one where it has
    one, as ``Walker.walk`` walks it once. Only the watcher thread changes the tree;
    ``wanted`` may be asked from any thread."""

    def __init__(self, walker: Walker, watcher: DirWatcher) -> None:
        self.walker = walker
        self.watcher = watcher
        self.dirs: dict[str, Chain] = {}
        self._ids: dict[str, tuple[int, int]] = {}  # a watched directory's (device, inode)
        self._names: dict[tuple[int, int], str] = {}  # and the name it is watched under
        self._lock = threading.Lock()

    def parent_chain(self, rel_dir: str) -> Chain | None:
        """The rules that decide entries of the parent of ``rel_dir``."""
        if not rel_dir:
            return self.walker.rules.base_files
        return self.dirs.get(rel_dir.rpartition("/")[0])

    def wanted(self, rel: str, is_dir: bool) -> bool:
        chain = self.dirs.get(rel.rpartition("/")[0])
        return (
            chain is not None and self.walker.rules.decide(rel, is_dir, chain, why=False).included
        )

    def under(self, rel_dir: str) -> list[str]:
        prefix = rel_dir + "/" if rel_dir else ""
        with self._lock:
            return [d for d in self.dirs if d == rel_dir or d.startswith(prefix)]

    def walk(self, rel_dir: str, chain: Chain) -> Iterator[Item]:
        """Watch and list ``rel_dir`` and every non-ignored directory below it, yielding
        their files. Each directory is watched before it is listed; followed links to
        directories come after the real ones."""
        self.walker.seen_dirs = set(self._names)  # so that a link finds what is watched now
        stack = [(rel_dir, chain)]
        linked: list[tuple[str, Chain]] = []
        while stack or linked:
            current, parent_chain = stack.pop() if stack else linked.pop(0)
            abs_dir = f"{self.walker.root}/{current}" if current else str(self.walker.root)
            try:
                st = os.stat(abs_dir)
            except OSError:
                continue
            key = (st.st_dev, st.st_ino)
            if (owner := self._names.get(key, current)) != current:
                if os.path.realpath(abs_dir) != abs_dir:  # a name through a link
                    if os.path.islink(abs_dir):
                        yield walked_already(current)
                    continue
                self.drop(owner)  # watched by a link's name so far: the real name takes it
            if not self.watcher.add(current):
                continue
            subdirs: list[str] = []
            links: list[str] = []
            own = parent_chain
            for found in self.walker.walk_dir(current, parent_chain, subdirs, links):
                if isinstance(found, tuple):
                    own = found
                else:
                    yield found
            with self._lock:
                self.dirs[current] = own
            self._ids[current], self._names[key] = key, current
            self.walker.seen_dirs.add(key)
            stack.extend((sub, own) for sub in reversed(subdirs))
            linked.extend((link, own) for link in links)

    def _forget(self, rel_dir: str) -> None:
        with self._lock:
            self.dirs.pop(rel_dir, None)
        key = self._ids.pop(rel_dir, None)
        if key is not None and self._names.get(key) == rel_dir:
            del self._names[key]

    def rewalk(self, rel_dir: str, chain: Chain) -> list[Item]:
        """Walk a subtree again with fresh rules (a .gitignore changed, or events were lost);
        directories that became ignored lose their watch."""
        old = self.under(rel_dir)
        for d in old:
            self._forget(d)
        items = list(self.walk(rel_dir, chain))
        for d in old:
            if d not in self.dirs:
                self.watcher.remove(d)
        return items

    def drop(self, rel_dir: str) -> None:
        """Forget a directory that went away or became ignored, and everything below it."""
        for d in self.under(rel_dir):
            self._forget(d)
            self.watcher.remove(d)

    def item(self, rel: str) -> list[Item]:
        """The work for one path that exists: a file, a symlink, or a new directory."""
        abs_path = f"{self.walker.root}/{rel}"
        try:
            st = os.lstat(abs_path)
        except OSError:
            return []
        if stat_mod.S_ISDIR(st.st_mode):
            chain = self.parent_chain(rel)
            return [] if chain is None else list(self.walk(rel, chain))
        if not stat_mod.S_ISLNK(st.st_mode):
            found = self.walker.file_item(rel, abs_path, None)
            return [] if found is None else [found]
        parent, _, name = rel.rpartition("/")
        try:
            with os.scandir(f"{self.walker.root}/{parent}" if parent else self.walker.root) as it:
                entry = next((e for e in it if e.name == name), None)
        except OSError:
            return []
        if entry is None:
            return []
        subdirs: list[str] = []
        self.walker.seen_dirs = set(self._names)  # a link to a watched directory is not walked
        items = list(self.walker.symlink_items(rel, entry, subdirs))
        chain = self.parent_chain(rel)
        for sub in subdirs:  # a followed link to a directory
            if chain is not None:
                items.extend(self.walk(sub, chain))
        return items


def find_git_dir(root: Path) -> Path | None:
    """The git directory of the repository holding ``root`` (``.git`` may be a file)."""
    for base in (root, *root.parents):
        if (base / ".git").exists():
            return git_dir(base).resolve()
    return None


def git_busy(git_dir: Path | None) -> bool:
    """True while git rewrites the work tree: a lock on the index, a rebase or a merge."""
    return git_dir is not None and any(os.path.lexists(git_dir / name) for name in GIT_BUSY)


def store_paths_under(store: CheckpointStore, rel_dir: str) -> list[str]:
    """Paths the checkpoint store knows below ``rel_dir`` ("" for all)."""
    return store.paths_under(rel_dir)


def _inside(rel: str, rel_dir: str) -> bool:
    return not rel_dir or rel == rel_dir or rel.startswith(rel_dir + "/")


@dataclass(frozen=True, slots=True)
class Deletion:
    """A path that may have left the repository (``tree``: with everything below it)."""

    rel: str
    tree: bool
    at: float


class Feed:
    """The watcher thread: OS events become urgent work in the queue, and deletions for the
    coordinator. While git rewrites the tree, events are held and then settle as one burst."""

    def __init__(
        self, tree: Tree, planner: Planner, queue: WorkQueue[Item], store: CheckpointStore,
        log: Callable[[str], None],
    ) -> None:  # fmt: skip
        self.tree, self.planner, self.queue, self.store, self.log = tree, planner, queue, store, log
        self.git_dir = find_git_dir(tree.walker.root)
        self.event_times: dict[str, float] = {}  # record path -> its first unsettled event
        self.wake = threading.Event()  # set when the coordinator has something to do
        self.error: BaseException | None = None
        self._dirty: dict[str, float] = {}
        self._rewalk: dict[str, float] = {}
        self._deletions: list[Deletion] = []
        self._recheck: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._quiet_after = 0.0
        self._holding = False
        self._hold_until = 0.0  # holding for git ends then, busy or not
        self._thread = threading.Thread(target=self._run, name="snake-pipe-watcher", daemon=True)

    # -- the coordinator's side --------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and self.error is None

    def take_deletions(self) -> list[Deletion]:
        with self._lock:
            taken, self._deletions = self._deletions, []
        return taken

    def recheck(self, rel: str) -> None:
        """Look at ``rel`` again: a result for it was older than the file."""
        with self._lock:
            self._recheck.append(rel)

    def resync(self) -> None:
        """Walk everything again (new extraction settings, or lost events)."""
        with self._lock:
            self._rewalk[""] = time.monotonic()

    # -- the watcher thread ------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._read()
                with self._lock:
                    rechecks, self._recheck = self._recheck, []
                for rel in rechecks:
                    self._dirty.setdefault(rel, time.monotonic())
                held = self._held()  # every turn: a busy spell's end is seen, changes or not
                if (self._dirty or self._rewalk) and not held:
                    try:
                        self._settle()
                    except WatchLimitError as exc:
                        self._fall_back(exc)
        except BaseException as exc:  # re-raised by the coordinator
            self.error = exc
            self.wake.set()

    def _read(self) -> None:
        events = self.tree.watcher.read(0.1 if self._dirty or self._recheck else 0.5)
        deadline = time.monotonic() + COALESCE_S
        while events and time.monotonic() < deadline:
            self._note(events)
            events = self.tree.watcher.read(0.01)
        self._note(events)

    def _fall_back(self, exc: OSError) -> None:
        """No more inotify watches: poll the same directories from now on."""
        self.log(f"watching by polling: {exc.strerror or exc}")
        self.tree.watcher.close()
        self.tree.watcher = Poller(self.tree.walker.root)
        self.tree.dirs.clear()
        self.resync()

    def _note(self, events: list[RawEvent]) -> None:
        now = time.monotonic()
        for event in events:
            if event.overflow:
                self.log("the OS dropped file events: walking the repository again")
                self._rewalk[""] = now
                continue
            rel = event.rel
            if event.is_dir and event.gone:
                self.tree.drop(rel)  # no watch may report under a name that is gone
            if event.is_dir and not event.gone or event.name == ".gitignore":
                self._rewalk.setdefault(rel if event.is_dir else event.dir, now)
            self._dirty.setdefault(rel, now)

    def _held(self) -> bool:
        now = time.monotonic()
        if git_busy(self.git_dir):
            if not self._holding:
                self._holding = True
                self._hold_until = now + GIT_HOLD_MAX_S
                if self._dirty or self._rewalk:  # (not for each `git status` of a quiet tree)
                    self.log("git is rewriting the work tree: holding changes until it is done")
            elif self._hold_until and now > self._hold_until:
                self._hold_until = 0.0  # once per busy spell
                self.log(f"git still looks busy after {GIT_HOLD_MAX_S:.0f} s (an index.lock "
                         "that a stopped git left, or a rebase or merge waiting for you): "
                         "processing changes anyway")  # fmt: skip
            if self._hold_until:
                self._quiet_after = now + GIT_QUIET_S
                return True
            return False
        if now < self._quiet_after:
            return True
        if self._holding:
            self._holding = False
            if self._dirty:
                self.log(f"git is done: processing {len(self._dirty)} changed paths")
        return False

    def _settle(self) -> None:
        dirty, self._dirty = self._dirty, {}
        with self._lock:
            rewalk, self._rewalk = self._rewalk, {}
        roots = sorted(rewalk)
        roots = [d for d in roots if not any(_inside(d, r) and d != r for r in roots)]
        items: list[tuple[Item, float]] = []
        deletions: list[Deletion] = []
        for rel_dir in roots:
            self._settle_dir(rel_dir, rewalk[rel_dir], items, deletions)
        written: set[str] = set()  # files the OS reported: hashed even with their old stat
        for rel, at in dirty.items():
            if not any(_inside(rel, r) for r in roots):
                written.update(map(record_path, (rel, *self.tree.walker.file_links.get(rel, ()))))
                self._settle_path(rel, at, items, deletions)
        self._enqueue(items, written)
        if deletions:
            with self._lock:
                self._deletions.extend(deletions)
        self.wake.set()

    def _settle_path(
        self, rel: str, at: float, items: list[tuple[Item, float]], deletions: list[Deletion]
    ) -> None:
        try:
            st = os.lstat(f"{self.tree.walker.root}/{rel}")
        except OSError:
            self.tree.drop(rel)
            deletions.append(Deletion(rel, True, at))
            for link in self.tree.walker.file_links.get(rel, ()):  # dangling now
                items.extend((item, at) for item in self.tree.item(link))
            return
        if rel.rpartition("/")[0] not in self.tree.dirs:
            return  # inside a directory that is ignored or gone
        is_dir = stat_mod.S_ISDIR(st.st_mode)
        if is_dir:
            self._settle_dir(rel, at, items, deletions)
        elif self.tree.wanted(rel, False):
            items.extend((item, at) for item in self.tree.item(rel))
            for link in self.tree.walker.file_links.get(rel, ()):
                items.extend((item, at) for item in self.tree.item(link))
        else:
            deletions.append(Deletion(rel, False, at))

    def _settle_dir(
        self, rel_dir: str, at: float, items: list[tuple[Item, float]], deletions: list[Deletion]
    ) -> None:
        """Walk a directory again with the current rules, and let go what it no longer has."""
        root = self.tree.walker.root
        chain = self.tree.parent_chain(rel_dir)
        abs_dir = f"{root}/{rel_dir}"
        if rel_dir and not (os.path.isdir(abs_dir) and not os.path.islink(abs_dir)):
            if os.path.lexists(abs_dir):
                self._settle_path(rel_dir, at, items, deletions)  # no longer a directory
            else:
                self.tree.drop(rel_dir)
                deletions.append(Deletion(rel_dir, True, at))
            return
        if chain is None:
            return
        if rel_dir and not self.tree.wanted(rel_dir, True):
            self.tree.drop(rel_dir)
            deletions.append(Deletion(rel_dir, True, at))
            return
        unlisted = self.tree.walker.unlisted
        unlisted.clear()
        found = self.tree.rewalk(rel_dir, chain)
        items.extend((item, at) for item in found)
        seen = {item.path for item in found}
        for d in unlisted:  # what a directory that could not be listed holds stays
            seen.update(store_paths_under(self.store, d))
        known = store_paths_under(self.store, record_path(rel_dir))
        gone = [os_path(p) for p in known if p not in seen]
        if rel_dir:  # a file of this name, if the store knows one, made way for the directory
            gone.append(rel_dir)
        deletions.extend(Deletion(p, False, at) for p in gone)

    def _enqueue(self, items: list[tuple[Item, float]], written: set[str]) -> None:
        at: dict[str, float] = {}
        for item, when in items:
            at.setdefault(item.path, when)
        for action, item, entry in self.planner.plan(iter(i for i, _ in items), written):
            if action == "unchanged":
                continue
            if action == "touched" and entry is not None and isinstance(item, WorkItem):
                item = replace(item, prior_hash=entry.content_hash)  # read and hash: cheap
            self.event_times.setdefault(item.path, at[item.path])
            self.queue.put(item, urgent=True)
