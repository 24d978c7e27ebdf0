"""The sync flow applies independent syncs side by side (PSHUB_SYNC_CONCURRENCY): a sync that reads what another
created runs after it and sees its records of the same run; the results come in the declared order; a sync that
fails stops none of the others; the task runs of the syncs that push are the flow run's."""
from __future__ import annotations

import dataclasses
import time

import psycopg
import pytest
from psycopg import sql

from pshub.clients import client_for
from reverse_etl.syncs import SYNCS
from sync_test_defs import TIME_BILL_COLUMNS, make_sync

NAMES = ["t_flow_bills", "t_flow_broken", "t_flow_links", "t_flow_quiet"]
STORY_COLUMNS = "external_id text, workspace_id text, title text, story_type text, due_date date"


@pytest.fixture
def flow_syncs(monkeypatch, warehouse_url, outbound_table, erp_refs):
    """Four syncs of three destinations, in this declared order: NetSuite time bills; a Kantata sync whose model
    lacks its columns (it fails); Salesforce opportunities whose rows are made of the time bills' ledger rows (what
    the bills created), declared to run after them; and a Kantata sync with nothing to push."""
    syncs = [make_sync("t_flow_bills", "timebills"), make_sync("t_flow_broken", "stories"),
             dataclasses.replace(make_sync("t_flow_links", "opportunities"), after=("t_flow_bills",)),
             make_sync("t_flow_quiet", "stories")]
    for sync in syncs:
        monkeypatch.setitem(SYNCS, sync.name, sync)
    outbound_table("t_flow_bills", TIME_BILL_COLUMNS, [
        (f"flow-{i}", erp_refs["employees"][i], erp_refs["projects"][0], 2.0, 150, erp_refs["date"], f"flow {i}",
         "Acme Corp", "opp-1", 300, "USD") for i in range(4)])
    outbound_table("t_flow_broken", "external_id text", [("flow-broken",)])
    outbound_table("t_flow_quiet", STORY_COLUMNS, [])
    with client_for("salesforce") as sf:
        opportunities = [r["Id"] for page in sf.query_pages("SELECT Id FROM Opportunity ORDER BY Id LIMIT 4")
                         for r in page]
    with psycopg.connect(warehouse_url, autocommit=True) as admin:
        admin.execute("drop view if exists outbound.t_flow_links")
        # one opportunity per time bill the ledger holds: its ERP id as the opportunity's sync status
        admin.execute(sql.SQL("""
            create view outbound.t_flow_links as
            select o.id as "Id", l.destination_id as "Sync_Status__c", l.record_key as "Last_Sync_Error__c"
              from (select record_key, destination_id, row_number() over (order by record_key) as n
                      from ops.sync_ledger where sync_name = 't_flow_bills') l
              join (select id, row_number() over (order by id) as n from unnest({}::text[]) id) o using (n)
        """).format(sql.Literal(opportunities)))
        for table in ("sync_ledger", "sync_exceptions"):
            admin.execute(sql.SQL("delete from ops.{} where sync_name = 't_flow_links'").format(sql.Identifier(table)))
    yield syncs
    with psycopg.connect(warehouse_url, autocommit=True) as admin:
        admin.execute("drop view if exists outbound.t_flow_links")


def test_syncs_side_by_side_keep_their_order_of_reads_their_results_and_their_task_runs(flow_syncs, monkeypatch,
                                                                                        conn, sandbox_admin):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from flows.sync import sync

    monkeypatch.setenv("PSHUB_SYNC_CONCURRENCY", "3")
    # NetSuite answers each request two seconds late: the time bills' push (four single upserts, sent at once) lasts
    # that long at least, so that the quiet sync's start lands inside it however loaded the machine (with no latency,
    # the bills were done once 53 ms before the quiet sync's worker began, under the full test suite)
    with sandbox_admin.faulted("netsuite", latency_ms=2000):
        state = sync("r-flow", NAMES, return_state=True)
    results = state.result()

    assert [r["sync"] for r in results] == NAMES  # the declared order, whatever finished first
    by_name = {r["sync"]: r for r in results}
    assert (by_name["t_flow_bills"]["status"], by_name["t_flow_bills"]["pushed"]) == ("succeeded", 4)
    assert by_name["t_flow_broken"]["status"] == "failed"
    assert "lacks column" in by_name["t_flow_broken"]["message"]
    # the links ran after the bills, in the same run: each bill the ERP made is an opportunity's update
    assert (by_name["t_flow_links"]["status"], by_name["t_flow_links"]["pushed"]) == ("succeeded", 4), by_name
    bills = dict(conn.execute("select record_key, destination_id from ops.sync_ledger where sync_name = 't_flow_bills'"))
    with client_for("salesforce") as sf:
        ids = ", ".join(f"'{i}'" for i in dict(conn.execute(
            "select record_key, destination_id from ops.sync_ledger where sync_name = 't_flow_links'")))
        statuses = {r["Last_Sync_Error__c"]: r["Sync_Status__c"] for page in sf.query_pages(
            f"SELECT Last_Sync_Error__c, Sync_Status__c FROM Opportunity WHERE Id IN ({ids})") for r in page}
    assert statuses == bills
    assert (by_name["t_flow_quiet"]["status"], by_name["t_flow_quiet"]["planned_inserts"]) == ("succeeded", 0)

    # side by side: the sync with nothing to push, listed last, started before the time bills were done (one at a
    # time, it would have started after them); the links, which read the bills, only after
    runs = {name: (started, finished) for name, started, finished in conn.execute(
        "select sync_name, started_at, finished_at from ops.sync_runs where run_id = 'r-flow'")}
    assert (runs["t_flow_bills"][1] - runs["t_flow_bills"][0]).total_seconds() >= 1  # NetSuite's latency took
    assert runs["t_flow_quiet"][0] < runs["t_flow_bills"][1] <= runs["t_flow_links"][0]

    # the syncs with records to push ran as tasks of this flow run (the failed one too: it failed in its task)
    # (Prefect 3 records task runs from the events the client emits: "TaskRunRecorder: constructs task runs and states
    # from client-emitted events", prefect.server.services.task_run_recorder in its API reference. The last
    # one can reach the API a moment after the flow returned, so they are read until all three are there)
    flow_run_id = state.state_details.flow_run_id
    wanted = {"sync t_flow_bills", "sync t_flow_links", "sync t_flow_broken"}
    deadline = time.monotonic() + 60
    with get_client(sync_client=True) as client:
        while True:
            task_runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
            if {t.name for t in task_runs} >= wanted or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    assert {t.name for t in task_runs} >= wanted
    assert {t.flow_run_id for t in task_runs} == {flow_run_id}
