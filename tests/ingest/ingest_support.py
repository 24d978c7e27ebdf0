"""Helpers of the ingest tests: clients of a sandbox, admin calls, landing everything, and the comparison of a
raw table with the source's current state, read straight from the sandbox's SQLite."""
from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from pathlib import Path

import httpx
import psycopg

from connectors import catalog
from connectors.http import ApiClient
from connectors.kantata import KantataClient
from connectors.netsuite import NetSuiteClient
from connectors.salesforce import SalesforceClient
from flows.objects import land_object


def client_of(server, system: str, **kw) -> ApiClient:
    creds = dict(server.credentials[system])
    if "private_key_path" in creds:
        creds["private_key"] = Path(creds.pop("private_key_path")).read_text()
    cls = {"salesforce": SalesforceClient, "netsuite": NetSuiteClient, "kantata": KantataClient}[system]
    return cls(server.urls[system], creds, **kw)


def admin(server, system: str, method: str, path: str, **kw):
    response = httpx.request(method, server.urls[system] + "/__sandbox/" + path, timeout=120, **kw)
    response.raise_for_status()
    return response.json() if response.content else None


def tick(server, days: int) -> None:
    admin(server, "salesforce", "POST", f"tick?days={days}")


def land_all(clients, url: str, run_id: str | None = None, objects=None, **kw) -> list:
    """Land every object (or the given SourceObjects) one after the other, without Prefect."""
    run_id = run_id or f"r-test-{uuid.uuid4().hex[:6]}"
    results = []
    with psycopg.connect(url) as conn:
        for obj in objects or catalog.select():
            results.append(land_object(clients[obj.system], obj, run_id, conn=conn, **kw))
    return results


# -- the source's current state, read from the sandbox's own database ----------------------------------------
def _bool(v):
    if v is None:
        return None
    return v in (True, 1, "1", "T", "t", "true", "True")


def _norm(typ: str, v):
    if v is None or v == "":
        return None
    if typ == "bool":
        return _bool(v)
    if typ in ("int", "float"):
        return round(float(v), 6)
    if typ in ("id", "ref"):
        return str(int(v)) if isinstance(v, (int, float)) else str(v)
    if typ == "datetime":
        from sandbox.store import parse_datetime

        try:
            return parse_datetime(str(v))
        except ValueError:
            return str(v)
    return str(v)


def source_rows(server, obj: catalog.SourceObject) -> dict[str, dict]:
    """id -> normalised record of every live record of the object, as the source holds it now."""
    from sandbox import schema

    types = schema.fields(obj.system, obj.name)
    where = {("salesforce", True): '"IsDeleted" = 0', ("kantata", "stories"): "deleted_at IS NULL"}
    cond = where.get((obj.system, "IsDeleted" in types)) or where.get((obj.system, obj.name)) or "1=1"
    with sqlite3.connect(f"file:{Path(server.data_dir) / 'firm.sqlite'}?mode=ro", uri=True) as c:
        cur = c.execute(f'SELECT * FROM "{schema.table(obj.system, obj.name)}" WHERE {cond}')
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r)) for r in cur.fetchall()]
    return {_norm("id", r[obj.id_field]): {f: _norm(types[f], r.get(f)) for f in types} for r in rows}


def raw_rows(conn, obj: catalog.SourceObject, live_only: bool = True) -> dict[str, dict]:
    """id -> normalised record of the raw table (live rows only by default)."""
    from sandbox import schema

    types = schema.fields(obj.system, obj.name)
    exists = conn.execute("select to_regclass(%s)", (f"raw_{obj.system}.{obj.table}",)).fetchone()[0]
    if exists is None:
        return {}
    out = {}
    for rid, data, deleted in conn.execute(f'select id, data, is_deleted from raw_{obj.system}."{obj.table}"'):
        if live_only and deleted:
            continue
        if obj.system == "kantata" and obj.name == "workspaces" and isinstance(data.get("status"), dict):
            status = data["status"]
            data = {**data, "status_key": status.get("key"), "status_message": status.get("message"),
                    "status_color": status.get("color")}
        out[rid] = {f: _norm(types[f], data.get(f)) for f in types}
    return out


def differences(server, conn, obj: catalog.SourceObject, limit: int = 5) -> list[str]:
    """What differs between the source's live records of `obj` and its raw table's live rows."""
    src, raw = source_rows(server, obj), raw_rows(conn, obj)
    out = []
    missing, extra = src.keys() - raw.keys(), raw.keys() - src.keys()
    if missing:
        out.append(f"{obj.key}: {len(missing)} source records not landed, e.g. {sorted(missing)[:limit]}")
    if extra:
        out.append(f"{obj.key}: {len(extra)} raw rows live but gone from the source, e.g. {sorted(extra)[:limit]}")
    changed = [i for i in src.keys() & raw.keys() if src[i] != raw[i]]
    for i in changed[:limit]:
        diff = {f: (src[i][f], raw[i][f]) for f in src[i] if src[i][f] != raw[i][f]}
        out.append(f"{obj.key} {i}: source vs raw {diff}")
    if len(changed) > limit:
        out.append(f"{obj.key}: {len(changed)} records differ in all")
    return out


def table_snapshot(conn, obj: catalog.SourceObject) -> dict:
    """Everything a landing decides about a raw table: id -> (data, version, deleted flag)."""
    exists = conn.execute("select to_regclass(%s)", (f"raw_{obj.system}.{obj.table}",)).fetchone()[0]
    if exists is None:
        return {}
    return {r[0]: (r[1], r[2], r[3]) for r in conn.execute(
        f'select id, data, source_updated_at, is_deleted from raw_{obj.system}."{obj.table}"')}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
