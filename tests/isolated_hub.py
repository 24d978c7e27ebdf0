"""A hub of its own for a group of tests (operations, reliability): home, warehouse database and sandbox firm."""
from __future__ import annotations

import os
from contextlib import contextmanager

import psycopg

from pshub.migrations import migrate
from pshub.settings import get_settings
from sandbox.server import SandboxServer


def _isolated_database(server_url: str, name: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        conn.execute(f'create database "{name}"')
    return server_url.rsplit("/", 1)[0] + "/" + name


@contextmanager
def hub_at(home, database_url: str, **sandbox_options):
    """PSHUB_HOME and PSHUB_DATABASE_URL set to these (the database migrated) and a sandbox firm of their own, for
    as long as the block runs; the settings in force before (another hub's, or the run's) are restored afterwards."""
    home.mkdir()
    server = None
    with environment(PSHUB_HOME=str(home), PSHUB_DATABASE_URL=database_url):
        try:
            migrate(database_url)
            server = SandboxServer(home / "sandbox", **({"scale": "demo", "seed": 7} | sandbox_options),
                                   ports={"salesforce": 0, "netsuite": 0, "kantata": 0})
            server.start()
            yield {"home": home, "database_url": database_url, "sandbox": server}
        finally:
            if server is not None:
                server.stop()


@contextmanager
def isolated_hub(server_url: str, home, database: str, **sandbox_options):
    """hub_at with a database of its own on the warehouse server at `server_url` (dropped and created again)."""
    with hub_at(home, _isolated_database(server_url, database), **sandbox_options) as hub:
        yield hub


@contextmanager
def environment(**variables: str):
    """These environment variables set (and the settings read again) for as long as the block runs; the values in
    force before are restored afterwards."""
    saved = {k: os.environ.get(k) for k in variables}
    os.environ.update(variables)
    get_settings.cache_clear()
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        get_settings.cache_clear()


def installed_stack(crm: str, psa: str):
    """The CRM and the PSA this installation runs with (PSHUB_CRM, PSHUB_PSA), for as long as the block runs. A hub's
    sandbox serves its firm's delivery in Certinia when asked (`isolated_hub(..., psa="certinia")`)."""
    return environment(PSHUB_CRM=crm, PSHUB_PSA=psa)
