"""Run dbt in-process with a profile built from the hub's settings; failures are raised, never swallowed."""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlparse

from pshub.listeners import Listeners
from pshub.settings import Settings, get_settings
from pshub.warehouse import database_url

PROJECT_DIR = Path(os.environ.get("PSHUB_PROJECT_DIR", Path(__file__).resolve().parent.parent))
# profiles.yml sits at the repository root, next to dbt_project.yml: dbt run from there finds it (dbt-core looks in
# the working directory before ~/.dbt since 1.3, dbt-labs/dbt-core#5717)
PROFILES_DIR = PROJECT_DIR


class DbtFailed(RuntimeError):
    def __init__(self, command: str, failures: list[str]):
        self.failures = failures
        super().__init__(f"dbt {command} failed: " + ("; ".join(failures) if failures else "see the dbt log"))


@dataclass
class DbtResult:
    command: str
    success: bool
    built: list[str] = field(default_factory=list)     # models, seeds, snapshots that succeeded
    tests_passed: int = 0
    failures: list[str] = field(default_factory=list)  # "<node>: <status>: <message>"
    warnings: list[str] = field(default_factory=list)
    scope: str = ""                                    # what the build covered and why (flows.transform.plan_build)


# The warehouse URL's query parameters (sslmode, sslrootcert, options, ...) must reach dbt's connections as they reach
# the hub's own. dbt-postgres's profile has fields for only a few of them, and passes those it has explicitly (its
# sslmode, when set, wins over everything); libpq reads every other one from its environment variable when dbt
# connects (PostgreSQL documentation, libpq "Environment Variables"). So the profile leaves sslmode and the
# certificates to libpq, and each URL parameter becomes its libpq variable for dbt's run.
LIBPQ_ENV = {
    "sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY",
    "sslcrl": "PGSSLCRL", "sslcrldir": "PGSSLCRLDIR", "sslsni": "PGSSLSNI", "sslnegotiation": "PGSSLNEGOTIATION",
    "sslcertmode": "PGSSLCERTMODE", "ssl_min_protocol_version": "PGSSLMINPROTOCOLVERSION",
    "ssl_max_protocol_version": "PGSSLMAXPROTOCOLVERSION", "requirepeer": "PGREQUIREPEER",
    "require_auth": "PGREQUIREAUTH", "channel_binding": "PGCHANNELBINDING", "gssencmode": "PGGSSENCMODE",
    "gssdelegation": "PGGSSDELEGATION", "krbsrvname": "PGKRBSRVNAME", "gsslib": "PGGSSLIB",
    "options": "PGOPTIONS", "target_session_attrs": "PGTARGETSESSIONATTRS", "load_balance_hosts": "PGLOADBALANCEHOSTS",
    "client_encoding": "PGCLIENTENCODING", "passfile": "PGPASSFILE", "service": "PGSERVICE",
    "servicefile": "PGSERVICEFILE", "hostaddr": "PGHOSTADDR",
}
# parameters the profile has a field for (dbt passes them explicitly, so their libpq variables would be ignored)
PROFILE_FIELDS = {"application_name": "PSHUB_DBT_APPLICATION_NAME", "connect_timeout": "PSHUB_DBT_CONNECT_TIMEOUT",
                  "keepalives_idle": "PSHUB_DBT_KEEPALIVES_IDLE"}


class WarehouseUrlError(ValueError):
    pass


