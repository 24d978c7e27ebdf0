"""Kantata takes creates in bulk but updates one PUT each: records the destination already holds with the pushed
values (matched by rule, made by hand) are read 200 a call and not written again."""
from __future__ import annotations

import dataclasses

import httpx
import psycopg

from connectors.kantata import KantataClient
from pshub.clients import client_for
from reverse_etl import engine

COLUMNS = ("external_id text, title text, description text, start_date date, due_date date, budgeted boolean, "
           "price_in_cents bigint, currency text, rate_card_id text, creator_role text, _psa_project_id text")


def _route_calls(server, route: str) -> int:
    return httpx.get(server.urls["kantata"] + "/__sandbox/stats").json()["by_route"].get(route, 0)


def test_matched_records_that_hold_the_values_are_not_updated_again(make_sync, conn, outbound_table, hub_sandbox):
    sync = dataclasses.replace(make_sync("t_matched_ws", "psa_projects"), custom_fields=())
    values = [{"title": f"matched-ws-test-{i}", "description": "Time and materials engagement",
               "start_date": "2026-01-05", "due_date": "2026-12-18", "budgeted": True, "price_in_cents": 1_500_000 + i,
               "currency": "USD", "rate_card_id": "1", "creator_role": "maven"} for i in range(4)]
    with client_for("kantata") as kt:  # made by hand: already there, with the values the hub would push
        made = kt.create("workspaces", values)
    ids = [str(r["id"]) for r in made]
    rows = [(f"mw-{i}", v["title"] + (" (renamed)" if i == 3 else ""), v["description"], v["start_date"],
             v["due_date"], v["budgeted"], v["price_in_cents"], v["currency"], v["rate_card_id"], v["creator_role"],
             ids[i]) for i, v in enumerate(values)]
    outbound_table("t_matched_ws", COLUMNS, rows)

    puts = _route_calls(hub_sandbox, "PUT update")
    result = engine.apply(conn, sync, "r-test", lambda: client_for("kantata"), concurrency=2)
    assert (result.pushed, result.failed) == (4, 0)
    assert _route_calls(hub_sandbox, "PUT update") - puts == 1  # the renamed one only
    with client_for("kantata") as kt:
        titles = {str(r["id"]): r["title"] for r in kt.get_by_ids("workspaces", ids)}
    assert titles[ids[3]] == "matched-ws-test-3 (renamed)" and titles[ids[0]] == "matched-ws-test-0"
    ledger = dict(conn.execute("select record_key, destination_id from ops.sync_ledger where sync_name = %s",
                               ("t_matched_ws",)).fetchall())
    assert ledger == {f"mw-{i}": ids[i] for i in range(4)}


def test_new_projects_are_created_100_a_call_each_with_its_own_intent(make_sync, conn, outbound_table, hub_sandbox,
                                                                      warehouse_url, monkeypatch):
    """A first sync of 150 new projects: two bulk creates (Kantata takes up to 100 a call), with an intent per
    record committed before its create and resolved after it; a second run, once the records the hub made have
    come back (their ids landed), finds nothing to push: no write call."""
    sync = dataclasses.replace(make_sync("t_bulk_ws", "psa_projects"), custom_fields=())
    rows = [(f"bw-{i:03d}", f"bulk-ws-test-{i:03d}", "Fixed fee", "2026-02-02", "2026-11-30", False, 250_000 + i,
             "EUR", "1", "maven", None) for i in range(150)]
    outbound_table("t_bulk_ws", COLUMNS, rows)
    committed: list[int] = []  # intents another session sees when each create is sent
    real_create = KantataClient.create

    def create(self, resource, records):
        with psycopg.connect(warehouse_url) as other:
            committed.append(other.execute("select count(*) from ops.sync_intents where sync_name = 't_bulk_ws'")
                             .fetchone()[0])
        return real_create(self, resource, records)

    monkeypatch.setattr(KantataClient, "create", create)
    posts = _route_calls(hub_sandbox, "POST create")
    result = engine.apply(conn, sync, "r-bulk", lambda: client_for("kantata"), concurrency=1)
    assert (result.pushed, result.failed) == (150, 0)
    assert _route_calls(hub_sandbox, "POST create") - posts == 2 and committed == [100, 50]  # each batch: its own records
    assert conn.execute("select count(*) from ops.sync_intents where sync_name = 't_bulk_ws'").fetchone()[0] == 0
    ledger = dict(conn.execute("select record_key, destination_id from ops.sync_ledger where sync_name = %s",
                               ("t_bulk_ws",)).fetchall())
    assert len(ledger) == len(set(ledger.values())) == 150
    with client_for("kantata") as kt:
        titles = {str(r["id"]): r["title"] for r in kt.get_by_ids("workspaces", list(ledger.values()))}
    assert {titles[ledger[f"bw-{i:03d}"]] for i in range(150)} == {f"bulk-ws-test-{i:03d}" for i in range(150)}

    conn.execute("update outbound.t_bulk_ws o set _psa_project_id = l.destination_id from ops.sync_ledger l "
                 "where l.sync_name = 't_bulk_ws' and l.record_key = o.external_id")  # the hub's own writes, landed
    conn.commit()
    writes = httpx.get(hub_sandbox.urls["kantata"] + "/__sandbox/stats").json()["write_calls"]
    again = engine.apply(conn, sync, "r-bulk-2", lambda: client_for("kantata"), concurrency=1)
    assert (again.planned, again.pushed, again.write_calls) == (0, 0, 0)
    assert httpx.get(hub_sandbox.urls["kantata"] + "/__sandbox/stats").json()["write_calls"] == writes
