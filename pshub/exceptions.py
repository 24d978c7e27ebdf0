"""The records a sync left out (`pshub exceptions` shows them), in two kinds that call for different people.

- holds: a business rule in dbt (`outbound.<sync>_blocked`, `block_reason_code`) keeps the record back until
  someone acts in a source system; `intermediate.int_hold_reasons` (the seed `hold_reasons`, naming this
  installation's CRM, PSA and ERPs) says who, where and what to fix. Retrying a hold
  changes nothing: it goes when the source changes.
- failures: the destination refused the record, it failed validation, or the push failed; `pshub exceptions
  retry` pushes them again (every cycle does too).

Amounts are never added across currencies: each currency is shown, and beside it a total converted to the
reporting currency at the ERP's latest rate (`intermediate.int_exchange_rates_daily`), labelled as converted.
"""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import psycopg

from pshub.settings import get_settings

HOLD_STAGE = "blocked"  # ops.sync_exceptions.stage of a hold; every other stage is a failure
GUIDE = "intermediate.int_hold_reasons"  # who acts, where and what to fix, per hold reason (dbt names the systems)
KINDS = ("hold", "failure")


def _exists(conn: psycopg.Connection, relation: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()[0]


def last_cycle_started(conn: psycopg.Connection):
    row = conn.execute("""select started_at from ops.runs where kind = 'cycle' and status not in ('skipped', 'running')
                          order by started_at desc limit 1""").fetchone()
    return row[0] if row else None


def grouped(conn: psycopg.Connection, *, sync: str | None = None, reason: str | None = None,
            include_resolved: bool = False, kind: str | None = None, since=None) -> dict:
    """{"hold": [group], "failure": [group], "totals": {kind: {...}}, "currency": reporting currency,
    "converted": whether rates were available, "since": start of the last cycle}.

    A hold group is one reason code (who, where, what to fix); a failure group is one (sync, stage, reason).
    Each group: records, new (first seen since the last cycle started), at_stake {currency: amount},
    converted (sum in the reporting currency, or None when a currency has no rate), oldest, attempts, syncs."""
    currency = get_settings().reporting_currency
    has_rates = _exists(conn, "intermediate.int_exchange_rates_daily")
    has_guide = _exists(conn, GUIDE)
    since = since or last_cycle_started(conn)
    rates = ("""select distinct on (currency_code) currency_code, rate_to_reporting from intermediate.int_exchange_rates_daily
                where rate_to_reporting is not null order by currency_code, calendar_date desc"""
             if has_rates else "select null::text as currency_code, null::numeric as rate_to_reporting where false")
    guide = (f"select reason_code, who_acts, where_to_fix, what_to_fix from {GUIDE}" if has_guide else
             "select null::text as reason_code, null::text as who_acts, null::text as where_to_fix, "
             "null::text as what_to_fix where false")
    rows = conn.execute(f"""
        with e as (
            select e.*, case when e.stage = %(hold)s then 'hold' else 'failure' end as kind
              from ops.sync_exceptions e
             where (%(all)s or e.resolved_at is null) and (%(sync)s::text is null or e.sync_name = %(sync)s)
               and (%(reason)s::text is null or e.reason_code = %(reason)s)
        ), rates as ({rates}), guide as ({guide})
        select e.kind, e.reason_code, case when e.kind = 'failure' then e.sync_name end as sync_name,
               case when e.kind = 'failure' then e.stage end as stage,
               max(g.who_acts), max(g.where_to_fix), max(g.what_to_fix), e.currency,
               count(*), count(*) filter (where %(since)s::timestamptz is null or e.first_seen_at >= %(since)s),
               sum(e.amount_at_stake), sum(e.amount_at_stake * coalesce(r.rate_to_reporting,
                   case when e.currency = %(cur)s then 1 end)),
               bool_or(e.amount_at_stake is not null and r.rate_to_reporting is null and e.currency is distinct from %(cur)s),
               min(e.first_seen_at), max(e.attempts), string_agg(distinct e.sync_name, ', ')
          from e
          left join rates r on r.currency_code = e.currency
          left join guide g on g.reason_code = e.reason_code
         group by 1, 2, 3, 4, 8""",
        {"hold": HOLD_STAGE, "all": include_resolved, "sync": sync, "reason": reason, "since": since,
         "cur": currency}).fetchall()
    groups: dict[tuple, dict] = {}
    for (k, code, sync_name, stage, who, where, what, cur, n, new, amount, converted, unconverted, oldest, attempts,
         syncs) in rows:
        if kind and k != kind:
            continue
        g = groups.setdefault((k, code, sync_name, stage), {
            "kind": k, "reason_code": code, "sync": sync_name, "stage": stage, "who": who, "where": where,
            "what": what, "records": 0, "new": 0, "at_stake": {}, "converted": Decimal(0), "oldest": oldest,
            "attempts": 0, "syncs": set()})
        g["records"] += n
        g["new"] += new
        if amount is not None:
            g["at_stake"][cur or "?"] = g["at_stake"].get(cur or "?", Decimal(0)) + amount
        if unconverted or (amount is not None and cur is None):
            g["converted"] = None
        elif g["converted"] is not None and converted is not None:
            g["converted"] += converted
        g["oldest"] = min(g["oldest"], oldest)
        g["attempts"] = max(g["attempts"], attempts or 0)
        g["syncs"].update((syncs or "").split(", "))
    out: dict = {"hold": [], "failure": [], "currency": currency, "converted": has_rates, "since": since}
    for g in groups.values():
        g["syncs"] = sorted(s for s in g["syncs"] if s)
        out[g["kind"]].append(g)
    for k in KINDS:
        out[k].sort(key=lambda g: (-(g["converted"] or 0), -g["records"]))
        at_stake: dict[str, Decimal] = defaultdict(Decimal)
        converted: Decimal | None = Decimal(0)
        for g in out[k]:
            for c, a in g["at_stake"].items():
                at_stake[c] += a
            converted = None if converted is None or g["converted"] is None else converted + g["converted"]
        out.setdefault("totals", {})[k] = {
            "records": sum(g["records"] for g in out[k]), "new": sum(g["new"] for g in out[k]),
            "at_stake": dict(sorted(at_stake.items())), "converted": converted if has_rates else None}
    return out


def money_by_currency(amounts: dict) -> str:
    return ", ".join(f"{float(a):,.2f} {c}" for c, a in sorted(amounts.items())) or "-"


def converted_label(value, currency: str) -> str:
    return "-" if value is None else f"~{float(value):,.0f} {currency}"


def headline(split: dict) -> list[str]:
    """Two lines: holds and failures, with counts, new ones, amounts per currency and the converted total."""
    cur = split["currency"]
    h, f = split["totals"]["hold"], split["totals"]["failure"]
    conv = f" (converted to {cur}: {converted_label(h['converted'], cur)})" if h["at_stake"] else ""
    convf = f" (converted to {cur}: {converted_label(f['converted'], cur)})" if f["at_stake"] else ""
    return [f"holds:    {h['records']} records held back by business rules until someone acts in a source system, "
            f"{h['new']} new since the last cycle; at stake {money_by_currency(h['at_stake'])}{conv}",
            f"failures: {f['records']} records the destination refused or that failed to push, {f['new']} new; "
            f"at stake {money_by_currency(f['at_stake'])}{convf}"]


def newest(conn: psycopg.Connection, *, sync: str | None, reason: str | None, include_resolved: bool,
           limit: int, kind: str | None = None) -> list[tuple]:
    """The newest exceptions (failures first), one row each as `pshub exceptions list` shows them."""
    where = "(%(all)s or resolved_at is null) and (%(sync)s::text is null or sync_name = %(sync)s)" \
            " and (%(reason)s::text is null or reason_code = %(reason)s)" \
            " and (%(kind)s::text is null or (stage = %(hold)s) = (%(kind)s = 'hold'))"
    params = {"all": include_resolved, "sync": sync, "reason": reason, "kind": kind, "hold": HOLD_STAGE}
    return conn.execute(f"""
        select exception_id, case when stage = %(hold)s then 'hold' else 'failure' end, sync_name, record_key,
               reason_code, left(reason, 50), coalesce(customer, ''),
               coalesce(amount_at_stake::text || ' ' || coalesce(currency, ''), ''), attempts,
               last_seen_at::timestamp(0), case when resolved_at is null then 'open' else 'resolved' end
          from ops.sync_exceptions where {where}
         order by (stage = %(hold)s), last_seen_at desc, exception_id desc limit %(limit)s""",
                        {**params, "limit": limit}).fetchall()


def open_failure_syncs(conn: psycopg.Connection, sync: str | None = None) -> list[str]:
    """Syncs with open failures (holds are not retried: they go when the source changes)."""
    return [r[0] for r in conn.execute(
        "select distinct sync_name from ops.sync_exceptions where resolved_at is null and stage <> %s"
        " and (%s::text is null or sync_name = %s)", (HOLD_STAGE, sync, sync))]



ONE_LABELS = ["id", "kind", "sync", "record", "stage", "reason code", "reason", "customer", "engagement",
              "amount at stake", "currency", "attempts", "first seen", "last seen", "resolved", "last run"]


def one(conn: psycopg.Connection, exception_id: int) -> tuple[list[tuple[str, object]], tuple | None, object] | None:
    """One exception whole: [(label, value)], for a hold the guide (who acts, where, what to fix), and its row."""
    row = conn.execute("""
        select exception_id, case when stage = %s then 'hold' else 'failure' end, sync_name, record_key, stage,
               reason_code, reason, customer, engagement, amount_at_stake, currency, attempts, first_seen_at,
               last_seen_at, resolved_at, run_id, payload
          from ops.sync_exceptions where exception_id = %s""", (HOLD_STAGE, exception_id)).fetchone()
    if row is None:
        return None
    guide = None
    if row[1] == "hold" and _exists(conn, GUIDE):
        guide = conn.execute(f"select who_acts, where_to_fix, what_to_fix from {GUIDE} where reason_code = %s",
                             (row[5],)).fetchone()
    return list(zip(ONE_LABELS, row[:-1])), guide, row[-1]
