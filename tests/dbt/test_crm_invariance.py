"""Invariance of the marts under the CRM the firm sells in (issue: HubSpot as the CRM, through the canonical roles).

The same synthetic firm is built twice: as generated, its CRM in Salesforce (the session's `built`), and its CRM
expressed in HubSpot (the sandbox's HubSpot over the same firm: companies, deals in a pipeline whose stage metadata
says closed-won, line items of products, owners), landed by the hub's own HubSpot ingest over HTTP, with no Salesforce
record landed at all. Every column of every mart must be equal, row for row, once each Salesforce record id is read
as the HubSpot id of the same record (sandbox.hubspot.hs_id), and each Salesforce word for a CRM record's system and
object as HubSpot's (salesforce/Account/Opportunity: hubspot/companies/deals): a record id says which record, in which
CRM, not what it is worth. Only the columns that cannot be read across (a hash of a record id) are left out, each with
its reason.
"""
from __future__ import annotations

import re
import shutil
import sqlite3
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg
import pytest

from rawload import land_firm, land_hubspot, relation_columns as _columns

# a Salesforce id of the firm's CRM records (accounts 001, opportunities 006, line items 00k, users 005), 18 characters
SF_ID = re.compile(r"\b(?:001|006|00k|005)8d[0-9A-Za-z]{13}\b")
# columns holding a digest of a record id (which record, hashed): they differ as the ids do, and cannot be read across
HASHED_ID_COLUMNS = {
    "integration_health": {"issue_id"},  # md5 of the kind, system and record id
}
# columns naming the system and object a record is in: a CRM record's are the CRM's own words for them
CRM_WORDS = {"source_system": {"salesforce": "hubspot"},
             "source_object": {"Account": "companies", "Opportunity": "deals"}}


def _as_hubspot(value: str | None) -> str | None:
    """A value of the Salesforce build with every Salesforce record id in it read as the record's HubSpot id."""
    from sandbox.hubspot import hs_id

    return SF_ID.sub(lambda m: hs_id(m.group(0)), value) if value else value


@pytest.fixture(scope="module")
def crm_in_hubspot(built, firm, warehouse_url, home):
    """The session's firm with its CRM read from HubSpot (nothing landed from Salesforce), in a database of its own,
    built (full refresh). Returns the database url."""
    from flows.transform import run_build
    from pshub.migrations import migrate
    from pshub.settings import Settings
    from sandbox.hubspot import express_firm

    data_dir = home / "dbt-tests-firm-hubspot"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    with sqlite3.connect(firm.path) as source, sqlite3.connect(data_dir / Path(firm.path).name) as copy:
        source.backup(copy)
    express_firm(data_dir / Path(firm.path).name)  # its other systems name the CRM's records by their HubSpot ids

    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("drop database if exists pshub_dbt_crm_in_hubspot with (force)")
        conn.execute("create database pshub_dbt_crm_in_hubspot")
    url = urlunparse(urlparse(warehouse_url)._replace(path="/pshub_dbt_crm_in_hubspot"))
    migrate(url)
    settings = Settings(home=home / "dbt-tests-hubspot", database_url=url, crm="hubspot")
    settings.home_dir.mkdir(parents=True, exist_ok=True)
    land_firm(Path(firm.path), url, systems=("kantata", "netsuite"))
    landed = land_hubspot(data_dir, url)
    assert all(r.status == "completed" and not r.rows_quarantined for r in landed.values()), landed
    result = run_build(full_refresh=True, settings=settings, raise_on_failure=False)
    assert result.success, result.failures
    return url


def _rows(conn, relation: str, columns: list[str], translate: bool) -> Counter:
    # a number as its value (Salesforce sends 1018.0 where HubSpot sends "1018": the same figure)
    numeric = {r[0] for r in conn.execute(
        "select column_name from information_schema.columns where table_schema || '.' || table_name = %s "
        "and data_type = 'numeric'", (relation.replace('"', ''),))}
    select = ", ".join(f'trim_scale("{c}")::text' if c in numeric else f'"{c}"::text' for c in columns)
    rows = conn.execute(f"select {select} from {relation}").fetchall()
    if not translate:
        return Counter(rows)
    words = [CRM_WORDS.get(c, {}) for c in columns]
    return Counter(tuple(w.get(v, _as_hubspot(v)) for w, v in zip(words, r)) for r in rows)


def test_the_hubspot_build_read_no_salesforce_record(crm_in_hubspot):
    with psycopg.connect(crm_in_hubspot, autocommit=True) as other:
        systems = {r[0] for r in other.execute("select distinct crm_system from intermediate.int_crm_opportunities")}
        salesforce = other.execute("select count(*) from raw_salesforce.opportunity").fetchone()[0]
    assert systems == {"hubspot"} and salesforce == 0


def test_every_mart_is_the_same_with_the_crm_in_salesforce_or_in_hubspot(crm_in_hubspot, db):
    marts = [r[0] for r in db.execute(
        "select table_name from information_schema.tables where table_schema = 'marts' order by 1")]
    assert len(marts) >= 10, marts
    differences, compared_values = {}, 0
    with psycopg.connect(crm_in_hubspot, autocommit=True) as other:
        for mart in marts:
            columns = _columns(db, "marts", mart)
            assert _columns(other, "marts", mart) == columns, mart
            compared = [c for c in columns if c not in HASHED_ID_COLUMNS.get(mart, set())]
            salesforce = _rows(db, f'marts."{mart}"', compared, translate=True)
            hubspot = _rows(other, f'marts."{mart}"', compared, translate=False)
            assert sum(salesforce.values()) > 0 or mart in ("open_ar_differences",), f"{mart} is empty: nothing compared"
            compared_values += sum(salesforce.values()) * len(compared)
            if salesforce != hubspot:
                # which columns differ: each column's values (as a multiset) in one build and in the other
                differences[mart] = {
                    column: (sorted(map(str, (a - b).elements()))[:3], sorted(map(str, (b - a).elements()))[:3])
                    for column in compared
                    for a, b in [(_rows(db, f'marts."{mart}"', [column], True),
                                  _rows(other, f'marts."{mart}"', [column], False))]
                    if a != b} or {"rows differ, no single column": sum((salesforce - hubspot).values())}
    assert not differences, "\n".join(f"{mart}: {cols}" for mart, cols in differences.items())
    print(f"CRM invariance: {len(marts)} marts, {compared_values} values compared")
