"""Land a generated sandbox firm straight into raw_<system> tables, shaped as each API returns its records.

For dbt tests that need realistic data without HTTP: Salesforce and Kantata records as typed JSON (Kantata
ids as strings), NetSuite SuiteQL rows with every value a string, booleans 'T'/'F' and dates in the
account's M/D/YYYY format (the least convenient form the ingest may land). The real path (sandbox server +
`pshub ingest`) is exercised by the end-to-end tests; this one keeps the dbt tests fast and independent.
"""
from __future__ import annotations

from collections import Counter

import datetime as dt
import json
import sqlite3
from pathlib import Path

import psycopg

from sandbox import schema

_SF_DELETED = "IsDeleted"


def _sf_value(typ, v):
    if v is None:
        return None
    if typ == "bool":
        return bool(v)
    return v


def _kt_value(typ, v):
    if v is None:
        return None
    if typ in ("id", "ref"):
        return str(v)
    if typ == "bool":
        return bool(v)
    return v


def _ns_value(typ, v):
    if v is None:
        return None
    if typ == "date":
        d = dt.date.fromisoformat(str(v)[:10])
        return f"{d.month}/{d.day}/{d.year}"
    if typ == "float":
        return repr(float(v)).removesuffix(".0") if float(v).is_integer() else repr(float(v))
    return str(v)


def _updated(system, obj, rec):
    if system == "salesforce":
        return rec["SystemModstamp"].replace(".000+0000", "+00:00")
    if system == "kantata":
        return rec["updated_at"]
    return rec.get("lastmodifieddate") or rec.get("linelastmodifieddate") or rec.get("deleteddate")


def land_firm(sqlite_path: Path, warehouse_url: str, systems: tuple[str, ...] | None = None) -> dict:
    """Land the firm in `sqlite_path` the way the ingest does: per object one ops.loads row; records new or changed
    since the last landing are upserted with that load's id, records gone from the source are flagged deleted.
    systems: those to land (default every one the firm has: Salesforce, Kantata, NetSuite).
    Returns the rows landed (new, changed or deleted) per raw table."""
    src = sqlite3.connect(sqlite_path)
    src.row_factory = sqlite3.Row
    counts = {}
    with psycopg.connect(warehouse_url) as conn:
        landings = [(source_system, prefix, obj, flist, system)
                    for source_system, (prefix, objects) in schema.SYSTEMS.items() for obj, flist in objects.items()
                    # Certinia's objects are in the Salesforce org; the ingest lands them as system certinia, and
                    # the org's accounts for Certinia too (connectors/catalog.py, CERTINIA)
                    for system in ((["certinia"] if obj in schema.CERTINIA else ["salesforce", "certinia"]
                                    if obj == "Account" else ["salesforce"]) if source_system == "salesforce"
                                   else [source_system])]
        for source_system, prefix, obj, flist, system in landings:
            if systems is not None and system not in systems:
                continue
            table = obj.lower()
            types = {f.split(":")[0]: f.split(":")[1] for f in flist}
            id_field = [n for n, t in types.items() if t == "id"][0]
            conn.execute(f"create schema if not exists raw_{system}")
            conn.execute(f"""create table if not exists raw_{system}."{table}" (id text primary key, data jsonb not null,
                source_updated_at timestamptz not null, is_deleted boolean not null default false,
                _load_id bigint not null, _landed_at timestamptz not null default now())""")
            load_id = conn.execute("insert into ops.loads (run_id, system, object) values ('tests', %s, %s)"
                                   " returning load_id", (system, obj)).fetchone()[0]
            convert = {"salesforce": _sf_value, "certinia": _sf_value, "kantata": _kt_value,
                       "netsuite": _ns_value}[system]
            conn.execute("create temp table incoming (id text, data jsonb, source_updated_at timestamptz,"
                         " is_deleted boolean) on commit drop")
            rows = src.execute(f'select * from "{prefix}_{obj}"').fetchall()
            with conn.cursor().copy("copy incoming (id, data, source_updated_at, is_deleted) from stdin") as cp:
                for r in rows:
                    rec = {k: convert(types[k], r[k]) for k in r.keys()}
                    if source_system == "salesforce":
                        rec["attributes"] = {"type": obj}
                    deleted = bool(rec.get(_SF_DELETED)) if source_system == "salesforce" else False
                    cp.write_row((str(r[id_field]), json.dumps(rec), _updated(source_system, obj, dict(r)), deleted))
            target = f'raw_{system}."{table}"'
            landed = conn.execute(f"""
                insert into {target} (id, data, source_updated_at, is_deleted, _load_id)
                select id, data, source_updated_at, is_deleted, %s from incoming
                on conflict (id) do update set data = excluded.data, source_updated_at = excluded.source_updated_at,
                    is_deleted = excluded.is_deleted, _load_id = excluded._load_id, _landed_at = now()
                where {target}.data is distinct from excluded.data or {target}.is_deleted <> excluded.is_deleted""",
                                  (load_id,)).rowcount
            gone = conn.execute(f"""
                update {target} set is_deleted = true, _load_id = %s, _landed_at = now()
                where not is_deleted and id not in (select id from incoming)""", (load_id,)).rowcount
            conn.execute("update ops.loads set status = 'completed', completed_at = now(), rows_landed = %s"
                         " where load_id = %s", (landed + gone, load_id))
            conn.commit()
            counts[f"{system}.{table}"] = landed + gone
    return counts


