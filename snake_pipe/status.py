"""Read-only views of a store: ``snake-pipe status`` and ``snake-pipe ingest --dry-run``."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import IO, Any

import psutil

from snake_pipe.checkpoints import CheckpointStore
from snake_pipe.config import Config
from snake_pipe.discover import Walker
from snake_pipe.errors import StoreError
from snake_pipe.files import open_regular
from snake_pipe.incremental import Planner
from snake_pipe.parse.worker import git_blob_id
from snake_pipe.pipeline import CHECKPOINTS, check_repo, ingest_command
from snake_pipe.records import WorkItem


def store_dir(root: Path, store: str | None) -> Path:
    return Path(store).expanduser().resolve() if store else root / ".snake-pipe"


def dry_run(repo: str | Path, config: Config, out: IO[str], restart: bool = False) -> int:
    """Print what the next ingest would add, update and delete. Reads files whose stat
    changed (to tell a real change from a touch) but parses nothing and writes nothing."""
    root = check_repo(repo)
    where = store_dir(root, config.store)
    walker = Walker(root, config, where)
    counts: Counter[str] = Counter()
    if restart or not (where / CHECKPOINTS).exists():
        for item in walker.walk():
            counts["add"] += 1
            print(f"add {item.path}", file=out)
    else:
        with CheckpointStore(where / CHECKPOINTS) as store:
            planner = Planner(store, root, config.extraction_fingerprint())
            for action, item, _ in planner.plan(walker.walk()):
                planner.seen.add(item.path)
                if action == "update" and isinstance(item, WorkItem) and item.prior_hash:
                    action = "update" if _content_changed(item) else "unchanged"
                counts[action if action != "touched" else "unchanged"] += 1
                if action in ("add", "update"):
                    print(f"{action} {item.path}", file=out)
            for path in planner.deleted():
                counts["delete"] += 1
                print(f"delete {path}", file=out)
    print(f"dry run: {counts['add']} to add, {counts['update']} to update, "
          f"{counts['delete']} to delete, {counts['unchanged']} unchanged", file=out)  # fmt: skip
    return 0


def _content_changed(item: WorkItem) -> bool:
    try:
        with open_regular(item.abs_path) as f:
            return git_blob_id(f.read()) != item.prior_hash
    except OSError:
        return True


def _run_alive(store: Path) -> bool:
    """Does a run hold the store's lock? Read from the kernel's lock table, not by locking (a
    run starting meanwhile must not find the store in use), nor by the pid in the file (it may
    be another pid namespace's, or taken by another process since)."""
    lock = store / "run.lock"
    try:
        st = os.stat(lock)
        with open("/proc/locks", encoding="ascii", errors="replace") as f:
            table = f.read()
    except OSError:  # no /proc (not Linux): the pid the run wrote
        try:
            pid = int(lock.read_text().strip() or 0)
        except (OSError, ValueError):
            return False
        return pid > 0 and psutil.pid_exists(pid)
    held = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    return any(
        fields[1] == "FLOCK" and held in fields
        for line in table.splitlines()
        if len(fields := line.split()) > 5
    )


def collect_status(repo: str | Path, store: str | None) -> dict[str, Any]:
    root = check_repo(repo)
    where = store_dir(root, store)
    if not (where / CHECKPOINTS / "data.mdb").exists():  # reading must not make one
        again = ingest_command(root, where if store else None)
        raise StoreError(f"no snake-pipe store at {where}: run {again} first")
    with CheckpointStore(where / CHECKPOINTS) as cp:
        run = cp.last_run() or {}
        by_status: Counter[str] = Counter()
        by_language: Counter[str] = Counter()
        done_in_run = 0
        for _, entry in cp.iter_entries():
            by_status[entry.status] += 1
            by_language[entry.language or "(none)"] += 1
            done_in_run += entry.run_id == run.get("id")
    if run.get("state") == "running" and not _run_alive(where):
        run["state"] = "interrupted"  # killed: nothing holds the store, and it resumes
    total = run.get("total_files")  # None while a run's walk goes on, or when it was cut short
    if total is not None or run.get("state") not in ("running", "interrupted"):
        total = max(total or 0, sum(by_status.values()))  # a watch adds files
    return {
        "store": str(where),
        "last_run": {
            k: run.get(k)
            for k in ("id", "state", "started_at", "updated_at", "fingerprint", "counters")
        },  # fmt: skip
        "progress": {
            "files_done_in_run": done_in_run,
            "files_known": sum(by_status.values()),
            "total_files": total,
        },  # fmt: skip
        "files_by_status": dict(sorted(by_status.items())),
        "files_by_language": dict(sorted(by_language.items())),
        "checkpoints": {
            "total": run.get("checkpoints_total", 0),
            "latest": run.get("latest_checkpoint"),
        },  # fmt: skip
    }


def print_status(repo: str | Path, store: str | None, as_json: bool, out: IO[str]) -> int:
    data = collect_status(repo, store)
    if as_json:
        print(json.dumps(data, indent=2), file=out)
        return 0
    run, progress = data["last_run"], data["progress"]
    latest = data["checkpoints"]["latest"] or {}
    lines = [
        f"store:      {data['store']}",
        f"last run:   {run['id']} ({run['state']}), started {run['started_at']}, "
        f"updated {run['updated_at']}"
        if run["id"]
        else "last run:   none (no run has started in this store)",
        f"progress:   {progress['files_done_in_run']} files done in this run, "
        f"{progress['files_known']} known"
        + (f" of {progress['total_files']}" if progress["total_files"] is not None
           else " (total not counted yet)"),
        "by status:  " + ", ".join(f"{k} {v}" for k, v in data["files_by_status"].items()),
        "languages:  " + ", ".join(f"{k} {v}" for k, v in data["files_by_language"].items()),
        f"checkpoint: {latest.get('id')} at batch {latest.get('batch_number')}, "
        f"{latest.get('files_processed')} files, {latest.get('created_at')} "
        f"({data['checkpoints']['total']} in all)"
        if latest
        else "checkpoint: none",
    ]
    print("\n".join(lines), file=out)
    return 0
