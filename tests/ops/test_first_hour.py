"""An operator's first hour after a cycle: holds apart from failures (amounts per currency, converted total
labelled), new counts only what is new, the hub's own writes named when they come back, the Prefect flow run
named by the run id and a partial cycle in a named state, Secret blocks for credentials, and a refused plan
that makes the cycle partial, alerts and says how to confirm."""
from __future__ import annotations

from decimal import Decimal

import pytest
from typer.testing import CliRunner

from pshub.app.cli import app


def test_exceptions_separate_holds_from_failures_and_never_add_currencies(first_cycle, ops_conn):
    from pshub.exceptions import grouped

    split = grouped(ops_conn)
    held = ops_conn.execute("select count(*) from ops.sync_exceptions where resolved_at is null"
                            " and stage = 'blocked'").fetchone()[0]
    assert split["totals"]["hold"]["records"] == held > 0
    assert split["totals"]["failure"]["records"] == ops_conn.execute(
        "select count(*) from ops.sync_exceptions where resolved_at is null and stage <> 'blocked'").fetchone()[0]
    per_currency = dict(ops_conn.execute("""select currency, sum(amount_at_stake) from ops.sync_exceptions
        where resolved_at is null and stage = 'blocked' and amount_at_stake is not null group by currency"""))
    assert split["totals"]["hold"]["at_stake"] == per_currency and len(per_currency) > 1
    converted = ops_conn.execute("""
        with rates as (select distinct on (currency_code) currency_code, rate_to_reporting
                         from intermediate.int_exchange_rates_daily order by currency_code, calendar_date desc)
        select sum(e.amount_at_stake * r.rate_to_reporting) from ops.sync_exceptions e
          join rates r on r.currency_code = e.currency
         where e.resolved_at is null and e.stage = 'blocked'""").fetchone()[0]
    assert abs(split["totals"]["hold"]["converted"] - converted) < Decimal("0.01")
    # each hold says who acts where and what to fix (the seed hold_reasons, naming this installation's systems)
    unapproved = next(g for g in split["hold"] if g["reason_code"] == "unapproved_time")
    assert (unapproved["who"], unapproved["where"]) == ("project manager", "Kantata")


def test_the_exceptions_command_shows_holds_by_what_to_fix_and_failures_apart(first_cycle):
    out = CliRunner().invoke(app, ["exceptions"])
    assert out.exit_code == 0, out.output
    assert out.output.startswith("holds:") and "\nfailures: " in out.output
    assert "Holds, by what to fix" in out.output and "approve or reject the time entries" in out.output
    assert "converted to USD" in out.output
    retry = CliRunner().invoke(app, ["exceptions", "retry"])
    assert retry.exit_code == 0 and "held-back records are not retried" in retry.output


def test_exceptions_show_gives_one_hold_whole_with_what_releases_it(first_cycle, ops_conn):
    held, = ops_conn.execute("select min(exception_id) from ops.sync_exceptions where resolved_at is null"
                             " and stage = 'blocked'").fetchone()
    out = CliRunner().invoke(app, ["exceptions", "show", str(held)])
    assert out.exit_code == 0, out.output
    assert f"id               {held}\n" in out.output and "kind             hold" in out.output
    assert "to release it" in out.output and "\n  row:\n" in out.output
    missing = CliRunner().invoke(app, ["exceptions", "show", "999999999"])
    assert missing.exit_code != 0 and "no exception 999999999" in missing.output


def test_status_splits_holds_and_failures(first_cycle):
    out = CliRunner().invoke(app, ["status"])
    assert out.exit_code == 0, out.output
    assert " holds held back by business rules" in out.output and " failures refused by the destination" in out.output


def test_the_prefect_flow_run_is_named_by_the_run_id_and_a_partial_cycle_is_a_named_state(first_cycle, ops_conn):
    from prefect.client.orchestration import get_client

    flow_run_id = ops_conn.execute("select flow_run_id from ops.runs where run_id = %s",
                                   (first_cycle["run_id"],)).fetchone()[0]
    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(flow_run_id)
    assert flow_run.name == first_cycle["run_id"]
    assert flow_run.state.name == ("Partial" if first_cycle["status"] == "partial" else "Completed")
    assert flow_run.state.is_completed()


def test_a_partial_cycle_returns_a_completed_state_named_partial_with_the_summary():
    from flows.hub import final_state

    summary = {"run_id": "r1", "status": "partial", "problems": ["safety stop: x"]}
    state = final_state(summary)
    assert state.name == "Partial" and state.is_completed() and state.data == summary
    assert final_state({"run_id": "r2", "status": "succeeded"}) == {"run_id": "r2", "status": "succeeded"}


def test_a_refused_plan_makes_the_cycle_partial_alerts_and_says_how_to_confirm():
    from flows.hub import cycle_status, problems
    from pshub import alerts

    message = ("safety stop: erp_time_bills would change 600 of the 900 records it manages, more than "
               "PSHUB_SYNC_MAX_SHARE (50%): check `pshub sync plan erp_time_bills`, then confirm with "
               "`pshub sync apply erp_time_bills --confirm`")
    summary = {"run_id": "r3", "loads": [], "errors": [],
               "syncs": [{"sync": "erp_time_bills", "status": "refused", "message": message}],
               "totals": {"syncs_refused": 1}}
    assert cycle_status(summary) == "partial"
    summary.update(status="partial", problems=problems(summary))
    assert message in summary["problems"]
    (alert,) = alerts.evaluate(summary, alerts.AlertSettings(webhook_url="http://127.0.0.1:1/hook"))
    assert alert.kind == "run_partial" and "pshub sync apply erp_time_bills --confirm" in alert.payload()["text"]


def test_credentials_may_come_from_a_prefect_secret_block_named_in_the_settings(first_cycle, monkeypatch):
    from prefect.blocks.system import Secret

    from pshub.settings import ConfigurationError, Settings

    Secret(value="from-the-block").save("pshub-test-salesforce-secret", overwrite=True)
    monkeypatch.setenv("PSHUB_SALESFORCE_URL", "https://example.my.salesforce.com")
    monkeypatch.setenv("PSHUB_SALESFORCE_CLIENT_ID", "client")
    monkeypatch.setenv("PSHUB_SALESFORCE_CLIENT_SECRET_BLOCK", "pshub-test-salesforce-secret")
    assert Settings().system("salesforce").credentials["client_secret"] == "from-the-block"
    monkeypatch.setenv("PSHUB_SALESFORCE_CLIENT_SECRET_BLOCK", "no-such-block")
    with pytest.raises(ConfigurationError, match="PSHUB_SALESFORCE_CLIENT_SECRET_BLOCK"):
        Settings().system("salesforce")


def test_transform_says_how_many_dbt_nodes_are_done_of_how_many(first_cycle):
    import re

    out = CliRunner().invoke(app, ["transform", "--select", "stg_netsuite__terms"])
    assert out.exit_code == 0, out.output
    assert re.search(r"dbt\s+(\d+) of \1 nodes done: 1 models, \d+ tests, 0 failures so far", out.output), out.output
