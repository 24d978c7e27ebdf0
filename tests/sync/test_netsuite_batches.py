"""NetSuite syncs in batch requests of up to 100 (asynchronous jobs), over real HTTP to the sandbox: one write call a
batch, a refused record refused alone, a batch retried after a lost answer or a 5xx makes no second record."""
from __future__ import annotations

import dataclasses
import uuid

import httpx
import pytest

from pshub.clients import client_for
from reverse_etl import engine
from sync_test_defs import TIME_BILL_COLUMNS as COLUMNS
from sync_test_defs import apply_again, ledger_of


def rows_of(refs, prefix: str, n: int, hours: float = 8.0):
    return [(f"{prefix}-{i:04d}", refs["employees"][i % len(refs["employees"])], refs["projects"][0], hours, 150,
             refs["date"], f"work {i}", "Acme Corp", "opp-1", hours * 150, "USD") for i in range(n)]


def batch_sync(make_sync, name: str):
    """The test time bill sync as the hub's NetSuite syncs run: 500 rows a batch of the engine."""
    return dataclasses.replace(make_sync(name, "timebills"), batch_size=500)


def apply(conn, sync, **kw):
    return engine.apply(conn, sync, "r-test", lambda: client_for(sync.destination), concurrency=5, **kw)


def in_erp(external_ids: list[str]) -> dict[str, int]:
    """How many time bills have each external id."""
    counts: dict[str, int] = {}
    with client_for("netsuite") as ns:
        for start in range(0, len(external_ids), 500):
            ids = ", ".join("'" + e + "'" for e in external_ids[start:start + 500])
            for page in ns.suiteql_pages(f"SELECT externalid FROM timebill WHERE externalid IN ({ids})"):
                for r in page:
                    counts[r["externalid"]] = counts.get(r["externalid"], 0) + 1
    return counts


def test_more_than_100_rows_push_in_one_write_call_per_100_and_a_second_run_pushes_nothing(
        make_sync, conn, outbound_table, erp_refs, sandbox_admin):
    sync = batch_sync(make_sync, "t_nsb_many")
    rows = rows_of(erp_refs, "nsb", 250)
    outbound_table(sync.name, COLUMNS, rows)
    writes_before = sandbox_admin.writes("netsuite")
    first = apply(conn, sync)
    assert (first.pushed, first.failed, first.invalid) == (250, 0, 0)
    assert first.write_calls == 3 == sandbox_admin.writes("netsuite") - writes_before  # ceil(250 / 100)
    assert conn.execute("select write_calls from ops.sync_runs where sync_name = %s order by sync_run_id desc limit 1",
                        (sync.name,)).fetchone()[0] == 3
    assert in_erp([r[0] for r in rows]) == {r[0]: 1 for r in rows}
    with client_for("netsuite") as ns:
        ids = {r["externalid"]: r["id"] for p in ns.suiteql_pages(
            "SELECT id, externalid FROM timebill WHERE externalid LIKE 'nsb-%'") for r in p}
    assert ledger_of(conn, sync.name) == ({r[0]: str(ids[r[0]]) for r in rows}, 250)  # all created by the hub
    assert apply_again(apply, conn, sync, sandbox_admin) == (0, 0, 0, 0)


def test_one_invalid_record_in_a_batch_is_rejected_alone(make_sync, conn, outbound_table, erp_refs):
    sync = batch_sync(make_sync, "t_nsb_bad")
    rows = rows_of(erp_refs, "nsbad", 30)
    rows[7] = (rows[7][0], "99999999", *rows[7][2:])  # no such employee: NetSuite refuses this record only
    outbound_table(sync.name, COLUMNS, rows)
    result = apply(conn, sync)
    assert (result.pushed, result.failed) == (29, 1)
    assert result.write_calls == 1
    stage, code = conn.execute("select stage, reason_code from ops.sync_exceptions where sync_name = %s and record_key = %s",
                               (sync.name, rows[7][0])).fetchone()
    assert stage == "rejected" and code == "INVALID_KEY_OR_REF"
    found = in_erp([r[0] for r in rows])
    assert rows[7][0] not in found and found == {r[0]: 1 for i, r in enumerate(rows) if i != 7}


@pytest.mark.parametrize("fault", [{"lose_next_responses": 1}, {"error_rate": 0.3, "seed": 17}])
def test_a_batch_retried_after_a_lost_answer_or_a_5xx_makes_no_second_record(make_sync, conn, outbound_table, erp_refs,
                                                                            sandbox_admin, fault):
    sync = batch_sync(make_sync, "t_nsb_fault")
    rows = rows_of(erp_refs, f"nsf{len(fault)}", 150)
    outbound_table(sync.name, COLUMNS, rows)
    with sandbox_admin.faulted("netsuite", **fault):
        result = apply(conn, sync)
    assert (result.pushed, result.failed) == (150, 0)
    assert in_erp([r[0] for r in rows]) == {r[0]: 1 for r in rows}
    assert apply_again(apply, conn, sync, sandbox_admin) == (0, 0, 0, 0)


def test_the_idempotency_key_replays_the_same_job(hub_sandbox, erp_refs):
    """The same batch sent again with its key (as a retry after a lost answer is): the job the key made answers, and
    nothing is written a second time, though the second request's values differ."""
    key = str(uuid.uuid4())
    stamp = uuid.uuid4().hex[:6]

    def records(hours):
        return [(f"nsk-{stamp}-{i}", {"employee": {"id": str(erp_refs["employees"][0])},
                                      "customer": {"id": str(erp_refs["projects"][0])}, "hours": hours,
                                      "tranDate": erp_refs["date"]}) for i in range(12)]

    stats = hub_sandbox.urls["netsuite"] + "/__sandbox/stats"
    with client_for("netsuite") as ns:
        first = ns.batch_upsert("timebill", records(1.0), idempotency_key=key)
        written = httpx.get(stats).json()["records_written"]
        second = ns.batch_upsert("timebill", records(3.0), idempotency_key=key)
        assert httpx.get(stats).json()["records_written"] == written
        assert first == second and all("id" in r for r in first)
        hours = {r["externalid"]: float(r["hours"]) for p in ns.suiteql_pages(
            f"SELECT externalid, hours FROM timebill WHERE externalid LIKE 'nsk-{stamp}-%'") for r in p}
    assert hours == {f"nsk-{stamp}-{i}": 1.0 for i in range(12)}


def test_a_few_rows_go_one_call_each(make_sync, conn, outbound_table, erp_refs):
    """Below the batch threshold one PUT per record answers sooner than a job can be submitted and polled."""
    from reverse_etl.pushers import NETSUITE_BATCH_FROM

    sync = batch_sync(make_sync, "t_nsb_few")
    rows = rows_of(erp_refs, "nsfew", NETSUITE_BATCH_FROM - 1)
    outbound_table(sync.name, COLUMNS, rows)
    result = apply(conn, sync)
    assert result.pushed == len(rows) and result.write_calls == len(rows)
