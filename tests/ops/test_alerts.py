"""Webhook alerts: Slack-compatible JSON to a local receiver on a failed cycle and over thresholds."""
from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pshub import alerts
from pshub.app.cli import app
from ops_receiver import Receiver


def partial_cycle(run_id: str = "r-test-1", money: float = 0.0, open_exceptions: int = 0) -> dict:
    return {"run_id": run_id, "status": "partial",
            "problems": ["dbt failures on marts.customer_collections blocked 1 sync(s): crm_account_finance"],
            "syncs": [{"sync": "crm_account_finance", "status": "blocked",
                       "reason": "upstream marts.customer_collections: dbt test assert_ar fail"},
                      {"sync": "erp_customers", "status": "succeeded"}],
            "totals": {"money_at_stake": money, "open_failures": open_exceptions, "new_failures": 1,
                       "open_holds": 600, "new_holds": 0,
                       "reporting_currency": "USD", "sla_breached": 3}}


@pytest.fixture
def receiver(ops_env, ops_conn):
    ops_conn.execute("delete from ops.alerts")
    ops_conn.commit()
    with Receiver() as r:
        yield r


def config(url: str, **kw) -> alerts.AlertSettings:
    return alerts.AlertSettings(webhook_url=url, **kw)


def test_a_partial_cycle_posts_slack_json_naming_the_blocked_sync(receiver):
    sent = alerts.after_cycle(partial_cycle(), config(receiver.url))
    assert [a.kind for a in sent] == ["run_partial"]
    (message,) = receiver.received
    assert message["content_type"] == "application/json"
    body = message["json"]
    assert body["text"].startswith("pshub cycle partial: r-test-1")
    assert "crm_account_finance" in body["text"] and "customer_collections" in body["text"]
    assert [b["type"] for b in body["blocks"]] == ["header", "section", "context"]


def test_a_succeeded_cycle_under_the_thresholds_posts_nothing(receiver):
    summary = dict(partial_cycle(money=10.0, open_exceptions=2), status="succeeded", problems=[], syncs=[])
    assert alerts.after_cycle(summary, config(receiver.url, max_money_at_stake=1000, max_open_exceptions=5)) == []
    assert receiver.received == []


def test_money_at_stake_over_the_threshold_alerts_once_then_again_only_when_it_grows(receiver, ops_conn):
    cfg = config(receiver.url, on_failed_run=False, max_money_at_stake=50_000)
    for money in (75_000, 75_000, 90_000, 90_000):
        alerts.after_cycle(dict(partial_cycle(money=money), status="succeeded"), cfg)
    assert [m["json"]["text"].split("\n")[0] for m in receiver.received] == [
        "pshub: 75,000 USD at stake past SLA", "pshub: 90,000 USD at stake past SLA"]
    recorded = ops_conn.execute("select kind, value, delivered from ops.alerts order by alert_id").fetchall()
    assert [(k, float(v), d) for k, v, d in recorded] == [("money_at_stake", 75000.0, True), ("money_at_stake", 90000.0, True)]


def test_open_exceptions_over_the_threshold_alert(receiver):
    sent = alerts.after_cycle(dict(partial_cycle(open_exceptions=12), status="succeeded"),
                              config(receiver.url, max_open_exceptions=10))
    assert [a.kind for a in sent] == ["exceptions"]
    text = receiver.received[0]["json"]["text"]
    assert "Open sync failures 12 > threshold 10" in text and "600 records held back" in text


def test_a_receiver_that_refuses_is_recorded_never_raised_and_the_url_never_stored(ops_env, ops_conn):
    ops_conn.execute("delete from ops.alerts")
    ops_conn.commit()
    with Receiver(status=500) as refusing:
        assert alerts.after_cycle(partial_cycle(), config(refusing.url)) == []
    row = ops_conn.execute("select delivered, error, message from ops.alerts").fetchone()
    assert row[0] is False and row[1].startswith("HTTP 500")
    assert "secret-token" not in " ".join(str(c) for c in row)


def test_an_unreachable_webhook_does_not_fail_the_cycle(ops_env):
    with Receiver() as gone:
        url = gone.url
    assert alerts.after_cycle(partial_cycle(), config(url)) == []


def test_alerts_show_hides_the_webhook_url(monkeypatch, receiver):
    monkeypatch.setenv("PSHUB_ALERT_WEBHOOK_URL", receiver.url)
    monkeypatch.setenv("PSHUB_ALERT_MAX_MONEY_AT_STAKE", "250000")
    result = CliRunner().invoke(app, ["alerts", "show"])
    assert result.exit_code == 0, result.output
    assert "127.0.0.1" in result.output and "secret-token" not in result.output
    assert "250,000 USD" in result.output


def test_alerts_test_delivers_a_message(monkeypatch, receiver):
    monkeypatch.setenv("PSHUB_ALERT_WEBHOOK_URL", receiver.url)
    result = CliRunner().invoke(app, ["alerts", "test"])
    assert result.exit_code == 0, result.output
    assert receiver.received[0]["json"]["text"].startswith("pshub test alert")
