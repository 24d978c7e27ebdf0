"""Kantata reports no deletes: the hub compares the ids it has landed with the source's. A read of every record
compares with the ids it has just read (no second listing); an incremental run lists them when due."""
from __future__ import annotations

import httpx
import psycopg

from connectors import catalog
from flows.objects import land_object
from ingest_support import admin, differences


def _delete_entries(source, ids: list[str]) -> None:
    r = httpx.delete(source.urls["kantata"] + "/api/v1/time_entries.json", params={"ids": ",".join(ids)},
                     headers={"Authorization": f"Bearer {source.credentials['kantata']['token']}"}, timeout=60)
    assert r.status_code == 204, r.text


def test_a_full_read_reconciles_deletes_from_the_ids_it_read_without_listing_them_again(source, clients,
                                                                                        new_database):
    (obj,) = catalog.find("kantata", "time_entries")
    url = new_database("reconcile")
    with psycopg.connect(url) as conn:
        first = land_object(clients["kantata"], obj, "r-reconcile-1", conn=conn)
        assert first.status == "completed" and first.rows_fetched > 1000
        gone = [r[0] for r in conn.execute("select id from raw_kantata.time_entries where not is_deleted "
                                           "order by id desc limit 7")]
        _delete_entries(source, gone)
        admin(source, "kantata", "POST", "stats/reset")
        full = land_object(clients["kantata"], obj, "r-reconcile-2", conn=conn, full_refresh=True)
        stats = admin(source, "kantata", "GET", "stats")
        assert full.status == "completed" and full.rows_deleted == 7
        flagged = {r[0] for r in conn.execute("select id from raw_kantata.time_entries where is_deleted")}
        assert set(gone) <= flagged
        assert not differences(source, conn, obj)
        # one read of every record, a few probes (window edges, the candidates' confirmation): not two reads
        pages = -(-full.rows_fetched // 200)
        assert stats["by_route"]["GET list"] <= pages + 12, (stats["by_route"], pages)
        assert conn.execute("select to_regclass('pg_temp._seen')").fetchone()[0] is None  # dropped once used
