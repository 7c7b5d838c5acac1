"""A real PostgreSQL server for the tests: the one in $SNAKE_PIPE_TEST_PG, or one started here.

Use as a pytest plug-in (``pytest_plugins = ("tests.pg",)`` in a test module, or import the
fixtures into conftest.py). ``pg_server`` is session-wide; ``pg_dsn`` gives each test a fresh
schema of its own through libpq's ``options=-csearch_path=...``, so tests never see each
other's rows. A server started here lives in a temporary directory, listens on 127.0.0.1 only
and can be restarted by the tests that need an outage. Tests skip, with the reason, only when
no server can be reached or started.
"""

from __future__ import annotations

import contextlib
import getpass
import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest

ENV_DSN = "SNAKE_PIPE_TEST_PG"
START_TIMEOUT = 60


@dataclass
class PgServer:
    """A reachable server; ``data`` is set when this process started it and may restart it."""

    dsn: str
    data: Path | None = None
    bindir: Path | None = None
    _owner: str | None = field(default=None, repr=False)

    @property
    def controllable(self) -> bool:
        return self.data is not None

    def pg_ctl(self, *args: str) -> None:
        assert self.data is not None and self.bindir is not None, "not started by the tests"
        run_as(self._owner, [str(self.bindir / "pg_ctl"), "-D", str(self.data), *args])

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "-w", "stop")

    def start(self) -> None:
        assert self.data is not None, "not started by the tests"
        log = str(self.data.parent / "server.log")
        self.pg_ctl("-l", log, "-w", "-t", str(START_TIMEOUT), "start")

    def restart(self) -> None:
        self.stop()
        self.start()


def find_bindir() -> Path | None:
    """The newest installed PostgreSQL's bin directory, or pg_ctl's on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)  # fmt: skip
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).resolve().parent if on_path else None


def run_as(owner: str | None, cmd: list[str]) -> None:
    """Run a server command as the cluster's owner (initdb and postgres refuse root)."""
    if owner is not None and owner != getpass.getuser():
        cmd = ["runuser", "-u", owner, "--", *cmd]
    subprocess.run(cmd, check=True, capture_output=True, timeout=START_TIMEOUT + 30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def reachable(dsn: str) -> str | None:
    """None when a connection works, else why not (password masked by libpq's own wording)."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed: pip install 'snake-pipe[postgres]'"
    try:
        with psycopg.connect(dsn, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
        return None
    except psycopg.Error as exc:
        return str(exc).splitlines()[0]


def start_server(base: Path | None = None) -> PgServer:
    """initdb + pg_ctl start in a temporary directory; raises RuntimeError with the reason."""
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError("no PostgreSQL binaries (apt-get install postgresql, or "
                           "bash .ci/postgres.sh)")  # fmt: skip
    owner = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="snake-pipe-pg-", dir=base))
    data, password, port = root / "data", secrets.token_hex(12), free_port()
    pwfile = root / "pw"
    pwfile.write_text(password + "\n")
    if owner is not None:
        shutil.chown(root, owner, owner)
        shutil.chown(pwfile, owner, owner)
    try:
        run_as(owner, [str(bindir / "initdb"), "-D", str(data), "-U", "snake", "-E", "UTF8",
                       "--auth=scram-sha-256", f"--pwfile={pwfile}", "--locale=C.UTF-8"])  # fmt: skip
        pwfile.unlink()
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(f"listen_addresses = '127.0.0.1'\nport = {port}\n"
                       f"unix_socket_directories = ''\nfsync = off\nmax_connections = 100\n")  # fmt: skip
        server = PgServer(f"postgresql://snake:{password}@127.0.0.1:{port}/postgres",
                          data, bindir, owner)  # fmt: skip
        server.start()
    except (subprocess.SubprocessError, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(
            f"could not start PostgreSQL: {exc} {detail.decode(errors='replace')[-500:]}"
        ) from exc
    return server


def destroy(server: PgServer) -> None:
    if server.data is None:
        return
    with contextlib.suppress(subprocess.SubprocessError):
        server.stop()
    shutil.rmtree(server.data.parent, ignore_errors=True)


def with_schema(dsn: str, schema: str) -> str:
    """The DSN with the search path set to ``schema`` (libpq's options parameter)."""
    sep = "&" if "?" in dsn else "?"
    return f"{dsn}{sep}options={quote(f'-csearch_path={schema}', safe='')}"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """$SNAKE_PIPE_TEST_PG if it answers, else a server of our own, else skip with both reasons."""
    reasons = []
    dsn = os.environ.get(ENV_DSN)
    if dsn:
        why = reachable(dsn)
        if why is None:
            yield PgServer(dsn)
            return
        reasons.append(f"${ENV_DSN} does not answer ({why})")
    else:
        reasons.append(f"${ENV_DSN} is not set")
    try:
        server = start_server()
    except RuntimeError as exc:
        reasons.append(str(exc))
        pytest.skip("PostgreSQL unavailable: " + "; ".join(reasons))
    try:
        yield server
    finally:
        destroy(server)


@pytest.fixture(scope="session")
def pg_own_server(pg_server: PgServer) -> Iterator[PgServer]:
    """A server the tests may stop and restart: pg_server if we started it, else a new one."""
    if pg_server.controllable:
        yield pg_server
        return
    try:
        server = start_server()
    except RuntimeError as exc:
        pytest.skip(f"a restartable PostgreSQL is needed: {exc}")
    try:
        yield server
    finally:
        destroy(server)


def new_schema(server: PgServer) -> tuple[str, str]:
    import psycopg

    schema = "t_" + secrets.token_hex(6)
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return schema, with_schema(server.dsn, schema)


def drop_schema(server: PgServer, schema: str) -> None:
    import psycopg

    try:
        with psycopg.connect(server.dsn, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    except psycopg.Error:
        pass  # the server may be down after a failed outage test; its tmp dir goes anyway


@pytest.fixture
def pg_dsn(pg_server: PgServer) -> Iterator[str]:
    """A DSN whose tables land in a fresh schema, dropped after the test."""
    schema, dsn = new_schema(pg_server)
    yield dsn
    drop_schema(pg_server, schema)


@pytest.fixture
def pg_own_dsn(pg_own_server: PgServer) -> Iterator[str]:
    """Like pg_dsn, on the restartable server."""
    schema, dsn = new_schema(pg_own_server)
    yield dsn
    drop_schema(pg_own_server, schema)
