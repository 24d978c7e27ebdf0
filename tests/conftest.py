"""Test fixtures: a real embedded PostgreSQL and the sandbox over loopback HTTP, in a throwaway PSHUB_HOME."""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import pytest

_HOME = Path(tempfile.mkdtemp(prefix="pshub-test-"))


def pytest_configure(config):
    # Prefect logs "stopping temporary server" at exit, after pytest has closed the captured streams
    logging.raiseExceptions = False
    # Before anything imports prefect or reads settings: everything of this run lives in one temp folder.
    os.environ["PSHUB_HOME"] = str(_HOME)
    os.environ["PREFECT_HOME"] = str(_HOME / "prefect")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    for system in ("SALESFORCE", "NETSUITE", "KANTATA"):  # tests never reach a real SaaS
        os.environ.pop(f"PSHUB_{system}_URL", None)


def pytest_collection_modifyitems(config, items):
    # The operations tests point PSHUB_HOME and PSHUB_DATABASE_URL at a warehouse and sandbox of their own for the
    # rest of the session: they run last, so that no other test runs against their state.
    items.sort(key=lambda item: "tests/ops/" in item.nodeid.replace("\\", "/"))


def pytest_unconfigure(config):
    if os.environ.get("PSHUB_DATABASE_URL"):
        return
    from pshub.warehouse import EmbeddedWarehouse

    try:
        EmbeddedWarehouse(_HOME).stop()
    except Exception:  # a failed stop must not hide the test results
        pass


@pytest.fixture(scope="session")
def home() -> Path:
    return _HOME


@pytest.fixture(scope="session")
def warehouse_url() -> str:
    """The migrated warehouse of this test run (embedded unless PSHUB_DATABASE_URL points elsewhere)."""
    from pshub.migrations import migrate
    from pshub.warehouse import database_url

    url = database_url()
    migrate(url)
    return url


@pytest.fixture
def conn(warehouse_url):
    import psycopg

    with psycopg.connect(warehouse_url) as connection:
        yield connection


@pytest.fixture(scope="session")
def hub_sandbox(home):
    """The sandbox the hub talks to, in PSHUB_HOME/sandbox, on ephemeral loopback ports."""
    from sandbox.server import SandboxServer

    server = SandboxServer(home / "sandbox", scale="demo", seed=7, ports={"salesforce": 0, "netsuite": 0, "kantata": 0})
    server.start()
    yield server
    server.stop()
