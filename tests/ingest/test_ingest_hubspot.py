"""HubSpot landing: a full and an incremental ingest land every company, deal, line item, product, owner and pipeline
as the sandbox holds them (the same firm's CRM), archived records as deletions; a search cap made small (50 results a
query) is passed by narrowing the window, also when more records than the cap share one hs_lastmodifieddate; and
the rate limits' 429s are waited out, none left unhandled."""
from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from connectors import catalog
from connectors.hubspot import HubSpotClient
from flows.objects import land_object
from sandbox.hubspot import OBJECTS, STAGE_ID, hs_id
from sandbox.server import SandboxServer

CAP = 50  # results one search may page through, here (HubSpot: 10,000)
SEARCHED = ("companies", "deals", "line_items")


@pytest.fixture(scope="module")
def hubspot(tmp_path_factory):
    server = SandboxServer(tmp_path_factory.mktemp("hubspot-ingest"), scale="demo", seed=11,
                           anchor=dt.datetime(2026, 11, 20), faults={"hubspot": {"search_result_cap": CAP}})
    server.start()
    yield server
    server.stop()


def _client(server, **kw) -> HubSpotClient:
    return HubSpotClient(server.urls["hubspot"], server.credentials["hubspot"], page_size=20, result_cap=CAP,
                         max_attempts=10, **kw)


def _source(server, obj: str) -> tuple[set[str], set[str]]:
    """(live ids, archived ids) of a HubSpot object as the sandbox holds it."""
    rows = server.store.conn().execute(f'SELECT Id, IsDeleted FROM "{OBJECTS[obj][0]}"').fetchall()
    return {hs_id(i) for i, d in rows if not d}, {hs_id(i) for i, d in rows if d}


def _landed(conn, obj: str) -> tuple[set[str], set[str]]:
    rows = conn.execute(f'select id, is_deleted from raw_hubspot."{obj}"').fetchall()
    return {i for i, d in rows if not d}, {i for i, d in rows if d}


def _land_all(client, conn, run: str, **kw) -> dict:
    return {o.name: land_object(client, o, run, conn=conn, **kw) for o in catalog.HUBSPOT.values()}


def _assert_equal_to_source(server, conn) -> None:
    for obj in SEARCHED:
        live, archived = _source(server, obj)
        landed_live, landed_deleted = _landed(conn, obj)
        assert landed_live == live, obj
        assert archived <= landed_deleted, obj  # every archived record is landed deleted
        assert not (landed_deleted & live), obj
    stages = dict(server.store.conn().execute("SELECT Id, StageName FROM sf_Opportunity WHERE IsDeleted = 0"))
    landed = dict(conn.execute("select id, data ->> 'dealstage' from raw_hubspot.deals where not is_deleted"))
    assert landed == {hs_id(i): STAGE_ID[s] for i, s in stages.items()}
    accounts = dict(server.store.conn().execute(
        "SELECT o.Id, o.AccountId FROM sf_Opportunity o WHERE o.IsDeleted = 0"))
    landed_companies = dict(conn.execute(
        "select id, data ->> 'associated_company_id' from raw_hubspot.deals where not is_deleted"))
    assert landed_companies == {hs_id(i): hs_id(a) for i, a in accounts.items()}


def test_full_then_incremental_ingest_land_every_record_past_a_small_search_cap(hubspot, new_database):
    url = new_database("hubspot")
    with _client(hubspot) as client, psycopg.connect(url) as conn:
        first = _land_all(client, conn, "r-hs-1")
        assert all(r.status == "completed" for r in first.values()), first
        assert {o: first[o].rows_quarantined for o in first} == {o: 0 for o in first}
        # more records than one query may page through: the read narrowed its window (several queries)
        assert len(_source(hubspot, "line_items")[0]) > CAP and client.queries > len(SEARCHED) + 3
        _assert_equal_to_source(hubspot, conn)
        assert conn.execute("select count(*) from raw_hubspot.owners").fetchone()[0] == \
            hubspot.store.conn().execute("SELECT count(*) FROM sf_User").fetchone()[0]
        assert conn.execute("select count(*) from raw_hubspot.products").fetchone()[0] == 5
        stages = conn.execute("select jsonb_array_length(data -> 'stages') from raw_hubspot.pipelines").fetchall()
        assert stages == [(7,)]

        # the firm's CRM moves on: new deals, stage moves, closed won with lines, deletions (archived)
        hubspot.tick(20)
        second = _land_all(client, conn, "r-hs-2")
        assert all(r.status == "completed" for r in second.values()), second
        _assert_equal_to_source(hubspot, conn)
        total = sum(len(_source(hubspot, o)[0]) for o in SEARCHED)
        assert sum(second[o].rows_fetched for o in SEARCHED) < total  # only what changed (and the recycling bin)


def test_more_records_than_the_cap_sharing_one_stamp_are_all_read(hubspot, new_database):
    """An import touches every deal at the same millisecond: more than one query may page through share one
    hs_lastmodifieddate, and the read still lands each of them (by hs_object_id windows)."""
    url = new_database("hubspot-stamp")
    store = hubspot.store
    with _client(hubspot) as client, psycopg.connect(url) as conn:
        land_object(client, catalog.HUBSPOT["deals"], "r-hs-s1", conn=conn)
        stamp = "2099-01-01T00:00:00.000+0000"
        with store.write_lock:
            store.conn().execute("UPDATE sf_Opportunity SET SystemModstamp = ? WHERE IsDeleted = 0", (stamp,))
        live = _source(hubspot, "deals")[0]
        assert len(live) > 2 * CAP
        result = land_object(client, catalog.HUBSPOT["deals"], "r-hs-s2", conn=conn)
        assert result.status == "completed"
        stamped = {i for (i,) in conn.execute(
            "select id from raw_hubspot.deals where not is_deleted and source_updated_at = '2099-01-01T00:00:00Z'")}
        assert stamped == live


def test_rate_limits_429s_are_waited_out_and_nothing_is_missed(hubspot, new_database):
    """The search endpoint's per-second limit (the client's own pacing off) and random 10-second-window 429s: every
    one is waited out and retried; the landing is complete."""
    url = new_database("hubspot-429")
    base = hubspot.set_faults("hubspot", {})
    hubspot.set_faults("hubspot", {"search_requests_per_second": 2, "rate_limit_rate": 0.2, "seed": 5})
    try:
        stats_before = hubspot.apps["hubspot"].stats.snapshot()["by_status"].get("429", 0)
        with _client(hubspot, searches_per_second=None) as client, psycopg.connect(url) as conn:
            results = _land_all(client, conn, "r-hs-429")
            assert all(r.status == "completed" for r in results.values()), results
            _assert_equal_to_source(hubspot, conn)
            assert client.rate_limited > 0
        assert hubspot.apps["hubspot"].stats.snapshot()["by_status"].get("429", 0) > stats_before
    finally:
        hubspot.set_faults("hubspot", {k: base[k] for k in ("search_requests_per_second", "rate_limit_rate", "seed")})
