"""`pshub status`: is the hub healthy, what is stuck, since when, and how much money is at stake.

Every figure is read from `ops` (loads, cursors, runs, sync runs, exceptions, quarantine) and from the
`marts.integration_health` mart, which decides what counts as stuck and against which SLA (SQL decides).
"""
from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from pathlib import Path

import psycopg
import yaml
from psycopg.rows import dict_row

from pshub import dbt
from pshub.exceptions import grouped
from pshub.settings import get_settings

PERIODS = {"minute": dt.timedelta(minutes=1), "hour": dt.timedelta(hours=1), "day": dt.timedelta(days=1)}

# integration_health stuck kinds, in the order and words the finance and delivery leads use
SLA_LABELS = {
    "closed_won_without_erp_project": "closed-won, no ERP project",
    "closed_won_without_psa_project": "closed-won, no PSA project",
    "approved_time_not_posted": "approved time not posted to the ERP",
    "approved_expense_not_posted": "approved expenses not posted to the ERP",
    "invoice_not_reflected_in_crm": "invoices not reflected in the CRM",
    "milestone_completed_not_invoiced": "completed milestone not invoiced",
}


def _exists(conn: psycopg.Connection, relation: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()[0]


def _rows(conn: psycopg.Connection, query: str, params=None) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()


@functools.cache
def _stale_after(project_dir: Path) -> dict[tuple[str, str | None], dt.timedelta]:
    freshness_of = lambda node: (node.get("config") or {}).get("freshness") or node.get("freshness") or {}  # noqa: E731
    out = {}
    # the sources' files only (dbt_project/models/staging/<system>/_<system>__sources.yml), by libyaml: parsing every
    # model's yml took a second of each `pshub status`
    for path in sorted((project_dir / "dbt_project" / "models").rglob("*__sources.yml")):
        declared = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
        for source in declared.get("sources") or []:
            system = (source.get("schema") or "").removeprefix("raw_")
            for table in [None, *(source.get("tables") or [])]:
                warn = freshness_of(table or {}).get("warn_after") or (freshness_of(source).get("warn_after")
                                                                       if table is None else None)
                if warn:
                    out[(system, table and table["name"].lower())] = warn["count"] * PERIODS[warn["period"]]
    return out


def stale_after(system: str, object_: str | None = None) -> dt.timedelta | None:
    """How old an object's last landing may get before it is stale: the `warn_after` of its dbt source freshness
    (the sources' yml under dbt_project/models/staging), the one place the threshold is written, so that `pshub
    status` and `dbt source freshness` say stale at the same age. None: the source declares none."""
    found = _stale_after(dbt.PROJECT_DIR)
    return found.get((system, (object_ or "").lower())) or found.get((system, None))


# -- the parts ---------------------------------------------------------------------------------------------
def freshness(conn: psycopg.Connection) -> list[dict]:
    """Per source object: last successful landing, its age (stale: older than stale_after), newest source change
    landed, last attempt."""
    rows = _rows(conn, """
        with last_ok as (
            select distinct on (system, object) system, object, completed_at, run_id
              from ops.loads where status = 'completed' order by system, object, completed_at desc
        ), last_try as (
            select distinct on (system, object) system, object, status, started_at, error
              from ops.loads order by system, object, started_at desc
        )
        select t.system, t.object, o.completed_at as last_landed_at, o.run_id as last_landed_run_id,
               now() - o.completed_at as age, c.cursor_value as newest_source_change,
               t.status as last_attempt_status, t.error as last_attempt_error
          from last_try t
          left join last_ok o using (system, object)
          left join ops.cursors c using (system, object)
         order by t.system, t.object""")
    for r in rows:
        r["stale_after"] = stale_after(r["system"], r["object"])
        r["stale"] = r["age"] is None or (r["stale_after"] is not None and r["age"] > r["stale_after"])
    return rows


def last_runs(conn: psycopg.Connection, limit: int = 8) -> list[dict]:
    return _rows(conn, """
        select run_id, kind, status, started_at, finished_at, finished_at - started_at as duration,
               summary -> 'totals' as totals, summary -> 'errors' as errors,
               summary -> 'problems' as problems, error
          from ops.runs order by started_at desc limit %s""", (limit,))


def last_cycle_syncs(conn: psycopg.Connection) -> tuple[str | None, list[dict]]:
    """The latest finished cycle's syncs: status, counts, and why a sync was blocked or failed."""
    row = conn.execute("""select run_id from ops.runs where kind = 'cycle' and status <> 'skipped'
                          and finished_at is not null order by started_at desc limit 1""").fetchone()
    if row is None:
        return None, []
    return row[0], _rows(conn, """
        select sync_name, status, rows_planned, rows_pushed, rows_failed, write_calls, error
          from ops.sync_runs where run_id = %s order by sync_run_id""", (row[0],))


def exceptions_by_reason(conn: psycopg.Connection) -> list[dict]:
    """Open sync exceptions per sync and reason, with what they hold up (per currency)."""
    return _rows(conn, """
        select case when stage = 'blocked' then 'hold' else 'failure' end as kind, sync_name, reason_code, currency,
               count(*) as open_exceptions, coalesce(sum(amount_at_stake), 0) as amount_at_stake,
               min(first_seen_at) as oldest, max(attempts) as max_attempts
          from ops.sync_exceptions where resolved_at is null
         group by 1, sync_name, reason_code, currency order by 1 desc, count(*) desc, sync_name""")


def quarantine_by_reason(conn: psycopg.Connection) -> list[dict]:
    return _rows(conn, """
        select system, object, split_part(reason, ':', 1) as reason, count(*) as records, min(first_seen_at) as oldest
          from ops.quarantine where resolved_at is null group by 1, 2, 3 order by count(*) desc""")


def sla_breaches(conn: psycopg.Connection) -> list[dict] | None:
    """integration_health's stuck kinds: open, breaching their SLA, and the money at stake (None: not built)."""
    if not _exists(conn, "marts.integration_health"):
        return None
    rows = _rows(conn, """
        select reason_code, max(sla_days) as sla_days, count(*) as open,
               count(*) filter (where is_sla_breached) as breached,
               coalesce(sum(amount_at_stake_reporting) filter (where is_sla_breached), 0) as breached_at_stake,
               coalesce(sum(amount_at_stake_reporting), 0) as open_at_stake,
               max(days_open) as oldest_days
          from marts.integration_health where category = 'stuck' group by reason_code""")
    order = list(SLA_LABELS)
    rows.sort(key=lambda r: (order.index(r["reason_code"]) if r["reason_code"] in order else len(order), r["reason_code"]))
    for r in rows:
        r["label"] = SLA_LABELS.get(r["reason_code"], r["reason_code"].replace("_", " "))
    return rows


def data_quality(conn: psycopg.Connection) -> list[dict] | None:
    if not _exists(conn, "marts.integration_health"):
        return None
    return _rows(conn, """
        select rule_number, reason_code, count(*) as records, coalesce(sum(amount_at_stake_reporting), 0) as at_stake
          from marts.integration_health where category = 'data_quality'
         group by rule_number, reason_code order by rule_number nulls last, reason_code""")


def money_at_stake(conn: psycopg.Connection, since=None) -> dict:
    """The headline figures: money held by SLA-breaching stuck records (reporting currency), open holds and
    failures (new ones: first seen since `since`, default the last cycle's start)."""
    currency = get_settings().reporting_currency
    out = {"reporting_currency": currency, "money_at_stake": None, "money_stuck": None, "sla_breached": None}
    if _exists(conn, "marts.integration_health"):
        breached, stuck, count = conn.execute("""
            select coalesce(sum(amount_at_stake_reporting) filter (where is_sla_breached), 0),
                   coalesce(sum(amount_at_stake_reporting), 0), count(*) filter (where is_sla_breached)
              from marts.integration_health where category = 'stuck'""").fetchone()
        out.update(money_at_stake=float(breached), money_stuck=float(stuck), sla_breached=count)
    out.update(exception_totals(conn, since))
    return out


def exception_totals(conn: psycopg.Connection, since=None) -> dict:
    """Open holds and failures (pshub.exceptions): counts, new since `since` (default: the last cycle's start),
    amounts per currency and converted to the reporting currency. open_exceptions = both kinds."""
    split = grouped(conn, since=since)
    out = {"open_exceptions": sum(split["totals"][k]["records"] for k in ("hold", "failure"))}
    for kind, plural in (("hold", "holds"), ("failure", "failures")):
        t = split["totals"][kind]
        out[f"open_{plural}"] = t["records"]
        out[f"new_{plural}"] = t["new"]
        out[f"{plural}_at_stake"] = {c: float(a) for c, a in t["at_stake"].items()}
        out[f"{plural}_at_stake_converted"] = None if t["converted"] is None else float(t["converted"])
    out["hold_groups"] = [{"reason_code": g["reason_code"], "what": g["what"], "who": g["who"], "where": g["where"],
                           "records": g["records"], "new": g["new"],
                           "at_stake": {c: float(a) for c, a in g["at_stake"].items()},
                           "converted": None if g["converted"] is None or not g["at_stake"] else float(g["converted"])}
                          for g in split["hold"]]
    return out


def collect(conn: psycopg.Connection) -> dict:
    run_id, syncs = last_cycle_syncs(conn)
    return {
        "generated_at": dt.datetime.now(dt.timezone.utc),
        "freshness": freshness(conn),
        "runs": last_runs(conn),
        "last_cycle": run_id,
        "syncs": syncs,
        "exceptions": exceptions_by_reason(conn),
        "quarantine": quarantine_by_reason(conn),
        "sla": sla_breaches(conn),
        "data_quality": data_quality(conn),
        "stake": money_at_stake(conn),
    }


# -- text -------------------------------------------------------------------------------------------------
def money(value, currency: str = "") -> str:
    if value is None:
        return "-"
    return f"{float(value):,.0f}" + (f" {currency}" if currency else "")


def age(delta: dt.timedelta | None) -> str:
    if delta is None:
        return "never"
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def table(headers: list[str], rows: list[list]) -> list[str]:
    cells = [headers] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    numeric = [all(_numeric(r[i]) for r in cells[1:]) and len(cells) > 1 for i in range(len(headers))]
    lines = []
    for n, r in enumerate(cells):
        lines.append("  " + "  ".join(c.rjust(w) if numeric[i] and n else c.ljust(w)
                                      for i, (c, w) in enumerate(zip(r, widths))).rstrip())
        if n == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    return lines


def _numeric(text: str) -> bool:
    return text.replace(",", "").replace(".", "").replace("-", "").replace("%", "").strip().isdigit() or text == "-"


def _ts(value: dt.datetime | None) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ") if value else "-"


def _kind_line(label: str, what: str, count: int, new: int, at_stake: dict, converted, cur: str) -> str:
    amounts = ", ".join(money(v, c) for c, v in at_stake.items())
    conv = f", converted {money(converted, cur)}" if at_stake and converted is not None else ""
    return f"{count} {label} {what}, {new} new" + (f"; at stake {amounts}{conv}" if amounts else "")


def render(status: dict) -> str:
    """The status as a person reads it in a terminal."""
    stake = status["stake"]
    cur = stake["reporting_currency"]
    out: list[str] = []
    headline = (f"money at stake (SLA breached): {money(stake['money_at_stake'], cur)}"
                if stake["money_at_stake"] is not None else "money at stake: integration_health not built yet")
    out.append(f"pshub status  {_ts(status['generated_at'])}")
    out.append(f"  {headline}")
    out.append("  " + _kind_line("holds", "held back by business rules (someone must act in a source system)",
                                 stake["open_holds"], stake["new_holds"], stake["holds_at_stake"],
                                 stake["holds_at_stake_converted"], cur))
    out.append("  " + _kind_line("failures", "refused by the destination or failed to push (retried)",
                                 stake["open_failures"], stake["new_failures"], stake["failures_at_stake"],
                                 stake["failures_at_stake_converted"], cur))

    out.append("")
    out.append("Freshness per source object")
    stale = [r for r in status["freshness"] if r["stale"]]
    out += table(["object", "last landed", "age", "newest source change", "last attempt"],
                 [[f"{r['system']}.{r['object']}", _ts(r["last_landed_at"]), age(r["age"]) + (" STALE" if r["stale"] else ""),
                   r["newest_source_change"] or "-",
                   r["last_attempt_status"] + (f": {r['last_attempt_error'][:60]}" if r["last_attempt_error"] else "")]
                  for r in status["freshness"]] or [["(nothing landed yet)", "", "", "", ""]])
    if stale:
        limits = sorted({age(r["stale_after"]) for r in stale if r["stale_after"] is not None})
        out.append(f"  {len(stale)} object(s) older than their dbt source freshness allows (warn_after: "
                   f"{', '.join(limits) or 'none'})")

    out.append("")
    out.append("Last runs")
    out += table(["run id", "kind", "status", "started", "took", "landed", "pushed", "why"],
                 [[r["run_id"], r["kind"], r["status"], _ts(r["started_at"]), age(r["duration"]) if r["duration"] else "-",
                   (r["totals"] or {}).get("rows_landed", "-"), (r["totals"] or {}).get("records_pushed", "-"),
                   "; ".join(r["problems"] or r["errors"] or [])[:160] or (r["error"] or "")[:160]]
                  for r in status["runs"]] or [["(no runs yet)", "", "", "", "", "", "", ""]])

    if status["syncs"]:
        out.append("")
        out.append(f"Syncs of cycle {status['last_cycle']}")
        out += table(["sync", "status", "planned", "pushed", "failed", "why"],
                     [[s["sync_name"], s["status"], s["rows_planned"], s["rows_pushed"], s["rows_failed"],
                       (s["error"] or "")[:140]] for s in status["syncs"]])

    out.append("")
    out.append("Open exceptions by kind and reason (`pshub exceptions` says who must act where)")
    out += table(["kind", "sync", "reason", "open", "at stake", "oldest", "attempts"],
                 [[e["kind"], e["sync_name"], e["reason_code"], e["open_exceptions"],
                   money(e["amount_at_stake"], e["currency"] or ""), _ts(e["oldest"]), e["max_attempts"]]
                  for e in status["exceptions"]] or [["(none)", "", "", "", "", "", ""]])
    if status["quarantine"]:
        out.append("  quarantined at landing:")
        out += table(["object", "reason", "records", "oldest"],
                     [[f"{q['system']}.{q['object']}", q["reason"][:60], q["records"], _ts(q["oldest"])]
                      for q in status["quarantine"]])

    out.append("")
    out.append(f"Stuck between systems (integration_health, amounts in {cur})")
    if status["sla"] is None:
        out.append("  marts.integration_health is not built yet: run `pshub transform` or `pshub run`")
    else:
        out += table(["what", "SLA days", "open", "breached", f"at stake (breached)", "at stake (open)", "oldest days"],
                     [[r["label"], r["sla_days"], r["open"], r["breached"], money(r["breached_at_stake"]),
                       money(r["open_at_stake"]), r["oldest_days"]] for r in status["sla"]]
                     or [["(nothing stuck)", "", "", "", "", "", ""]])
        dq = status["data_quality"] or []
        if dq:
            out.append(f"  data-quality findings: " + ", ".join(
                f"rule {r['rule_number']} {r['reason_code']} {r['records']}" for r in dq[:20]))
    return "\n".join(out)


def to_json(status: dict) -> dict:
    """The same status with JSON-friendly values (for `pshub status --json`)."""
    def clean(v):
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        if isinstance(v, Decimal):
            return float(v)
        if isinstance(v, dt.timedelta):
            return round(v.total_seconds(), 1)
        if isinstance(v, (dt.datetime, dt.date)):
            return v.isoformat()
        return v
    return clean(status)


# -- the cycle artifact -------------------------------------------------------------------------------------
def cycle_markdown(summary: dict) -> str:
    """The Prefect artifact of one cycle: what landed, what was built, what was pushed, what is at stake."""
    t = summary.get("totals", {})
    cur = t.get("reporting_currency", get_settings().reporting_currency)
    lines = [f"# hub cycle `{summary['run_id']}`: {summary.get('status', 'running')}", ""]
    lines += ["| rows landed | models built | tests passed | records pushed | failures (new / open) | "
              f"holds (new / open) | money at stake (SLA breached, {cur}) |", "|---:|---:|---:|---:|---:|---:|---:|",
              f"| {t.get('rows_landed', 0):,} | {t.get('models_built', 0)} | {t.get('tests_passed', 0)} | "
              f"{t.get('records_pushed', 0):,} | {t.get('new_failures', 0)} / {t.get('open_failures', 0)} | "
              f"{t.get('new_holds', 0)} / {t.get('open_holds', 0)} | {money(t.get('money_at_stake'))} |", ""]
    if summary.get("problems") or summary.get("errors"):
        lines += ["**Why not succeeded**", ""] + [f"- {e}" for e in summary.get("problems") or summary["errors"]] + [""]
    failed = [l for l in summary.get("loads", []) if l.get("status") != "completed"]
    landed = [l for l in summary.get("loads", []) if l.get("rows_landed", 0) > 0]
    if landed or failed:
        lines += ["## Landed", "", "| object | fetched | new or changed | quarantined | status |", "|---|---:|---:|---:|---|"]
        lines += [f"| {l['system']}.{l['object']} | {l.get('rows_fetched', 0):,} | {l.get('rows_landed', 0):,} | "
                  f"{l.get('rows_quarantined', 0)} | {l.get('status')}{': ' + str(l['error'])[:120] if l.get('error') else ''} |"
                  for l in landed + [l for l in failed if l not in landed]]
        lines.append("")
    transform = summary.get("transform") or {}
    if transform.get("failures"):
        lines += ["## dbt failures", ""] + [f"- {f[:200]}" for f in transform["failures"]] + [""]
    if summary.get("syncs"):
        lines += ["## Pushed", "", "| sync | planned | pushed | exceptions | status |", "|---|---:|---:|---:|---|"]
        lines += [f"| {s['sync']} | {s['planned_inserts'] + s['planned_updates']} | {s['pushed']} | "
                  f"{s['failed'] + s['invalid']} | {s['status']}{': ' + s['reason'][:160] if s.get('reason') else ''} |"
                  for s in summary["syncs"]]
        lines.append("")
    seconds = summary.get("seconds", {})
    if seconds:
        lines.append("Stage seconds: " + ", ".join(f"{k} {v}" for k, v in seconds.items()))
    return "\n".join(lines)