def land_dynamics(sqlite_path: Path, warehouse_url: str) -> dict:
    """Land the firm's Dynamics 365 Finance books (sandbox.dynamics_firm) into raw_dynamics, as the connector lands them:
    one row per record keyed by its natural key's values joined by "|" (`_key`, connectors/dynamics.py), the record as
    the OData service returns it, ModifiedDateTime as its source update time. Entities the firm has no table of are
    landed empty. Returns the rows landed per raw table."""
    from connectors.catalog import DYNAMICS_KEYS
    from sandbox.dynamics import ENTITIES, table

    src = sqlite3.connect(sqlite_path)
    src.row_factory = sqlite3.Row
    present = {r[0] for r in src.execute("select name from sqlite_master where type = 'table'")}
    counts = {}
    with psycopg.connect(warehouse_url) as conn:
        conn.execute("create schema if not exists raw_dynamics")
        for entity in ENTITIES:
            target = f'raw_dynamics."{entity.lower()}"'
            conn.execute(f"""create table if not exists {target} (id text primary key, data jsonb not null,
                source_updated_at timestamptz not null, is_deleted boolean not null default false,
                _load_id bigint not null, _landed_at timestamptz not null default now())""")
            load_id = conn.execute("insert into ops.loads (run_id, system, object) values ('tests', 'dynamics', %s)"
                                   " returning load_id", (entity,)).fetchone()[0]
            rows = src.execute(f'select * from "{table(entity)}"').fetchall() if table(entity) in present else []
            with conn.cursor().copy(f"copy {target} (id, data, source_updated_at, _load_id) from stdin") as cp:
                for r in rows:
                    rec = dict(r)
                    rec["_key"] = "|".join(str(rec.get(k, "")) for k in DYNAMICS_KEYS[entity])
                    cp.write_row((rec["_key"], json.dumps(rec), rec["ModifiedDateTime"], load_id))
            conn.execute("update ops.loads set status = 'completed', completed_at = now(), rows_landed = %s"
                         " where load_id = %s", (len(rows), load_id))
            conn.commit()
            counts[f"dynamics.{entity.lower()}"] = len(rows)
    return counts


