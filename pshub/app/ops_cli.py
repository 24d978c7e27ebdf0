"""Operations commands of the `pshub` CLI: status, report, serve, alerts (registered by pshub.app.cli)."""
from __future__ import annotations

import datetime as dt
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Optional

import typer

from pshub import prefect_api
from pshub import status as ops_status
from pshub.app.report import default_path, write_report
from pshub.dbt import PROJECT_DIR
from pshub.warehouse import connect

alerts_app = typer.Typer(help="Webhook alerts (Slack-compatible) on failed cycles and thresholds.",
                         no_args_is_help=True)


def status(as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """Freshness per source object, the last runs, exceptions by reason, SLAs breached and money at stake."""
    with connect() as conn:
        collected = ops_status.collect(conn)
    if as_json:
        typer.echo(json.dumps(ops_status.to_json(collected), indent=2))
    else:
        typer.echo(ops_status.render(collected))


def report(
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="where to write the page (default PSHUB_HOME/report.html)"),
    cycles: int = typer.Option(60, help="cycles shown in the pipeline health charts"),
) -> None:
    """Write one self-contained HTML page (works offline): pipeline health, exceptions, reconciliation, KPIs."""
    path = write_report(out or default_path(), cycles=cycles)
    typer.echo(f"report: {path.resolve()}")
    typer.echo(f"  open it in a browser: file://{path.resolve()}")


def serve(
    file: Path = typer.Option(None, "--file", "-f", help="deployments file (default: prefect.yaml of the project)"),
    only: list[str] = typer.Option(None, "--only", help="serve only this deployment (repeatable)"),
    limit: Optional[int] = typer.Option(1, help="flow runs at once (cycles are serialised anyway)"),
) -> None:
    """Run the deployments of prefect.yaml on their schedules in this process, until interrupted.

    No work pool or worker is needed: the flows run here. With PREFECT_API_URL unset, a local Prefect server
    (state in PSHUB_HOME/prefect, UI included) is started for as long as this runs, because Prefect's
    ephemeral API has no scheduler; with it set, that server schedules the runs.
    """
    prefect_api.prefect_env(debug=os.environ.get("PSHUB_DEBUG") == "1")
    # Prefect is imported after prefect_env() has set its environment, and only by this command (seconds)
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from pshub.app.deployments import (STOP_SECONDS, LocalPrefectServer, runner_deployments, scheduler_problem,
                                       serve_until_interrupted)

    problem = scheduler_problem()
    if problem:
        typer.secho(f"warning: {problem}", fg=typer.colors.YELLOW, err=True)
    server = None
    stopped_in_time = True
    api_url = prefect_api.configured_api_url()
    prefect_home = Path(os.environ["PREFECT_HOME"]).expanduser()
    if not api_url:
        api_url = prefect_api.shared_server_url(prefect_home)
        if api_url:
            typer.echo(f"using the Prefect server another `pshub serve` runs on {prefect_home}: {api_url}")
    if not api_url:
        server = LocalPrefectServer(prefect_home, prefect_api.startup_timeout())
        typer.echo("starting a local Prefect server (PREFECT_API_URL is unset) ...")
        api_url = server.start()
        os.environ["PREFECT_API_URL"] = api_url  # for the flow-run processes the runner starts
        typer.echo(f"  Prefect UI and API: {api_url.removesuffix('/api')}  (log: {server.log_path})")
    try:
        with temporary_settings({PREFECT_API_URL: api_url}):
            deployments = runner_deployments(file or PROJECT_DIR / "prefect.yaml", only=only or None)
            if not deployments:
                typer.secho("error: no deployment to serve", fg=typer.colors.RED, err=True)
                raise typer.Exit(1)
            for d in deployments:
                typer.echo(f"  {d.name}: {', '.join(_describe_schedule(s) for s in d.schedules) or 'no schedule'}")
            typer.echo("  each cycle prints one outcome line here; Ctrl-C stops")
            # Prefect's runner leaves a coroutine of its own un-awaited when interrupted: not ours to report
            warnings.filterwarnings("ignore", message="coroutine .* was never awaited", category=RuntimeWarning)
            stopped_in_time = serve_until_interrupted(deployments, limit)
            if not stopped_in_time:
                typer.echo(f"Prefect's runner had not stopped {STOP_SECONDS:.0f} s after Ctrl-C (a slow API?): its "
                           "flow runs were killed (the next cycle marks theirs abandoned)")
            typer.echo("stopped")
            sys.stdout.flush()  # said now: stopping the local Prefect server below can take a while
    finally:
        if server is not None:
            server.stop()
    if not stopped_in_time:  # the runner's unfinished calls and threads would hold the exit: none is needed now
        sys.stderr.flush()
        os._exit(1)


def _describe_schedule(schedule) -> str:
    inner = getattr(schedule, "schedule", schedule)
    if getattr(inner, "cron", None):
        return f"cron {inner.cron} {inner.timezone or 'UTC'}"
    if getattr(inner, "interval", None):
        return f"every {inner.interval}"
    return str(inner)


@alerts_app.command("show")
# The alert commands import pshub.alerts themselves: it imports httpx, about a second that `pshub status`, the
# other command of this module, would pay for nothing (bench/cli.py).
def alerts_show() -> None:
    """Print the alert configuration (PSHUB_ALERT_*), the webhook URL hidden."""
    from pshub import alerts

    for line in alerts.describe():
        typer.echo(line)


@alerts_app.command("test")
def alerts_test() -> None:
    """Send a test message to the configured webhook."""
    from pshub import alerts

    config = alerts.AlertSettings()
    if config.webhook_url is None:
        typer.secho("error: PSHUB_ALERT_WEBHOOK_URL is not set", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    alert = alerts.Alert("test", "pshub test alert", [f"Sent by `pshub alerts test` at {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M UTC}."])
    with connect() as conn:
        delivered = alerts.send(alert, config, conn)
    if not delivered:
        typer.secho("error: the webhook did not accept the alert (see ops.alerts)", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    typer.echo("delivered")


@alerts_app.command("check")
def alerts_check() -> None:
    """Evaluate the thresholds against the warehouse now and send what is due."""
    from pshub import alerts

    with connect() as conn:
        totals = ops_status.money_at_stake(conn)
    summary = {"run_id": None, "status": "check", "totals": totals}
    config = alerts.AlertSettings()
    sent = alerts.dispatch(alerts.evaluate(summary, config), config)
    typer.echo(f"{len(sent)} alert(s) sent" if sent else "nothing to alert")


def register(app: typer.Typer) -> None:
    app.command("status")(status)
    app.command("report")(report)
    app.command("serve")(serve)
    app.add_typer(alerts_app, name="alerts")
