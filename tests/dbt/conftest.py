"""dbt tests: a database of their own on the test run's warehouse, a deterministic synthetic firm landed in it."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg
import pytest

from rawload import land_firm

ANCHOR = dt.datetime(2025, 6, 30, 18, 0, 0)


@pytest.fixture(scope="session")
def dbt_settings(warehouse_url, home):
    """Settings pointing at database pshub_dbt_tests (fresh each run), so these tests never touch others' raw data."""
    from pshub.migrations import migrate
    from pshub.settings import Settings

    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("drop database if exists pshub_dbt_tests with (force)")
        conn.execute("create database pshub_dbt_tests")
    parsed = urlparse(warehouse_url)
    url = urlunparse(parsed._replace(path="/pshub_dbt_tests"))
    migrate(url)
    settings = Settings(home=home / "dbt-tests", database_url=url)
    settings.home_dir.mkdir(parents=True, exist_ok=True)
    return settings


@pytest.fixture(scope="session")
def dbt_url(dbt_settings) -> str:
    return dbt_settings.database_url.get_secret_value()


@pytest.fixture(scope="session")
def firm(home):
    """The demo-scale synthetic firm (fixed seed and 'today'), generated once: its SQLite store."""
    from sandbox.generate import generate
    from sandbox.store import Store

    store = Store(home / "dbt-tests-firm")
    if not store.exists():
        generate(store, "demo", seed=11, anchor=ANCHOR)
    return store


@pytest.fixture(scope="session")
def built(dbt_settings, dbt_url, firm):
    """The firm landed and a full `dbt build` (models, seeds, snapshots, tests) over it."""
    from flows.transform import run_build

    land_firm(Path(firm.path), dbt_url)
    return run_build(full_refresh=True, settings=dbt_settings, raise_on_failure=False)


@pytest.fixture
def db(dbt_url):
    # autocommit: a test's open read transaction would otherwise block dbt rebuilding the tables it read
    with psycopg.connect(dbt_url, autocommit=True) as connection:
        yield connection
