"""Ingest fixtures: a sandbox of its own (ticked and faulted freely) and warehouses of its own (a database each)."""
from __future__ import annotations

import uuid

import psycopg
import pytest

from ingest_support import client_of


@pytest.fixture(scope="session")
def source(tmp_path_factory):
    """A demo-scale firm for the ingest tests only: they tick its clock and turn its faults on."""
    from sandbox.server import SandboxServer

    server = SandboxServer(tmp_path_factory.mktemp("ingest-sandbox"), scale="demo", seed=11,
                           ports={"salesforce": 0, "netsuite": 0, "kantata": 0})
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def clients(source):
    made = {s: client_of(source, s) for s in ("salesforce", "netsuite", "kantata")}
    yield made
    for c in made.values():
        c.close()


@pytest.fixture(scope="session")
def new_database(warehouse_url):
    """new_database(label) -> URL of an empty, migrated database on the test warehouse."""
    from pshub.migrations import migrate

    made = []

    def make(label: str) -> str:
        name = f"ingest_{label}_{uuid.uuid4().hex[:6]}"
        with psycopg.connect(warehouse_url, autocommit=True) as c:
            c.execute(f'create database "{name}"')
        url = warehouse_url.rsplit("/", 1)[0] + "/" + name
        migrate(url)
        made.append(name)
        return url

    yield make
    with psycopg.connect(warehouse_url, autocommit=True) as c:
        for name in made:
            c.execute(f'drop database if exists "{name}" with (force)')


