"""Operations tests run in a warehouse database and a sandbox of their own, so that the cycles they run
(and the customers and projects those push) neither see nor disturb the other tests' state."""
from __future__ import annotations

import httpx
import psycopg
import pytest

from isolated_hub import isolated_hub


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
    """One full hub cycle against the fresh sandbox firm (lands everything, pushes what the marts say).

    Other modules run further cycles on the same firm, which re-stamp rows this one wrote: what the tests check of
    this cycle's rows is read right after it (`observed`), so that they pass in any order."""
    from flows.hub import hub

    summary = hub()
    run = {"run_id": summary["run_id"]}
    with psycopg.connect(ops_env["database_url"]) as conn:
        summary["observed"] = {
            "opportunities_stamped": conn.execute(
                """select count(*) from raw_salesforce.opportunity o
                   join ops.loads l on l.load_id = o._load_id where l.run_id = %(run_id)s""", run).fetchone()[0],
            "ledger_rows": conn.execute("select count(*) from ops.sync_ledger where run_id = %(run_id)s",
                                        run).fetchone()[0],
            "new_exceptions": conn.execute("select count(*) from ops.sync_exceptions where run_id = %(run_id)s"
                                           " and attempts >= 0", run).fetchone()[0],
        }
    summary["quiet_second"] = _quiet_second_cycle(ops_env)
    return summary


def _quiet_second_cycle(ops_env) -> dict:
    """A second cycle right after the first, with no source change in between (the thin slice's quiet second run,
    tests/ops/test_thin_slice.py), and what the CRM, the ERP and the marts held after the first: read here, before any
    other test moves the firm on."""
    from flows.hub import hub
    from pshub.clients import client_for

    def netsuite_writes() -> int:
        return httpx.get(ops_env["sandbox"].urls["netsuite"] + "/__sandbox/stats").json()["write_calls"]

    with psycopg.connect(ops_env["database_url"]) as conn:
        marts = dict(conn.execute("select engagement_id, sold_amount from marts.engagements").fetchall())
        expected_customers = dict(conn.execute(
            """select external_id, "companyName" from outbound.erp_customers where subsidiary is not null"""))
        ledger_customers = dict(conn.execute(
            "select record_key, destination_id from ops.sync_ledger where sync_name = 'erp_customers'").fetchall())
    with client_for("salesforce") as sf:
        won = {r["Id"]: r["Amount"] for page in sf.query_pages(
            "SELECT Id, Amount FROM Opportunity WHERE IsWon = true") for r in page}
    with client_for("netsuite") as ns:
        erp_customers = {r["externalid"]: (str(r["id"]), r["companyname"]) for page in ns.suiteql_pages(
            "SELECT id, externalid, companyname FROM customer WHERE externalid IS NOT NULL") for r in page}
    writes_after_first = netsuite_writes()
    second = hub()
    return {"summary": second, "netsuite_writes": (writes_after_first, netsuite_writes()),
            "crm_won": won, "marts_engagements": marts, "outbound_customers": expected_customers,
            "ledger_customers": ledger_customers, "erp_customers": erp_customers}
