"""Kantata takes creates in bulk but updates one PUT each: records the destination already holds with the pushed
values (matched by rule, made by hand) are read 200 a call and not written again."""
from __future__ import annotations

import dataclasses

import httpx

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