def dbt_env(url: str, threads: int = 4, reporting_currency: str | None = None) -> dict[str, str]:
    """The profile's variables, the libpq variables that carry the URL's query parameters to dbt, and the reporting
    currency (the setting PSHUB_REPORTING_CURRENCY, which the project reads: macro reporting_currency)."""
    parsed = urlparse(url)
    env = {
        "PSHUB_REPORTING_CURRENCY": reporting_currency or get_settings().reporting_currency,
        "PSHUB_ERP_ROUTING": get_settings().erp_routing,  # macro erp_routing: routes on top of the seed
        "PSHUB_DBT_HOST": parsed.hostname or "127.0.0.1",
        "PSHUB_DBT_PORT": str(parsed.port or 5432),
        "PSHUB_DBT_USER": unquote(parsed.username or "postgres"),
        "DBT_ENV_SECRET_PSHUB_PASSWORD": unquote(parsed.password or ""),
        "PSHUB_DBT_DBNAME": (parsed.path or "/postgres").lstrip("/") or "postgres",
        "PSHUB_DBT_THREADS": str(threads),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    for key, value in parse_qsl(parsed.query, keep_blank_values=True):
        if key in PROFILE_FIELDS:
            env[PROFILE_FIELDS[key]] = value
        elif key in LIBPQ_ENV:
            env[LIBPQ_ENV[key]] = value
        elif key in ("host", "port", "user", "password", "dbname"):
            raise WarehouseUrlError(f"PSHUB_DATABASE_URL: give {key} in the URL itself, not as ?{key}=")
        else:
            raise WarehouseUrlError(f"PSHUB_DATABASE_URL: the parameter {key!r} cannot reach dbt's connections "
                                    "(libpq has no environment variable for it); remove it from the URL")
    return env


def cli_env(settings: Settings | None = None) -> dict[str, str]:
    """The environment for `dbt` run by a person: the profile's variables from the hub's settings (the embedded
    warehouse is started if it is not running), and where the project and its profile are."""
    settings = settings or get_settings()
    return {**dbt_env(database_url(settings), reporting_currency=settings.reporting_currency),
            "DBT_PROJECT_DIR": str(PROJECT_DIR),
            "DBT_PROFILES_DIR": str(PROFILES_DIR)}


def session_options(threads: int = 4, cores: int | None = None) -> str:
    """libpq options for dbt's sessions. dbt runs `threads` statements at once; parallel query workers inside each
    of them would compete for the same cores (on 2 cores a cycle's build took 12% longer with them), so each
    statement gets the cores left over, if any."""
    cores = cores or os.cpu_count() or 1
    return f"-c max_parallel_workers_per_gather={max(0, (cores - threads) // threads)}"


_progress: Listeners[dict] = Listeners("dbt")
# `with progress_listener(callback):` calls `callback({done, total, models, tests, failures})` after each dbt node
progress_listener = _progress.listen


class _NodeCounter:
    """A dbtRunner callback (dbt's events: LogStartLine carries the node count, NodeFinished each outcome)."""

    def __init__(self):
        self.state = {"done": 0, "total": 0, "models": 0, "tests": 0, "failures": 0}

    def __call__(self, msg) -> None:
        name = msg.info.name
        if name == "LogStartLine":
            self.state["total"] = max(self.state["total"], int(msg.data.total or 0))
            return
        if name != "NodeFinished":
            return
        node = msg.data.node_info
        self.state["done"] += 1
        if node.resource_type in ("test", "unit_test"):
            self.state["tests"] += 1
        elif node.resource_type in ("model", "seed", "snapshot"):
            self.state["models"] += 1
        if node.node_status in ("error", "fail", "runtime error"):
            self.state["failures"] += 1
        self.tell()

    def tell(self, phase: str = "nodes") -> None:
        _progress.report({**self.state, "phase": phase})


def _keep_connections_open() -> None:
    """dbt's threads keep their PostgreSQL connection from one node to the next, instead of opening one per node.

    dbt-core closes a thread's connection when each node ends (dbt/adapters/base/connections.py, `release`: "always
    close the connection"), so a build opened one connection per node: a new server process each time, about 85 ms
    apiece on a 2-core machine under load, 30 s of a 45 s cycle's build. A `reuse_connections` profile option
    for PostgreSQL was proposed (dbt-labs/dbt-core#7587, for #7520) and closed unmerged; dbt-snowflake has one. Here a
    released connection that is still open rolls back whatever transaction is left (as dbt's close does first) and
    stays open; one that is closed or broken is released as dbt does. dbt closes every connection at the end of
    the invocation (cleanup_all). What a node leaves in its session besides a transaction: temporary tables with a
    name of their own (dbt-postgres stamps each with the time), dropped when the session ends."""
    from dbt.adapters.postgres.connections import PostgresConnectionManager

    if getattr(PostgresConnectionManager.release, "_pshub_keeps", False):
        return
    dbt_release = PostgresConnectionManager.release

    def release(self) -> None:
        conn = self.get_if_exists()
        handle = getattr(conn, "_handle", None) if conn is not None else None
        if conn is None or conn.state != "open" or handle is None or getattr(handle, "closed", 1):
            return dbt_release(self)
        try:
            handle.rollback()  # also ends a transaction psycopg2 began by itself (dbt's flag does not see those)
            conn.transaction_open = False
        except Exception:
            return dbt_release(self)

    release._pshub_keeps = True
    PostgresConnectionManager.release = release


# The parsed project of this process's last dbt invocation, with what it was parsed from (_parse_key). dbt reads its
# partial-parse file again at each invocation (about 5 s of a cycle's build before its first node, at load 13); a
# manifest parsed once is handed to the next invocations instead (dbtRunner(manifest=...), "Reusing objects" in dbt's
# programmatic invocations docs), so a process that builds again (`pshub serve`'s cycles, a full build then an
# incremental one) parses the project once.
_parsed: dict[str, object] = {}
# held while a parse is checked or made: a parse in the background (parse_in_background) and a build that needs it
# make one parse, the build waiting for the other's
_parse_lock = threading.Lock()
# commands that take a parsed manifest and leave it as they found it (each compiles its nodes again)
REUSE_MANIFEST = ("build", "run", "test", "seed", "snapshot", "compile")


def _parse_key(work: Path) -> tuple:
    """What a parsed manifest depends on: the project's files (path, size, modification time), the environment
    variables dbt reads (PSHUB_*, DBT_*: the profile, the reporting currency, the PSA and CRM, the ERP routes) and the
    target folder. PSHUB_DBT_KEEP_RELATIONS is read only when a node runs, never by the parser."""
    files = [PROJECT_DIR / "dbt_project.yml", PROFILES_DIR / "profiles.yml",
             *sorted(p for p in (PROJECT_DIR / "dbt_project").rglob("*") if p.is_file())]
    stats = tuple((str(path), st.st_size, st.st_mtime_ns) for path in files for st in [path.stat()])
    env = tuple(sorted((k, v) for k, v in os.environ.items()
                       if k.startswith(("PSHUB_", "DBT_")) and k != "PSHUB_DBT_KEEP_RELATIONS"))
    return str(work), stats, env


def _manifest(runner_class, work: Path, command_flags: list[str]):
    """The project parsed (kept for the next invocation with the same _parse_key), or None when parsing fails (the
    command then parses again itself and reports the error)."""
    with _parse_lock:
        key = _parse_key(work)
        if _parsed.get("key") == key:
            return _parsed["manifest"]
        _parsed.clear()
        parsed = runner_class().invoke(["parse", *command_flags])
        if isinstance(parsed.exception, BaseException) and not isinstance(parsed.exception, Exception):
            raise parsed.exception  # Ctrl-C or a stop signal while parsing: as run_dbt does for the command
        if not parsed.success or parsed.result is None:
            return None
        _parsed.update(key=key, manifest=parsed.result)
        return parsed.result


def _profile_env(settings: Settings) -> tuple[dict[str, str], Path]:
    """The profile's variables set in this process's environment (they stay: the parse key reads them); returns the
    libpq variables, which only an invocation sets (run_dbt), and the work folder (target/, logs/)."""
    env = dbt_env(database_url(settings), reporting_currency=settings.reporting_currency)
    libpq = {k: v for k, v in env.items() if k.startswith("PG")}
    os.environ.update({k: v for k, v in env.items() if k not in libpq})
    for name in PROFILE_FIELDS.values():  # a field a former URL set, this one does not
        if name not in env:
            os.environ.pop(name, None)
    work = settings.home_dir / "dbt"
    work.mkdir(parents=True, exist_ok=True)
    return libpq, work


def _parse_flags(work: Path, no_write_json: bool) -> list[str]:
    return ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROFILES_DIR),
            "--target-path", str(work / "target"), "--log-path", str(work / "logs"), "--quiet",
            *(["--no-write-json"] if no_write_json else [])]


