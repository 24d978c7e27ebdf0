"""Incremental builds: after the firm moves on (sandbox tick) and the changes land, an incremental build gives the
same rows as a full refresh, and reprocesses only what changed."""
from __future__ import annotations

from pathlib import Path

from rawload import land_firm

COMPARED = """psa_time_entry_id, psa_project_id, engagement_id, erp_project_id, psa_user_id, erp_employee_id, work_date,
    minutes, hours, bill_rate, cost_rate, rate_card_rate, is_billable, is_approved, is_invoiced, is_internal,
    project_status, is_period_closed, is_entered_after_period_close, erp_time_bill_id, erp_posting_match,
    rate_to_reporting, is_on_inactive_project, is_after_assignment_end, is_duplicate, is_over_24_hours_day,
    is_non_positive, is_zero_rate_billable, is_rate_off_card, is_unapproved_marked_billed, approved_bill_value,
    approved_cost_value, approved_standard_value, is_posted_to_erp"""


def _snapshot(db, table):
    return db.execute(f"select {COMPARED} from {table} order by psa_time_entry_id").fetchall()


def _time_bill_matches(db):
    return db.execute("""select erp_time_bill_id, psa_time_entry_id, match_method, engagement_id, work_date, hours
                         from intermediate.int_time_bill_matches order by erp_time_bill_id""").fetchall()


def test_incremental_after_a_day_of_changes_equals_full_refresh(built, firm, dbt_settings, dbt_url, db):
    from flows.transform import build_args
    from pshub.dbt import run_dbt
    from sandbox.simulate import tick

    assert built.success
    before = db.execute("select count(*), max(_load_watermark) from intermediate.int_time_entries").fetchone()
    tick(firm, 3)  # three days of new time, approvals, invoices and payments
    landed = land_firm(Path(firm.path), dbt_url)
    assert landed["kantata.time_entries"] > 0

    incremental = run_dbt(build_args(), settings=dbt_settings, raise_on_failure=False)  # as each cycle runs it
    assert incremental.success, incremental.failures
    reprocessed = db.execute("""select count(*) from intermediate.int_time_entries
                                where _load_watermark > %s""", (before[1],)).fetchone()[0]
    after_incremental = _snapshot(db, "intermediate.int_time_entries")
    marts_incremental = db.execute("select * from marts.engagements order by engagement_id").fetchall()
    matches_incremental = _time_bill_matches(db)

    full = run_dbt(build_args(full_refresh=True), settings=dbt_settings, raise_on_failure=False)
    assert full.success, full.failures
    assert _snapshot(db, "intermediate.int_time_entries") == after_incremental
    assert db.execute("select * from marts.engagements order by engagement_id").fetchall() == marts_incremental
    assert _time_bill_matches(db) == matches_incremental
    # the incremental build touched the changed days, not the history
    assert 0 < reprocessed < before[0] / 4
