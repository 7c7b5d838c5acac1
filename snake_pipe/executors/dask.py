"""The Dask executor: batches run on a Dask distributed cluster, everything else stays here.

``dask://HOST:PORT`` connects to a running scheduler; ``dask-local`` starts a ``LocalCluster``
of single-threaded worker processes on 127.0.0.1, to try it. The coordinator keeps discovery,
the queue, checkpoints and sinks; ``prepare`` lets it put into each batch what the workers
cannot read themselves (the pipeline ships file contents, so workers need no shared disk).

Dask errors are translated where they enter: an unreachable scheduler is a ``ConfigError``
naming the option; a batch Dask gave up on (``KilledWorker``: its workers kept dying) or lost
is a ``BrokenExecutor``, which the batch engine treats as a dead worker (retry, then bisect).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import uuid
from collections.abc import Callable
from concurrent import futures
from concurrent.futures import BrokenExecutor, Executor, Future
from typing import Any, ParamSpec, TypeVar

import dask
import distributed

from snake_pipe.errors import ConfigError, SnakePipeError

P = ParamSpec("P")
R = TypeVar("R")

# Dask reschedules a batch whose worker died once; a second death is the engine's to handle
# (it retries the batch alone, then bisects it), so a file that kills workers costs two
# workers per round, not allowed-failures + 1 (Dask's default is 3).
LOCAL_ALLOWED_FAILURES = 1
# A batch carries its files' contents: tens of MB is normal here, not a mistake to warn about.
NO_LARGE_GRAPH_WARNING = {"distributed.admin.large-graph-warning-threshold": "1TiB"}

Prepare = Callable[[list[Any]], list[Any]]


class DaskExecutor(Executor):
    """A ``concurrent.futures.Executor`` over a Dask ``Client``.

    Each task carries ``initializer(*initargs)``, which a worker process runs before its first
    task and again whenever they change (Dask has no pool initializer). ``prepare`` runs here,
    on every list argument of a task (the engine submits ``run_timed(fn, items)``), before it
    is sent. ``shutdown`` closes the client, and the cluster if this executor started it.
    """

    def __init__(
        self,
        client: distributed.Client,
        cluster: distributed.LocalCluster | None = None,
        initializer: Callable[..., None] | None = None,
        initargs: tuple[Any, ...] = (),
        prepare: Prepare | None = None,
    ) -> None:
        self.client, self.cluster = client, cluster
        self.initializer, self.initargs, self.prepare = initializer, initargs, prepare
        self._tasks: dict[Future[Any], distributed.Future] = {}
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> Future[R]:
        prepare = self.prepare
        sent = tuple(prepare(a) if prepare and isinstance(a, list) else a for a in args)
        future: Future[R] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot schedule new futures after shutdown")
            with dask.config.set(NO_LARGE_GRAPH_WARNING):
                task = self.client.submit(
                    run_task, self.initializer, self.initargs, fn, sent, kwargs,
                    key=f"snake-pipe-batch-{uuid.uuid4().hex}", pure=False,
                )  # fmt: skip
            self._tasks[future] = task
        task.add_done_callback(lambda task: self._settle(future, task))
        return future

    def _settle(self, future: Future[Any], task: distributed.Future) -> None:
        """In Dask's callback thread: pass the task's outcome to ``future``."""
        with self._lock:
            if self._tasks.pop(future, None) is None:
                return  # cancelled by shutdown
        if not future.set_running_or_notify_cancel():
            return
        try:
            result = outcome(task)
        except BaseException as exc:
            future.set_exception(exc)
        else:
            future.set_result(result)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Without ``wait`` the client closes under the tasks, so they are cancelled too."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            tasks = dict(self._tasks)
            if cancel_futures or not wait:
                self._tasks.clear()
        if cancel_futures or not wait:
            for future in tasks:
                future.cancel()
                future.set_running_or_notify_cancel()  # wakes anyone waiting on it
            self.client.cancel(list(tasks.values()))
        else:
            futures.wait(list(tasks))  # settled by Dask's callback thread
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def outcome(task: distributed.Future) -> Any:
    """A finished task's result, or its error; Dask losing the task is a ``BrokenExecutor``."""
    if task.status == "error":
        error = task.exception()
        if isinstance(error, distributed.KilledWorker):
            raise BrokenExecutor(f"Dask gave up on the batch: {error}") from error
        return task.result()  # raises the batch function's error, with its traceback
    if task.status == "cancelled":
        raise BrokenExecutor("Dask cancelled the batch: its scheduler or client went away")
    try:
        return task.result()
    except Exception as exc:  # its worker went away with the result
        raise BrokenExecutor(f"Dask lost the batch's result: {type(exc).__name__}") from exc