def parse_ahead(settings: Settings | None = None) -> None:
    """Parse the project now for this process's next build (kept as run_dbt keeps it: _manifest, _parse_key). A
    command that runs a cycle calls it while Prefect's API starts (flows.hub.WARM_UP; pshub.prefect_api
    TemporaryApi.wait): time the command would otherwise spend waiting. A cycle runs in a process of its own
    (`pshub run`, a scheduled run's process), which had to parse before its build's first node: reading dbt's
    partial-parse file, checking every project file against it, validating the project and profile (about 6
    CPU-seconds on a 2-core machine, the largest of the build's own costs besides its nodes). When anything the
    parse depends on changes before the build (a project file, the profile's variables), the build parses again
    (_parse_key). The parse writes no manifest (--no-write-json): an incremental build does not either, and a build
    that writes one writes its own. A parse that fails is left for the build to report."""
    _, work = _profile_env(settings or get_settings())
    _parse_project(work)


def _parse_project(work: Path) -> None:
    """The parse parse_ahead and parse_in_background make, kept for the next build (_manifest); its manifest unwritten."""
    from dbt.cli.main import dbtRunner

    _manifest(dbtRunner, work, _parse_flags(work, no_write_json=True))


def parse_in_background(settings: Settings | None = None) -> threading.Thread | None:
    """parse_ahead's parse in a thread of its own, started now; None when this process holds a parse already (of any
    key: a stale one is parsed again by the build, as before). A cycle starts it before its ingest: Prefect's API often
    answers before the warm-up gets to the parse (dbt's import alone takes seconds), which then fell to the build,
    after the ingest (2.7 s of a medium firm's one-day cycle, py-spy); the ingest mostly waits on its sources, so
    the parse takes little from it. The build waits for it (_parse_lock) and uses it. A parse that fails, or raises,
    is left for the build to report."""
    if _parsed:
        return None
    # the profile's variables set here, in the calling thread: the parse's thread only reads the environment (others,
    # such as the ingest's, read it while the parse runs)
    try:
        _, work = _profile_env(settings or get_settings())
    except Exception:  # noqa: BLE001 - settings the build reports when it reads them
        return None

    def parse() -> None:
        try:
            _parse_project(work)
        except Exception:  # noqa: BLE001 - the build parses again and reports it
            pass

    thread = threading.Thread(target=parse, name="pshub-dbt-parse", daemon=True)
    thread.start()
    return thread


