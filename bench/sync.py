"""Reverse-ETL benchmark, in one run against the sandbox with latency added to every request:

1. CRM push: N changed Salesforce records pushed by the engine (collections of 200, a few in flight) against
   a one-record-per-call baseline (PATCH /sobjects/{type}/{id}), with API calls counted; the ratio is of
   records per second (the baseline runs on a sample, as a full one-by-one run takes minutes by design).
   The peer: the same N records pushed to the same sandbox by drt (drt-core, an open-source reverse-ETL tool)
   from the same table, its REST destination in batch mode (collections of 200), when the optional `bench`
   extra is installed; the bench says why no other open-source reverse-ETL tool runs beside it.
2. No-change plan: apply over a sync whose ledger already holds every one of M rows: time and write calls.
3. ERP time bills: K time bills upserted under a NetSuite concurrency limit (batch requests of 100).
4. ERP projects matched by rule (made by hand in NetSuite, their internal id in `_erp_project_id`): P of them PATCHed
   one call per record, and P others in batch PATCH requests of 100, in the same run, under the same latency and
   NetSuite concurrency limit (skipped with --matched-projects 0).

    .venv/bin/python bench/sync.py [--crm-records 10000] [--baseline-records 1000] [--ledger-rows 100000]
                                   [--time-bills 50000] [--latency-ms 50] [--concurrency-limit 5]
                                   [--matched-projects 2000] [--only-matched]
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--crm-records", type=int, default=10_000)
    ap.add_argument("--baseline-records", type=int, default=1_000)
    ap.add_argument("--ledger-rows", type=int, default=100_000)
    ap.add_argument("--time-bills", type=int, default=50_000)
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--concurrency-limit", type=int, default=5)
    ap.add_argument("--matched-projects", type=int, default=2_000,
                    help="projects matched by rule pushed by each of the two paths (0: skip)")
    ap.add_argument("--only-matched", action="store_true", help="run only part 4 (projects matched by rule)")
    ap.add_argument("--home", type=Path, default=None, help="PSHUB_HOME to use (default: a temporary folder)")
    args = ap.parse_args()

    home = args.home or Path(tempfile.mkdtemp(prefix="pshub-bench-sync-"))
    os.environ["PSHUB_HOME"] = str(home)
    for system in ("SALESFORCE", "NETSUITE", "KANTATA"):
        os.environ.pop(f"PSHUB_{system}_URL", None)

    import httpx
    import psycopg

    from pshub.clients import client_for
    from pshub.warehouse import EmbeddedWarehouse, connect, database_url
    from reverse_etl import engine
    from reverse_etl.syncs import NETSUITE_UPSERT, SALESFORCE_UPDATE, Sync, fields
    from sandbox.server import SandboxServer

    server = SandboxServer(home / "sandbox", scale="demo", seed=11, ports={"salesforce": 0, "netsuite": 0, "kantata": 0})
    server.start()
    database_url()  # starts the embedded warehouse of this home
    print(f"home {home}; sandbox {server.urls}; latency {args.latency_ms} ms per request")

    def admin(system: str, path: str, method: str = "GET", **kw):
        return httpx.request(method, server.urls[system] + path, timeout=60, **kw)

    def set_latency(ms: int):
        admin("salesforce", "/__sandbox/latency", "PUT", json={"latency_ms": ms}).raise_for_status()

    def writes(system: str) -> int:
        return admin(system, "/__sandbox/stats").json()["write_calls"]

    try:
        with connect() as conn:
            conn.execute("create schema if not exists outbound")
            conn.commit()
            if args.only_matched:
                matched_projects(conn, args, server, admin, set_latency, writes)
                return

            # -- 1. CRM records: create them (setup, no latency), then change and push them ----------------------
            set_latency(0)
            n = args.crm_records
            with client_for("salesforce") as sf:
                ids = []
                for start in range(0, n, 200):
                    chunk = [{"attributes": {"type": "Account"}, "Name": f"Bench Account {i}", "CurrencyIsoCode": "USD"}
                             for i in range(start, min(n, start + 200))]
                    res = sf.request("POST", sf._api("/composite/sobjects"), json={"allOrNone": False, "records": chunk})
                    ids += [r["id"] for r in res.json()]
            conn.execute("drop table if exists outbound.bench_accounts")
            conn.execute('create table outbound.bench_accounts ("Id" text primary key, "Open_AR__c" numeric, "DSO__c" numeric)')
            with conn.cursor().copy('copy outbound.bench_accounts ("Id", "Open_AR__c", "DSO__c") from stdin') as cp:
                for i, rid in enumerate(ids):
                    cp.write_row((rid, 1000 + i, 40))
            conn.commit()
            sync = Sync("bench_accounts", "salesforce", "Account", "Id", fields("Open_AR__c:number", "DSO__c:number"),
                        SALESFORCE_UPDATE, batch_size=1000)
            set_latency(args.latency_ms)
            w0 = writes("salesforce")
            t0 = time.perf_counter()
            result = engine.apply(conn, sync, "bench", lambda: client_for("salesforce"), concurrency=4)
            engine_s = time.perf_counter() - t0
            engine_calls = writes("salesforce") - w0
            assert result.pushed == n, result

            sample = ids[:args.baseline_records]
            w0 = writes("salesforce")
            with client_for("salesforce") as sf:
                sf.token()
                t0 = time.perf_counter()
                for i, rid in enumerate(sample):
                    sf.request("PATCH", sf._api(f"/sobjects/Account/{rid}"), json={"Open_AR__c": 2000 + i, "DSO__c": 41})
                baseline_s = time.perf_counter() - t0
            baseline_calls = writes("salesforce") - w0
            engine_rate, baseline_rate = n / engine_s, len(sample) / baseline_s
            print("\n1. CRM push")
            print(f"   engine:   {n:>7,} records in {engine_s:7.2f} s = {engine_rate:9,.0f} records/s, "
                  f"{engine_calls} write calls")
            print(f"   baseline: {len(sample):>7,} records in {baseline_s:7.2f} s = {baseline_rate:9,.0f} records/s, "
                  f"{baseline_calls} write calls (one per record)")
            print(f"   ratio: engine is {engine_rate / baseline_rate:.1f}x the baseline's throughput "
                  f"(target >= 20x); a full one-by-one run of {n:,} would take ~{n / baseline_rate:,.0f} s; "
                  f"load average {os.getloadavg()[0]:.2f}")

            conn.execute('update outbound.bench_accounts set "Open_AR__c" = "Open_AR__c" + 10000')
            conn.commit()
            drt_peer(server.urls["salesforce"], n, engine_rate, writes, set_latency, args.latency_ms)

            # -- 2. No-change plan over M ledger rows ----------------------------------------------------------------
            m = args.ledger_rows
            conn.execute("drop table if exists outbound.bench_nochange")
            conn.execute("create table outbound.bench_nochange (external_id text primary key, hours numeric, memo text)")
            conn.execute("insert into outbound.bench_nochange select 'nc-' || g, g %% 8, 'memo ' || g"
                         " from generate_series(1, %s) g", (m,))
            quiet = Sync("bench_nochange", "netsuite", "timebill", "external_id", fields("hours:number", "memo"),
                         NETSUITE_UPSERT)
            conn.execute("delete from ops.sync_ledger where sync_name = 'bench_nochange'")
            conn.execute(psycopg.sql.SQL(
                "insert into ops.sync_ledger (sync_name, record_key, destination_id, row_hash, run_id)"
                " select 'bench_nochange', m.external_id, m.external_id, {}, 'bench' from outbound.bench_nochange m"
            ).format(engine._hash_expr(quiet)))
            conn.execute("analyze outbound.bench_nochange")
            conn.execute("analyze ops.sync_ledger")
            conn.commit()
            w0 = writes("netsuite")
            t0 = time.perf_counter()
            quiet_result = engine.apply(conn, quiet, "bench", lambda: client_for("netsuite"))
            quiet_s = time.perf_counter() - t0
            print("\n2. No-change plan")
            print(f"   apply over {m:,} unchanged rows (all in the ledger): {quiet_s:.2f} s (target <= 3 s), "
                  f"planned {quiet_result.planned}, write calls {writes('netsuite') - w0}")

            # -- 3. ERP time bills under a concurrency limit ---------------------------------------------------------
            k = args.time_bills
            set_latency(0)
            with client_for("netsuite") as ns:
                employees = [r["id"] for p in ns.suiteql_pages("SELECT id FROM employee ORDER BY id") for r in p][:20]
                project = next(iter(ns.suiteql_pages("SELECT id FROM job ORDER BY id")))[0]["id"]
                periods = [r for p in ns.suiteql_pages(
                    "SELECT startdate, closed FROM accountingperiod ORDER BY startdate DESC") for r in p]
            day = next(str(p["startdate"])[:10] for p in periods if str(p.get("closed", "F")).upper() in ("F", "FALSE", "0"))
            conn.execute("drop table if exists outbound.bench_timebills")
            conn.execute('create table outbound.bench_timebills (external_id text primary key, employee text,'
                         ' customer text, hours numeric, "tranDate" date)')
            with conn.cursor().copy('copy outbound.bench_timebills from stdin') as cp:
                for i in range(k):
                    cp.write_row((f"tb-{i}", employees[i % len(employees)], project, 0.25 * (1 + i % 32), day))
            conn.commit()
            bills = Sync("bench_timebills", "netsuite", "timebill", "external_id",
                         fields("employee:ref!", "customer:ref!", "hours:number!", "tranDate:date!"), NETSUITE_UPSERT,
                         batch_size=500)
            admin("netsuite", "/__sandbox/faults", "PUT", json={"concurrency_limit": args.concurrency_limit})
            set_latency(args.latency_ms)
            w0 = writes("netsuite")
            t0 = time.perf_counter()
            bill_result = engine.apply(conn, bills, "bench", lambda: client_for("netsuite"),
                                       concurrency=args.concurrency_limit)
            bills_s = time.perf_counter() - t0
            calls = writes("netsuite") - w0
            print(f"\n3. ERP time bills (NetSuite concurrency limit {args.concurrency_limit})")
            print(f"   {bill_result.pushed:,} of {k:,} pushed in {bills_s:.1f} s = {bill_result.pushed / bills_s:,.0f}/s, "
                  f"{calls:,} write calls, {bill_result.failed} failed; one call per record would take at least "
                  f"{k * args.latency_ms / 1000 / args.concurrency_limit:,.0f} s at this latency and limit (batches of "
                  f"100: a write, a poll or more and a query each); load average {os.getloadavg()[0]:.2f}")
            matched_projects(conn, args, server, admin, set_latency, writes)
    finally:
        set_latency(0)
        server.stop()
        if not os.environ.get("PSHUB_DATABASE_URL"):
            EmbeddedWarehouse(home).stop()


def matched_projects(conn, args, server, admin, set_latency, writes) -> None:
    """4. Projects made by hand in NetSuite (no external id) and matched by rule: the erp_projects sync's rows name
    them by internal id. P are pushed one PATCH per record (the path below NETSUITE_BATCH_FROM rows), P others in batch
    PATCH requests of 100; both under the same latency and NetSuite concurrency limit, five calls in flight."""
    import dataclasses
    import functools

    from pshub.clients import client_for
    from reverse_etl import engine
    from reverse_etl.pushers import netsuite_upsert
    from reverse_etl.syncs import SYNCS

    p = args.matched_projects
    if p <= 0:
        return
    set_latency(0)
    admin("netsuite", "/__sandbox/faults", "PUT", json={"concurrency_limit": None})
    prefix = f"bench hand made {int(time.time())}"
    batch_headers = {"Prefer": "respond-async", "Content-Type": "application/vnd.oracle.resource+json; type=collection"}
    with client_for("netsuite") as ns:
        customers = [str(r["id"]) for r in next(iter(ns.suiteql_pages("SELECT id FROM customer ORDER BY id")))][:50]
        for start in range(0, 2 * p, 100):  # setup: made as a person would, without the hub's external id
            items = [{"companyName": f"{prefix} {i:06d}", "parent": {"id": customers[i % len(customers)]}}
                     for i in range(start, min(2 * p, start + 100))]
            job = ns.request("POST", "/services/rest/record/v1/job", headers=batch_headers,
                             json={"items": items}).headers["Location"].rstrip("/").rsplit("/", 1)[-1]
            ns._wait_for_job(job)
        made = {r["companyname"]: (str(r["id"]), str(r["parent"])) for page in ns.suiteql_pages(
            f"SELECT id, companyname, parent FROM job WHERE companyname LIKE '{prefix} %'") for r in page}
    assert len(made) == 2 * p, len(made)
    hub = SYNCS["erp_projects"]
    figures = {}
    for label, offset, pusher in (("one PATCH per record", 0, functools.partial(netsuite_upsert, batch_from=10**9)),
                                  ("batch PATCH of 100", p, None)):
        name = "bench_matched_" + ("one" if pusher else "batch")
        conn.execute(f"drop table if exists outbound.{name}")
        conn.execute(f'create table outbound.{name} (external_id text primary key, "companyName" text, parent text,'
                     ' subsidiary text, currency text, "entityStatus" text, "jobBillingType" text, "startDate" date,'
                     ' "projectedEndDate" date, "projectedValue" numeric, custentity_billing_model text,'
                     ' custentity_service_line text, custentity_crm_opportunity_id text, _erp_project_id text)')
        conn.execute(f"delete from ops.sync_ledger where sync_name = '{name}'")
        with conn.cursor().copy(f'copy outbound.{name} (external_id, "companyName", parent, "jobBillingType",'
                                ' "projectedValue", custentity_crm_opportunity_id, _erp_project_id) from stdin') as cp:
            for i in range(offset, offset + p):
                rid, parent = made[f"{prefix} {i:06d}"]
                cp.write_row((f"bench-opp-{prefix[-10:]}-{i}", f"Bench Project {i}", parent, "TM", 1000 + i,
                              f"bench-opp-{i}", rid))
        conn.commit()
        sync = dataclasses.replace(hub, name=name)
        admin("netsuite", "/__sandbox/faults", "PUT", json={"concurrency_limit": args.concurrency_limit})
        set_latency(args.latency_ms)
        w0 = writes("netsuite")
        t0 = time.perf_counter()
        result = engine.apply(conn, sync, "bench", lambda: client_for("netsuite"), concurrency=args.concurrency_limit,
                              pusher=pusher)
        seconds = time.perf_counter() - t0
        calls = writes("netsuite") - w0
        set_latency(0)
        admin("netsuite", "/__sandbox/faults", "PUT", json={"concurrency_limit": None})
        figures[label] = (seconds, calls, result, os.getloadavg()[0])
    with client_for("netsuite") as ns:
        ids = ", ".join(rid for rid, _ in made.values())
        stamped = sum(1 for page in ns.suiteql_pages(
            f"SELECT id FROM job WHERE id IN ({ids}) AND externalid LIKE 'bench-opp-%'") for _ in page)
    print(f"\n4. ERP projects matched by rule (NetSuite concurrency limit {args.concurrency_limit}, latency "
          f"{args.latency_ms} ms, {p:,} projects each path)")
    for label, (seconds, calls, result, load) in figures.items():
        print(f"   {label:22s}: {result.pushed:,} of {p:,} pushed in {seconds:6.2f} s = {result.pushed / seconds:7,.0f}/s, "
              f"{calls:,} write calls (sync_runs: {result.write_calls:,}), {result.failed} failed; load average "
              f"{load:.2f}")
    one, batch = figures["one PATCH per record"][0], figures["batch PATCH of 100"][0]
    print(f"   batch path {one / batch:.1f}x faster; {stamped:,} of {2 * p:,} projects hold the hub's external id")


# Open-source reverse-ETL tools that could stand beside drt, and why none does (the package lists of PyPI and npm
# searched for reverse ETL; each one's own description says what it writes to).
NOT_RUN = (
    ("Grouparoo (npm @grouparoo/salesforce)", "logs in with a username, password and security token at "
     "Salesforce's own login server (jsforce's default login URL; no setting points it elsewhere), a SOAP login "
     "the sandbox does not serve: it cannot reach the sandbox's CRM"),
    ("lht", "pushes to Salesforce with the Bulk API 2.0 from Snowflake or Databricks: neither is the hub's "
     "PostgreSQL, and the sandbox's CRM serves the REST and composite APIs, not Bulk API 2.0 jobs"),
    ("dbt-bridge", "writes through dlt's destinations, which are warehouses, files and vector stores: no "
     "Salesforce writer (an HTTP push would be code of ours in a dlt custom destination, not a second tool)"),
    ("PyAirbyte (airbyte)", "runs Airbyte destinations as Docker images: no Docker daemon runs on this machine"),
    ("dagster-rudderstack, rudderstack-airflow-provider", "trigger syncs in RudderStack's hosted service, which "
     "cannot reach a sandbox on this machine"),
    ("condor-retl", "an API for authoring reverse-ETL code (its own description), with no CRM writer"),
)


def drt_peer(instance_url: str, n: int, engine_rate: float, writes, set_latency, latency_ms: int) -> None:
    """The same records (outbound.bench_accounts) pushed by drt's REST destination, batch mode: PATCH
    /composite/sobjects with 200 records a call (Salesforce's collection limit, as the engine sends), from a drt
    project made in a temporary folder (its profile: the same PostgreSQL)."""
    import tempfile

    from pshub.clients import client_for
    from pshub.warehouse import database_url

    print("\n1b. the peer: drt (drt-core) pushing the same records to the same sandbox")
    if importlib.util.find_spec("drt") is None:
        print("   drt is not installed: skipped; install it with "
              "`.venv/bin/pip install -c constraints.txt -e '.[bench]'`")
    else:
        from urllib.parse import urlsplit

        url = urlsplit(database_url())
        with client_for("salesforce") as sf:
            token = sf.token()
            collections = sf._api("/composite/sobjects")
        tmp = Path(tempfile.mkdtemp(prefix="pshub-bench-drt-"))
        (tmp / ".drt").mkdir()
        (tmp / "project" / "syncs").mkdir(parents=True)
        (tmp / ".drt" / "profiles.yml").write_text(
            f"bench:\n  type: postgres\n  host: {url.hostname}\n  port: {url.port}\n  dbname: {url.path.lstrip('/')}"
            f"\n  user: {url.username}\n  password_env: BENCH_PG_PASSWORD\n")
        (tmp / "project" / "drt_project.yml").write_text('name: bench\nversion: "0.1"\nprofile: bench\n')
        batch = ('{"allOrNone": false, "records": [{% for row in rows %}{"attributes": {"type": "Account"}, '
                 '"id": "{{ row.Id }}", "Open_AR__c": {{ row.Open_AR__c }}, "DSO__c": {{ row.DSO__c }}}'
                 '{% if not loop.last %},{% endif %}{% endfor %}]}')
        for name, where in (("bench_accounts", ""), ("bench_nothing", " WHERE false")):
            (tmp / "project" / "syncs" / f"{name}.yml").write_text(
                f"name: {name}\nmodel: 'SELECT \"Id\", \"Open_AR__c\"::float AS \"Open_AR__c\", "
                f"\"DSO__c\"::float AS \"DSO__c\" FROM outbound.bench_accounts{where}'\n"
                f"destination:\n  type: rest_api\n  url: \"{collections}\"\n  method: PATCH\n"
                f"  headers:\n    Content-Type: application/json\n  body_mode: batch\n  max_records_per_request: 200\n"
                f"  batch_template: '{batch}'\n  auth:\n    type: bearer\n    token_env: BENCH_SF_TOKEN\n"
                f"sync:\n  mode: full\n  batch_size: 1000\n  rate_limit:\n    requests_per_second: 10000\n"
                f"  on_error: fail\n")
        env = {**os.environ, "HOME": str(tmp), "BENCH_PG_PASSWORD": url.password or "", "BENCH_SF_TOKEN": token,
               "DRT_TELEMETRY": "0", "DO_NOT_TRACK": "1"}
        drt = str(Path(sys.executable).with_name("drt"))

        def run(name: str) -> tuple[float, subprocess.CompletedProcess]:
            t0 = time.perf_counter()
            done = subprocess.run([drt, "run", "--select", name], cwd=tmp / "project", env=env, capture_output=True,
                                  text=True, timeout=3600)
            return time.perf_counter() - t0, done

        set_latency(latency_ms)
        startup_s, empty = run("bench_nothing")
        w0 = writes("salesforce")
        drt_s, done = run("bench_accounts")
        calls = writes("salesforce") - w0
        set_latency(0)
        if done.returncode != 0 or empty.returncode != 0:
            print(f"   drt failed (exit {done.returncode}): {(done.stdout + done.stderr)[-600:]}")
        else:
            with client_for("salesforce") as sf:
                held = sum(len(p) for p in sf.query_pages(
                    "SELECT Id FROM Account WHERE Open_AR__c >= 11000 AND Name LIKE 'Bench Account %'"))
            net = max(drt_s - startup_s, 1e-9)
            rate = n / net
            print(f"   drt:      {n:>7,} records in {drt_s:7.2f} s ({startup_s:.2f} s of it drt's start and query of "
                  f"an empty model, measured apart) = {rate:9,.0f} records/s net, {calls} write calls; "
                  f"{held:,} records hold the pushed values")
            print(f"   ratio: the engine is {engine_rate / rate:.2f}x drt's throughput net of drt's start-up, "
                  f"{engine_rate / (n / drt_s):.2f}x its whole command's; load average {os.getloadavg()[0]:.2f}")
    print("   no second open-source reverse-ETL tool runs beside drt: none of those packaged can push to this "
          "CRM from PostgreSQL:")
    for name, why in NOT_RUN:
        print(f"     {name}: {why}")


if __name__ == "__main__":
    main()
