"""The reverse-ETL engine against the sandbox: plan, push, ledger, exceptions, safety stop, concurrency."""
from __future__ import annotations

import dataclasses
import threading

import psycopg
import pytest

from pshub.clients import client_for
from reverse_etl import engine
from sync_test_defs import TIME_BILL_COLUMNS as COLUMNS


def time_bill_rows(refs, prefix: str, n: int, hours: float = 8.0):
    return [(f"{prefix}-{i:03d}", refs["employees"][i % len(refs["employees"])], refs["projects"][0], hours, 150,
             refs["date"], f"work {i}", "Acme Corp", "opp-1", hours * 150, "USD") for i in range(n)]


def apply(conn, sync, **kw):
    return engine.apply(conn, sync, "r-test", lambda: client_for(sync.destination), concurrency=5, **kw)


def timebills_in_erp(external_ids: list[str]) -> dict[str, dict]:
    ids = ", ".join("'" + e + "'" for e in external_ids)
    with client_for("netsuite") as ns:
        rows = [r for p in ns.suiteql_pages(f"SELECT id, externalid, hours, memo FROM timebill WHERE externalid IN ({ids})")
                for r in p]
    found: dict[str, dict] = {}
    for r in rows:
        assert r["externalid"] not in found, f"{r['externalid']} is in the ERP twice"
        found[r["externalid"]] = r
    return found


def test_apply_pushes_each_row_once_and_a_second_apply_makes_no_write_call(make_sync, conn, outbound_table, erp_refs,
                                                                             sandbox_admin):
    sync = make_sync("t_push", "timebills")
    rows = time_bill_rows(erp_refs, "push", 30)
    outbound_table("t_push", COLUMNS, rows)

    first = apply(conn, sync)
    assert (first.pushed, first.failed, first.invalid) == (30, 0, 0)
    in_erp = timebills_in_erp([r[0] for r in rows])
    assert set(in_erp) == {r[0] for r in rows}
    ledger = dict(conn.execute("select record_key, destination_id from ops.sync_ledger where sync_name = 't_push'"))
    assert ledger == {k: str(v["id"]) for k, v in in_erp.items()}

    writes_before = sandbox_admin.writes("netsuite")
    second = apply(conn, sync)
    assert (second.planned, second.pushed, second.write_calls) == (0, 0, 0)
    assert sandbox_admin.writes("netsuite") == writes_before


def test_a_changed_row_updates_the_record_already_pushed(make_sync, conn, outbound_table, erp_refs):
    sync = make_sync("t_change", "timebills")
    outbound_table("t_change", COLUMNS, time_bill_rows(erp_refs, "change", 3))
    apply(conn, sync)
    conn.execute("update outbound.t_change set hours = 2.5, memo = 'corrected' where external_id = 'change-001'")
    conn.commit()
    assert engine.plan_counts(conn, sync) == {"inserts": 0, "updates": 1, "unchanged": 2, "blocked": 0}
    result = apply(conn, sync)
    assert result.pushed == 1
    record = timebills_in_erp(["change-001"])["change-001"]
    assert float(record["hours"]) == 2.5 and record["memo"] == "corrected"


def test_invalid_rows_become_exceptions_with_business_context_and_the_rest_is_pushed(make_sync, conn, outbound_table, erp_refs):
    sync = make_sync("t_invalid", "timebills")
    rows = time_bill_rows(erp_refs, "inv", 4)
    rows[1] = (*rows[1][:3], None, *rows[1][4:])   # no hours
    rows[2] = (rows[2][0], None, *rows[2][2:])     # no employee
    outbound_table("t_invalid", COLUMNS, rows)
    result = apply(conn, sync)
    assert (result.pushed, result.invalid) == (2, 2)
    exceptions = {r[0]: r[1:] for r in conn.execute(
        "select record_key, stage, reason, customer, engagement, amount_at_stake from ops.sync_exceptions"
        " where sync_name = 't_invalid' and resolved_at is null")}
    assert exceptions["inv-001"][:2] == ("invalid", "hours is missing")
    assert exceptions["inv-002"][:2] == ("invalid", "employee is missing")
    assert exceptions["inv-002"][2:] == ("Acme Corp", "opp-1", 1200)


