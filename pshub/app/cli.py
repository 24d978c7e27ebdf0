"""The `pshub` command line."""
from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Optional

# httpx imports its own command-line client with the package (httpx/__init__.py: `from ._main import main`, which
# falls back to a stub on ImportError), and with it click, rich and pygments: 0.04 to 0.09 CPU-second of every
# `pshub` start (of about 0.6 for a no-change `pshub ingest` of one object), for a command pshub never runs. Marked
# absent before anything imports httpx, so that the package takes its fallback.
sys.modules.setdefault("httpx._main", None)

import psycopg  # noqa: E402
import typer

from connectors import catalog
from pshub import analysts, exceptions, prefect_api
from pshub.app import analysts_cli, kantata_cli, ops_cli, summary
from pshub.dbt import DbtFailed, cli_env
from pshub.migrations import migrate
from pshub.runs import new_run_id
from pshub.settings import SUPPORTED_STACKS, ConfigurationError, get_settings, redact_url
from pshub.warehouse import EmbeddedWarehouse, WarehouseError, connect, database_url
from reverse_etl import engine
from reverse_etl.apply import apply_sync
from reverse_etl.syncs import SYNCS, for_systems, get_sync

# Imported where a command needs them, and nowhere else (each measured by bench/cli.py, whose commands must answer
# within 3 s): the flows (flows.*, and pshub.app.progress and pshub.app.demo, which import them), because they
# import Prefect, which takes seconds, and must see the environment _start_prefect() sets first
# (pshub.prefect_api); the connectors (connectors.http: httpx, tenacity and PyJWT, about a second), which only an
# error from an API needs here; and the sandbox's CLI (see _mount_sandbox).

