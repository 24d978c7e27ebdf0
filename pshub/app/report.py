"""`pshub report`: one self-contained HTML page (no network: data, style, script and charts inline).

The page carries its data as JSON, Chart.js (bundled into the page: no network) and a script of its own that draws
the charts and tables: pipeline health over time, exceptions by workflow, reconciliation of counts per system and of open AR in money per currency
(every unmatched or differing customer listed with its amounts), the KPIs (backlog, burn, margin, utilization, AR
aging; the current, unfinished week and month marked incomplete), and tables of overdue customers, credit holds
and money stuck between systems with the ids to look them up. Every figure comes from `ops` and the dbt marts; the queries
here only select and sum what the marts define.
"""
from __future__ import annotations

import datetime as dt
import html
import json
from decimal import Decimal
from importlib import resources
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from pshub import status
from pshub.settings import get_settings
from pshub.warehouse import connect
from reverse_etl.syncs import SYNCS


def _q(conn: psycopg.Connection, query: str, params=None) -> list[dict]:
    """Rows of a query, or [] when a relation it reads is not built yet (the page says so)."""
    try:
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(query, params).fetchall()
    except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn):
        return []


def _exists(conn: psycopg.Connection, relation: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()[0]


# -- the data ------------------------------------------------------------------------------------------------
def pipeline(conn, cycles: int) -> list[dict]:
    return _q(conn, """
        with runs as (
            select run_id, started_at, status, extract(epoch from finished_at - started_at) as seconds
              from ops.runs where kind = 'cycle' and finished_at is not null
             order by started_at desc limit %s
        )
        select runs.run_id, runs.started_at, runs.status, round(runs.seconds::numeric, 1) as seconds,
               coalesce((select sum(rows_landed) from ops.loads l where l.run_id = runs.run_id), 0) as rows_landed,
               coalesce((select sum(rows_pushed) from ops.sync_runs s where s.run_id = runs.run_id), 0) as rows_pushed,
               coalesce((select sum(rows_failed) from ops.sync_runs s where s.run_id = runs.run_id), 0) as rows_failed,
               (select count(*) from ops.loads l where l.run_id = runs.run_id and l.status = 'failed') as objects_failed,
               (select count(*) from ops.sync_runs s where s.run_id = runs.run_id and s.status = 'skipped') as syncs_blocked
          from runs order by runs.started_at""", (cycles,))


def exceptions(conn) -> dict:

    by_sync = _q(conn, """
        select sync_name, reason_code, count(*) as open, coalesce(sum(amount_at_stake), 0) as at_stake
          from ops.sync_exceptions where resolved_at is null group by 1, 2 order by 1, 2""")
    for row in by_sync:
        sync = SYNCS.get(row["sync_name"])
        row["workflow"] = sync.description if sync else row["sync_name"]
    stuck = _q(conn, """
        select reason_code, count(*) as open, count(*) filter (where is_sla_breached) as breached,
               coalesce(sum(amount_at_stake_reporting), 0) as at_stake,
               coalesce(sum(amount_at_stake_reporting) filter (where is_sla_breached), 0) as breached_at_stake
          from marts.integration_health where category = 'stuck' group by 1 order by 1""")
    quality = _q(conn, """
        select 'rule ' || coalesce(rule_number::text, '?') || ' ' || reason_code as reason_code, count(*) as open
          from marts.integration_health where category = 'data_quality' group by rule_number, reason_code
         order by rule_number, reason_code""")
    return {"by_sync": by_sync, "stuck": stuck, "data_quality": quality}


def reconciliation(conn) -> list[dict]:
    """Each measure compared across the three systems: the mart system_reconciliation (dbt decides the figures)."""
    return [{**row, "built": True} for row in _q(conn, """
        select measure as label, unit, crm_value as crm, erp_value as erp, psa_value as psa
          from marts.system_reconciliation where erp_system = 'all' order by measure_order""")]


def reconciliation_money(conn) -> dict:
    """Open AR per currency, never added across currencies: the ERP's (every ERP customer), the part on CRM accounts,
    what the CRM accounts show (Open_AR__c as landed back), and every customer that is unmatched or differs: the marts
    open_ar_reconciliation and open_ar_differences (dbt decides the figures)."""
    totals = _q(conn, """
        select currency_code, erp_open_ar, on_crm_accounts, crm_shows, unmatched_open_ar, unmatched_customers,
               differing_accounts
          from marts.open_ar_reconciliation where erp_system = 'all' order by currency_code""")
    customers = _q(conn, """
        select currency_code, customer_id, crm_account_id, erp_customer_id, customer_name, erp_open_ar, erp_overdue_ar,
               crm_open_ar, finding
          from marts.open_ar_differences order by currency_code, difference desc, customer_id""")
    return {"totals": totals, "customers": customers}


def action_lists(conn, limit: int = 50) -> dict:
    """What finance acts on, with the ids to look up: overdue customers, credit holds, money stuck between systems."""
    overdue = _q(conn, """
        select customer_id, crm_account_id, erp_customer_id, customer_name, currency_code, overdue_ar, open_ar,
               max_days_past_due, collection_stage
          from marts.customer_collections where overdue_ar > 0
         order by overdue_ar_reporting desc, customer_id limit %s""", (limit,))
    holds = _q(conn, """
        select customer_id, crm_account_id, erp_customer_id, customer_name, currency_code, open_ar, credit_limit,
               credit_hold_override, max_days_past_due
          from marts.customer_collections where is_credit_hold
         order by open_ar_reporting desc limit %s""", (limit,))
    stuck = _q(conn, """
        select issue_id, reason_code, source_system, source_object, source_record_id, engagement_id, customer_name,
               since_date, days_open, is_sla_breached, amount_at_stake, currency_code
          from marts.integration_health where category = 'stuck' and coalesce(amount_at_stake, 0) <> 0
         order by amount_at_stake_reporting desc nulls last limit %s""", (limit,))
    return {"overdue_customers": overdue, "credit_holds": holds, "stuck_money": stuck}


def kpis(conn) -> dict:
    currency = get_settings().reporting_currency
    headline = _q(conn, """
        select count(*) as engagements,
               round(sum(greatest(sold_amount_reporting - coalesce(recognized_revenue_reporting, 0), 0)), 0) as backlog,
               round(sum(sold_amount_reporting), 0) as sold,
               round(sum(recognized_revenue_reporting), 0) as recognized,
               round(sum(delivered_amount_reporting) / nullif(sum(sold_amount_reporting), 0), 4) as burn,
               round((sum(recognized_revenue_reporting) - sum(project_cost_reporting))
                     / nullif(sum(recognized_revenue_reporting), 0), 4) as margin
          from marts.engagements""")
    burn = _q(conn, """
        select case when burn_pct is null then 'no work yet' when burn_pct < 0.25 then '0-25%'
                    when burn_pct < 0.5 then '25-50%' when burn_pct < 0.75 then '50-75%'
                    when burn_pct < 1 then '75-100%' else 'over 100%' end as bucket, count(*) as engagements
          from marts.engagements group by 1""")
    order = ["no work yet", "0-25%", "25-50%", "50-75%", "75-100%", "over 100%"]
    burn.sort(key=lambda r: order.index(r["bucket"]))
    margin = _q(conn, """
        select to_char(month_start, 'YYYY-MM') as month, legal_entity,
               (month_start + interval '1 month' - interval '1 day')::date
                   >= (select max(as_of_date) from marts.engagements) as incomplete,
               round(sum(recognized_revenue_contract_currency - project_cost_contract_currency)
                     / nullif(sum(recognized_revenue_contract_currency), 0), 4) as margin
          from marts.kpi_rollup_monthly
         where month_start > (select max(month_start) from marts.kpi_rollup_monthly) - interval '12 months'
         group by 1, 2, 3 order by 1, 2""")
    utilization = _q(conn, """
        select to_char(week_start, 'YYYY-MM-DD') as week,
               week_start + 6 >= (select max(as_of_date) from marts.engagements) as incomplete,
               round(sum(approved_billable_hours) / nullif(sum(capacity_hours), 0), 4) as billable,
               round(sum(approved_hours) / nullif(sum(capacity_hours), 0), 4) as total
          from marts.resource_utilization_weekly
         where week_start > (select max(week_start) from marts.resource_utilization_weekly) - interval '26 weeks'
         group by 1, 2 order by 1""")
    aging = _q(conn, """
        select aging_bucket as bucket, round(sum(amount_open_reporting), 0) as amount, count(*) as invoices
          from marts.invoices where aging_bucket <> 'paid' group by 1""")
    order = ["current", "1-30", "31-60", "61-90", "90+"]
    aging.sort(key=lambda r: order.index(r["bucket"]) if r["bucket"] in order else len(order))
    return {"currency": currency, "headline": headline[0] if headline else None, "burn": burn, "margin": margin,
            "utilization": utilization, "aging": aging}


def gather(conn: psycopg.Connection, cycles: int = 60) -> dict:

    return {
        "generated_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "currency": get_settings().reporting_currency,
        "marts_built": _exists(conn, "marts.engagements"),
        "stake": status.money_at_stake(conn),
        "pipeline": pipeline(conn, cycles),
        "exceptions": exceptions(conn),
        "reconciliation": reconciliation(conn),
        "reconciliation_money": reconciliation_money(conn),
        "actions": action_lists(conn),
        "kpis": kpis(conn),
    }


# -- the page -----------------------------------------------------------------------------------------------
def _json_default(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


def render(data: dict) -> str:
    template = resources.files("pshub.app").joinpath("report_assets/report.html").read_text()
    script = resources.files("pshub.app").joinpath("report_assets/charts.js").read_text()
    # Chart.js 4 (MIT, report_assets/LICENSE-chart.js.md), its UMD build as published on npm: inline, so the page
    # stays one offline file
    chartjs = resources.files("pshub.app").joinpath("report_assets/chart.umd.min.js").read_text()
    payload = json.dumps(data, default=_json_default).replace("</", "<\\/")  # cannot close the script element
    return (template.replace("{{title}}", html.escape(f"pshub report, {data['generated_at']}"))
                    .replace("{{data}}", payload)
                    .replace("{{chartjs}}", chartjs)
                    .replace("{{script}}", script))


def write_report(path: Path, cycles: int = 60) -> Path:

    with connect() as conn:
        data = gather(conn, cycles)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(data), encoding="utf-8")
    return path


def default_path() -> Path:
    return get_settings().home_dir / "report.html"
