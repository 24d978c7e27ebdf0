"""The one start-up path of every command that runs a Prefect flow (ingest, transform, run, demo, sync apply,
exceptions retry): `start()`.

1. The home folders exist before anything imports Prefect (Prefect creates PREFECT_HOME without its parents and
   only warns when it cannot, then fails later).
2. Prefect's API: a temporary server, as Prefect's ephemeral mode runs, started as the command's very first step
   so that it boots while the command imports its modules, on a database migrated once per Prefect version
   instead of at every start. Prefect's own ephemeral mode starts the same server (uvicorn over
   `prefect.server.api.server:create_app`) only when the first flow asks for its API, after every import, runs
   its migrations each time, and gives up after 20 s (PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS), which a
   busy machine exceeds. Here the server is waited for as long as it works at starting (its CPU time grows; a first
   start on a machine at load 25 took more than 300 s), up to PSHUB_PREFECT_STARTUP_TIMEOUT_SECONDS (default 300 s)
   without progress or four times that in all; past it, `PrefectApiUnavailable` says in one line what to do. Nothing is started when a server is configured
   (PREFECT_API_URL in the environment or in Prefect's own settings files) or when `pshub serve` runs a server on
   the same PREFECT_HOME: the command shares that one (a second server on the same SQLite file would only compete
   with it for the file's lock, and the command's runs would not show in the served UI's live view).
3. Prefect's console handler shows nothing below CRITICAL (`--debug` shows everything): the command prints its
   own outcome, and a failed task's traceback on the terminal says nothing the outcome line does not.
"""
from __future__ import annotations

import atexit
import hashlib
import importlib
import importlib.metadata
import json
import os
import socket
import subprocess
import sys
import threading
import time
import tomllib
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path

from pshub.settings import ensure_home, get_settings

STARTUP_TIMEOUT_SECONDS = 300.0  # how long a starting server may use no CPU before it counts as stuck
MAX_STARTUP_FACTOR = 4  # ... and how many times that a start may take in all
# in PREFECT_HOME while `pshub serve` runs a Prefect server there: {"url": ..., "pid": ...}
SERVER_FILE = "pshub-server.json"


class PrefectApiUnavailable(RuntimeError):
    """Prefect's API did not answer: the message is the one line the command prints."""


def startup_timeout() -> float:
    try:
        return float(os.environ.get("PSHUB_PREFECT_STARTUP_TIMEOUT_SECONDS") or STARTUP_TIMEOUT_SECONDS)
    except ValueError:
        return STARTUP_TIMEOUT_SECONDS


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
        """Wait while the server works at starting: a first start migrates a new database, which takes minutes of
        CPU on a busy machine. It is given up on when it has exited, when it has used no CPU for `timeout` seconds
        (stuck), or after MAX_STARTUP_FACTOR times that in all."""
        timeout = startup_timeout()
        started = last_progress = time.monotonic()
        last_cpu = _cpu_seconds(self.process.pid)
        while True:
            if self.process.poll() is not None:
                self._error = (f"Prefect's API server exited with code {self.process.returncode} while starting "
                               f"(PREFECT_HOME={os.environ.get('PREFECT_HOME')}): run the command again with "
                               "--debug to see why, or set PREFECT_API_URL to a running Prefect server")
                break
            if answers(self.url):
                if self._marker is not None:  # the server migrated its database at this start
                    self._marker.touch()
                break
            now, cpu = time.monotonic(), _cpu_seconds(self.process.pid)
            if cpu is None or last_cpu is None or cpu > last_cpu:
                last_progress, last_cpu = now, cpu
            if now - last_progress > timeout or now - started > MAX_STARTUP_FACTOR * timeout:
                self._error = (f"Prefect's API did not start within {now - started:.0f} s (is the machine very "
                               "busy?): run the command again, raise PSHUB_PREFECT_STARTUP_TIMEOUT_SECONDS, or set "
                               "PREFECT_API_URL to a running Prefect server")
                break
            time.sleep(0.05 if now - started < 10 else 0.5)
        self._ready.set()

    def wait(self, warm_up: Iterable[str | Callable[[], object]] = ()) -> None:
        """Return once the API answers (raise PrefectApiUnavailable if it will not). warm_up: modules the command
        imports later anyway (dbt for a cycle's build: seconds of CPU), imported now while the server is still
        starting, each only if it is not ready yet: time the command would otherwise spend idle; a callable is
        called instead (work the command keeps for later: dbt's parse of the project, pshub.dbt.parse_ahead). A
        module that fails to import, or a callable that fails, is left for the command's own use of it to report."""
        for step in warm_up:
            if self._ready.is_set():
                break
            try:
                step() if callable(step) else importlib.import_module(step)
            except Exception:  # noqa: BLE001 - reported where the command imports it for use
                pass
        self._ready.wait()
        if self._error:
            self.stop()
            raise PrefectApiUnavailable(self._error)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _cpu_seconds(pid: int) -> float | None:
    """CPU time a process has used (Linux's /proc/PID/stat: utime and stime, in clock ticks); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def answers(api_url: str, timeout: float = 2.0) -> bool:
    """Prefect's API at `api_url` answers its health check (GET /health, 200). urllib, not httpx: this module is
    imported by every command, and httpx alone takes longer to import than a status command takes to answer."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never through a proxy
    try:
        with opener.open(f"{api_url.rstrip('/')}/health", timeout=timeout) as response:
            return response.status == 200
    except (OSError, ValueError):  # URLError and refused connections are OSErrors
        return False


