"""A time entry deleted in the PSA (which reports no deletes) leaves the warehouse and the marts in the next
cycle, not at the next nightly id listing."""
from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal


def logged_hours(db, user_id: str, week: dt.date):
    row = db.execute("select logged_hours from marts.resource_utilization_weekly where resource_id = %s and week_start = %s",
                     (user_id, week)).fetchone()
    return row[0] if row else 0


def test_a_deleted_unapproved_time_entry_is_gone_from_the_marts_after_one_cycle(cycle, reliability_env, db):
    from flows.hub import hub

    store = reliability_env["sandbox"].store
    since = (store.now().date() - dt.timedelta(days=20)).isoformat()
    entry_id, user_id, minutes, work_date = store.conn().execute(
        "SELECT id, user_id, time_in_minutes, date_performed FROM kt_time_entries"
        " WHERE approved = 0 AND date_performed >= ? AND time_in_minutes > 0 ORDER BY id LIMIT 1", (since,)).fetchone()
    week = dt.date.fromisoformat(work_date) - dt.timedelta(days=dt.date.fromisoformat(work_date).weekday())
    before = logged_hours(db, str(user_id), week)
    assert db.execute("select count(*) from intermediate.int_time_entries where psa_time_entry_id = %s",
                      (str(entry_id),)).fetchone()[0] == 1
    db.rollback()

    with store.write_lock:
        store.conn().execute("DELETE FROM kt_time_entries WHERE id = ?", (entry_id,))
    second = hub()

    assert second["status"] in ("succeeded", "partial") and second["totals"]["dbt_failures"] == 0
    assert db.execute("select is_deleted from raw_kantata.time_entries where id = %s", (str(entry_id),)).fetchone() == (True,)
    assert db.execute("select count(*) from intermediate.int_time_entries where psa_time_entry_id = %s",
                      (str(entry_id),)).fetchone()[0] == 0
    hours = (Decimal(minutes) / 60).quantize(Decimal("0.01"), ROUND_HALF_UP)  # as int_time_entries rounds
    assert logged_hours(db, str(user_id), week) == before - hours
