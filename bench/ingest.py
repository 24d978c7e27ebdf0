"""Ingest benchmark: the full ingest of Kantata time entries (the largest object), the same object through dlt's
`rest_api` source (the peer) into the same PostgreSQL, in turns, median of --rounds, with the load average beside
each; the no-change incremental of that object from a fresh process (`pshub ingest -s kantata -o time_entries`, as
typed, against dlt's second run); peak memory; the sandbox's CPU against the hub's. Optionally: the previous code
path (a second listing of every id), every object, and landing against a bare COPY + upsert.

    .venv/bin/python bench/ingest.py [--scale medium] [--home .pshub/bench] [--rounds 3] [--no-peer] [--previous]
                                     [--all-objects] [--landing] [--sample 200000] [--landing-only]

The peer needs the optional extra: `.venv/bin/pip install -c constraints.txt -e '.[bench]'` (dlt[postgres]);
without it the bench says so and skips it. The sandbox runs in a process of its own (`pshub sandbox serve`, a
process per system), as a real SaaS would be elsewhere; each ingest runs in a child process so that its peak memory
and CPU are its own. Full ingests start from an empty raw table (the hub) or dataset (dlt). The firm is generated
once in <home>/sandbox and reused by later runs.
Targets (issue 17): full ingest of ~1M time entries <= 120 s and at least 2x dlt's speed; no-change incremental
from a fresh process <= 2 s; peak memory <= 300 MB; the sandbox uses less CPU than the hub.

Every child process runs as a user's `pshub` does (bench/_harness.py, bench_env): with Python's byte-code cache,
even when the shell sets PYTHONDONTWRITEBYTECODE. A user's install keeps the compiled modules in __pycache__ (pip
compiles them when it installs; an editable install on the first run), so only the first start after a change
compiles them: the no-change runs are measured after one run that is not counted (it writes the cache of the
modules the full ingests did not import).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from _harness import bench_env, run_child, start_sandbox  # noqa: E402

CHILD = """
import json, resource, sys, time
t0 = time.perf_counter()
# as `pshub ingest` starts: Prefect's API boots while the flow's modules import
from pshub.prefect_api import start_temporary_api
prefect_api = start_temporary_api()
from flows.ingest import ingest
from flows.objects import cap_malloc_arenas
from pshub.runs import new_run_id
cap_malloc_arenas()
prefect_api.wait()
for full_refresh in {runs}:
    started = time.perf_counter()
    results = ingest(new_run_id(), full_refresh=full_refresh)
    print("RESULT " + json.dumps({{"seconds": time.perf_counter() - started, "startup_seconds": started - t0,
                                  "since_start": time.perf_counter() - t0,
                                  "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                                  "cpu_seconds": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
                                  "results": results}}), flush=True)
"""

# One object, as the plain function under the flow's task runs it (no Prefect server: none is needed to land one
# object), in a process of its own: `full` lands every record (from an empty table), else from the cursor.
ONE = """
import json, resource, time
t0 = time.perf_counter()
import flows.objects as ingest_module
from connectors import catalog
from flows.objects import cap_malloc_arenas, land_object
from pshub.clients import client_for
imported = time.perf_counter()
cap_malloc_arenas()
ingest_module.RECONCILE_FROM_READ = {from_read}
(obj,) = catalog.find("kantata", "time_entries")
client = client_for("kantata")
started, cpu0 = time.perf_counter(), sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
result = land_object(client, obj, "bench-{label}", full_refresh={full})
client.close()
print("RESULT " + json.dumps({{"seconds": time.perf_counter() - started, "import_seconds": imported - t0,
                              "since_start": time.perf_counter() - t0,
                              "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                              "cpu_seconds": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - cpu0,
                              "result": result.__dict__}}), flush=True)