def configured_api_url() -> str | None:
    """PREFECT_API_URL as Prefect itself would find it without a server of ours, in its order of precedence
    (docs.prefect.io, "Settings and profiles": environment, .env, prefect.toml, pyproject.toml, then the active
    profile; prefect.settings.base.PrefectBaseSettings.settings_customise_sources), read here without importing
    Prefect, which takes seconds."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    dotenv = Path(".env")
    if dotenv.is_file():
        for line in dotenv.read_text(errors="replace").splitlines():
            name, sep, value = line.strip().removeprefix("export ").partition("=")
            if sep and name.strip() == "PREFECT_API_URL" and value.strip().strip("'\""):
                return value.strip().strip("'\"")
    for path, keys in (("prefect.toml", ("api", "url")), ("pyproject.toml", ("tool", "prefect", "api", "url"))):
        value = _toml_value(Path(path), keys)
        if value:
            return value
    profiles = Path(os.environ.get("PREFECT_PROFILES_PATH")
                    or Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect") / "profiles.toml").expanduser()
    try:
        data = tomllib.loads(profiles.read_text())
    except (OSError, ValueError):
        return None
    active = os.environ.get("PREFECT_PROFILE") or data.get("active")
    return ((data.get("profiles") or {}).get(active) or {}).get("PREFECT_API_URL") or None


def _toml_value(path: Path, keys: tuple[str, ...]) -> str | None:
    try:
        value = tomllib.loads(path.read_text())
    except (OSError, ValueError):
        return None
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, str) and value else None


def shared_server_url(prefect_home: Path) -> str | None:
    """The API of the Prefect server `pshub serve` runs on `prefect_home`, when its process is alive and it answers."""
    try:
        info = json.loads((Path(prefect_home) / SERVER_FILE).read_text())
        os.kill(int(info["pid"]), 0)  # raises when the process is gone
        url = str(info["url"])
    except PermissionError:  # alive, another user's
        url = str(info["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return url if answers(url) else None


def announce_server(prefect_home: Path, url: str, pid: int) -> None:
    """Say that a server serves `prefect_home` (for the commands that start while it runs)."""
    path = Path(prefect_home) / SERVER_FILE
    path.write_text(json.dumps({"url": url, "pid": pid}))


def withdraw_server(prefect_home: Path, pid: int) -> None:
    path = Path(prefect_home) / SERVER_FILE
    try:
        if json.loads(path.read_text()).get("pid") == pid:
            path.unlink()
    except (OSError, ValueError):
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _migrated_marker(prefect_home: Path) -> Path:
    """A file that says this Prefect version has migrated this database (the URL, or PREFECT_HOME's SQLite)."""
    database = os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL") or str(prefect_home / "prefect.db")
    key = hashlib.sha256(f"{importlib.metadata.version('prefect')}|{database}".encode()).hexdigest()[:16]
    return prefect_home / f".pshub-migrated-{key}"


def prefect_env(debug: bool = False) -> None:
    """Prefect keeps its state in PSHUB_HOME unless configured otherwise; the home folders are created here,
    before prefect is imported (its settings create PREFECT_HOME without parents, and only warn if they can't)."""
    home = ensure_home(get_settings())
    os.environ.setdefault("PREFECT_HOME", str(home / "prefect"))
    Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Prefect's own ephemeral start-up, where it still happens (a flow run in a process of its own), waits as long
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", str(int(startup_timeout())))
    if debug:
        os.environ["PREFECT_LOGGING_LEVEL"] = "INFO"
    else:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
        # prefect's logging.yml, overridden by PREFECT_LOGGING_[PATH]_[TO]_[KEY] (docs.prefect.io, "Logging
        # customization"): the terminal gets the command's own outcome lines, the API and the UI keep every log
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")


def start(debug: bool = False) -> "TemporaryApi":
    """The start-up of every command that runs a flow: home folders, Prefect's settings, its API booting in the
    background. Call `.wait()` on the result before the first flow runs."""
    prefect_env(debug)
    return start_temporary_api()


def start_temporary_api() -> TemporaryApi:
    """Start Prefect's API server for this process unless one is configured or `pshub serve` runs one on this
    PREFECT_HOME (then that one is used); call before importing prefect (its settings read PREFECT_API_URL once;
    when prefect is already imported, its own ephemeral mode is left to start the server). The server stops when
    the process exits."""
    if "prefect" in sys.modules or configured_api_url():
        return TemporaryApi(None, None, None)
    prefect_home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    prefect_home.mkdir(parents=True, exist_ok=True)
    shared = shared_server_url(prefect_home)
    if shared:
        os.environ["PREFECT_API_URL"] = shared
        return TemporaryApi(None, shared, None)
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
