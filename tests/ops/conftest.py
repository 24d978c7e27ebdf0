"""Operations tests run in a warehouse database and a sandbox of their own, so that the cycles they run
(and the customers and projects those push) neither see nor disturb the other tests' state."""
from __future__ import annotations

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
    return summary