_initialised: list[tuple[Any, ...] | None] = [None]
_one_batch_at_a_time = threading.Lock()


def run_task(
    initializer: Callable[..., None] | None,
    initargs: tuple[Any, ...],
    fn: Callable[..., R],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> R:
    """On a Dask worker: initialise this process if it has not been with these arguments,
    then run ``fn``. One task at a time per process, whatever the worker's thread count:
    the parser's per-process state (its watchdog, its caches) is not shared between threads."""
    with _one_batch_at_a_time:
        if initializer is not None and _initialised[0] != (initializer, initargs):
            initializer(*initargs)
            _initialised[0] = (initializer, initargs)
        return fn(*args, **kwargs)


def dask_executor(
    kind: str,
    workers: int,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
    prepare: Prepare | None = None,
    worker_wait_s: float = 60.0,
) -> DaskExecutor:
    """``dask-local``: a new ``LocalCluster`` of ``workers`` processes; ``dask://HOST:PORT``:
    a client of the scheduler there, once the cluster has a worker."""
    if kind == "dask-local":
        try:
            cluster = local_cluster(workers)
        except (OSError, RuntimeError) as exc:
            raise SnakePipeError("--executor dask-local: the local Dask cluster did not start "
                                 f"({exc})") from exc  # fmt: skip
        try:
            client = distributed.Client(cluster, set_as_default=False)
        except BaseException:
            cluster.close()
            raise
        return DaskExecutor(client, cluster, initializer, initargs, prepare)
    address = "tcp://" + kind.removeprefix("dask://")
    logging.getLogger("distributed.client").addFilter(quiet_cancelled)
    try:
        client = distributed.Client(address, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(
            f"--executor {kind}: cannot reach the Dask scheduler at {address} ({reason}): "
            "start it (dask scheduler) or fix the address"
        ) from exc
    try:
        client.wait_for_workers(1, timeout=worker_wait_s)
    except TimeoutError as exc:  # batches sent now would wait, unseen, for batch_timeout_s
        client.close()
        raise ConfigError(
            f"--executor {kind}: the Dask scheduler at {address} has no worker after "
            f"{worker_wait_s:g} s (dask_worker_wait_s): start one (dask worker {address})"
        ) from exc
    return DaskExecutor(client, None, initializer, initargs, prepare)


def quiet_cancelled(record: logging.LogRecord) -> bool:
    """Drops the traceback Dask logs when a client that lost its scheduler is closed while
    reconnecting: the run reports the lost scheduler in one line of its own."""
    return not (record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError))


def local_cluster(workers: int) -> distributed.LocalCluster:
    """Single-threaded worker processes on 127.0.0.1 and no log lines: a worker that dies is
    in the run's records and report, with the file that killed it. The scheduler's HTTP
    server (Dask starts it even without a dashboard) takes a free port on 127.0.0.1, never
    8787, which a cluster of the user's may hold."""
    return distributed.LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0", silence_logs=logging.CRITICAL, preload=[__name__],
        scheduler_kwargs={"allowed_failures": LOCAL_ALLOWED_FAILURES},
    )  # fmt: skip


def dask_setup(worker: object) -> None:
    """Dask's preload hook, run by each ``dask-local`` worker as it starts: the workers share
    our terminal, but Ctrl-C is for the coordinator, which lets them finish, then stops them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