def test_a_record_the_destination_refuses_does_not_stop_the_batch_and_is_pushed_once_fixed(make_sync,
        conn, outbound_table, erp_refs):
    sync = make_sync("t_reject", "timebills")
    rows = time_bill_rows(erp_refs, "rej", 5)
    rows[3] = (rows[3][0], "99999999", *rows[3][2:])  # an employee the ERP does not know
    outbound_table("t_reject", COLUMNS, rows)
    result = apply(conn, sync)
    assert (result.pushed, result.failed) == (4, 1)
    stage, code, reason = conn.execute("select stage, reason_code, reason from ops.sync_exceptions"
                                       " where sync_name = 't_reject' and resolved_at is null").fetchone()
    assert (stage, code) == ("rejected", "INVALID_KEY_OR_REF") and "99999999" in reason

    conn.execute("update outbound.t_reject set employee = %s where external_id = 'rej-003'", (erp_refs["employees"][0],))
    conn.commit()
    again = apply(conn, sync)
    assert (again.planned, again.pushed, again.failed) == (1, 1, 0)
    assert conn.execute("select count(*) from ops.sync_exceptions where sync_name = 't_reject'"
                        " and resolved_at is null").fetchone()[0] == 0
    assert "rej-003" in timebills_in_erp(["rej-003"])


def test_held_back_rows_are_exceptions_with_their_reason_until_released(make_sync, conn, outbound_table, erp_refs):
    sync = make_sync("t_blocked", "timebills")
    rows = time_bill_rows(erp_refs, "blk", 3)
    outbound_table("t_blocked", COLUMNS, rows[:2], blocked=[(*rows[2], "closed_period")])
    result = apply(conn, sync)
    assert (result.pushed, result.blocked) == (2, 1)
    assert conn.execute("select stage, reason_code, amount_at_stake from ops.sync_exceptions where sync_name = 't_blocked'"
                        " and resolved_at is null").fetchone() == ("blocked", "closed_period", 1200)
    # the period reopens: dbt releases the row, the next apply pushes it and resolves the exception
    conn.execute("delete from outbound.t_blocked_blocked")
    conn.execute("insert into outbound.t_blocked values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", rows[2])
    conn.commit()
    again = apply(conn, sync)
    assert (again.pushed, again.blocked) == (1, 0)
    assert conn.execute("select count(*) from ops.sync_exceptions where sync_name = 't_blocked' and resolved_at is null"
                        ).fetchone()[0] == 0


