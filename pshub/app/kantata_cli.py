"""`pshub kantata authorize`: the one-time OAuth authorization-code exchange that gives the hub its Kantata token.

Kantata has no client-credentials grant and its access tokens do not expire (developer.kantata.com, "Security" and
"Obtaining tokens for users"): a person authorizes the hub's registered application once, and the token it gets is
stored as PSHUB_KANTATA_TOKEN, a secret like the others.
"""
from __future__ import annotations

from typing import Optional

import typer

from pshub.settings import SandboxNotRunning, get_settings

kantata_app = typer.Typer(help="Kantata: get the access token the hub uses (PSHUB_KANTATA_TOKEN).",
                          no_args_is_help=True)


def _fail(message: str):
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@kantata_app.command("authorize")
def authorize(code: Optional[str] = typer.Option(
        None, help="the code from the redirect (or the whole redirect URL); asked for when not given")) -> None:
    """Print the URL where a Kantata user authorizes the hub's application, take the code Kantata sends back to the
    redirect URI, exchange it, and print the access token to store as PSHUB_KANTATA_TOKEN.

    Needs PSHUB_KANTATA_CLIENT_ID, PSHUB_KANTATA_CLIENT_SECRET and PSHUB_KANTATA_REDIRECT_URI (the registered
    application's); PSHUB_KANTATA_OAUTH_URL says where Kantata's /oauth pages are (default https://app.mavenlink.com).
    Without PSHUB_KANTATA_URL it authorizes against the local sandbox."""
    # here, not at the top: every command registers this module, and the connectors import httpx (bench/cli.py)
    from connectors.http import AuthError
    from connectors.kantata import authorize_url, exchange_code

    settings = get_settings()
    try:
        cfg = settings.system("kantata")
    except SandboxNotRunning as exc:
        _fail(str(exc))
    creds = cfg.credentials
    missing = [f"PSHUB_KANTATA_{k.upper()}" for k in ("client_id", "client_secret", "redirect_uri") if not creds.get(k)]
    if missing:
        _fail(f"set {', '.join(missing)} (from the application registered in Kantata), then run this again")
    oauth_base = cfg.base_url if cfg.sandbox else settings.kantata_oauth_url
    typer.echo("1. Open this URL as the Kantata user the hub acts for, and allow access:\n")
    typer.echo(f"   {authorize_url(oauth_base, creds['client_id'], creds['redirect_uri'])}\n")
    typer.echo(f"2. Kantata sends the browser to {creds['redirect_uri']}?code=...")
    if code is None:
        code = typer.prompt("   Paste the code (or that whole URL)")
    try:
        token = exchange_code(oauth_base, creds["client_id"], creds["client_secret"], creds["redirect_uri"], code,
                              timeout=settings.http_timeout_seconds)
    except AuthError as exc:
        _fail(f"{exc.message}; ask for a new code (codes are short-lived and work once)")
    typer.echo("\n3. Store this token as the secret PSHUB_KANTATA_TOKEN (it does not expire; if Kantata revokes it, "
               "run this again):\n")
    typer.echo(f"PSHUB_KANTATA_TOKEN={token}")


def register(app: typer.Typer) -> None:
    app.add_typer(kantata_app, name="kantata")
