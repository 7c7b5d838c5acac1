"""Watch-mode metrics (Prometheus text format) and a health check, over HTTP.

``/metrics``: files committed by status, queue depth, batch duration, end-to-end latency from a
file event to its committed row, and the resident memory of the process tree. ``/healthz``: 200
while the watcher and the parser workers are alive, 503 otherwise. The server binds 127.0.0.1
unless told otherwise: metrics name the repository's files, they are not for the network.
Needs the ``metrics`` extra (prometheus-client).
"""

from __future__ import annotations

import errno
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from snake_pipe.errors import ConfigError
from snake_pipe.monitor import tree_rss_bytes

try:
    import prometheus_client as prom
except ImportError:  # pragma: no cover - the extra is missing
    prom = None  # type: ignore[assignment]

LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
BATCH_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def _need_prometheus() -> Any:
    if prom is None:
        raise ConfigError("--metrics-port: needs the metrics extra: "
                          "pip install 'snake-pipe[metrics]'")  # fmt: skip
    return prom


class Metrics:
    """The counters of one watch, in a registry of its own (several may share a process)."""

    def __init__(self, queue_depth: Callable[[], int]) -> None:
        p = _need_prometheus()
        self.registry = p.CollectorRegistry()
        r = self.registry
        self.files = p.Counter("snake_pipe_files_processed", "Files committed to every sink, "
                               "by record status (unchanged: stat only; deleted)", ["status"],
                               registry=r)  # fmt: skip
        self.queue = p.Gauge("snake_pipe_queue_depth", "Files waiting in the work queue",
                             registry=r)  # fmt: skip
        self.queue.set_function(queue_depth)
        self.batch = p.Histogram("snake_pipe_batch_duration_seconds", "Wall time of a batch "
                                 "in the parser pool", buckets=BATCH_BUCKETS, registry=r)  # fmt: skip
        self.latency = p.Histogram("snake_pipe_event_to_commit_seconds", "From a file event to "
                                   "its committed records", buckets=LATENCY_BUCKETS, registry=r)  # fmt: skip
        self.rss = p.Gauge("snake_pipe_rss_bytes", "Resident memory of the process tree "
                           "(coordinator and parser workers)", registry=r)  # fmt: skip
        self.rss.set_function(tree_rss_bytes)

    def committed(
        self, statuses: Iterable[str], unchanged: int, batch_s: float, latencies: Iterable[float]
    ) -> None:
        for status in statuses:
            self.files.labels(status).inc()
        if unchanged:
            self.files.labels("unchanged").inc(unchanged)
        self.batch.observe(batch_s)
        for seconds in latencies:
            self.latency.observe(seconds)

    def deleted(self, count: int, latencies: Iterable[float]) -> None:
        self.files.labels("deleted").inc(count)
        for seconds in latencies:
            self.latency.observe(seconds)


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # no access log on stderr
        pass


class _Server6(WSGIServer):
    address_family = socket.AF_INET6


def _app(metrics: Metrics, healthy: Callable[[], bool]) -> Any:
    metrics_app = _need_prometheus().make_wsgi_app(metrics.registry)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return list(metrics_app(environ, start_response))
        if path == "/healthz":
            ok = healthy()
            start_response("200 OK" if ok else "503 Service Unavailable",
                           [("Content-Type", "text/plain")])  # fmt: skip
            return [b"ok\n" if ok else b"unhealthy\n"]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found: try /metrics or /healthz\n"]

    return app


@contextmanager
def serve(
    host: str, port: int, metrics: Metrics, healthy: Callable[[], bool]
) -> Iterator[tuple[str, int]]:
    """Serve /metrics and /healthz on ``host:port`` in a thread; yields the bound address."""
    server_class = _Server6 if ":" in host else WSGIServer
    try:
        server = make_server(host, port, _app(metrics, healthy), server_class, _Quiet)
    except OSError as exc:  # a name that does not resolve or is not ours, or a port in use
        bad_host = isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL
        raise ConfigError(f"{'--metrics-host' if bad_host else '--metrics-port'}: cannot listen "
                          f"on {host}:{port} ({exc.strerror or exc})") from exc  # fmt: skip
    thread = threading.Thread(target=server.serve_forever, args=(0.2,), daemon=True,
                              name="snake-pipe-metrics")  # fmt: skip
    thread.start()
    try:
        yield host, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
