"""The `pshub` command line."""
from __future__ import annotations

import importlib.util
import sys
from typing import Optional

import typer

from pshub.prefect_api import prefect_env
from pshub.settings import get_settings

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
    from sandbox.cli import app as sandbox_app

    app.add_typer(sandbox_app, name="sandbox", help="The simulated Salesforce, Kantata and NetSuite.")


_mount_sandbox()


def _fail(message: str, code: int = 1):
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


# -- db ---------------------------------------------------------------------------------------------
@db_app.command("url")
def db_url(login: Optional[str] = typer.Option(
        None, "--as", metavar="NAME",
        help="an analyst login (`pshub analysts add NAME`): its URL, without the password, which psql, psycopg and "
             "SQLAlchemy take from PGPASSWORD or ~/.pgpass")) -> None:
    """Print the warehouse URL (for psql, psycopg, BI tools); starts the embedded server if needed.

    Without --as it is the hub's own login, which owns every schema: give analysts their own (`pshub analysts`)."""
    import psycopg

    from pshub import analysts
    from pshub.migrations import migrate
    from pshub.warehouse import database_url

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
    from pshub.migrations import migrate
    from pshub.warehouse import database_url

    applied = migrate(database_url())
    typer.echo(f"applied: {', '.join(applied)}" if applied else "ops schema is up to date")


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded PostgreSQL (its data stays in PSHUB_HOME/pgdata)."""
    from pshub.warehouse import EmbeddedWarehouse

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
    full_refresh: bool = typer.Option(False, help="ignore cursors and re-read everything"),
) -> None:
    """Land source objects into raw_<system> (incremental from each object's cursor)."""
    prefect_env()
    from pshub.prefect_api import start_temporary_api

    prefect_api = start_temporary_api()  # boots while the modules below import
    from flows.ingest import TerminalProgress, ingest as ingest_flow, progress_listener
    from pshub.runs import new_run_id
    from pshub import summary

    run_id = new_run_id()
    prefect_api.wait()
    try:
        with progress_listener(TerminalProgress()):
            loads = ingest_flow(run_id, systems=system or None, objects=object_ or None, full_refresh=full_refresh)
    except KeyError as exc:
        _fail(exc.args[0])
    summary.print_loads(loads)
    if any(load["status"] == "failed" for load in loads):
        raise typer.Exit(1)


@app.command()
def transform(
    select: list[str] = typer.Option(None, "--select", help="dbt selector (repeatable)"),
    full_refresh: bool = typer.Option(False, help="rebuild incremental models from scratch"),
) -> None:
    """Run `dbt build`: staging, intermediate, marts and outbound models, with their tests."""
    prefect_env()
    from flows.transform import transform as transform_flow
    from pshub import summary
    from pshub.dbt import DbtFailed

    try:
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
    import os
    import shlex
    import shutil
    from pathlib import Path

    from pshub.dbt import cli_env
    from pshub.warehouse import WarehouseError

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
def run(full_refresh: bool = typer.Option(False, help="ignore ingest cursors for this cycle")) -> None:
    """Run one hub cycle (ingest -> transform -> sync) as a Prefect flow, and print its summary."""
    prefect_env()
    from flows.hub import hub
    from pshub import summary

    result = hub(full_refresh=full_refresh)
    summary.print_cycle(result)
    if result.get("status", "succeeded") != "succeeded":
        typer.secho(f"cycle {result.get('status')}: see `pshub status`", fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(1)


@app.command()
def demo(
    scale: str = typer.Option("demo", help="sandbox firm size when it is first generated"),
) -> None:
    """Start the warehouse and a sandbox, run one cycle, print what happened and what to do next."""
    prefect_env()
    from pshub.demo import run_demo

    sys.exit(run_demo(scale=scale))


# -- sync -------------------------------------------------------------------------------------------
@sync_app.command("plan")
def sync_plan(name: Optional[str] = typer.Argument(None, help="one sync (default: all)"),
              show: int = typer.Option(10, help="rows to show per sync")) -> None:
    """Show what a sync would push, without writing anything (a dry run)."""
    from pshub import summary
    from pshub.warehouse import connect
    from reverse_etl import engine
    from reverse_etl.syncs import SYNCS, get_sync

    try:
        syncs = [get_sync(name)] if name else list(SYNCS.values())
    except KeyError as exc:
        _fail(exc.args[0])
    with connect() as conn:
        for sync in syncs:
            try:
                summary.print_plan(sync, engine.plan_counts(conn, sync), list(engine.plan(conn, sync, limit=show)))
            except engine.ModelMissing as exc:
                _fail(str(exc))


@sync_app.command("list")
def sync_list() -> None:
    """The syncs, in the order they run: model, destination, operation."""
    from reverse_etl.syncs import SYNCS

    for sync in SYNCS.values():
        typer.echo(f"{sync.name:<26} {sync.model:<36} -> {sync.destination} {sync.object} ({sync.operation})")
        typer.echo(f"{'':<26} {sync.description}")


@sync_app.command("apply")
def sync_apply(name: Optional[str] = typer.Argument(None, help="one sync (default: all, in order)"),
               confirm: bool = typer.Option(False, "--confirm",
                                            help="apply even a plan larger than PSHUB_SYNC_MAX_SHARE of what the "
                                                 "sync manages (the safety stop)")) -> None:
    """Push what the plan shows, record ledger rows and exceptions."""
    prefect_env()
    from flows.sync import sync as sync_flow
    from pshub import summary
    from pshub.runs import new_run_id
    from reverse_etl.syncs import get_sync

    if name:
        try:
            get_sync(name)
        except KeyError as exc:
            _fail(exc.args[0])
    results = sync_flow(new_run_id(), [name] if name else None, confirm)
    summary.print_syncs(results)
    if any(r["status"] in ("failed", "refused") for r in results):
        raise typer.Exit(1)


# -- exceptions -------------------------------------------------------------------------------------
exceptions_app = typer.Typer(help="Records a sync could not push: why, since when, and the money at stake.",
                             no_args_is_help=False, invoke_without_command=True)
app.add_typer(exceptions_app, name="exceptions")


@exceptions_app.callback()
def exceptions_default(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        exceptions_list(sync=None, reason=None, all_=False, limit=50)


@exceptions_app.command("list")
def exceptions_list(sync: Optional[str] = typer.Option(None, help="only this sync"),
                    reason: Optional[str] = typer.Option(None, help="only this reason code"),
                    all_: bool = typer.Option(False, "--all", help="resolved ones too"),
                    limit: int = typer.Option(50, help="rows to show")) -> None:
    """Open exceptions by sync and reason, with amounts at stake, then the newest rows."""
    from pshub import exceptions

    with _warehouse() as conn:
        exceptions.print_list(conn, sync=sync, reason=reason, include_resolved=all_, limit=limit)


@exceptions_app.command("show")
def exceptions_show(exception_id: int = typer.Argument(..., help="the id from `pshub exceptions list`")) -> None:
    """One exception whole: reason, attempts, business context, and the row that was to be pushed."""
    from pshub import exceptions

    with _warehouse() as conn:
        if not exceptions.print_one(conn, exception_id):
            _fail(f"no exception {exception_id}")


@exceptions_app.command("retry")
def exceptions_retry(sync: Optional[str] = typer.Option(None, help="only this sync (default: every sync with "
                                                                     "open exceptions)"),
                     confirm: bool = typer.Option(False, "--confirm", help="as for `sync apply`")) -> None:
    """Apply the syncs that have open exceptions now: their failed rows are planned and pushed again."""
    prefect_env()
    from flows.sync import sync as sync_flow
    from pshub import summary
    from pshub.runs import new_run_id
    from reverse_etl.syncs import SYNCS

    with _warehouse() as conn:
        names = [r[0] for r in conn.execute(
            "select distinct sync_name from ops.sync_exceptions where resolved_at is null"
            " and stage <> 'blocked' and (%s::text is null or sync_name = %s)", (sync, sync))]
    names = [n for n in SYNCS if n in names]
    if not names:
        typer.echo("no open exceptions to retry (held-back rows are retried when their source changes)")
        return
    summary.print_syncs(sync_flow(new_run_id(), names, confirm))


def _warehouse():
    from pshub.warehouse import connect

    return connect()


def _mount_operations() -> None:
    """status, report, serve and alerts live in pshub/ops_cli.py, registered on this app."""
    if importlib.util.find_spec("pshub.ops_cli") is None:
        return
    from pshub import ops_cli

    ops_cli.register(app)


_mount_operations()


def _mount_analysts() -> None:
    from pshub import analysts_cli

    analysts_cli.register(app)


_mount_analysts()


def _mount_kantata() -> None:
    from pshub import kantata_cli

    kantata_cli.register(app)


_mount_kantata()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
