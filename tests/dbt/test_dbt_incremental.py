"""Incremental builds: after the firm moves on (sandbox tick) and every kind of input the time models read changes, a
cycle's build (only the nodes downstream of what changed; incremental models recomputing only what the change set
names) gives the same rows as a full refresh, in every mart."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from psycopg.types.json import Jsonb
from rawload import land_firm

COMPARED = """psa_time_entry_id, psa_project_id, engagement_id, erp_project_id, psa_user_id, erp_employee_id, work_date,
    minutes, hours, bill_rate, cost_rate, rate_card_rate, is_billable, is_approved, is_invoiced, is_internal,
    project_status, is_period_closed, is_entered_after_period_close, erp_time_bill_id, erp_posting_match,
    rate_to_reporting, is_on_inactive_project, is_after_assignment_end, is_duplicate, is_over_24_hours_day,
    is_non_positive, is_zero_rate_billable, is_rate_off_card, is_unapproved_marked_billed, approved_bill_value,
    approved_cost_value, approved_standard_value, is_posted_to_erp, breaks_a_data_quality_rule"""

# besides every mart, whole: the intermediate tables the incremental marts are built from
INTERMEDIATE = ["intermediate.int_engagement_facts", "intermediate.int_as_of_date", "intermediate.int_time_entry_first_day",
                "intermediate.int_calendar_days", "intermediate.int_allocations", "intermediate.int_time_engagement_months",
                "intermediate.int_time_resource_weeks", "intermediate.int_time_bills", "intermediate.int_time_entry_issues",
                "intermediate.int_data_quality_issues", "intermediate.int_engagement_month_inputs",
                "intermediate.int_sync_erp_record_routes"]


def _snapshot(db, table):
    return db.execute(f"select {COMPARED} from {table} order by psa_time_entry_id").fetchall()


def _time_bill_matches(db):
    return db.execute("""select erp_time_bill_id, psa_time_entry_id, match_method, engagement_id, work_date, hours
                         from intermediate.int_time_bill_matches order by erp_time_bill_id""").fetchall()


def _all_relations(db, schema):
    """Every table and view of `schema` (a view's rows, read after each build, are what it shows then)."""
    return [r[0] for r in db.execute(
        """select table_schema || '.' || table_name from information_schema.tables
           where table_schema = %s and table_type in ('BASE TABLE', 'VIEW') order by 1""", (schema,))]


def _table(db, table):
    """Every row of `table` (columns not starting with _), in a stable order."""
    columns = [r[0] for r in db.execute(
        """select column_name from information_schema.columns
           where table_schema || '.' || table_name = %s and column_name not like '\\_%%' order by ordinal_position""",
        (table,))]
    assert columns, table
    return sorted(db.execute(f"select {', '.join(columns)} from {table}").fetchall(), key=repr)


def _landing(db, system: str, obj: str) -> int:
    """A completed load, as the ingest records one, for the changes a test writes into raw_<system>.<obj>."""
    return db.execute("""insert into ops.loads (run_id, system, object, status, completed_at)
                         values ('tests', %s, %s, 'completed', now()) returning load_id""", (system, obj)).fetchone()[0]


def _change(db, table: str, record_id: str, load_id: int, **fields) -> None:
    """One raw record changed as a landing writes it: fields set in its data, a newer source time, the load's id."""
    data = db.execute(f"select data from {table} where id = %s", (record_id,)).fetchone()[0]
    data.update(fields)
    db.execute(f"""update {table} set data = %s, source_updated_at = source_updated_at + interval '1 second',
                   _load_id = %s where id = %s""", (Jsonb(data), load_id, record_id))


def _every_kind_of_change(db) -> dict:
    """One landing per object with each kind of input the time models read (besides the days of `sandbox tick`):
    entries changed, moved to another engagement and deleted; a time bill returned with other hours and one deleted;
    a rate card rate changed; a person's ERP employee with another labour cost that no longer matches them; a deal no
    longer won (its projects lose their engagement key); an open accounting period with time closed. Each picks a
    different engagement or person where it can, so that one change does not hide another's."""
    picked = {}
    entries = db.execute("""select psa_time_entry_id, engagement_id, psa_user_id from intermediate.int_time_entries
                            where engagement_id is not null and is_approved and erp_time_bill_id is null
                            order by work_date, psa_time_entry_id limit 40""").fetchall()
    deleted, moved, changed = entries[0], entries[10], entries[20]
    kantata = _landing(db, "kantata", "time_entries")
    db.execute("update raw_kantata.time_entries set is_deleted = true, _load_id = %s where id = %s", (kantata, deleted[0]))
    target = db.execute("""select project_id from intermediate.int_project_keys
                           where source_system = 'kantata' and engagement_id is not null and engagement_id <> %s
                           order by project_id limit 1""", (moved[1],)).fetchone()[0]
    _change(db, "raw_kantata.time_entries", moved[0], kantata, workspace_id=target)
    _change(db, "raw_kantata.time_entries", changed[0], kantata, time_in_minutes=600)
    picked.update(deleted=deleted[0], moved=moved[0], changed=changed[0])

    # a time bill returned by the ERP with other hours (it no longer pairs by rule), and one deleted there
    bills = db.execute("""select erp_time_bill_id from intermediate.int_time_bill_matches
                          where psa_time_entry_id is not null order by erp_time_bill_id limit 2""").fetchall()
    netsuite = _landing(db, "netsuite", "timebill")
    _change(db, "raw_netsuite.timebill", bills[0][0], netsuite, hours="7.25", billed="T")
    db.execute("update raw_netsuite.timebill set is_deleted = true, _load_id = %s where id = %s", (netsuite, bills[1][0]))
    picked.update(bill_returned=bills[0][0], bill_deleted=bills[1][0])
    # the hub's own time bills coming back (the echo of sync erp_time_bills: external id = the entry, its person, day
    # and hours): one for an entry nothing was posted for (its bill alone is recomputed, not its day), and one for an
    # entry that paired by rule with a time bill from before the hub (that bill loses its pair: the day is)
    template = db.execute("select data from raw_netsuite.timebill where not is_deleted order by id limit 1").fetchone()[0]
    unposted = db.execute("""select psa_time_entry_id from intermediate.int_time_entries
                             where erp_time_bill_id is null and erp_employee_id is not null and engagement_id is not null
                               and psa_user_id not in (%s, %s, %s)
                             order by psa_time_entry_id desc limit 1""", (deleted[2], moved[2], changed[2])).fetchone()[0]
    rule_paired = db.execute("""select psa_time_entry_id, erp_time_bill_id from intermediate.int_time_entries
                                where erp_posting_match = 'rule' and erp_time_bill_id not in (%s, %s)
                                order by psa_time_entry_id limit 1""", (bills[0][0], bills[1][0])).fetchone()
    for n, entry in enumerate((unposted, rule_paired[0])):
        employee, project, work_date, hours = db.execute(
            """select erp_employee_id, erp_project_id, work_date, hours from intermediate.int_time_entries
               where psa_time_entry_id = %s""", (entry,)).fetchone()
        data = {**template, "id": f"echo-{n}", "externalid": entry, "employee": employee,
                "customer": project, "trandate": work_date.isoformat(), "hours": str(hours), "billed": "F",
                "invoice": None}
        db.execute("""insert into raw_netsuite.timebill (id, data, source_updated_at, _load_id)
                      values (%s, %s, now(), %s)""", (f"echo-{n}", Jsonb(data), netsuite))
    picked.update(echo_posted=unposted, echo_rule_paired=rule_paired[0], rule_bill=rule_paired[1])

    # rates: a rate card role's rate, and a person's labour cost in the ERP
    rate = db.execute("""select rates.psa_rate_card_role_id from staging.stg_kantata__rate_card_roles as rates
                         join intermediate.int_psa_projects as projects using (psa_rate_card_id)
                         join intermediate.int_time_entries as entries
                           on entries.psa_project_id = projects.psa_project_id and entries.psa_role_id = rates.psa_role_id
                         group by 1 order by count(*), 1 limit 1""").fetchone()[0]
    _change(db, "raw_kantata.rate_card_roles", rate, _landing(db, "kantata", "rate_card_roles"), rate_in_cents=12345)
    # a person: their ERP employee's labour cost changes, and the record no longer matches them (neither external id
    # nor email), so every entry of theirs loses its ERP employee and their time bills their pairs (the person with
    # the least time, none of the entries above)
    employee, person = db.execute("""
        select resources.erp_employee_id, resources.psa_user_id from intermediate.int_resources_matched as resources
        join intermediate.int_time_entries as entries using (psa_user_id)
        where resources.erp_employee_id is not null and entries.psa_user_id not in (%s, %s, %s)
        group by 1, 2 order by count(*), 2 limit 1""", (deleted[2], moved[2], changed[2])).fetchone()
    _change(db, "raw_netsuite.employee", employee, _landing(db, "netsuite", "employee"), laborcost="99.5",
            externalid=None, email="someone.else@example.invalid")
    picked["person_unmatched"] = person

    # a project's key: the deal of an engagement with (the least) time is no longer won, so its projects lose their key
    deal = db.execute("""select engagement_id from intermediate.int_time_engagement_months
                         where engagement_id not in (%s, %s, %s)
                         group by 1 order by sum(entry_count), 1 limit 1""",
                      (deleted[1], moved[1], changed[1])).fetchone()[0]
    _change(db, "raw_salesforce.opportunity", deal, _landing(db, "salesforce", "opportunity"), IsWon=False,
            StageName="Closed Lost")
    picked["deal_lost"] = deal
    # an engagement's legal entity: another deal (with billable time to route, none of the above) moves to another
    # entity, so its time and expenses go to another ERP company (int_sync_erp_record_routes routes them again)
    moved_deal, entity = db.execute("""
        select routes.engagement_id, facts.legal_entity from intermediate.int_sync_erp_record_routes as routes
        join intermediate.int_engagement_facts as facts using (engagement_id)
        where routes.sync_name = 'erp_time_bills' and routes.engagement_id not in (%s, %s, %s, %s)
        group by 1, 2 order by count(*), 1 limit 1""", (deleted[1], moved[1], changed[1], deal)).fetchone()
    other = db.execute("select legal_entity from mappings.legal_entities where legal_entity <> %s order by 1 limit 1",
                       (entity,)).fetchone()[0]
    _change(db, "raw_salesforce.opportunity", moved_deal, _landing(db, "salesforce", "opportunity"),
            Legal_Entity__c=other)
    picked["deal_moved"] = (moved_deal, other)

    # a period closed: the open period with the least approved billable time (some)
    period = db.execute("""select periods.erp_accounting_period_id
                           from intermediate.int_accounting_periods as periods
                           join intermediate.int_time_entries as entries
                             on entries.work_date between periods.start_date and periods.end_date
                           where periods.erp_system = 'netsuite' and not periods.is_closed
                             and entries.is_approved and entries.is_billable
                           group by 1 order by count(*), 1 limit 1""").fetchone()[0]
    _change(db, "raw_netsuite.accountingperiod", period, _landing(db, "netsuite", "accountingperiod"), closed="T")
    picked["period_closed"] = period
    return picked


# the finance tables the incremental models that apply ERP records are compared by, besides every mart
FINANCE = ["intermediate.int_payment_applications"]


def _erp_finance_changes(db, bills_changed: list[str]) -> dict:
    """One landing per ERP finance object an incremental finance model reads: in NetSuite a payment deleted (its links
    stay in the raw table, and apply to nothing), a link landed again with another amount and one deleted; a billing
    run landing one of the hub's time bills again as it was, billed now on an invoice (its pair is the same: it names
    no day of int_time_entries)."""
    applications = db.execute("""select payment_application_id, erp_payment_id from intermediate.int_payment_applications
                                 where erp_system = 'netsuite' order by erp_payment_id, payment_application_id""").fetchall()
    by_payment = {}
    for application, payment in applications:
        by_payment.setdefault(payment, []).append(application)
    payments = sorted(by_payment)
    deleted_payment, relanded, deleted_link = payments[0], by_payment[payments[1]][0], by_payment[payments[2]][0]
    db.execute("update raw_netsuite.transaction set is_deleted = true, _load_id = %s where id = %s",
               (_landing(db, "netsuite", "transaction"), deleted_payment))
    links = _landing(db, "netsuite", "previoustransactionlink")
    _change(db, "raw_netsuite.previoustransactionlink", relanded, links, foreignamount="-12.34")
    db.execute("update raw_netsuite.previoustransactionlink set is_deleted = true, _load_id = %s where id = %s",
               (links, deleted_link))

    bill, invoice = db.execute("""select matches.erp_time_bill_id, invoices.erp_invoice_id
                                  from intermediate.int_time_bill_matches as matches
                                  join intermediate.int_time_bills as bills using (erp_time_bill_id)
                                  cross join (select min(erp_invoice_id) as erp_invoice_id from intermediate.int_invoices
                                              where erp_system = 'netsuite') as invoices
                                  where matches.psa_time_entry_id is not null and matches.erp_system = 'netsuite'
                                    and not bills.is_billed and matches.erp_time_bill_id <> all(%s)
                                  order by matches.match_method = 'external_id' desc, 1 limit 1""",
                                (bills_changed,)).fetchone()
    _change(db, "raw_netsuite.timebill", bill, _landing(db, "netsuite", "timebill"), billed="T", invoice=invoice)
    return {"payment_deleted": deleted_payment, "link_relanded": relanded, "link_deleted": deleted_link,
            "bill_billed": bill}


def _assert_erp_finance_applied(db, picked: dict) -> None:
    """After the incremental build: the deleted payment's applications and the deleted link are gone, the link landed
    again applies its new amount."""
    assert db.execute("""select count(*) from intermediate.int_payment_applications
                         where erp_payment_id = %s or payment_application_id = %s""",
                      (picked["payment_deleted"], picked["link_deleted"])).fetchone() == (0,)
    assert db.execute("""select amount_applied from intermediate.int_payment_applications
                         where payment_application_id = %s""", (picked["link_relanded"],)).fetchone() == (Decimal("12.34"),)


def _engagement_month_input_changes(db, picked: dict) -> dict:
    """The inputs of engagement_monthly besides time and terms (int_engagement_month_inputs' rows 'other'): an approved
    expense, alone in its engagement's month, moved to a project of another engagement (the month it leaves goes: only
    the rows held know that engagement), and a milestone of a keyed project completed. Engagements none of the other
    changes picked."""
    taken = [picked["deal_lost"], picked["deal_moved"][0]]
    expense, engagement = db.execute("""
        select expenses.psa_expense_id, expenses.engagement_id from intermediate.int_expenses as expenses
        where expenses.engagement_id is not null and expenses.is_approved and expenses.engagement_id <> all(%s)
          and not exists (select 1 from intermediate.int_expenses as others
                          where others.engagement_id = expenses.engagement_id
                            and others.expense_month = expenses.expense_month
                            and others.psa_expense_id <> expenses.psa_expense_id)
          and not exists (select 1 from intermediate.int_invoices as invoices
                          where invoices.engagement_id = expenses.engagement_id
                            and date_trunc('month', invoices.invoice_date) = expenses.expense_month)
        order by expenses.psa_expense_id limit 1""", (taken,)).fetchone()
    target = db.execute("""select project_id from intermediate.int_project_keys
                           where source_system = 'kantata' and engagement_id is not null
                             and engagement_id <> all(%s)
                           order by project_id desc limit 1""", (taken + [engagement],)).fetchone()[0]
    _change(db, "raw_kantata.expenses", expense, _landing(db, "kantata", "expenses"), workspace_id=target)
    milestone = db.execute("""
        select stories.psa_story_id from intermediate.int_psa_tasks as stories
        join intermediate.int_engagement_facts as facts using (psa_project_id)
        where stories.psa_system = 'kantata' and stories.story_type = 'milestone' and stories.state <> 'completed'
          and facts.engagement_id <> all(%s)
        order by stories.psa_story_id limit 1""", (taken + [engagement],)).fetchone()[0]
    _change(db, "raw_kantata.stories", milestone, _landing(db, "kantata", "stories"), state="completed")
    return {"expense_moved": (expense, engagement), "milestone_completed": milestone}


def test_incremental_after_every_kind_of_change_equals_full_refresh(built, firm, dbt_settings, dbt_url, db):
    from flows.transform import plan_build, run_build, state_dir
    from sandbox.simulate import tick

    assert built.success
    kept = json.loads((state_dir(dbt_settings) / "build.json").read_text())
    assert db.execute("select load_watermark > 0 from ops.dbt_builds where build_id = %s",
                      (kept["build_id"],)).fetchone() == (True,)
    before = db.execute("select count(*), max(_load_watermark) from intermediate.int_time_entries").fetchone()
    tick(firm, 3)  # three days of new time (entries added), approvals, invoices and payments
    landed = land_firm(Path(firm.path), dbt_url)
    assert landed["kantata.time_entries"] > 0
    picked = _every_kind_of_change(db)
    picked.update(_erp_finance_changes(db, [picked["bill_returned"], picked["bill_deleted"]]))
    picked.update(_engagement_month_input_changes(db, picked))

    plan = plan_build(settings=dbt_settings)
    assert {"kantata.time_entries", "netsuite.timebill", "kantata.rate_card_roles", "netsuite.employee",
            "salesforce.opportunity", "netsuite.accountingperiod"} <= set(plan.changed_sources)

    relations = _relations(db)
    sessions = _sessions(db)
    incremental = run_build(settings=dbt_settings, raise_on_failure=False)  # as each cycle runs it
    assert incremental.success, incremental.failures
    assert incremental.scope.startswith("nodes downstream")
    # kept in place (macros/materializations.sql): every table and view is the same relation, its rows refilled
    assert _relations(db) == relations
    # dbt's threads kept their connections (pshub.dbt): a handful of sessions for over a hundred nodes and tests
    assert len(incremental.built) + incremental.tests_passed > 100
    assert _sessions(db) - sessions < 20
    assert len(incremental.built) < len(built.built)  # staging of unchanged objects, seeds: left alone
    # the change set names every kind of input changed
    inputs = {r[0] for r in db.execute("select distinct changed_input from intermediate.int_time_changes")}
    assert {"kantata.time_entries", "kantata.time_entries (deleted)", "netsuite.timebill", "netsuite.timebill (deleted)",
            "kantata.rate_card_roles", "netsuite.employee", "int_project_keys", "netsuite.accountingperiod"} <= inputs
    # the person's entries lost their ERP employee (what the full refresh below must agree with)
    assert db.execute("""select count(*) from intermediate.int_time_entries
                         where psa_user_id = %s and erp_employee_id is not null""",
                      (picked["person_unmatched"],)).fetchone() == (0,)
    # the echoes: each paired by its external id; the time bill from before the hub that the second entry paired
    # with lost it
    assert db.execute("""select psa_time_entry_id, match_method from intermediate.int_time_bill_matches
                         where erp_time_bill_id in ('echo-0', 'echo-1') order by 1""").fetchall() == sorted(
        [(picked["echo_posted"], "external_id"), (picked["echo_rule_paired"], "external_id")])
    assert db.execute("""select psa_time_entry_id is distinct from %s from intermediate.int_time_bill_matches
                         where erp_time_bill_id = %s""", (picked["echo_rule_paired"], picked["rule_bill"])).fetchone() == (True,)
    # the moved entry keeps the engagement it left, so that the time sums recount that engagement's month
    assert db.execute("""select _engagement_id_before is distinct from engagement_id from intermediate.int_time_entries
                         where psa_time_entry_id = %s""", (picked["moved"],)).fetchone() == (True,)
    # the engagement an expense left: its month holds nothing else, so its row there is gone (int_engagement_month_inputs)
    assert db.execute("""select count(*) from intermediate.int_engagement_month_inputs as inputs
                         join intermediate.int_expenses as expenses
                           on expenses.psa_expense_id = %s and inputs.month_start = expenses.expense_month
                         where inputs.engagement_id = %s and inputs.row_kind = 'other'""",
                      picked["expense_moved"]).fetchone() == (0,)
    # the engagement moved to another legal entity: every record of it routed by that entity now
    routed, by_new_entity = db.execute("""select count(*), count(*) filter (where _legal_entity = %s)
                                          from intermediate.int_sync_erp_record_routes where engagement_id = %s""",
                                       (picked["deal_moved"][1], picked["deal_moved"][0])).fetchone()
    assert routed == by_new_entity > 0
    _assert_erp_finance_applied(db, picked)
    reprocessed = db.execute("""select count(*) from intermediate.int_time_entries
                                where _load_watermark > %s""", (before[1],)).fetchone()[0]
    after_incremental = _snapshot(db, "intermediate.int_time_entries")
    marts = _all_relations(db, "marts")
    assert len(marts) >= 8 and "marts.system_reconciliation" in marts
    tables_incremental = {t: _table(db, t) for t in marts + INTERMEDIATE + FINANCE}
    matches_incremental = _time_bill_matches(db)

    full = run_build(full_refresh=True, settings=dbt_settings, raise_on_failure=False)
    assert full.success, full.failures
    assert _snapshot(db, "intermediate.int_time_entries") == after_incremental
    for table, rows in tables_incremental.items():
        full_rows = _table(db, table)
        assert full_rows == rows, (f"{table}: an incremental build and a full refresh differ; only in the full refresh: "
                                   f"{sorted(set(full_rows) - set(rows), key=repr)[:5]}, only in the incremental build: "
                                   f"{sorted(set(rows) - set(full_rows), key=repr)[:5]}")
    assert _time_bill_matches(db) == matches_incremental
    # the incremental build touched the changed days, projects, people and period, not the history
    assert 0 < reprocessed < before[0] / 3


# the incremental marts whose data tests check, in a cycle, the rows written since the last successful build
# (__rewritten_since_last_build__, macros/test_where.sql): each with a row to copy and the tests that must fail
REWRITTEN_MARTS = {
    "marts.resource_utilization_weekly": ("resource_week_id", ["test.primary_key_resource_utilization_weekly_"]),
    "marts.engagement_monthly": ("engagement_month_id", ["test.primary_key_engagement_monthly_",
                                                          "test.not_null_engagement_monthly_engagement_id"]),
}


def test_a_cycle_tests_the_mart_rows_it_wrote_and_a_bad_one_among_them_fails_it(built, dbt_settings, db):
    """The marts' data tests in a cycle read only the rows written since the last successful build: bad rows written
    since (a key written twice, a row with no engagement) fail the build; a key twice among the rows stamped before
    that build is left to the weekly full refresh, which reads every row."""
    from flows.transform import run_build

    assert run_build(settings=dbt_settings, raise_on_failure=False).success  # the last good build, on record

    def plant(written_at: str, copies: int) -> None:
        for table, (key, _) in REWRITTEN_MARTS.items():
            columns = [r[0] for r in db.execute(
                """select column_name from information_schema.columns
                   where table_schema || '.' || table_name = %s and column_name <> '_written_at'
                   order by ordinal_position""", (table,))]
            # copies of its first row (in a group no cycle rewrites now): the same key again
            db.execute(f"""insert into {table} ({', '.join(columns)}, _written_at)
                           select {', '.join(columns)}, {written_at} from {table}
                           cross join generate_series(1, {copies})
                           where {key} = (select min({key}) from {table})""")
        db.execute(f"""insert into marts.engagement_monthly (engagement_month_id, engagement_id, month_start, _written_at)
                       values ('planted:2000-01', null, date '2000-01-01', {written_at})""")

    def remove_planted() -> None:
        for table, (key, _) in REWRITTEN_MARTS.items():
            db.execute(f"""delete from {table} as rows using (
                               select {key} as key, min(ctid) as kept from {table} group by 1 having count(*) > 1
                           ) as duplicated where rows.{key} = duplicated.key and rows.ctid <> duplicated.kept""")
        db.execute("delete from marts.engagement_monthly where engagement_month_id = 'planted:2000-01'")

    try:
        # a key twice, as if written by a build before the last good one: not read again (a build rewrites a group
        # whole, so that a key written since cannot be one held from before)
        plant("timestamp '2000-01-01'", copies=1)
        assert run_build(settings=dbt_settings, raise_on_failure=False).success
        remove_planted()
        plant("localtimestamp", copies=2)  # as if the build wrote a key twice
        failed = run_build(settings=dbt_settings, raise_on_failure=False)
        assert not failed.success
        for table, (_, tests) in REWRITTEN_MARTS.items():
            for test in tests:
                assert any(f.startswith(test) for f in failed.failures), (test, failed.failures)
    finally:
        remove_planted()
    assert run_build(settings=dbt_settings, raise_on_failure=False).success


def _relations(db):
    """Each table and view dbt builds, by its object id (one that is dropped and created again gets a new one)."""
    return dict(db.execute("""select n.nspname || '.' || c.relname, c.oid::bigint from pg_class c
                              join pg_namespace n on n.oid = c.relnamespace
                              where n.nspname in ('staging', 'intermediate', 'marts', 'outbound') and c.relkind in ('r', 'v')
                              order by 1""").fetchall())


def _sessions(db) -> int:
    """Sessions ever opened on this database (PostgreSQL counts each when it ends)."""
    db.execute("select pg_stat_clear_snapshot()")
    return db.execute("select sessions from pg_stat_database where datname = current_database()").fetchone()[0]


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
    named = plan.args[plan.args.index("--select") + 1:plan.args.index("--exclude-resource-type")]
    assert {"int_as_of_date", "int_time_changes"} <= set(named)
    assert "int_psa_time_entries" not in named  # a view over a raw table


def _dbt_ls(settings, select: list[str]) -> set[str]:
    """The unique ids `dbt ls --select <select>` with INCREMENTAL_EXCLUDES lists (dbt's own selection), less the
    exposures, metrics and semantic models (never built)."""
    from dbt.cli.main import dbtRunner

    from flows.transform import INCREMENTAL_EXCLUDES
    from pshub import dbt as hub_dbt

    _, work = hub_dbt._profile_env(settings)
    listed = dbtRunner().invoke(["ls", "--select", *select, *INCREMENTAL_EXCLUDES, "--output", "json",
                                 "--output-keys", "unique_id", "--quiet", "--no-write-json",
                                 "--project-dir", str(hub_dbt.PROJECT_DIR), "--profiles-dir", str(hub_dbt.PROFILES_DIR),
                                 "--target-path", str(work / "target"), "--log-path", str(work / "logs")])
    assert listed.success, listed.exception
    return {uid for uid in (json.loads(line)["unique_id"] for line in listed.result)
            if uid.split(".")[0] in ("model", "snapshot", "seed", "test")}


def test_an_incremental_build_selects_what_dbts_selectors_do_less_the_views_there_and_keeps_their_tests(
        built, dbt_settings, db):
    """pruned_selection against dbt's own selection of the same nodes (every raw table landed): the same nodes, less
    the views that exist; their tests stay selected; a view that is missing is selected."""
    from flows import transform

    manifest = json.loads((transform.state_dir(dbt_settings) / "manifest.json").read_text())
    nodes = manifest["nodes"]
    landed = sorted(f"{s['source_name']}.{s['name']}" for s in manifest["sources"].values()
                    if s["schema"].startswith("raw_"))
    views_there = transform.dbt_views(db)
    view_ids = {uid for uid, n in nodes.items() if n["resource_type"] == "model" and n["config"]["materialized"] == "view"}
    dbts = _dbt_ls(dbt_settings, [*(f"source:{name}+" for name in (*transform.ALWAYS_SOURCES, *landed)),
                                  *(f"{name}+" for name in transform.ALWAYS_DOWNSTREAM), *transform.ALWAYS_ALONE])
    assert len(dbts & view_ids) > 50 and all((nodes[uid]["schema"], nodes[uid]["alias"]) in views_there
                                             for uid in dbts & view_ids)
    ours = _dbt_ls(dbt_settings, transform.pruned_selection(manifest, landed, views_there))
    assert ours == dbts - view_ids
    views_tests = {uid for uid in ours if nodes[uid]["resource_type"] == "test"
                   and set(nodes[uid]["depends_on"]["nodes"]) <= view_ids}
    assert len(views_tests) > 20  # e.g. the int_sync_ views' tests
    missing = next(uid for uid in sorted(dbts & view_ids) if nodes[uid]["schema"] == "staging")
    names = transform.pruned_selection(manifest, landed, views_there - {(nodes[missing]["schema"],
                                                                          nodes[missing]["alias"])})
    assert nodes[missing]["name"] in names


def test_views_missing_before_an_incremental_build_are_made_by_it(built, dbt_settings, db):
    """A pruned build leaves out the views that exist, and makes those that do not (here one dropped with the
    views over it)."""
    from flows.transform import dbt_views, plan_build, run_build

    def views():
        return {name for _, name in dbt_views(db)}

    before = views()
    db.execute("drop view intermediate.int_sync_crm_invoices cascade")  # downstream of the sync ledger: every cycle's
    dropped = before - views()
    assert {"int_sync_crm_invoices", "crm_invoices"} <= dropped
    assert dropped <= set(plan_build(settings=dbt_settings).args)
    result = run_build(settings=dbt_settings)
    assert not result.failures and {f"model.{name}" for name in dropped} <= set(result.built)
    assert views() == before
    assert not dropped & set(plan_build(settings=dbt_settings).args)  # there again: left out of the next build


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


def test_a_change_of_the_reporting_currency_makes_the_next_build_a_full_refresh(built, dbt_settings):
    from flows.transform import plan_build

    assert "--full-refresh" not in plan_build(settings=dbt_settings).args
    elsewhere = dbt_settings.model_copy(update={"reporting_currency": "EUR"})  # the amounts kept are in USD
    assert "--full-refresh" in plan_build(settings=elsewhere).args


def test_a_failed_build_is_not_recorded_as_the_last_good_one(built, dbt_settings, db):
    from flows.transform import plan_build, record_build
    from pshub.dbt import DbtResult

    before = db.execute("select count(*) from ops.dbt_builds").fetchone()[0]
    plan = plan_build(settings=dbt_settings)
    record_build(plan, DbtResult(command="build", success=False, failures=["model.x: error: boom"]), dbt_settings)
    assert db.execute("select count(*) from ops.dbt_builds").fetchone()[0] == before


def test_a_parse_done_ahead_is_the_one_the_next_build_uses(built, dbt_settings, monkeypatch):
    """A cycle's process parses the project while Prefect's API starts (flows.hub.WARM_UP); its dbt invocation then
    parses no more."""
    from dbt.cli.main import dbtRunner

    from pshub import dbt as hub_dbt

    invoked = []
    real = dbtRunner.invoke
    monkeypatch.setattr(dbtRunner, "invoke", lambda self, args, **kw: invoked.append(args[0]) or real(self, args, **kw))
    hub_dbt._parsed.clear()
    hub_dbt.parse_ahead(dbt_settings)
    assert invoked == ["parse"]
    result = hub_dbt.run_dbt(["compile", "--select", "int_as_of_date", "--no-write-json"], settings=dbt_settings)
    assert result.success and invoked == ["parse", "compile"]


def test_a_parse_in_the_background_is_the_one_a_build_started_meanwhile_uses(built, dbt_settings, monkeypatch):
    """A cycle starts dbt's parse beside its ingest (pshub.dbt.parse_in_background); its build, started while that
    parse may still run, waits for it and parses no more; a process that holds a parse starts none."""
    from dbt.cli.main import dbtRunner

    from pshub import dbt as hub_dbt

    invoked = []
    real = dbtRunner.invoke
    monkeypatch.setattr(dbtRunner, "invoke", lambda self, args, **kw: invoked.append(args[0]) or real(self, args, **kw))
    hub_dbt._parsed.clear()
    thread = hub_dbt.parse_in_background(dbt_settings)
    assert thread is not None
    result = hub_dbt.run_dbt(["compile", "--select", "int_as_of_date", "--no-write-json"], settings=dbt_settings)
    thread.join(timeout=300)
    assert not thread.is_alive()
    assert result.success and invoked == ["parse", "compile"]
    assert hub_dbt.parse_in_background(dbt_settings) is None


def test_dbt_sessions_leave_parallel_workers_to_spare_cores_only():
    from pshub.dbt import session_options

    assert session_options(threads=4, cores=2) == "-c max_parallel_workers_per_gather=0"
    assert session_options(threads=4, cores=16) == "-c max_parallel_workers_per_gather=3"


def test_a_payment_deleted_then_landed_again_applies_as_a_full_refresh_does(built, dbt_settings, db):
    """A NetSuite payment deleted (its links, still landed, apply to nothing), then landed again with none of its links
    landing: after the second incremental build its links apply again (int_payment_applications applies again each
    link it does not hold), and every mart is what a full refresh gives."""
    from flows.transform import run_build

    payment = db.execute("""select erp_payment_id from intermediate.int_payment_applications
                            where erp_system = 'netsuite' order by erp_payment_id desc limit 1""").fetchone()[0]
    for deleted in (True, False):
        db.execute("update raw_netsuite.transaction set is_deleted = %s, _load_id = %s where id = %s",
                   (deleted, _landing(db, "netsuite", "transaction"), payment))
        incremental = run_build(settings=dbt_settings, raise_on_failure=False)
        assert incremental.success, incremental.failures
        held = db.execute("select count(*) from intermediate.int_payment_applications where erp_payment_id = %s",
                          (payment,)).fetchone()[0]
        assert (held == 0) == deleted
    tables = FINANCE + _all_relations(db, "marts")
    after_incremental = {t: _table(db, t) for t in tables}
    full = run_build(full_refresh=True, settings=dbt_settings, raise_on_failure=False)
    assert full.success, full.failures
    for table in tables:
        assert _table(db, table) == after_incremental[table], table