def land_hubspot(data_dir: Path, warehouse_url: str) -> dict:
    """Land the firm's CRM as HubSpot serves it, through the hub's own HubSpot ingest (connectors.hubspot, over HTTP)
    against a sandbox serving only HubSpot over the firm in `data_dir` (its firm.sqlite). Returns the landings."""
    from connectors import catalog
    from connectors.hubspot import HubSpotClient
    from flows.objects import land_object
    from sandbox.server import SandboxServer

    server = SandboxServer(data_dir, systems=("hubspot",)).start()
    try:
        with HubSpotClient(server.urls["hubspot"], server.credentials["hubspot"], max_attempts=10) as client, \
                psycopg.connect(warehouse_url) as conn:
            return {o.name: land_object(client, o, "tests", conn=conn) for o in catalog.HUBSPOT.values()}
    finally:
        server.stop()


def relation_rows(conn, relation: str, columns: list[str], where: str = "true") -> Counter:
    """The relation's rows (its columns as text) as a multiset: what the invariance tests compare between two builds."""
    select = ", ".join(f'"{c}"::text' for c in columns)
    return Counter(conn.execute(f"select {select} from {relation} where {where}").fetchall())


def relation_columns(conn, schema: str, table: str) -> list[str]:
    return [r[0] for r in conn.execute(
        "select column_name from information_schema.columns where table_schema = %s and table_name = %s "
        "order by ordinal_position", (schema, table))]


def re_express_firm(source_path: Path, store, uk_company: str) -> dict:
    """A copy of the firm at `source_path` in `store` (a sandbox.store.Store), re-expressed at once: its CRM in HubSpot,
    its delivery in Certinia PSA and the UK's books in Dynamics 365 Finance (company `uk_company`), however old.

    The order matters, each step copying what the one before wrote: HubSpot first (sandbox.hubspot.express_firm: the
    other systems' references to a CRM record, and the manifest of planted defects, name its HubSpot id), so that
    Certinia's projects take a HubSpot deal id from a Kantata workspace's CRM Opportunity ID field (no
    pse__Opportunity__c lookup to a Salesforce opportunity); Certinia next (sandbox.certinia_firm.populate: the ERP's
    time and expense records name their Certinia record), so that the UK's move to Dynamics copies the Certinia and
    HubSpot ids into its journal lines, customers and projects (sandbox.dynamics_firm.populate); last, the ERP ids the
    hub wrote back to the CRM (ERP_Customer_Id__c, ERP_Project_Id__c, which HubSpot serves as the companies' and deals'
    properties) name the UK's records where they are now: in Dynamics, where the move numbers NetSuite customer N as
    C00000N and job N as P00000N. Returns what each step wrote."""
    from sandbox.certinia_firm import placed, populate as place_in_certinia
    from sandbox.dynamics_firm import populate as place_in_dynamics, routes_of
    from sandbox.hubspot import express_firm

    with sqlite3.connect(source_path) as source, sqlite3.connect(store.path) as copy:
        source.backup(copy)
    done = {"hubspot": express_firm(store.path), "certinia": place_in_certinia(store)}
    assert placed(store), done
    done["dynamics"] = place_in_dynamics(store, {"UK": None})
    assert routes_of(store) == {"UK": "0001-01-01"}, routes_of(store)
    with sqlite3.connect(store.path) as c:
        done["crm_erp_ids"] = c.execute(
            """update sf_Account set ERP_Customer_Id__c = ? || '|C' || printf('%06d', ERP_Customer_Id__c)
               where ERP_Customer_Id__c in (select cast(cast(substr(CustomerAccount, 2) as integer) as text)
                                            from d365_CustomersV3 where dataAreaId = ?)""",
            (uk_company, uk_company)).rowcount + c.execute(
            """update sf_Opportunity set ERP_Project_Id__c = ? || '|P' || printf('%06d', ERP_Project_Id__c)
               where ERP_Project_Id__c in (select cast(cast(substr(ProjectID, 2) as integer) as text)
                                           from d365_Projects where dataAreaId = ?)""",
            (uk_company, uk_company)).rowcount
    return done
