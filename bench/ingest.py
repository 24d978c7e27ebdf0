"""Ingest benchmark: the full ingest of Kantata time entries (the largest object) against the previous code path
measured in the same run, the no-change incremental ingest of that object from a fresh process, peak memory, the
sandbox's CPU against the hub's; optionally every object, and landing against a bare COPY + upsert.

    .venv/bin/python bench/ingest.py [--scale medium] [--home .pshub/bench] [--all-objects] [--landing]
                                     [--sample 200000] [--landing-only]

The sandbox runs in a process of its own (`pshub sandbox serve`, a process per system), as a real SaaS would be
elsewhere; each ingest runs in a child process so that its peak memory and CPU are its own. Full ingests start
from an empty raw table. The previous code path: after reading every record, a full refresh listed every id a
second time to find deletes (flows.ingest.RECONCILE_FROM_READ = False); now it reconciles from the ids it read.
The firm is generated once in <home>/sandbox and reused by later runs.
Targets (issue 17): full ingest of ~1M time entries <= 120 s; no-change incremental from a fresh process <= 2 s;
peak memory <= 300 MB; the sandbox uses less CPU than the hub.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from _harness import bench_env, run_child, start_sandbox  # noqa: E402

CHILD = """
import json, resource, sys, time
t0 = time.perf_counter()
# as `pshub ingest` starts: Prefect's API boots while the flow's modules import
from pshub.prefect_api import start_temporary_api
prefect_api = start_temporary_api()
from flows.ingest import cap_malloc_arenas, ingest
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
import flows.ingest as ingest_module
from connectors import catalog
from flows.ingest import cap_malloc_arenas, land_object
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
        for b in batches:
            load.land(b)
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
                    copy_rows(copy, [(r["id"], orjson.dumps(r), parse_datetime(r["updated_at"]), False) for r in b])
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", default="medium")
    ap.add_argument("--home", default=str(ROOT / ".pshub" / "bench"))
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

    def loadavg() -> str:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())

    print(f"load average (1, 5, 15 min) at the start: {loadavg()}; {os.cpu_count()} cores")
    t = time.perf_counter()
    sandbox = start_sandbox(home, args.scale, env)
    print(f"sandbox ({args.scale}) up in {time.perf_counter() - t:.1f}s (generated once, then reused)")
    try:
        runs = {}
        for label, from_read in (("previous", False), ("now", True)):  # each into an empty table
            empty_time_entries(url)
            runs[label] = run_one(env, f"full-{label}", True, from_read, sandbox.pid)
        cold = run_one(env, "no-change", False, True, sandbox.pid)
        if args.all_objects:
            full, quiet = run_ingest(env, [True, False])
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=60)

    print("\nfull ingest of kantata.time_entries into an empty table, each in a fresh process (imports excluded):")
    for label, what in (("previous", "then lists every id again to find deletes"),
                        ("now", "reconciles deletes from the ids it read")):
        r = runs[label]
        res = r["result"]
        print(f"  {label:<8} {r['seconds']:7.1f}s  {res['rows_fetched']:>10,} rows  "
              f"{res['rows_fetched'] / r['seconds']:>8,.0f} rows/s  hub CPU {r['cpu_seconds']:6.1f}s  sandbox CPU "
              f"{r['sandbox_cpu_seconds']:6.1f}s  peak {r['peak_kb'] / 1024:4.0f} MB  load {r['load_before']:.2f}  "
              f"({what}; {res['status']})")
    ratio = runs["previous"]["seconds"] / runs["now"]["seconds"]
    print(f"  ratio    now at {ratio:.2f}x the previous path's speed (target: full ingest of ~1M rows <= 120 s)")
    now = runs["now"]
    print(f"  sandbox CPU {now['sandbox_cpu_seconds']:.1f}s against the hub's {now['cpu_seconds']:.1f}s "
          f"({'less' if now['sandbox_cpu_seconds'] < now['cpu_seconds'] else 'MORE'} than the hub)")
    print(f"\nno-change incremental of kantata.time_entries from a fresh process: {cold['since_start']:.2f}s from its "
          f"first line to the result (imports {cold['import_seconds']:.2f}s, landing {cold['seconds']:.2f}s; "
          f"{cold['result']['rows_fetched']} re-read in the overlap window, {cold['result']['rows_landed']} landed; "
          f"load {cold['load_before']:.2f}; target <= 2 s)")
    print(f"peak memory (RSS): full ingest {now['peak_kb'] / 1024:.0f} MB, previous path "
          f"{runs['previous']['peak_kb'] / 1024:.0f} MB, no-change {cold['peak_kb'] / 1024:.0f} MB (target <= 300 MB)")

    if args.all_objects:
        print_all(full, quiet)
    if args.landing:
        print_landing(landing_vs_baseline(url, args.sample))
    print(f"\nload average (1, 5, 15 min) at the end: {loadavg()}")


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
    print(f"  ratio    {cmp['ratio']:.2f}x of the baseline's speed, best against best (target >= 0.7x); "
          f"{cmp['median_ratio']:.2f}x median against median")
    print(f"  typed checks: landing runs at {cmp['typed_ratio']:.2f}x the speed of landing without them, best against "
          f"best ({cmp['typed_median_ratio']:.2f}x median against median)")


if __name__ == "__main__":
    main()
