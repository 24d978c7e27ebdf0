"""A hub of its own for a group of tests (operations, reliability): home, warehouse database and sandbox firm."""
from __future__ import annotations

import os
from contextlib import contextmanager

import psycopg

from pshub.settings import get_settings


def _isolated_database(server_url: str, name: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        conn.execute(f'create database "{name}"')
    return server_url.rsplit("/", 1)[0] + "/" + name


@contextmanager
def isolated_hub(server_url: str, home, database: str, **sandbox_options):
    """PSHUB_HOME, PSHUB_DATABASE_URL and a sandbox firm of their own, for as long as the block runs; the
    settings in force before (another isolated hub's, or the run's) are restored afterwards."""
    from pshub.migrations import migrate
    from sandbox.server import SandboxServer

    home.mkdir()
    saved = {k: os.environ.get(k) for k in ("PSHUB_HOME", "PSHUB_DATABASE_URL")}
    os.environ["PSHUB_HOME"] = str(home)
    os.environ["PSHUB_DATABASE_URL"] = _isolated_database(server_url, database)
    get_settings.cache_clear()
    migrate(os.environ["PSHUB_DATABASE_URL"])
    server = SandboxServer(home / "sandbox", **({"scale": "demo", "seed": 7} | sandbox_options),
                           ports={"salesforce": 0, "netsuite": 0, "kantata": 0})
    server.start()
    try:
        yield {"home": home, "database_url": os.environ["PSHUB_DATABASE_URL"], "sandbox": server}
    finally:
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        get_settings.cache_clear()