"""


# The peer: dlt's rest_api source over the same Kantata endpoint, into a dataset of the same PostgreSQL, with the
# read filters the hub uses (from_archived_workspaces=true, else the time of archived projects is left out).
# Configuration from dlt's docs (dlthub.com/docs/dlt-ecosystem/verified-sources/rest_api/basic): "Pagination",
# type page_number with base_page, page_param and total_path, the JSONPath of the total number of pages (Kantata's
# meta.page_count); "Data selection", a JSONPath to the records (Kantata keys them by id under the resource's name:
# `time_entries.*` selects the values); "Incremental loading using the incremental field": start_param (Kantata's
# updated_after) and cursor_path, with merge on the primary key, so a second run reads only what changed. Telemetry
# off: runtime.dlthub_telemetry (dlthub.com/docs/reference/telemetry), as the environment variable of that option.
DLT = """
import json, resource, time
t0 = time.perf_counter()
import dlt
from dlt.sources.rest_api import rest_api_source
imported = time.perf_counter()
config = {{
    "client": {{
        "base_url": {base_url!r},
        "auth": {{"type": "bearer", "token": {token!r}}},
        "paginator": {{"type": "page_number", "base_page": 1, "page_param": "page", "total_path": "meta.page_count"}},
    }},
    "resources": [{{
        "name": "time_entries", "primary_key": "id", "write_disposition": "merge",
        "endpoint": {{
            "path": "time_entries.json",
            "params": {{"per_page": 200, "order": "updated_at:asc", "from_archived_workspaces": "true"}},
            "data_selector": "time_entries.*",
            "incremental": {{"start_param": "updated_after", "cursor_path": "updated_at",
                             "initial_value": "1970-01-01T00:00:00+00:00"}},
        }},
    }}],
}}
pipeline = dlt.pipeline(pipeline_name="bench_kantata", destination=dlt.destinations.postgres({url!r}),
                        dataset_name={dataset!r}, pipelines_dir={pipelines_dir!r})
started = time.perf_counter()
pipeline.run(rest_api_source(config))
usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
normalized = pipeline.last_trace.last_normalize_info
print("RESULT " + json.dumps({{"seconds": time.perf_counter() - started, "import_seconds": imported - t0,
                              "since_start": time.perf_counter() - t0,
                              "rows": (normalized.row_counts.get("time_entries", 0) if normalized else 0),
                              "peak_kb": max(u.ru_maxrss for u in usage),
                              "cpu_seconds": sum(u.ru_utime + u.ru_stime for u in usage)}}), flush=True)
"""
DLT_DATASET = "bench_dlt_kantata"


def dlt_installed() -> bool:
    return importlib.util.find_spec("dlt") is not None


def dlt_url(url: str) -> str:
    """The warehouse URL for dlt, whose postgres credentials require a password: the embedded warehouse trusts its
    loopback logins (its URL has none), which ignore the one given here."""
    parts = urlsplit(url)
    if parts.password is not None:
        return url
    netloc = f"{parts.username or 'postgres'}:unused@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def run_dlt(env: dict, url: str, home: Path, full: bool, sandbox_pid: int | None) -> dict:
    """dlt's pipeline in a fresh child process: full = from an empty dataset and no pipeline state (else its second
    run, from the state its first left in the dataset)."""
    endpoints = json.loads((home / "sandbox" / "endpoints.json").read_text())
    pipelines_dir = home / "dlt-pipelines"
    if full:
        drop_dlt(url, pipelines_dir)
    code = DLT.format(base_url=endpoints["urls"]["kantata"].rstrip("/") + "/api/v1/",
                      token=endpoints["credentials"]["kantata"]["token"], url=dlt_url(url), dataset=DLT_DATASET,
                      pipelines_dir=str(pipelines_dir))
    before = cpu_seconds(sandbox_pid) if sandbox_pid else 0.0
    load = os.getloadavg()[0]
    started = time.perf_counter()
    (out,) = run_child(code, {**env, "RUNTIME__DLTHUB_TELEMETRY": "false", "RUNTIME__LOG_LEVEL": "WARNING"},
                       "dlt's rest_api pipeline")
    out["wall_seconds"] = time.perf_counter() - started  # the process from start to exit
    out["sandbox_cpu_seconds"] = (cpu_seconds(sandbox_pid) - before) if sandbox_pid else None
    out["load_before"] = load
    return out


def drop_dlt(url: str, pipelines_dir: Path) -> None:
    import psycopg
    with psycopg.connect(url, autocommit=True) as conn:
        for (schema,) in conn.execute("select nspname from pg_namespace where nspname like %s",
                                      (DLT_DATASET + "%",)).fetchall():
            conn.execute(f'drop schema "{schema}" cascade')
    shutil.rmtree(pipelines_dir, ignore_errors=True)


def pshub_ingest_no_change(env: dict) -> dict:
    """`pshub ingest -s kantata -o time_entries` as typed, in a fresh process: from its start to its exit, and the
    CPU seconds it used (on a shared machine the wall time is about those times the load per core)."""
    import resource

    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run([str(ROOT / ".venv/bin/pshub"), "ingest", "-s", "kantata", "-o", "time_entries"], cwd=ROOT,
                          env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"pshub ingest failed:\n{proc.stderr[-3000:]}")
    row = next(line.split() for line in proc.stdout.splitlines() if line.strip().startswith("kantata.time_entries"))
    return {"seconds": seconds, "rows_fetched": int(row[1]), "rows_landed": int(row[2]), "load_before": load,
            "cpu_seconds": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime}


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and every live descendant (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo, tick = 0.0, [pid], os.sysconf("SC_CLK_TCK")
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
        todo += children.get(p, [])
    return total


def run_one(env: dict, label: str, full: bool, from_read: bool = True, sandbox_pid: int | None = None) -> dict:
    """Land Kantata time entries in a fresh child process: its CPU seconds while landing (imports excluded), and
    the sandbox's CPU seconds meanwhile (its imports are long done)."""
    before = cpu_seconds(sandbox_pid) if sandbox_pid else 0.0
    load = os.getloadavg()[0]
    (out,) = run_child(ONE.format(label=label, full=full, from_read=from_read), env, f"ingest ({label})")
    out["sandbox_cpu_seconds"] = (cpu_seconds(sandbox_pid) - before) if sandbox_pid else None
    out["load_before"] = load
    return out