def run_dbt(args: list[str], settings: Settings | None = None, raise_on_failure: bool = True,
            keep_relations: bool = False) -> DbtResult:
    """`dbt <args>` against the hub's warehouse; returns what was built and what failed. keep_relations: tables are
    refilled in place and existing views left as they are (macros/materializations.sql; only for a build of the
    project the relations were built by: flows/transform.plan_build)."""
    # dbt takes seconds to import: only the commands that run it pay for it (`pshub status` stays within the 3 s
    # of bench/cli.py)
    from dbt.cli.main import dbtRunner

    _keep_connections_open()
    settings = settings or get_settings()
    libpq, work = _profile_env(settings)
    command = args[0]
    full = [*args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROFILES_DIR),
            "--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    if command in ("build", "run", "test", "seed", "snapshot"):
        full += ["--quiet"] if "--quiet" not in args and "-q" not in args else []
        # logs/dbt.log at info (each node's start and result, warnings, errors), not at dbt's default debug, which
        # writes every statement's text and a dozen events per node: dbt's threads queued on the file handler's lock
        # for about a third of their time in a cycle's build (py-spy, a medium firm's one-day cycle). dbt's own
        # DBT_LOG_LEVEL_FILE (e.g. debug) still chooses when set
        if not os.environ.get("DBT_LOG_LEVEL_FILE") and "--log-level-file" not in args and "--debug" not in args:
            full += ["--log-level-file", "info"]
    # for this invocation only, then as they were: libpq's variables (read when a connection opens) and whether
    # relations are kept (an environment variable: a dbt var that changes would make dbt parse the whole project)
    libpq["PSHUB_DBT_KEEP_RELATIONS"] = "1" if keep_relations else ""
    libpq["PGOPTIONS"] = " ".join(filter(None, [session_options(int(os.environ["PSHUB_DBT_THREADS"])),
                                                libpq.get("PGOPTIONS") or os.environ.get("PGOPTIONS")]))
    previous = {k: os.environ.get(k) for k in libpq}
    os.environ.update(libpq)
    try:
        counter = _NodeCounter()
        if _progress and command in ("build", "run", "test", "seed", "snapshot"):
            counter.tell(phase="starting")  # dbt parses and compiles for a while before its first node
        manifest = None
        if command in REUSE_MANIFEST:
            manifest = _manifest(dbtRunner, work, _parse_flags(work, "--no-write-json" in args))
        else:
            with _parse_lock:  # a parse in the background finishes first: dbt's flags and adapters are the process's
                pass
        outcome = dbtRunner(manifest=manifest, callbacks=[counter] if _progress else None).invoke(full)
    finally:
        for k, v in previous.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    # dbtRunner.invoke hands back every exception as the result's, Ctrl-C and a stop signal included (dbt-core,
    # dbt/cli/main.py: `except BaseException as e: return dbtRunnerResult(exception=e, ...)`): raised again here, so
    # that an interrupted cycle stops rather than taking the interrupt for a failed build and retrying it (which is
    # what kept `pshub serve` waiting after Ctrl-C for a flow run that retried dbt)
    if isinstance(outcome.exception, BaseException) and not isinstance(outcome.exception, Exception):
        raise outcome.exception
    if "--no-write-json" in args and hasattr(outcome.result, "write"):
        # the run results still land in target/ (what failed decides which syncs are blocked); only dbt's copy of the
        # whole manifest, twice per invocation, is skipped
        outcome.result.write(str(work / "target" / "run_results.json"))
    result = DbtResult(command=" ".join(args), success=bool(outcome.success))
    for node_result in getattr(outcome.result, "results", None) or []:
        node = node_result.node
        if node.resource_type == "operation":  # on-run-start/end hooks: not something built
            if str(node_result.status).lower().split(".")[-1] in ("error", "fail"):
                result.failures.append(f"hook {node.name}: {node_result.message}")
            continue
        status = str(node_result.status).lower().split(".")[-1]
        name = f"{node.resource_type}.{node.name}"
        if status in ("success", "pass"):
            if node.resource_type == "test" or node.resource_type == "unit_test":
                result.tests_passed += 1
            else:
                result.built.append(name)
        elif status == "warn":
            result.warnings.append(f"{name}: {node_result.message}")
        elif status in ("error", "fail", "runtime error"):
            result.failures.append(f"{name}: {status}: {node_result.message}")
    if outcome.exception is not None and not result.failures:
        result.failures.append(str(outcome.exception))
    if raise_on_failure and not result.success:
        raise DbtFailed(result.command, result.failures)
    return result
