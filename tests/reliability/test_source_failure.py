"""Incremental state never depends on which source failed last: after a cycle with the CRM down and a good cycle,
every mart, every incremental table and every held-back count (the outbound models' and the open exceptions', with
their money at stake) equals what a full refresh of the same landed data gives."""
from __future__ import annotations

from psycopg import sql


# the incremental tables the marts and the time-bill sync are built from (each keeps state between builds)
INCREMENTAL = ["int_time_entries", "int_time_bill_matches", "int_time_bills", "int_time_engagement_months",
               "int_time_resource_weeks", "int_time_entry_first_day"]


def snapshot(db) -> dict:
    """Every mart and incremental intermediate table (its rows, `_` columns left out) and every outbound *_blocked
    model (rows and money at stake by reason code)."""
    out = {}
    relations = db.execute("""select table_schema, table_name from information_schema.tables
                               where table_schema in ('marts', 'outbound')
                                  or (table_schema = 'intermediate' and table_name = any(%s)) order by 1, 2""",
                           (INCREMENTAL,)).fetchall()
    for schema, table in relations:
        columns = [c for (c,) in db.execute("""select column_name from information_schema.columns
                                                where table_schema = %s and table_name = %s and column_name not like '\\_%%'
                                                order by ordinal_position""", (schema, table))]
        if schema in ("marts", "intermediate"):
            out[f"{schema}.{table}"] = db.execute(sql.SQL(
                "select count(*), md5(coalesce(string_agg(r::text, '|' order by r::text), '')) from (select {} from {}.{}) r"
            ).format(sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(schema), sql.Identifier(table))
            ).fetchone()
        elif table.endswith("_blocked"):
            out[f"{schema}.{table}"] = db.execute(sql.SQL(
                "select block_reason_code, count(*), sum((to_jsonb(b) ->> '_amount_at_stake')::numeric)"
                " from {}.{} b group by 1 order by 1"
            ).format(sql.Identifier(schema), sql.Identifier(table))).fetchall()
    db.rollback()
    return out


def test_a_cycle_with_the_crm_down_then_a_good_cycle_equals_a_full_refresh(cycle, reliability_env, db):
    from flows.hub import hub
    from flows.transform import run_build

    server = reliability_env["sandbox"]
    server.tick(1)  # a day of changes in every system
    server.set_faults("salesforce", {"error_rate": 1.0})
    try:
        down = hub()
    finally:
        server.set_faults("salesforce", {"error_rate": 0.0})
    assert any(l["system"] == "salesforce" and l["status"] == "failed" for l in down["loads"])
    good = hub()
    assert all(l["status"] == "completed" for l in good["loads"]), [l for l in good["loads"] if l["status"] != "completed"]

    incremental = snapshot(db)
    # what the good cycle's syncs hold back, as a person reads it: the open exceptions, by sync and reason code
    held = held_back(db)
    run_build(full_refresh=True, raise_on_failure=False)
    full = snapshot(db)
    assert {k: (v, full.get(k)) for k, v in incremental.items() if full.get(k) != v} == {}
    assert held == {f"outbound.{sync}_blocked": rows for sync, rows in held_back_by_model(full).items()}
    assert held.get("outbound.erp_time_bills_blocked"), "the time-bill sync holds some time back: the count is compared"


def held_back(db) -> dict:
    """Open 'blocked' exceptions of each sync: [(reason code, count, money at stake)]."""
    out: dict = {}
    for sync, reason, count, at_stake in db.execute(
            """select sync_name, reason_code, count(*), sum(amount_at_stake) from ops.sync_exceptions
                where stage = 'blocked' and resolved_at is null group by 1, 2 order by 1, 2"""):
        out.setdefault(f"outbound.{sync}_blocked", []).append((reason, count, at_stake))
    db.rollback()
    return out


def held_back_by_model(full: dict) -> dict:
    """{sync: held-back rows} of the syncs as this installation's CRM and PSA take them (for_systems): another PSA's
    outbound model (certinia_projects with Kantata) is built but no sync reads it."""
    from pshub.settings import get_settings
    from reverse_etl.syncs import SYNCS, for_systems

    settings = get_settings()
    installed = {taken.blocked_model: name for name, sync in SYNCS.items()
                 if (taken := for_systems(sync, settings.crm, settings.psa)) is not None}
    return {installed[k]: v for k, v in full.items() if k in installed and v}