app = typer.Typer(
    help="pshub: land CRM, PSA and ERP data in PostgreSQL, model it with dbt, and sync it back.\n\n"
         "Unset PSHUB_DATABASE_URL = an embedded PostgreSQL in PSHUB_HOME (.pshub/); unset PSHUB_<SYSTEM>_URL = "
         "the local sandbox. `pshub demo` runs everything end to end.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_show_locals=False)
db_app = typer.Typer(help="The warehouse: its URL, migrations, and the embedded server.", no_args_is_help=True)
sync_app = typer.Typer(help="Reverse ETL: plan (dry run) and apply the syncs.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(sync_app, name="sync")


def _mount_sandbox() -> None:
    if importlib.util.find_spec("sandbox") is None:  # absent only in a trimmed install
        return
    # the sandbox's modules take a third of a second to import: only for `pshub sandbox ...` and the help
    command = next((a for a in sys.argv[1:] if not a.startswith("-")), None)
    if Path(sys.argv[0]).name in ("pshub", "cli.py", "-c") and command not in (None, "sandbox"):
        return
    from sandbox.cli import app as sandbox_app

    app.add_typer(sandbox_app, name="sandbox", help="The simulated Salesforce, Kantata and NetSuite.")


_mount_sandbox()


def _fail(message: str, code: int = 1):
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _debug() -> bool:
    return os.environ.get("PSHUB_DEBUG", "").lower() in ("1", "true", "yes")


@app.callback()
def _options(debug: bool = typer.Option(False, "--debug", help="show tracebacks and Prefect's own log lines")) -> None:
    if debug:
        os.environ["PSHUB_DEBUG"] = "1"


def _start_prefect() -> prefect_api.TemporaryApi:
    """Every command that runs a flow starts here, before it imports any flow (see pshub.prefect_api)."""
    return prefect_api.start(debug=_debug())


def _check_warehouse() -> None:
    """The warehouse answers (and `ops` is migrated) before any flow starts: an unreachable one is one line."""
    with connect():
        pass


def _check_systems(systems: list[str] | None = None) -> None:
    """Each system's URL and credentials resolve (or its sandbox runs): a setting to fix is one line, at once."""
    settings = get_settings()
    for system in dict.fromkeys(o.system for o in catalog.select(systems)):
        settings.system(system)


# -- db ---------------------------------------------------------------------------------------------
@db_app.command("url")
def db_url(login: Optional[str] = typer.Option(
        None, "--as", metavar="NAME",
        help="an analyst login (`pshub analysts add NAME`): its URL, without the password, which psql, psycopg and "
             "SQLAlchemy take from PGPASSWORD or ~/.pgpass")) -> None:
    """Print the warehouse URL (for psql, psycopg, BI tools); starts the embedded server if needed.

    Without --as it is the hub's own login, which owns every schema: give analysts their own (`pshub analysts`)."""
    url = database_url()
    if login is None:
        migrate(url)
        typer.echo(url)
        return
    with psycopg.connect(url, autocommit=True) as conn:
        known = analysts.is_analyst(conn, login)
    if not known:
        _fail(f"{login} is not an analyst login: `pshub analysts list` shows them, `pshub analysts add {login}` "
              "creates it")
    typer.echo(analysts.login_url(url, login))


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply the ops schema's pending migrations (also done automatically by every command)."""
    applied = migrate(database_url())
    typer.echo(f"applied: {', '.join(applied)}" if applied else "ops schema is up to date")


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded PostgreSQL (its data stays in PSHUB_HOME/pgdata)."""
    settings = get_settings()
    if settings.database_url is not None:
        _fail("PSHUB_DATABASE_URL is set: pshub does not manage that server")
    stopped = EmbeddedWarehouse(settings.home_dir).stop()
    typer.echo("embedded warehouse stopped" if stopped else "embedded warehouse was not running")


# -- pipeline stages --------------------------------------------------------------------------------
@app.command()
def ingest(
    system: list[str] = typer.Option(None, "--system", "-s", help="only this system (repeatable)"),
    object_: list[str] = typer.Option(None, "--object", "-o", help="only this object (repeatable)"),
    full_refresh: bool = typer.Option(False, help="start from nothing: re-read every record of the objects (cursors ignored)"),
    flow: bool = typer.Option(False, "--flow", help="run as the Prefect flow `ingest` even for one object (its run "
                              "then shows in Prefect's UI); several objects always run as the flow"),
) -> None:
    """Land source objects into raw_<system> (incremental from each object's cursor).

    Several objects run as the Prefect flow `ingest`: objects in parallel, each a task that Prefect retries.

    One object (`-s kantata -o time_entries`) lands in this process without Prefect (no server to start or wait for).

    A run with nothing new then takes a second or two; `--flow` runs it as the flow."""
    system = system or get_settings().default_systems
    try:
        chosen = catalog.select(system, object_ or None)
    except KeyError as exc:
        _fail(exc.args[0], 2)
    if len(chosen) == 1 and not flow:
        _ingest_one(chosen[0], full_refresh)
        return
    api = _start_prefect()  # boots while the modules below import
    _check_warehouse()
    _check_systems(system)
    from flows.ingest import ingest as ingest_flow
    from flows.objects import progress_listener
    from pshub.app.progress import TerminalProgress

    run_id = new_run_id()
    api.wait()
    with progress_listener(TerminalProgress()):
        loads = ingest_flow(run_id, systems=system, objects=object_ or None, full_refresh=full_refresh)
    summary.print_loads(loads)
    if any(load["status"] == "failed" for load in loads):
        raise typer.Exit(1)


def _ingest_one(obj: catalog.SourceObject, full_refresh: bool) -> None:
    """`pshub ingest` of one object: flows.objects.land_object in this process, as the flow's task would run it.

    One warehouse connection, opened first (the warehouse answers and `ops` is migrated before anything else), is
    the one the load uses: a fresh process connects once, not once to check and again to land."""
    with connect() as conn:
        _check_systems([obj.system])
        from flows.landing import LoadResult
        from flows.objects import cap_malloc_arenas, land_object, progress_listener
        from pshub.app.progress import TerminalProgress
        from pshub.clients import client_for

        cap_malloc_arenas()
        client = client_for(obj.system)
        try:
            with progress_listener(TerminalProgress()):
                load = asdict(land_object(client, obj, new_run_id(), full_refresh=full_refresh, conn=conn))
        except Exception as exc:  # as the flow reports a failed object: the load is marked failed, the error shown
            if _debug():
                raise
            load = asdict(LoadResult(obj.system, obj.name, -1, "failed", error=f"{type(exc).__name__}: {exc}"[:500]))
        finally:
            client.close()
    summary.print_loads([load])
    if load["status"] == "failed":
        raise typer.Exit(1)


@app.command()
def transform(
    select: list[str] = typer.Option(None, "--select", help="dbt selector (repeatable)"),
    full_refresh: bool = typer.Option(False, help="start from nothing: `dbt build --full-refresh`, every model rebuilt "
                                      "(incremental ones included) and every test run"),
) -> None:
    """Run `dbt build`: staging, intermediate, marts and outbound models, with their tests."""
    api = _start_prefect()
    _check_warehouse()
    from flows.transform import transform as transform_flow
    from pshub.app.progress import show_progress

    api.wait()
    try:
        with show_progress(sys.stderr):
            result = transform_flow(select or None, full_refresh)
    except DbtFailed as exc:
        _fail(str(exc))
    summary.print_transform(result)


@app.command("dbt", no_args_is_help=True,
             context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def dbt_command(
    ctx: typer.Context,
    env: bool = typer.Option(False, "--env", help="print the profile's variables as shell `export` lines "
                                                   "(for `eval`, before running a plain `dbt` from the repository root)"),
) -> None:
    """Run dbt on the hub's project and warehouse: `pshub dbt debug`, `pshub dbt build -s marts`,
    `pshub dbt docs generate`. Everything after `dbt` goes to dbt as typed (dbt's own help: `pshub dbt -- build
    --help`). The profile (profiles.yml at the repository root) gets its connection from the hub's settings:
    PSHUB_DATABASE_URL, or the embedded warehouse, which is started if needed."""
    try:
        variables = cli_env()
    except WarehouseError as exc:
        _fail(f"{exc} (or set PSHUB_DATABASE_URL)")
    if env:
        for name, value in variables.items():
            typer.echo(f"export {name}={shlex.quote(value)}")
        return
    if not ctx.args:
        _fail("name a dbt command, e.g. `pshub dbt debug` (see `pshub dbt --help`)")
    executable = Path(sys.executable).with_name("dbt")
    executable = str(executable) if executable.exists() else shutil.which("dbt")
    if executable is None:
        _fail("dbt is not installed in this environment: run `make install`")
    sys.stdout.flush()
    os.execve(executable, [executable, *ctx.args], {**os.environ, **variables})


@app.command()
def run(full_refresh: bool = typer.Option(False, help="start from nothing: the ingest re-reads every record (cursors "
                                          "ignored) and dbt rebuilds every model with every test (--full-refresh)")) -> None:
    """Run one hub cycle (ingest -> transform -> sync) as a Prefect flow, and print its summary."""
    api = _start_prefect()
    _check_warehouse()
    _check_systems()
    from flows.hub import WARM_UP, run_cycle
    from pshub.app.progress import show_progress

    api.wait(warm_up=WARM_UP)
    with show_progress(sys.stderr):
        result = run_cycle(full_refresh=full_refresh)
    summary.print_cycle(result)
    if result.get("status", "succeeded") != "succeeded":
        typer.secho(f"cycle {result.get('status')}: see `pshub status`", fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(1)


@app.command()
def demo(
    scale: str = typer.Option("demo", help="sandbox firm size when it is first generated"),
    dynamics: str = typer.Option("", help="legal entities whose books are in Dynamics 365 Finance instead of "
                                 "NetSuite from a date: UK@2026-06-01, or UK (from the day the hub starts posting "
                                 "in the sandbox firm); the sandbox firm and the hub's routing both. Empty: every "
                                 "entity in NetSuite"),
    crm: str = typer.Option("", help="the CRM the firm sells in: salesforce or hubspot (default PSHUB_CRM, else "
                            "salesforce). Supported CRM + PSA, each with NetSuite: " + "; ".join(
                                f"{c} + {p} ({how})" for (c, p), how in SUPPORTED_STACKS.items())
                            + ". One CRM per warehouse: run another CRM's demo in a data folder of its own "
                            "(PSHUB_HOME=.pshub-hubspot make demo CRM=hubspot)"),
    psa: str = typer.Option("", help="the PSA the firm delivers in: kantata or certinia (default PSHUB_PSA, else "
                            "kantata); certinia places the sandbox firm's delivery in Certinia PSA when the firm is "
                            "generated (make demo PSA=certinia, in a data folder of its own: "
                            "PSHUB_HOME=.pshub-certinia)"),
) -> None:
    """Start the warehouse and a sandbox, run one cycle, print what happened and what to do next.

    The sandbox serves one synthetic firm as every system: its CRM as Salesforce and as HubSpot, its delivery in
    Kantata (or in Certinia PSA, for --psa certinia), its books in NetSuite (and Dynamics 365 Finance for --dynamics).
    The hub lands the CRM and the PSA it is set to."""
    from pshub.app.demo import dynamics_routing, run_demo

    try:
        routing = dynamics_routing(dynamics)
    except ValueError as exc:
        _fail(f"--dynamics: {exc}", 2)
    if crm:  # this process's settings: the hub lands and writes back to this CRM
        os.environ["PSHUB_CRM"] = crm
        get_settings.cache_clear()
        try:
            get_settings()
        except ConfigurationError as exc:
            _fail(f"--crm: {exc}", 2)
    if psa:  # this process's settings: the hub lands and writes back to this PSA
        os.environ["PSHUB_PSA"] = psa
        get_settings.cache_clear()
        try:
            get_settings()
        except ConfigurationError as exc:
            _fail(f"--psa: {exc}", 2)
    api = _start_prefect()
    sys.exit(run_demo(scale=scale, prefect=api, dynamics=routing))


# -- sync -------------------------------------------------------------------------------------------
@sync_app.command("plan")
def sync_plan(name: Optional[str] = typer.Argument(None, help="one sync (default: all)"),
              show: int = typer.Option(10, help="rows to show per sync")) -> None:
    """Show what a sync would push, without writing anything (a dry run); for all syncs, also where the ERP
    records go: per ERP (NetSuite, Dynamics 365 Finance) and company, what is new, already there, held back, or
    held by the other ERP. Plan a cut-over with it: change the erp_routing seed, `pshub transform`, then plan."""
    from pshub.app import erp_plan

    try:
        syncs = [get_sync(name)] if name else list(SYNCS.values())
    except KeyError as exc:
        _fail(exc.args[0])
    settings = get_settings()
    # as this installation's CRM and PSA take them (a sync they have no destination for is not applied)
    syncs = [s for s in (for_systems(x, settings.crm, settings.psa) for x in syncs) if s is not None]
    with connect() as conn:
        for sync in syncs:
            try:
                summary.print_plan(sync, engine.plan_counts(conn, sync), list(engine.plan(conn, sync, limit=show)))
            except engine.ModelMissing as exc:
                _fail(str(exc))
        if not name or name.startswith(("erp_", "d365_")):
            summary.print_erp_plan(erp_plan.routes(conn), erp_plan.by_erp(conn))


@sync_app.command("list")
def sync_list() -> None:
    """The syncs, in the order they run: model, destination, operation."""
    for sync in SYNCS.values():
        typer.echo(f"{sync.name:<26} {sync.model:<36} -> {sync.destination} {sync.object} ({sync.operation})")
        typer.echo(f"{'':<26} {sync.description}")


@sync_app.command("apply")
def sync_apply(name: Optional[str] = typer.Argument(None, help="one sync (default: all, in order)"),
               confirm: bool = typer.Option(False, "--confirm",
                                            help="apply even a plan larger than PSHUB_SYNC_MAX_SHARE of what the "
                                                 "sync manages (the safety stop)")) -> None:
    """Push what the plan shows, record ledger rows and exceptions.

    Syncs with nothing to push are applied in this process without Prefect (held-back rows are still recorded):
    a no-op apply takes the time of its queries. From the first sync with records to push on, the syncs run in
    Prefect's sync flow, in order."""
    if name:
        try:
            get_sync(name)
        except KeyError as exc:
            _fail(exc.args[0], 2)
    names = [name] if name else list(SYNCS)
    run_id = new_run_id()
    results = []
    with _warehouse() as conn:  # one connection, each plan counted once
        for sync_name in names:
            try:
                result = apply_sync(sync_name, run_id, confirm, conn, only_if_nothing_to_push=True)
            except engine.ModelMissing as exc:
                _fail(str(exc))
            if result.status == "deferred":
                break
            results.append(asdict(result))
    rest = names[len(results):]
    if rest:
        api = _start_prefect()
        from flows.sync import sync as sync_flow

        api.wait()
        results += sync_flow(run_id, rest, confirm)
    summary.print_syncs(results)
    if any(r["status"] in ("failed", "refused") for r in results):
        raise typer.Exit(1)


# -- exceptions -------------------------------------------------------------------------------------
exceptions_app = typer.Typer(
    help="Records a sync left out, in two kinds: holds (a business rule keeps the record back until someone acts in a "
         "source system: who, where, what to fix) and failures (the destination refused it or the push failed; "
         "`retry` pushes them again). Amounts per currency, and converted to the reporting currency.",
    no_args_is_help=False, invoke_without_command=True)
app.add_typer(exceptions_app, name="exceptions")


@exceptions_app.callback()
def exceptions_default(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        exceptions_list(sync=None, reason=None, kind=None, all_=False, limit=20)


@exceptions_app.command("list")
def exceptions_list(sync: Optional[str] = typer.Option(None, help="only this sync"),
                    reason: Optional[str] = typer.Option(None, help="only this reason code"),
                    kind: Optional[str] = typer.Option(None, help="only holds (hold) or only failures (failure)"),
                    all_: bool = typer.Option(False, "--all", help="resolved ones too"),
                    limit: int = typer.Option(20, help="rows to show")) -> None:
    """Holds by what to fix (who, where), failures by sync and reason, amounts per currency, then the newest rows."""
    if kind not in (None, *exceptions.KINDS):
        _fail(f"--kind is hold or failure, not {kind!r}", 2)
    with _warehouse() as conn:
        summary.print_exceptions(conn, sync=sync, reason=reason, include_resolved=all_, limit=limit, kind=kind)


@exceptions_app.command("show")
def exceptions_show(exception_id: int = typer.Argument(..., help="the id from `pshub exceptions list`")) -> None:
    """One exception whole: kind, reason, what releases it (holds), attempts, context, the row to be pushed."""
    with _warehouse() as conn:
        if not summary.print_exception(conn, exception_id):
            _fail(f"no exception {exception_id}")


@exceptions_app.command("retry")
def exceptions_retry(sync: Optional[str] = typer.Option(None, help="only this sync (default: every sync with "
                                                                     "open failures)"),
                     confirm: bool = typer.Option(False, "--confirm", help="as for `sync apply`")) -> None:
    """Push the failures again: the syncs that have open failures are applied now. Holds are not retried (they
    go when the source changes): the output says how many there are."""
    with _warehouse() as conn:
        names = exceptions.open_failure_syncs(conn, sync)
        holds = exceptions.grouped(conn, sync=sync, kind="hold")["totals"]["hold"]["records"]
    names = [n for n in SYNCS if n in names]
    held = (f"; {holds} held-back records are not retried (they go when their source changes: "
            "`pshub exceptions list --kind hold` says who must act where)") if holds else ""
    if not names:
        typer.echo(f"no failures to retry{held}")
        return
    typer.echo(f"retrying the failures of {', '.join(names)}{held}")
    api = _start_prefect()
    from flows.sync import sync as sync_flow

    api.wait()
    summary.print_syncs(sync_flow(new_run_id(), names, confirm))


def _warehouse():

    return connect()


# status, report, serve and alerts (ops_cli.py), analysts' logins and Kantata's authorization: their own modules
ops_cli.register(app)
analysts_cli.register(app)
kantata_cli.register(app)


def one_line(exc: BaseException) -> tuple[str, int]:
    """(what to print, exit code) for an error that ends a command: what failed and what to do; 2 = a setting."""
    from connectors.http import AuthError, ConnectorError

    first = (str(exc).strip().splitlines() or [""])[0]
    if isinstance(exc, ConfigurationError):
        return first, 2
    if isinstance(exc, AuthError):
        return first, 2
    if isinstance(exc, prefect_api.PrefectApiUnavailable):
        return first, 1
    if isinstance(exc, psycopg.OperationalError):
        settings = get_settings()
        where = (f"the warehouse at {redact_url(settings.database_url.get_secret_value())}"
                 if settings.database_url else "the embedded warehouse")
        hint = "check PSHUB_DATABASE_URL and that the server is up" if settings.database_url else \
            "run `pshub db stop`, then the command again"
        return f"{where} did not answer ({first}): {hint}", 1
    if isinstance(exc, WarehouseError):
        return first, 1
    if isinstance(exc, ConnectorError):
        return first, 1
    return f"{type(exc).__name__}: {first} (run again with --debug for the traceback)", 1


def main() -> None:
    # a warehouse that does not answer fails in seconds (libpq, dbt and psycopg read it when they connect)
    os.environ.setdefault("PGCONNECT_TIMEOUT", "10")
    try:
        app()
    except (SystemExit, typer.Exit):
        raise
    except KeyboardInterrupt:
        typer.secho("interrupted", fg=typer.colors.YELLOW, err=True)
        sys.exit(130)
    except Exception as exc:
        if _debug():
            raise
        message, code = one_line(exc)
        typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
        sys.exit(code)


if __name__ == "__main__":
    main()
