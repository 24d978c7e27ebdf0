"""`pshub demo`: the embedded warehouse, a sandbox firm, one hub cycle, and what to do next."""
from __future__ import annotations

import json
import socket

import httpx
import typer

from pshub.settings import get_settings

DEFAULT_PORTS = {"salesforce": 8701, "netsuite": 8702, "kantata": 8703}


def _running_sandbox(sandbox_dir) -> bool:
    """A sandbox another process serves from this data folder, still answering."""
    endpoints = sandbox_dir / "endpoints.json"
    if not endpoints.exists():
        return False
    try:
        urls = json.loads(endpoints.read_text())["urls"]
        httpx.get(urls["salesforce"] + "/__sandbox/stats", timeout=2)
        return True
    except (OSError, ValueError, KeyError, httpx.HTTPError):
        return False


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def run_demo(scale: str = "demo") -> int:
    from flows.hub import hub
    from pshub import summary
    from pshub.warehouse import connect, database_url
    from sandbox.server import SandboxServer

    settings = get_settings()
    typer.secho("pshub demo", bold=True)
    url = database_url(settings)
    typer.echo(f"  warehouse: {url}")
    server = None
    if _running_sandbox(settings.sandbox_dir):
        typer.echo(f"  sandbox:   already running from {settings.sandbox_dir}")
    else:
        ports = {k: (p if _port_free(p) else 0) for k, p in DEFAULT_PORTS.items()}
        fresh = not (settings.sandbox_dir / "endpoints.json").exists() and not any(settings.sandbox_dir.glob("*"))
        typer.echo(f"  sandbox:   {'generating a ' + scale + ' firm and ' if fresh else ''}starting in {settings.sandbox_dir}")
        settings.sandbox_dir.mkdir(parents=True, exist_ok=True)
        server = SandboxServer(settings.sandbox_dir, scale=scale, ports=ports)
        server.start()
        for system, base in server.urls.items():
            typer.echo(f"             {system:<10} {base}")
    try:
        result = hub()
    finally:
        if server is not None:
            server.stop()
    typer.echo()
    summary.print_cycle(result)
    with connect() as conn:
        engagements, sold = conn.execute("select count(*), coalesce(sum(sold_amount), 0) from marts.engagements").fetchone()
        open_exceptions = conn.execute("select count(*) from ops.sync_exceptions where resolved_at is null").fetchone()[0]
    typer.echo()
    typer.secho("Next", bold=True)
    typer.echo(f"  {engagements} engagements in marts.engagements (sold {sold:,.2f} in contract currencies); "
               f"{open_exceptions} open sync exceptions.")
    typer.echo("  Query the marts:   psql \"$(.venv/bin/pshub db url)\" -c 'select * from marts.engagements limit 10'")
    typer.echo("  See what a sync would push:  .venv/bin/pshub sync plan")
    typer.echo("  Run again (lands only what changed, pushes nothing new):  make demo")
    typer.echo("  Stop the warehouse:  .venv/bin/pshub db stop")
    return 0
