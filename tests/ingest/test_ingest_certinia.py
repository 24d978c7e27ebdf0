"""Certinia landing (PSHUB_PSA=certinia): the pse__ objects come through the Salesforce connector as every Salesforce
object does, incrementally on SystemModstamp with queryAll's deleted rows, into raw_certinia; the setting chooses
which PSA an ingest lands."""
from __future__ import annotations

import psycopg
import pytest

from connectors import catalog
from connectors.salesforce import SalesforceClient
from flows.objects import land_object
from pshub.settings import Settings
from sandbox.server import SandboxServer
from sandbox.store import sf_datetime


@pytest.fixture(scope="module")
def certinia(tmp_path_factory):
    server = SandboxServer(tmp_path_factory.mktemp("certinia-ingest"), scale="demo", seed=11, psa="certinia",
                           systems=("salesforce", "kantata"))
    server.start()
    yield server
    server.stop()


def _source(server, obj: str) -> tuple[set[str], set[str]]:
    rows = server.store.conn().execute(f'SELECT Id, IsDeleted FROM "sf_{obj}"').fetchall()
    return {i for i, d in rows if not d}, {i for i, d in rows if d}


def _landed(conn, obj: catalog.SourceObject) -> tuple[set[str], set[str]]:
    rows = conn.execute(f'select id, is_deleted from raw_certinia."{obj.table}"').fetchall()
    return {i for i, d in rows if not d}, {i for i, d in rows if d}


def test_the_psa_setting_chooses_which_psa_an_ingest_lands():
    assert Settings(psa="certinia").default_systems[:3] == ["salesforce", "certinia", "netsuite"]
    assert Settings(crm="hubspot").default_systems[:3] == ["hubspot", "kantata", "netsuite"]
    assert {o.system for o in catalog.select(["certinia"])} == {"certinia"}


def test_full_then_incremental_ingest_land_every_certinia_record_and_its_deletions(certinia, new_database):
    url = new_database("certinia")
    objects = list(catalog.CERTINIA.values())
    with SalesforceClient(certinia.urls["salesforce"], certinia.credentials["salesforce"], max_attempts=5) as client, \
            psycopg.connect(url) as conn:
        first = {o.name: land_object(client, o, "r-cert-1", conn=conn) for o in objects}
        assert all(r.status == "completed" and r.rows_quarantined == 0 for r in first.values()), first
        for o in objects:
            assert _landed(conn, o)[0] == _source(certinia, o.name)[0], o.name
        # Certinia moves on: a timecard split is deleted, another's Wednesday hours change
        store = certinia.store
        later = sf_datetime(store.now())
        gone, changed = [r[0] for r in store.conn().execute(
            'SELECT Id FROM "sf_pse__Timecard__c" WHERE IsDeleted = 0 ORDER BY Id LIMIT 2')]
        with store.write_lock:
            store.conn().execute('UPDATE "sf_pse__Timecard__c" SET IsDeleted = 1, SystemModstamp = ? WHERE Id = ?',
                                 (later, gone))
            store.conn().execute('UPDATE "sf_pse__Timecard__c" SET pse__Wednesday_Hours__c = 3.5, '
                                 'pse__Total_Hours__c = pse__Total_Hours__c - coalesce(pse__Wednesday_Hours__c, 0) + 3.5, '
                                 'SystemModstamp = ? WHERE Id = ?', (later, changed))
        split = catalog.CERTINIA["pse__Timecard__c"]
        second = land_object(client, split, "r-cert-2", conn=conn)
        assert second.status == "completed"
        total = len(_source(certinia, split.name)[0])
        assert 2 <= second.rows_fetched < total / 10  # only what changed since the cursor (and its overlap)
        live, deleted = _landed(conn, split)
        assert gone in deleted and live == _source(certinia, split.name)[0]
        hours = conn.execute("select (data ->> 'pse__Wednesday_Hours__c')::numeric from raw_certinia.pse__timecard__c "
                             "where id = %s", (changed,)).fetchone()[0]
        assert hours == 3.5
        assert {r[0] for r in conn.execute("select distinct system from ops.loads")} == {"certinia"}
