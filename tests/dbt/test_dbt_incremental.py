"""Incremental builds: after the firm moves on (sandbox tick) and the changes land, a cycle's build (only the nodes
downstream of what changed; incremental models reprocessing only the changed rows) gives the same rows as a full
refresh."""
from __future__ import annotations

import json
from pathlib import Path

from rawload import land_firm

COMPARED = """psa_time_entry_id, psa_project_id, engagement_id, erp_project_id, psa_user_id, erp_employee_id, work_date,
    minutes, hours, bill_rate, cost_rate, rate_card_rate, is_billable, is_approved, is_invoiced, is_internal,
    project_status, is_period_closed, is_entered_after_period_close, erp_time_bill_id, erp_posting_match,
    rate_to_reporting, is_on_inactive_project, is_after_assignment_end, is_duplicate, is_over_24_hours_day,
    is_non_positive, is_zero_rate_billable, is_rate_off_card, is_unapproved_marked_billed, approved_bill_value,
    approved_cost_value, approved_standard_value, is_posted_to_erp, breaks_a_data_quality_rule"""

# every mart, whole, and the intermediate tables the incremental marts are built from
TABLES = ["marts.engagements", "marts.engagement_monthly", "marts.resource_utilization_weekly", "marts.invoices",
          "marts.customer_collections", "marts.revenue_leakage", "marts.integration_health",
          "marts.kpi_rollup_monthly", "intermediate.int_engagement_facts", "intermediate.int_as_of_date",
          "intermediate.int_time_entry_first_day", "intermediate.int_calendar_days", "intermediate.int_allocations"]


def _snapshot(db, table):
    return db.execute(f"select {COMPARED} from {table} order by psa_time_entry_id").fetchall()


def _time_bill_matches(db):
    return db.execute("""select erp_time_bill_id, psa_time_entry_id, match_method, engagement_id, work_date, hours
                         from intermediate.int_time_bill_matches order by erp_time_bill_id""").fetchall()


def _table(db, table):
    columns = [r[0] for r in db.execute(
        """select column_name from information_schema.columns
           where table_schema || '.' || table_name = %s and column_name not like '\\_%%' order by ordinal_position""",
        (table,))]
    assert columns, table
    return db.execute(f"select {', '.join(columns)} from {table} order by 1, 2").fetchall()


def _delete_one_entry_and_move_another(db) -> str:
    """One more landing, as the ingest writes it: an old approved entry deleted in the PSA, and another one moved
    to a project of another engagement (the groups they leave only lose entries: nothing in them is new)."""
    old = db.execute("""select psa_time_entry_id, engagement_id from intermediate.int_time_entries
                        where engagement_id is not null and is_approved order by work_date, psa_time_entry_id
                        limit 2""").fetchall()
    target = db.execute("""select project_id from intermediate.int_project_keys
                           where source_system = 'kantata' and engagement_id is not null and engagement_id <> %s
                           order by project_id limit 1""", (old[1][1],)).fetchone()[0]
    load_id = db.execute("""insert into ops.loads (run_id, system, object, status, completed_at)
                            values ('tests', 'kantata', 'time_entries', 'completed', now()) returning load_id""").fetchone()[0]
    db.execute("update raw_kantata.time_entries set is_deleted = true, _load_id = %s where id = %s", (load_id, old[0][0]))
    db.execute("""update raw_kantata.time_entries set data = jsonb_set(data, '{workspace_id}', to_jsonb(%s::text)),
                  source_updated_at = source_updated_at + interval '1 second', _load_id = %s where id = %s""",
               (target, load_id, old[1][0]))
    return old[1][0]


def test_incremental_after_a_day_of_changes_equals_full_refresh(built, firm, dbt_settings, dbt_url, db):
    from flows.transform import plan_build, run_build, state_dir
    from sandbox.simulate import tick

    assert built.success
    kept = json.loads((state_dir(dbt_settings) / "build.json").read_text())
    assert db.execute("select load_watermark > 0 from ops.dbt_builds where build_id = %s",
                      (kept["build_id"],)).fetchone() == (True,)
    before = db.execute("select count(*), max(_load_watermark) from intermediate.int_time_entries").fetchone()
    tick(firm, 3)  # three days of new time, approvals, invoices and payments
    landed = land_firm(Path(firm.path), dbt_url)
    assert landed["kantata.time_entries"] > 0
    moved = _delete_one_entry_and_move_another(db)

    plan = plan_build(settings=dbt_settings)
    assert "kantata.time_entries" in plan.changed_sources
    assert not set(plan.changed_sources) - {k for k, v in landed.items() if v} - {"netsuite.deletedrecord"}

    incremental = run_build(settings=dbt_settings, raise_on_failure=False)  # as each cycle runs it
    assert incremental.success, incremental.failures
    assert incremental.scope.startswith("nodes downstream")
    assert len(incremental.built) < len(built.built)  # staging of unchanged objects, seeds: left alone
    # the moved entry is flagged, so that the time sums recount the group it left
    assert db.execute("select _moved from intermediate.int_time_entries where psa_time_entry_id = %s",
                      (moved,)).fetchone() == (True,)
    reprocessed = db.execute("""select count(*) from intermediate.int_time_entries
                                where _load_watermark > %s""", (before[1],)).fetchone()[0]
    after_incremental = _snapshot(db, "intermediate.int_time_entries")
    tables_incremental = {t: _table(db, t) for t in TABLES}
    matches_incremental = _time_bill_matches(db)

    full = run_build(full_refresh=True, settings=dbt_settings, raise_on_failure=False)
    assert full.success, full.failures
    assert _snapshot(db, "intermediate.int_time_entries") == after_incremental
    for table, rows in tables_incremental.items():
        assert _table(db, table) == rows, f"{table}: an incremental build and a full refresh differ"
    assert _time_bill_matches(db) == matches_incremental
    # the incremental build touched the changed days, not the history
    assert 0 < reprocessed < before[0] / 4


