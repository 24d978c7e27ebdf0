"""Sandbox serving rate: Kantata time entries paged by 1 client, then by 4 concurrent clients, and the ratio.

    .venv/bin/python bench/sandbox.py [--scale medium] [--data-dir DIR] [--rows 0] [--one-process]

The 4 clients read 4 updated_at windows at once (as the hub's ingest does), each client a process of its own
(so that the clients' JSON parsing is not what is measured); the 1 client reads the same windows one after the
other. Both read the same rows. The baseline, measured in the same run: the same rows read straight from the firm's
SQLite file by one process (the same windows, the same order, no HTTP and no JSON); each serving rate is printed
as a ratio to it. Also prints the CPU seconds the sandbox spent per 100,000 rows, the load average beside each
figure, and Salesforce's serving rate with one client. The firm is generated once in --data-dir and reused.
"""
from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import sqlite3

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sandbox import schema  # noqa: E402
from sandbox.server import SandboxServer  # noqa: E402
from sandbox.store import kt_datetime, parse_datetime  # noqa: E402

PER_PAGE = 200
RESOURCE = "/api/v1/time_entries.json"


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of these processes so far (Linux /proc; 0 elsewhere)."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return total


def stamp(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def read_window(args: tuple[str, str, dict, int]) -> int:
    """Page one window to its end or to `limit` rows; the rows read."""
    url, token, params, limit = args
    n, page = 0, 1
    with httpx.Client(timeout=300, headers={"Authorization": f"Bearer {token}"}) as c:
        while True:
            body = orjson.loads(c.get(url + RESOURCE, params={**params, "page": page}).content)
            n += len(body["results"])
            if page >= body["meta"]["page_count"] or n >= limit:
                return n
            page += 1


def windows(url: str, token: str, parts: int) -> list[dict]:
    """`parts` updated_at windows over every time entry, as the hub's reader makes them (each starts one second
    before its lower bound: updated_after excludes its own second)."""
    base = {"per_page": 1, "from_archived_workspaces": "true"}
    h = {"Authorization": f"Bearer {token}"}

    def edge(order: str) -> dt.datetime:
        body = httpx.get(url + RESOURCE, params={**base, "order": f"updated_at:{order}"}, headers=h, timeout=300).json()
        return dt.datetime.fromisoformat(next(iter(body["time_entries"].values()))["updated_at"].replace("Z", "+00:00"))

    low, high = edge("asc"), edge("desc")
    step = (high - low) / parts
    bounds = [(low + step * i).replace(microsecond=0) for i in range(1, parts)]
    afters = [low - dt.timedelta(seconds=1), *[b - dt.timedelta(seconds=1) for b in bounds]]
    befores = [*bounds, high + dt.timedelta(seconds=1)]
    return [{"per_page": PER_PAGE, "from_archived_workspaces": "true", "order": "updated_at:asc",
             "updated_after": stamp(a), "updated_before": stamp(b)} for a, b in zip(afters, befores)]


def bare_read(db: Path, jobs: list[tuple]) -> tuple[int, float]:
    """(rows, seconds) of reading the jobs' windows straight from SQLite: every column of each row, in the order
    the pages come in, up to each job's limit. The floor the HTTP serving is compared with."""
    cols = ", ".join(f.split(":")[0] for f in schema.KANTATA["time_entries"])
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    n, t0 = 0, time.perf_counter()
    for _, _, params, limit in jobs:
        bounds = [kt_datetime(parse_datetime(params[k])) for k in ("updated_after", "updated_before")]
        for _ in conn.execute(f"SELECT {cols} FROM kt_time_entries WHERE updated_at > ? AND updated_at < ? "
                              f"ORDER BY updated_at, id LIMIT {int(limit)}", bounds):
            n += 1
    seconds = time.perf_counter() - t0
    conn.close()
    return n, seconds


def measure(sb: SandboxServer, clients: int, jobs: list[tuple], pids: list[int]) -> tuple[int, float, float]:
    """(rows, seconds, sandbox CPU seconds) of reading `jobs` with `clients` client processes at once."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(clients) as pool:
        pool.map(lambda_free_noop, range(clients))  # the clients' start-up is not measured
        cpu0, t0 = cpu_seconds(pids), time.perf_counter()
        rows = sum(pool.map(read_window, jobs, chunksize=1))
        seconds = time.perf_counter() - t0
        cpu = cpu_seconds(pids) - cpu0
    return rows, seconds, cpu


def lambda_free_noop(_: int) -> None:
    import httpx  # noqa: F401  (imported once per client process, before the clock starts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", default="medium", choices=["demo", "medium", "large"])
    ap.add_argument("--data-dir", type=Path, default=None, help="reuse a firm here (default: a fresh temp folder)")
    ap.add_argument("--rows", type=int, default=0, help="time entries to read in each measurement (default 0: all)")
    ap.add_argument("--one-process", action="store_true", help="serve every system from one process (the old way)")
    args = ap.parse_args()
    tmp = None
    data = args.data_dir
    if data is None:
        tmp = tempfile.mkdtemp(prefix="pshub-bench-sandbox-")
        data = Path(tmp)
    try:
        t0 = time.perf_counter()
        sb = SandboxServer(data, scale=args.scale, processes=not args.one_process).start()
        counts = sb.generation or {}
        print(f"scale={args.scale} start (generation incl.)={time.perf_counter() - t0:.1f}s "
              f"time_entries={counts.get('kt_time_entries', 'reused')} generation={counts.get('seconds', 'reused')}s; "
              f"{'one process' if args.one_process else 'a process per system'}; {os.cpu_count()} cores")
        pids = [p.pid for p in sb._workers.values()] or [os.getpid()]
        url, token = sb.urls["kantata"], sb.credentials["kantata"]["token"]
        parts = windows(url, token, 4)
        total = httpx.get(url + RESOURCE, params={"per_page": 1, "from_archived_workspaces": "true"},
                          headers={"Authorization": f"Bearer {token}"}, timeout=300).json()["count"]
        rows = min(args.rows or total, total)
        jobs = [(url, token, p, -(-rows // len(parts))) for p in parts]
        load = os.getloadavg()[0]
        bare_n, bare_secs = bare_read(sb.store.path, jobs)
        bare = bare_n / bare_secs
        print(f"baseline, a bare SQLite read of the same rows: {bare_n:,} rows in {bare_secs:.2f}s = {bare:,.0f}/s; "
              f"load average {load:.2f}")
        results = {}
        for clients in (1, 4):
            load = os.getloadavg()[0]
            n, secs, cpu = measure(sb, clients, jobs, pids)
            results[clients] = n / secs
            print(f"kantata, {clients} client{'s' if clients > 1 else ''}: {n:,} time entries in {secs:.1f}s = "
                  f"{n / secs:,.0f}/s = {n / secs / bare:.2f}x the bare read; sandbox CPU {cpu:.1f}s "
                  f"({cpu / n * 100_000:.1f}s per 100,000 rows, {cpu / secs:.2f} of a core); load average {load:.2f}")
        print(f"kantata: 4 clients serve {results[4] / results[1]:.2f}x the rate of 1")

        tok = httpx.post(sb.urls["salesforce"] + "/services/oauth2/token",
                         data={"grant_type": "client_credentials", **sb.credentials["salesforce"]}).json()["access_token"]
        h = {"Authorization": f"Bearer {tok}"}
        n, t0 = 0, time.perf_counter()
        with httpx.Client(timeout=300) as c:
            for obj, fields in (("Opportunity", "Id, AccountId, Name, StageName, IsClosed, IsWon, CloseDate, Amount, "
                                                "CurrencyIsoCode, Billing_Model__c, Legal_Entity__c, SystemModstamp"),
                                ("OpportunityLineItem", "Id, OpportunityId, Role__c, Quantity, UnitPrice, SystemModstamp"),
                                ("Account", "Id, Name, CurrencyIsoCode, Legal_Entity__c, SystemModstamp")):
                body = c.get(sb.urls["salesforce"] + "/services/data/v62.0/queryAll", headers=h, params={
                    "q": f"SELECT {fields} FROM {obj} WHERE SystemModstamp >= 2000-01-01T00:00:00Z ORDER BY SystemModstamp ASC"}).json()
                n += len(body["records"])
                while not body["done"]:
                    body = c.get(sb.urls["salesforce"] + body["nextRecordsUrl"], headers=h).json()
                    n += len(body["records"])
        sf_secs = time.perf_counter() - t0
        print(f"salesforce, 1 client: {n:,} records in {sf_secs:.2f}s = {n / sf_secs:,.0f}/s")
        sb.stop()
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