def test_an_apply_with_nothing_new_writes_no_hold_and_only_what_changed_otherwise(make_sync, conn, outbound_table,
                                                                                   erp_refs):
    sync = make_sync("t_holds", "timebills")
    rows = time_bill_rows(erp_refs, "hold", 4)
    outbound_table("t_holds", COLUMNS, [], blocked=[(*r, "closed_period") for r in rows[:3]])
    assert apply(conn, sync).blocked == 3
    versions = "select record_key, xmin::text from ops.sync_exceptions where sync_name = 't_holds' and resolved_at is null"
    before = dict(conn.execute(versions))
    conn.commit()
    # nothing changed: every open hold is the same row version as before (xmin changes with any write)
    assert apply(conn, sync).blocked == 3
    assert dict(conn.execute(versions)) == before
    conn.commit()
    # one reason changes, one hold is added, one is released: those three rows are written, the unchanged one is not
    conn.execute("update outbound.t_holds_blocked set block_reason_code = 'unapproved_time' where external_id = 'hold-000'")
    conn.execute("delete from outbound.t_holds_blocked where external_id = 'hold-002'")
    conn.execute("insert into outbound.t_holds_blocked values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                 (*rows[3], "closed_period"))
    conn.commit()
    assert apply(conn, sync).blocked == 3
    after = dict(conn.execute(versions))
    assert set(after) == {"hold-000", "hold-001", "hold-003"}
    assert after["hold-001"] == before["hold-001"] and after["hold-000"] != before["hold-000"]
    assert conn.execute("select reason_code from ops.sync_exceptions where sync_name = 't_holds'"
                        " and record_key = 'hold-000' and resolved_at is null").fetchone()[0] == "unapproved_time"
    assert conn.execute("select resolved_at is not null from ops.sync_exceptions where sync_name = 't_holds'"
                        " and record_key = 'hold-002'").fetchone()[0]


def test_a_run_reads_the_model_and_its_held_back_twin_once_each(make_sync, conn, outbound_table, erp_refs,
                                                                 warehouse_url):
    """The outbound models are views that can take seconds to evaluate: a run stages its plan (rows to push, rows held
    back, counts) in one statement and takes the rest from it. Here the views count their evaluations: a volatile
    sequence read per row of each."""
    rows = time_bill_rows(erp_refs, "once", 4)
    outbound_table("t_once", COLUMNS, rows[:3], blocked=[(*rows[3], "closed_period")])
    sync = dataclasses.replace(make_sync("t_once", "timebills"), model_name="t_once_v")
    reads = ("select (select last_value * is_called::int from outbound.t_once_v_reads),"
             " (select last_value * is_called::int from outbound.t_once_b_reads)")
    with psycopg.connect(warehouse_url, autocommit=True) as admin:
        for view, table, seq in (("t_once_v", "t_once", "t_once_v_reads"),
                                 ("t_once_v_blocked", "t_once_blocked", "t_once_b_reads")):
            admin.execute(f"create sequence outbound.{seq}")
            admin.execute(f"create view outbound.{view} as select * from outbound.{table}"
                          f" where nextval('outbound.{seq}') > 0")
    try:
        first = apply(conn, sync)
        assert (first.pushed, first.blocked) == (3, 1)
        assert conn.execute(reads).fetchone() == (3, 1)
        conn.commit()
        again = apply(conn, sync)
        assert (again.planned, again.pushed, again.blocked) == (0, 0, 1)
        assert conn.execute(reads).fetchone() == (6, 2)
        assert conn.execute("select count(*) from ops.sync_exceptions where sync_name = 't_once' and resolved_at is null"
                            ).fetchone()[0] == 1
    finally:
        conn.rollback()
        with psycopg.connect(warehouse_url, autocommit=True) as admin:
            admin.execute("drop view if exists outbound.t_once_v, outbound.t_once_v_blocked")
            admin.execute("drop sequence if exists outbound.t_once_v_reads, outbound.t_once_b_reads")


def test_an_apply_asked_to_push_nothing_leaves_a_plan_with_records_alone_and_applies_a_no_op(make_sync, conn,
                                                                                              outbound_table, erp_refs):
    """What `pshub sync apply` runs in its own process: the syncs with nothing to push; the first with records to push
    goes to Prefect's sync flow, untouched here."""
    sync = make_sync("t_defer", "timebills")
    rows = time_bill_rows(erp_refs, "defer", 2)
    outbound_table("t_defer", COLUMNS, rows, blocked=[(*rows[1], "closed_period")])
    runs = "select count(*) from ops.sync_runs where sync_name = 't_defer'"
    before = conn.execute(runs).fetchone()[0]
    deferred = apply(conn, sync, only_if_nothing_to_push=True)
    assert (deferred.status, deferred.planned, deferred.pushed, deferred.blocked) == ("deferred", 2, 0, 0)
    assert conn.execute(runs).fetchone()[0] == before
    assert conn.execute("select count(*) from ops.sync_exceptions where sync_name = 't_defer'").fetchone()[0] == 0
    conn.commit()
    apply(conn, sync)
    no_op = apply(conn, sync, only_if_nothing_to_push=True)
    assert (no_op.status, no_op.planned, no_op.blocked) == ("succeeded", 0, 1)
    assert conn.execute(runs).fetchone()[0] == before + 2


def test_transient_errors_are_retried_until_every_row_is_pushed(make_sync, conn, outbound_table, erp_refs, sandbox_admin):
    sync = make_sync("t_faults", "timebills")
    rows = time_bill_rows(erp_refs, "flt", 40)
    outbound_table("t_faults", COLUMNS, rows)
    sandbox_admin.faults("netsuite", error_rate=0.2, rate_limit_rate=0.1, drop_rate=0.05)
    result = apply(conn, sync)
    sandbox_admin.faults("netsuite", error_rate=0, rate_limit_rate=0, drop_rate=0)
    assert (result.pushed, result.failed) == (40, 0)
    assert len(timebills_in_erp([r[0] for r in rows])) == 40


def test_a_plan_touching_too_much_of_what_a_sync_manages_is_refused_unless_confirmed(make_sync, conn, outbound_table, erp_refs):
    sync = make_sync("t_guard", "timebills")
    outbound_table("t_guard", COLUMNS, time_bill_rows(erp_refs, "grd", 10))
    assert apply(conn, sync, min_guarded=5).pushed == 10
    conn.execute("update outbound.t_guard set memo = 'mass edit'")
    conn.commit()
    refused = apply(conn, sync, min_guarded=5, max_share=0.5)
    assert refused.status == "refused" and refused.pushed == 0
    assert "would change 10 of the 10 records" in refused.message and "--confirm" in refused.message
    confirmed = apply(conn, sync, min_guarded=5, max_share=0.5, confirm=True)
    assert confirmed.status == "succeeded" and confirmed.pushed == 10


def test_the_safety_stop_lets_growth_through_and_refuses_only_a_growth_past_its_own_higher_limit(
        make_sync, conn, outbound_table, erp_refs):
    sync = make_sync("t_growth", "timebills")
    outbound_table("t_growth", COLUMNS, time_bill_rows(erp_refs, "gro", 10))
    assert apply(conn, sync, min_guarded=5).pushed == 10
    # a month of new time bills after a pause: 15 new on 10 managed is growth (150%), not a mass update
    conn.execute("insert into outbound.t_growth select * from (values " + ", ".join(
        ["(%s, %s, %s, %s, %s, %s::date, %s, %s, %s, %s, %s)"] * 15) + ") v",
        [v for r in time_bill_rows(erp_refs, "gro2", 15) for v in r])
    conn.commit()
    grown = apply(conn, sync, min_guarded=5, max_share=0.5, max_growth=2.0)
    assert grown.status == "succeeded" and grown.pushed == 15
    # 60 more new on 25 managed is past the growth limit (240% > 200%): refused, with how to confirm
    conn.execute("insert into outbound.t_growth select * from (values " + ", ".join(
        ["(%s, %s, %s, %s, %s, %s::date, %s, %s, %s, %s, %s)"] * 60) + ") v",
        [v for r in time_bill_rows(erp_refs, "gro3", 60) for v in r])
    conn.commit()
    refused = apply(conn, sync, min_guarded=5, max_share=0.5, max_growth=2.0)
    assert refused.status == "refused" and refused.pushed == 0
    assert "PSHUB_SYNC_MAX_GROWTH" in refused.message and "pshub sync apply t_growth --confirm" in refused.message


def test_two_applies_at_once_never_push_a_record_twice(make_sync, warehouse_url, outbound_table, erp_refs, sandbox_admin):
    sync = make_sync("t_twice", "timebills")
    rows = time_bill_rows(erp_refs, "two", 60)
    outbound_table("t_twice", COLUMNS, rows)
    sandbox_admin.latency(20)
    writes_before = sandbox_admin.writes("netsuite")
    results = []

    def run():
        with psycopg.connect(warehouse_url) as c:
            results.append(apply(c, sync))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sandbox_admin.latency(0)
    assert sorted(r.status for r in results) == ["skipped", "succeeded"]
    assert sum(r.pushed for r in results) == 60
    # the engine's batches of 50 and 10 rows: one batch request each (reverse_etl/pushers.py netsuite_upsert)
    assert sandbox_admin.writes("netsuite") - writes_before == 2
    assert len(timebills_in_erp([r[0] for r in rows])) == 60
