"""A broken dbt model stops only the syncs that read it; the rest of the cycle completes and says why."""
from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

from pshub.app.cli import app
from ops_receiver import Receiver

# a singular dbt test that always fails on intermediate.int_customer_collections (AR per customer, which the
# mart customer_collections, the credit-hold rule and the ERP billing syncs all read)
FAILING_TEST = "select * from {{ ref('int_customer_collections') }} where true\n"
# syncs that read int_customer_collections: through the mart, or through the intermediate sync models
READ_COLLECTIONS = {"crm_account_finance", "psa_credit_holds", "erp_time_bills", "erp_expenses",
                    "erp_invoice_requests"}
# syncs that never read it. erp_customers and erp_projects go to every ERP their engagements' dated records route
# to: that routing (int_sync_erp_record_routes) lies below the billing syncs' candidates and reads no AR, so a broken
# AR model does not hold back new customers and projects.
INDEPENDENT = {"erp_customers", "erp_projects", "psa_projects"}


@pytest.fixture(scope="module")
def broken_cycle(first_cycle, ops_env, tmp_path_factory, monkeypatch_module):
    """A copy of the dbt project with the failing test; one more day of the firm; one cycle; alerts on."""
    import pshub.dbt
    from flows.hub import hub
    from pshub.dbt import PROJECT_DIR

    project = tmp_path_factory.mktemp("project")
    shutil.copy(PROJECT_DIR / "dbt_project.yml", project / "dbt_project.yml")
    shutil.copy(PROJECT_DIR / "profiles.yml", project / "profiles.yml")
    shutil.copytree(PROJECT_DIR / "dbt_project", project / "dbt_project",
                    ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    (project / "dbt_project" / "tests" / "assert_int_customer_collections_broken.sql").write_text(FAILING_TEST)
    monkeypatch_module.setattr(pshub.dbt, "PROJECT_DIR", project)
    monkeypatch_module.setattr(pshub.dbt, "PROFILES_DIR", project)
    ops_env["sandbox"].tick(1)
    with Receiver() as receiver:
        monkeypatch_module.setenv("PSHUB_ALERT_WEBHOOK_URL", receiver.url)
        summary = hub()
    return summary, receiver.received


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_only_the_syncs_reading_the_broken_model_are_blocked(broken_cycle):
    summary, _ = broken_cycle
    by_sync = {s["sync"]: s for s in summary["syncs"]}
    blocked = {name for name, s in by_sync.items() if s["status"] == "blocked"}
    assert READ_COLLECTIONS <= blocked
    assert not (INDEPENDENT & blocked)
    assert all(by_sync[name]["status"] in ("succeeded", "succeeded_with_exceptions") for name in INDEPENDENT)
    assert all("customer_collections" in by_sync[name]["reason"] for name in blocked)


def test_the_rest_of_the_cycle_completes_and_is_partial(broken_cycle, ops_conn):
    summary, _ = broken_cycle
    assert summary["status"] == "partial"
    ran = dict(ops_conn.execute("select sync_name, status from ops.sync_runs where run_id = %s and sync_name = any(%s)",
                                (summary["run_id"], list(INDEPENDENT))).fetchall())
    assert ran == {name: "succeeded" for name in INDEPENDENT}  # planned, pushed what there was, recorded
    skipped = dict(ops_conn.execute("select sync_name, error from ops.sync_runs where run_id = %s and status = 'skipped'",
                                    (summary["run_id"],)).fetchall())
    assert READ_COLLECTIONS <= set(skipped)
    assert all("assert_int_customer_collections_broken" in skipped[name] for name in READ_COLLECTIONS)


def test_status_says_which_syncs_were_blocked_and_why(broken_cycle):
    summary, _ = broken_cycle
    out = CliRunner().invoke(app, ["status"]).output
    assert f"Syncs of cycle {summary['run_id']}" in out
    line = next(l for l in out.splitlines() if l.strip().startswith("crm_account_finance"))
    assert "skipped" in line and "blocked: upstream intermediate.int_customer_collections" in line
    run_line = next(l for l in out.splitlines() if l.strip().startswith(summary["run_id"]))
    assert "partial" in run_line and "dbt failures on intermediate.int_customer_collections" in run_line


def test_the_partial_cycle_is_alerted(broken_cycle):
    summary, received = broken_cycle
    texts = [m["json"]["text"] for m in received]
    assert any(t.startswith(f"pshub cycle partial: {summary['run_id']}") and "crm_account_finance" in t for t in texts)