def empty_time_entries(url: str) -> None:
    import psycopg
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop table if exists raw_kantata.time_entries")
        conn.execute("delete from ops.cursors where system = 'kantata' and object like 'time_entries%'")


def run_ingest(env: dict, runs: list[bool]) -> list[dict]:
    """Ingests (the Prefect flow) one after the other in one child process that starts as `pshub ingest` does
    (True = full refresh): for each, its results, time and the process's peak RSS so far, and the time from the
    process's first line to the end of the flow (the first run's includes imports and Prefect's API start)."""
    return run_child(CHILD.format(runs=runs), env, "ingest")


def landing_vs_baseline(url: str, sample: int, batch: int = 5000, rounds: int = 5) -> dict:
    """The same time entries landed into empty tables by land_page (validation, quarantine, cursor, newest wins)
    and by a bare COPY into a temp table + insert ... on conflict into a plain table, `rounds` times each,
    taking turns at going first (the machine is shared: the best time of each is compared, and the medians)."""
    import orjson
    import psycopg

    from flows.landing import Load, ObjectSpec, copy_rows
    from flows.objects import land_batches
    from connectors.kantata import parse_datetime

    import dataclasses

    from connectors import catalog
    from flows.landing import spec_for

    (obj,) = catalog.find("kantata", "time_entries")
    # landing as the ingest does it (typed: every value staging casts is checked), and without the typed checks
    typed = dataclasses.replace(spec_for(obj), system="benchland")
    untyped = ObjectSpec("benchland", "time_entries", "time_entries", "id", "updated_at", parse_datetime)

    def landing(conn: psycopg.Connection, batches: list[list[dict]], spec: ObjectSpec = typed) -> float:
        conn.execute("drop schema if exists raw_benchland cascade")
        conn.execute("delete from ops.cursors where system = 'benchland'")
        conn.commit()
        load = Load(conn, spec, run_id="bench", cursor_from=None, cursor_field="updated_at")
        t = time.perf_counter()
        for _ in land_batches(load, batches):  # as land_object lands: each batch checked while the one before lands
            pass
        seconds = time.perf_counter() - t
        load.finish()
        return seconds

    def baseline(conn: psycopg.Connection, batches: list[list[dict]]) -> float:
        conn.execute("drop table if exists public.bench_baseline")
        conn.execute("create table public.bench_baseline (id text primary key, data jsonb not null, "
                     "source_updated_at timestamptz not null, is_deleted boolean not null default false, "
                     "_load_id bigint not null, _landed_at timestamptz not null default now())")
        conn.commit()
        t = time.perf_counter()
        for b in batches:
            with conn.transaction():
                conn.execute("create temp table if not exists _bare (id text, data jsonb, source_updated_at "
                             "timestamptz, is_deleted boolean) on commit delete rows")
                with conn.cursor().copy("copy _bare from stdin") as copy:  # the same COPY writer as landing's
                    copy_rows(copy, [(r["id"], orjson.dumps(r).decode(), parse_datetime(r["updated_at"]), False)
                                      for r in b])
                conn.execute("""insert into public.bench_baseline as t (id, data, source_updated_at, is_deleted, _load_id)
                                select id, data, source_updated_at, is_deleted, 0 from _bare
                                on conflict (id) do update set data = excluded.data,
                                    source_updated_at = excluded.source_updated_at""")
        return time.perf_counter() - t

    with psycopg.connect(url) as conn:
        records = [r[0] for r in conn.execute(
            "select data from raw_kantata.time_entries order by id limit %s", (sample,))]
        batches = [records[i:i + batch] for i in range(0, len(records), batch)]
        runners = {"landing": lambda: landing(conn, batches), "baseline": lambda: baseline(conn, batches),
                   "untyped": lambda: landing(conn, batches, untyped)}
        times: dict[str, list[float]] = {name: [] for name in runners}
        for i in range(rounds):
            order = list(runners)[i % 3:] + list(runners)[:i % 3]  # each goes first in turn
            for name in order:
                times[name].append(runners[name]())
        conn.execute("drop schema raw_benchland cascade")
        conn.execute("drop table public.bench_baseline")
        conn.execute("delete from ops.cursors where system = 'benchland'")
        conn.commit()
    landing_s, baseline_s, untyped_s = min(times["landing"]), min(times["baseline"]), min(times["untyped"])
    median = {name: sorted(ts)[len(ts) // 2] for name, ts in times.items()}
    return {"rows": len(records), "landing_s": landing_s, "baseline_s": baseline_s, "times": times,
            "median_ratio": median["baseline"] / median["landing"],
            "landing_rows_s": len(records) / landing_s, "baseline_rows_s": len(records) / baseline_s,
            "ratio": baseline_s / landing_s, "untyped_s": untyped_s, "untyped_rows_s": len(records) / untyped_s,
            "typed_ratio": untyped_s / landing_s,
            "typed_median_ratio": median["untyped"] / median["landing"]}


def median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def runs_text(runs: list[dict], key: str, digits: int = 1) -> str:
    """Each run's time with the 1-minute load average when it started."""
    return ", ".join(f"{r[key]:.{digits}f}s at load {r['load_before']:.1f}" for r in runs)


def loadavg() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", default="medium")
    ap.add_argument("--home", default=str(ROOT / ".pshub" / "bench"))
    ap.add_argument("--rounds", type=int, default=3, help="full ingests of each (hub, dlt), in turns; the median counts")
    ap.add_argument("--no-peer", action="store_true", help="skip dlt's rest_api source even when installed")
    ap.add_argument("--previous", action="store_true", help="also the previous code path: after reading every "
                                                            "record, a second listing of every id to find deletes")
    ap.add_argument("--sample", type=int, default=200_000, help="rows for landing vs baseline")
    ap.add_argument("--all-objects", action="store_true", help="also a full and a no-change ingest of every object "
                                                               "(the Prefect flow, as `pshub ingest` runs it)")
    ap.add_argument("--landing", action="store_true", help="also landing against a bare COPY + upsert")
    ap.add_argument("--landing-only", action="store_true",
                    help="only landing vs the bare baseline, on the time entries an earlier run landed")
    args = ap.parse_args()
    home = Path(args.home).resolve()
    env = bench_env(home, "WARNING")

    from pshub.migrations import migrate
    from pshub.warehouse import database_url
    import psycopg

    url = database_url()
    migrate(url)
    if args.landing_only:
        print_landing(landing_vs_baseline(url, args.sample))
        return
    with psycopg.connect(url, autocommit=True) as conn:  # a fresh warehouse: every raw table from scratch
        for (schema,) in conn.execute("select nspname from pg_namespace where nspname like 'raw\\_%'").fetchall():
            conn.execute(f'drop schema "{schema}" cascade')
        conn.execute("truncate ops.loads, ops.cursors, ops.quarantine")
    peer = not args.no_peer and dlt_installed()
    if not args.no_peer and not peer:
        print("dlt is not installed: the peer (dlt's rest_api source) is skipped; install it with "
              "`.venv/bin/pip install -c constraints.txt -e '.[bench]'`")

    print(f"load average (1, 5, 15 min) at the start: {loadavg()}; {os.cpu_count()} cores")
    t = time.perf_counter()
    sandbox = start_sandbox(home, args.scale, env)
    print(f"sandbox ({args.scale}) up in {time.perf_counter() - t:.1f}s (generated once, then reused)", flush=True)
    hub: list[dict] = []
    dlt: list[dict] = []
    try:
        previous = None
        if args.previous:
            empty_time_entries(url)
            previous = run_one(env, "full-previous", True, False, sandbox.pid)
        for i in range(args.rounds):
            order = ["hub", "dlt"] if i % 2 == 0 else ["dlt", "hub"]  # each goes first in turn
            for who in order:
                if who == "hub":
                    empty_time_entries(url)
                    hub.append(run_one(env, f"full-{i}", True, True, sandbox.pid))
                    show_full("hub", hub[-1], hub[-1]["result"]["rows_fetched"])
                elif peer:
                    dlt.append(run_dlt(env, url, home, True, sandbox.pid))
                    show_full("dlt", dlt[-1], dlt[-1]["rows"])
        # nothing changed since the last full ingest of each: a fresh process each time, after one not counted
        # (the first start of `pshub` writes the byte-code cache of the command's modules, as a user's first run)
        pshub_ingest_no_change(env)
        quiet = [pshub_ingest_no_change(env) for _ in range(args.rounds)]
        quiet_dlt = [run_dlt(env, url, home, False, sandbox.pid) for _ in range(args.rounds)] if peer else []
        if args.all_objects:
            full, all_quiet = run_ingest(env, [True, False])
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=60)
        if peer:
            drop_dlt(url, home / "dlt-pipelines")

    rows = hub[-1]["result"]["rows_fetched"]
    print(f"\nfull ingest of kantata.time_entries ({rows:,} records), median of {len(hub)} "
          "(each in a fresh process, imports excluded):")
    print(f"  hub      {median(hub, 'seconds'):7.1f}s  {rows / median(hub, 'seconds'):>8,.0f} rows/s  "
          f"CPU {median(hub, 'cpu_seconds'):6.1f}s  peak {median(hub, 'peak_kb') / 1024:4.0f} MB  "
          f"(target <= 120 s; runs: {runs_text(hub, 'seconds')})")
    if dlt:
        print(f"  dlt      {median(dlt, 'seconds'):7.1f}s  {rows / median(dlt, 'seconds'):>8,.0f} rows/s  "
              f"CPU {median(dlt, 'cpu_seconds'):6.1f}s  peak {median(dlt, 'peak_kb') / 1024:4.0f} MB  "
              f"(runs: {runs_text(dlt, 'seconds')})")
        ratio = median(dlt, "seconds") / median(hub, "seconds")
        print(f"  ratio    the hub at {ratio:.2f}x dlt's speed, median against median (target >= 2x); "
              f"{median(dlt, 'cpu_seconds') / median(hub, 'cpu_seconds'):.2f}x less CPU")
    if previous:
        print(f"  previous {previous['seconds']:7.1f}s at load {previous['load_before']:.1f} (a second listing of every "
              f"id after the read; the hub now reconciles from the ids it read)")
    sandbox_cpu, hub_cpu = median(hub, "sandbox_cpu_seconds"), median(hub, "cpu_seconds")
    print(f"  sandbox CPU {sandbox_cpu:.1f}s against the hub's {hub_cpu:.1f}s during the hub's ingest "
          f"({'less' if sandbox_cpu < hub_cpu else 'MORE'} than the hub)")
    print(f"\nno-change incremental of kantata.time_entries from a fresh process, median of {len(quiet)}:")
    print(f"  hub      {median(quiet, 'seconds'):6.2f}s  `pshub ingest -s kantata -o time_entries` from start to exit "
          f"({quiet[-1]['rows_fetched']} re-read in the overlap, {quiet[-1]['rows_landed']} landed; after one run not "
          f"counted, byte-code cache allowed as in a user's install; target <= 2 s; "
          f"runs: {runs_text(quiet, 'seconds', 2)}; CPU {median(quiet, 'cpu_seconds'):.2f}s)")
    if quiet_dlt:
        print(f"  dlt      {median(quiet_dlt, 'wall_seconds'):6.2f}s  dlt's second run (its state in the dataset), "
              f"a fresh process from start to exit (imports {median(quiet_dlt, 'import_seconds'):.2f}s; runs: "
              f"{runs_text(quiet_dlt, 'wall_seconds', 2)})")
        print(f"  ratio    the hub at {median(quiet_dlt, 'wall_seconds') / median(quiet, 'seconds'):.2f}x dlt's speed")
    print(f"peak memory (RSS) of the hub's full ingest: {max(r['peak_kb'] for r in hub) / 1024:.0f} MB at most "
          "(target <= 300 MB)")

    if args.all_objects:
        print_all(full, all_quiet)
    if args.landing:
        print_landing(landing_vs_baseline(url, args.sample))
    print(f"\nload average (1, 5, 15 min) at the end: {loadavg()}")


def show_full(who: str, run: dict, rows: int) -> None:
    print(f"  {who} full ingest: {run['seconds']:.1f}s, {rows:,} rows, CPU {run['cpu_seconds']:.1f}s, "
          f"peak {run['peak_kb'] / 1024:.0f} MB, sandbox CPU {run['sandbox_cpu_seconds']:.1f}s, "
          f"load {run['load_before']:.2f} (now {loadavg()})", flush=True)


def print_all(full: dict, quiet: dict) -> None:
    rows = sum(r["rows_fetched"] for r in full["results"])
    print(f"\nfull ingest of every object (the flow): {full['seconds']:.1f}s for {rows:,} records "
          f"({rows / full['seconds']:,.0f} rows/s; process start, imports and Prefect's API start "
          f"{full['startup_seconds']:.1f}s not included; the ingest process used {full['cpu_seconds']:.0f} CPU seconds)")
    print(f"  {'object':<48} {'rows':>10} {'seconds':>8} {'rows/s':>9}  status")
    for r in sorted(full["results"], key=lambda r: -r["rows_fetched"]):
        rate = r["rows_fetched"] / r["seconds"] if r["seconds"] else 0
        print(f"  {r['system'] + '.' + r['object']:<48} {r['rows_fetched']:>10,} {r['seconds']:>8.1f} {rate:>9,.0f}  "
              f"{r['status']}{' ' + r['error'][:80] if r.get('error') else ''}")
    changed = sum(r["rows_landed"] for r in quiet["results"])
    print(f"no-change incremental of every object: {quiet['seconds']:.1f}s with Prefect's API already up "
          f"({sum(r['rows_fetched'] for r in quiet['results']):,} records re-read in the overlap window, "
          f"{changed} landed); peak memory {full['peak_kb'] / 1024:.0f} MB")


def print_landing(cmp: dict) -> None:
    rounds = len(cmp["times"]["landing"])
    print(f"\nlanding vs bare COPY + upsert, {cmp['rows']:,} time entries in batches of 5,000 into empty tables, "
          f"best of {rounds} each, taking turns:")
    for name in ("landing", "untyped", "baseline"):
        print(f"  {name:<8} {cmp[name + '_s']:.2f}s  {cmp[name + '_rows_s']:,.0f} rows/s   "
              f"(all: {', '.join(f'{t:.2f}s' for t in cmp['times'][name])})")
    print(f"  ratio    {cmp['ratio']:.2f}x of the baseline's speed, best against best (target >= 0.9x); "
          f"{cmp['median_ratio']:.2f}x median against median")
    print(f"  typed checks: landing runs at {cmp['typed_ratio']:.2f}x the speed of landing without them, best against "
          f"best ({cmp['typed_median_ratio']:.2f}x median against median)")


if __name__ == "__main__":
    main()
