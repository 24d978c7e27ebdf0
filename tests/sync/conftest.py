"""Reverse-ETL test fixtures: outbound tables the tests control, pushed to the sandbox over real HTTP."""
from __future__ import annotations

from contextlib import contextmanager

import httpx
import psycopg
import pytest

from sync_test_defs import make_sync


@pytest.fixture(name="make_sync")
def make_sync_fixture():
    return make_sync


@pytest.fixture
def outbound_table(warehouse_url, conn):
    """Creates outbound.<name> (and optionally <name>_blocked) from column DDL; dropped afterwards."""
    made = []

    def create(name: str, columns: str, rows: list[tuple], blocked: list[tuple] | None = None):
        with psycopg.connect(warehouse_url, autocommit=True) as admin:
            admin.execute("create schema if not exists outbound")
            admin.execute(f"drop table if exists outbound.{name}, outbound.{name}_blocked")
            admin.execute(f"create table outbound.{name} ({columns})")
            placeholders = ", ".join(["%s"] * len(rows[0])) if rows else ""
            with admin.cursor() as cur:
                if rows:
                    cur.executemany(f"insert into outbound.{name} values ({placeholders})", rows)
                if blocked is not None:
                    admin.execute(f"create table outbound.{name}_blocked ({columns}, block_reason_code text)")
                    if blocked:
                        ph = ", ".join(["%s"] * len(blocked[0]))
                        cur.executemany(f"insert into outbound.{name}_blocked values ({ph})", blocked)
            admin.execute("delete from ops.sync_ledger where sync_name = %s", (name,))
            admin.execute("delete from ops.sync_exceptions where sync_name = %s", (name,))
            admin.execute("delete from ops.sync_intents where sync_name = %s", (name,))
        made.append(name)

    yield create
    conn.rollback()  # the test's own connection may still hold a read lock on the tables
    with psycopg.connect(warehouse_url, autocommit=True) as admin:
        for name in made:
            admin.execute(f"drop table if exists outbound.{name}, outbound.{name}_blocked")


@pytest.fixture
def sandbox_admin(hub_sandbox):
    class Admin:
        def __init__(self, server):
            self.server = server

        def writes(self, system: str) -> int:
            return httpx.get(self.server.urls[system] + "/__sandbox/stats").json()["write_calls"]

        def faults(self, system: str, **changes):
            httpx.put(self.server.urls[system] + "/__sandbox/faults", json=changes).raise_for_status()

        @contextmanager
        def faulted(self, system: str, **changes):
            """The system's faults set for the block, cleared after it (however it ends): each one set, and those a
            fault draws from, back to the sandbox's default."""
            from sandbox.http import DEFAULT_FAULTS

            self.faults(system, **changes)
            try:
                yield
            finally:
                self.faults(system, **{k: DEFAULT_FAULTS[k] for k in {*changes, "error_rate", "lose_next_responses",
                                                                     "seed"}})

        def latency(self, ms: int):
            httpx.put(self.server.urls["salesforce"] + "/__sandbox/latency", json={"latency_ms": ms}).raise_for_status()

    admin = Admin(hub_sandbox)
    yield admin
    for system in ("salesforce", "netsuite", "kantata"):
        httpx.put(hub_sandbox.urls[system] + "/__sandbox/faults",
                  json={"error_rate": 0, "rate_limit_rate": 0, "drop_rate": 0, "lost_response_rate": 0,
                        "lose_next_responses": 0})
    admin.latency(0)


@pytest.fixture(scope="module")
def erp_refs(hub_sandbox):
    """Employees, a project and a date in an open period that the sandbox ERP knows."""
    from pshub.clients import client_for

    with client_for("netsuite") as ns:
        employees = [r["id"] for p in ns.suiteql_pages("SELECT id FROM employee ORDER BY id") for r in p][:5]
        projects = [r["id"] for p in ns.suiteql_pages("SELECT id FROM job ORDER BY id") for r in p][:2]
        periods = [r for p in ns.suiteql_pages(
            "SELECT id, TO_CHAR(startdate, 'YYYY-MM-DD') AS startdate, closed FROM accountingperiod"
            " ORDER BY startdate DESC") for r in p]
    open_period = next(p for p in periods if str(p.get("closed", "F")).upper() in ("F", "FALSE", "0"))
    return {"employees": employees, "projects": projects, "date": str(open_period["startdate"])[:10]}