def _blocked_time_bills(db):
    return db.execute("""select block_reason_code, count(*), sum(_amount_at_stake) from outbound.erp_time_bills_blocked
                         group by 1 order by 1""").fetchall()


def test_a_psa_project_whose_engagement_key_changes_alone_pairs_its_time_as_a_full_refresh_does(built, dbt_settings,
                                                                                                   db):
    """A PSA project renamed (its engagement key goes, the ERP project's stays), then renamed back (it returns):
    after each, the time bills its old time pairs with, and what the time-bill sync holds back, are what a full
    refresh gives. (Incremental builds kept the old pairs until a full refresh: once the key came back, the old
    time that pairs with pre-hub time bills was held back as never posted, in closed periods.)"""
    from flows.transform import run_build

    project, title = db.execute("""
        select keys.project_id, workspaces.data ->> 'title' from intermediate.int_project_keys as keys
        join raw_kantata.workspaces as workspaces on workspaces.id = keys.project_id
        where keys.source_system = 'kantata' and keys.key_status = 'customer_name_dates' and exists (
            select 1 from intermediate.int_time_entries as entries
            where entries.psa_project_id = keys.project_id and entries.erp_posting_match = 'rule')
        order by keys.project_id limit 1""").fetchone()
    for new_title, keyed in (("Unrelated internal work", False), (title, True)):
        load_id = db.execute("""insert into ops.loads (run_id, system, object, status, completed_at)
                                values ('tests', 'kantata', 'workspaces', 'completed', now()) returning load_id""").fetchone()[0]
        db.execute("""update raw_kantata.workspaces set data = jsonb_set(data, '{title}', to_jsonb(%s::text)),
                      source_updated_at = source_updated_at + interval '1 second', _load_id = %s where id = %s""",
                   (new_title, load_id, project))
        incremental = run_build(settings=dbt_settings, raise_on_failure=False)
        assert incremental.success, incremental.failures
        assert db.execute("""select engagement_id is not null from intermediate.int_project_keys
                             where source_system = 'kantata' and project_id = %s""", (project,)).fetchone() == (keyed,)
        after_incremental = (_time_bill_matches(db), _snapshot(db, "intermediate.int_time_entries"),
                             _blocked_time_bills(db))
        full = run_build(full_refresh=True, settings=dbt_settings, raise_on_failure=False)
        assert full.success, full.failures
        assert _blocked_time_bills(db) == after_incremental[2]
        assert _time_bill_matches(db) == after_incremental[0]
        assert _snapshot(db, "intermediate.int_time_entries") == after_incremental[1]


def test_a_build_with_nothing_landed_builds_only_what_time_and_the_syncs_change(built, dbt_settings):
    from flows.transform import plan_build

    plan = plan_build(settings=dbt_settings)
    assert plan.changed_sources == []
    assert "int_as_of_date+" in plan.args and "source:ops.sync_ledger+" in plan.args


def test_without_a_successful_build_on_record_every_node_is_built(built, dbt_settings, tmp_path):
    from flows.transform import plan_build
    from pshub.settings import Settings

    elsewhere = Settings(home=tmp_path, database_url=dbt_settings.database_url.get_secret_value())
    plan = plan_build(settings=elsewhere)
    assert plan.changed_sources is None and "--select" not in plan.args and "--full-refresh" in plan.args
    assert plan.scope == "every node (full refresh: no successful build on record)"


def test_a_change_to_the_dbt_project_makes_the_next_build_a_full_refresh(built, dbt_settings):
    from flows.transform import plan_build, state_dir

    kept = state_dir(dbt_settings) / "build.json"
    original = kept.read_text()
    try:
        kept.write_text(json.dumps({**json.loads(original), "project": "the fingerprint of an older version"}))
        plan = plan_build(settings=dbt_settings)
        assert "--full-refresh" in plan.args
        assert plan.scope == "every node (full refresh: the dbt project changed since the last successful build)"
    finally:
        kept.write_text(original)
    assert "--full-refresh" not in plan_build(settings=dbt_settings).args


def test_a_failed_build_is_not_recorded_as_the_last_good_one(built, dbt_settings, db):
    from flows.transform import plan_build, record_build
    from pshub.dbt import DbtResult

    before = db.execute("select count(*) from ops.dbt_builds").fetchone()[0]
    plan = plan_build(settings=dbt_settings)
    record_build(plan, DbtResult(command="build", success=False, failures=["model.x: error: boom"]), dbt_settings)
    assert db.execute("select count(*) from ops.dbt_builds").fetchone()[0] == before


def test_dbt_sessions_leave_parallel_workers_to_spare_cores_only():
    from pshub.dbt import session_options

    assert session_options(threads=4, cores=2) == "-c max_parallel_workers_per_gather=0"
    assert session_options(threads=4, cores=16) == "-c max_parallel_workers_per_gather=3"
