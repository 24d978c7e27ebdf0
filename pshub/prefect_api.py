"""Prefect's API for a one-off command (`pshub ingest`): a temporary server, as Prefect's ephemeral mode runs,
started as the command's very first step so that it boots while the command imports its modules, and on a
database migrated once per Prefect version instead of at every start.

Prefect's own ephemeral mode starts the same server (uvicorn over `prefect.server.api.server:create_app`) only
when the first flow asks for its API, after every import, and runs its migrations each time: about 7 s of a
no-change ingest's 10. With PREFECT_API_URL set (a real Prefect server), nothing is started here.
"""
from __future__ import annotations

import atexit
import hashlib
import importlib.metadata
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

STARTUP_TIMEOUT_SECONDS = 60.0


class TemporaryApi:
    """A Prefect API server process of this command's own; `wait()` returns once it answers."""

    def __init__(self, process: subprocess.Popen | None, url: str | None, migrated_marker: Path | None):
        self.process, self.url, self._marker = process, url, migrated_marker
        self._ready = threading.Event()
        self._error: str | None = None
        if process is None:
            self._ready.set()
        else:
            threading.Thread(target=self._watch, daemon=True, name="prefect-api-start").start()

    def _watch(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    self._error = f"the temporary Prefect API exited with code {self.process.returncode}"
                    break
                try:
                    if client.get(f"{self.url}/health").status_code == 200:
                        if self._marker is not None:  # the server migrated its database at this start
                            self._marker.touch()
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
            else:
                self._error = f"the temporary Prefect API did not answer within {STARTUP_TIMEOUT_SECONDS:.0f}s"
        self._ready.set()

    def wait(self) -> None:
        self._ready.wait()
        if self._error:
            raise RuntimeError(self._error)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _migrated_marker(prefect_home: Path) -> Path:
    """A file that says this Prefect version has migrated this database (the URL, or PREFECT_HOME's SQLite)."""
    database = os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL") or str(prefect_home / "prefect.db")
    key = hashlib.sha256(f"{importlib.metadata.version('prefect')}|{database}".encode()).hexdigest()[:16]
    return prefect_home / f".pshub-migrated-{key}"


def prefect_env() -> None:
    """Prefect keeps its state in PSHUB_HOME unless configured otherwise (set before prefect is imported)."""
    from pshub.settings import get_settings

    os.environ.setdefault("PREFECT_HOME", str(get_settings().home_dir / "prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def start_temporary_api() -> TemporaryApi:
    """Start Prefect's API server for this process unless PREFECT_API_URL names one; call before importing
    prefect (its settings read PREFECT_API_URL once; when prefect is already imported, its own ephemeral mode
    is left to start the server). The server stops when the process exits."""
    if os.environ.get("PREFECT_API_URL") or "prefect" in sys.modules:
        return TemporaryApi(None, None, None)
    prefect_home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    prefect_home.mkdir(parents=True, exist_ok=True)
    marker = _migrated_marker(prefect_home)
    database_file = prefect_home / "prefect.db"
    migrated = marker.exists() and (bool(os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL"))
                                   or database_file.exists())
    port = _free_port()
    env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
    if migrated:
        env.setdefault("PREFECT_API_DATABASE_MIGRATE_ON_START", "false")
    # the command Prefect's ephemeral mode runs (prefect.server.api.server.SubprocessASGIServer)
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "error", "--lifespan", "on"], env=env)
    api = TemporaryApi(process, f"http://127.0.0.1:{port}/api", None if migrated else marker)
    atexit.register(api.stop)
    os.environ["PREFECT_API_URL"] = api.url
    return api
