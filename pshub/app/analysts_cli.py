"""`pshub analysts add|remove|list`: analysts' own read-only logins (registered by pshub.app.cli)."""
from __future__ import annotations

import sys
from contextlib import contextmanager

import psycopg
import typer

from pshub import analysts
from pshub.settings import get_settings
from pshub.tls_listener import parse_listen
from pshub.warehouse import WarehouseError, database_url

analysts_app = typer.Typer(
    help="Analysts' own logins: each reads schema marts and nothing else (role pshub_analyst). pshub keeps no "
         "password: a new login's password is printed once.",
    no_args_is_help=True)


def _fail(message: str):
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@contextmanager
def _hub_connection():


    try:
        url = database_url()
    except WarehouseError as exc:
        _fail(str(exc))
    with psycopg.connect(url, autocommit=True) as conn:
        yield conn, url


@analysts_app.command("add")
def add(name: str = typer.Argument(..., help="the login's name (lower case, e.g. alice)"),
        password_stdin: bool = typer.Option(False, "--password-stdin",
                                            help="read the password from standard input instead of generating one")
        ) -> None:
    """Create a login holding pshub_analyst; print its password once (unless given on stdin) and its URL."""
    if not password_stdin:
        password = analysts.generate_password()
    elif sys.stdin.isatty():  # typed: not echoed, typed twice
        password = typer.prompt(f"password for {name}", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    with _hub_connection() as (conn, url):
        try:
            analysts.add(conn, name, password)
        except analysts.AnalystError as exc:
            _fail(str(exc))
    typer.echo(f"login {name} created: reads schema marts, nothing else (role {analysts.GROUP_ROLE})")
    if not password_stdin:
        typer.echo(f"password: {password}")
        typer.echo("          shown this once: pshub keeps no copy (lost: remove the login and add it again)")
    typer.echo(f"url:      {analysts.login_url(url, name)}")
    typer.echo("          the password goes in PGPASSWORD or ~/.pgpass (psql, psycopg and SQLAlchemy read both)")
    settings = get_settings()
    if settings.warehouse_listen and settings.database_url is None:
        host, port = parse_listen(settings.warehouse_listen)
        typer.echo(f"remote:   host {host if host not in (None, '0.0.0.0', '::') else '<this machine>'}, port {port}, "
                   f"sslmode=verify-full with {settings.home_dir / 'tls' / 'server.crt'} (or sslmode=require)")


@analysts_app.command("remove")
def remove(name: str = typer.Argument(..., help="an analyst login made by `pshub analysts add`")) -> None:
    """Drop an analyst login: its sessions end, and no grant to it is left behind."""
    with _hub_connection() as (conn, _):
        try:
            analysts.remove(conn, name)
        except analysts.AnalystError as exc:
            _fail(str(exc))
    typer.echo(f"login {name} removed")


@analysts_app.command("list")
def list_() -> None:
    """The analysts' logins, with their sessions open now."""
    with _hub_connection() as (conn, _):
        logins = analysts.list_logins(conn)
    if not logins:
        typer.echo("no analyst logins: `pshub analysts add NAME` creates one")
    for login in logins:
        until = f", valid until {login.valid_until:%Y-%m-%d}" if login.valid_until else ""
        typer.echo(f"{login.name:<24} {login.sessions} session(s) open{until}")


def register(app: typer.Typer) -> None:
    app.add_typer(analysts_app, name="analysts")
