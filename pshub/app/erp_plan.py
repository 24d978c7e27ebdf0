"""Where the ERP records go: for each ERP sync's candidates (int_sync_erp_*, routed by legal entity and date through
the erp_routing seed), how many are routed to each ERP and company, and of those how many are new to it, already
there, held back, or already held by the other ERP (they stay there: a cut-over never moves a posted record).

A cut-over is planned with it before it is applied: change the seed, `pshub transform` (nothing is pushed), then
`pshub sync plan` shows what the next `pshub sync apply` (or cycle) would send where."""
from __future__ import annotations

import psycopg
from psycopg import sql

# the candidates, the NetSuite sync and the Dynamics 365 Finance sync of each kind of ERP record
KINDS = (
    ("customers", "int_sync_erp_customers", "erp_customers", "d365_customers"),
    ("projects", "int_sync_erp_projects", "erp_projects", "d365_projects"),
    ("approved time", "int_sync_erp_time_bills", "erp_time_bills", "d365_hour_journal_lines"),
    ("expenses", "int_sync_erp_expenses", "erp_expenses", "d365_expense_journal_lines"),
    ("invoice requests", "int_sync_erp_invoice_requests", "erp_invoice_requests", "d365_invoice_requests"),
)
ERP_NAMES = {"netsuite": "NetSuite", "dynamics": "Dynamics 365 Finance"}


def _exists(conn: psycopg.Connection, relation: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()[0]


def routes(conn: psycopg.Connection) -> list[dict]:
    """The routes as the last `pshub transform` built them (the seed, and PSHUB_ERP_ROUTING on top of it)."""
    if not _exists(conn, "intermediate.int_erp_routes"):
        return []
    return [dict(zip(("legal_entity", "erp_system", "erp_company", "posts_from", "posts_until"), r))
            for r in conn.execute("select legal_entity, erp_system, erp_company, posts_from, posts_until"
                                  " from intermediate.int_erp_routes order by legal_entity, posts_from nulls first")]


def by_erp(conn: psycopg.Connection) -> list[dict]:
    """One row per kind, ERP and company: records routed there, new to it, already pushed there, held back, held by
    the other ERP. Counted in the warehouse."""
    out = []
    for kind, model, ns_sync, d365_sync in KINDS:
        relation = f"intermediate.{model}"
        if not _exists(conn, relation):
            continue
        columns = {r[0] for r in conn.execute(
            "select attname from pg_attribute where attrelid = %s::regclass and attnum > 0 and not attisdropped",
            (relation,))}
        if "erp_system" not in columns:  # before the routing: every record goes to NetSuite
            route = sql.SQL("'netsuite'::text as erp_system, null::text as erp_company")
        else:
            route = sql.SQL("erp_system, erp_company")
        rows = conn.execute(sql.SQL("""
            with c as (select external_id::text as k, block_reason_code, {route} from {rel}),
            l as (select sync_name, record_key from ops.sync_ledger where sync_name = any(%(syncs)s))
            select c.erp_system, coalesce(c.erp_company, '') as erp_company, count(*) as records,
                   count(*) filter (where c.block_reason_code is not null) as held_back,
                   count(*) filter (where c.block_reason_code is null and own.record_key is not null) as pushed,
                   count(*) filter (where own.record_key is null and other.record_key is not null) as in_other_erp,
                   count(*) filter (where c.block_reason_code is null and own.record_key is null
                                    and other.record_key is null) as new
              from c
              left join l as own on own.record_key = c.k
                   and own.sync_name = case when c.erp_system = 'dynamics' then %(d365)s else %(ns)s end
              left join l as other on other.record_key = c.k
                   and other.sync_name = case when c.erp_system = 'dynamics' then %(ns)s else %(d365)s end
             group by 1, 2 order by 1 desc, 2
        """).format(route=route, rel=sql.SQL(relation)),
            {"syncs": [s for s in (ns_sync, d365_sync) if s], "ns": ns_sync, "d365": d365_sync or ""}).fetchall()
        for erp, company, records, held, pushed, other, new in rows:
            out.append({"kind": kind, "erp_system": erp, "erp_company": company, "records": records, "new": new,
                        "pushed": pushed, "held_back": held, "in_other_erp": other,
                        "sync": d365_sync if erp == "dynamics" else ns_sync})
    return out
