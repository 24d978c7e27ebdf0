"""Operations tests run in a warehouse database and a sandbox of their own, so that the cycles they run
(and the customers and projects those push) neither see nor disturb the other tests' state."""
from __future__ import annotations

import psycopg
import pytest

from ops_hub import isolated_hub


@pytest.fixture(scope="session")
def ops_env(warehouse_url, home):
    """PSHUB_HOME, PSHUB_DATABASE_URL and a sandbox for these tests only; restored afterwards."""
    with isolated_hub(warehouse_url, home / "ops", "pshub_ops_test") as env:  # inside the run's folder
        yield env


@pytest.fixture
def ops_conn(ops_env):
    with psycopg.connect(ops_env["database_url"]) as connection:
        yield connection


@pytest.fixture(scope="session")
def first_cycle(ops_env):
    """One full hub cycle against the fresh sandbox firm (lands everything, pushes what the marts say)."""
    from flows.hub import hub

    return hub()
