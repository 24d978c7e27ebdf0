"""Operations tests run in a warehouse database and a sandbox of their own, so that the cycles they run
(and the customers and projects those push) neither see nor disturb the other tests' state."""
from __future__ import annotations

import os

import psycopg
import pytest

from pshub.settings import get_settings


def _isolated_database(server_url: str, name: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        conn.execute(f'create database "{name}"')
    return server_url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def ops_env(warehouse_url, home):
    """PSHUB_HOME, PSHUB_DATABASE_URL and a sandbox for these tests only; restored afterwards."""
    from sandbox.server import SandboxServer

    home = home / "ops"  # inside the run's folder, which is deleted at the end
    home.mkdir()
    saved = {k: os.environ.get(k) for k in ("PSHUB_HOME", "PSHUB_DATABASE_URL")}
    os.environ["PSHUB_HOME"] = str(home)
    os.environ["PSHUB_DATABASE_URL"] = _isolated_database(warehouse_url, "pshub_ops_test")
    get_settings.cache_clear()
    from pshub.migrations import migrate

    migrate(os.environ["PSHUB_DATABASE_URL"])
    server = SandboxServer(home / "sandbox", scale="demo", seed=7, ports={"salesforce": 0, "netsuite": 0, "kantata": 0})
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


@pytest.fixture
def ops_conn(ops_env):
    with psycopg.connect(ops_env["database_url"]) as connection:
        yield connection


@pytest.fixture(scope="session")
def first_cycle(ops_env):
    """One full hub cycle against the fresh sandbox firm (lands everything, pushes what the marts say)."""
    from flows.hub import hub

    return hub()
