"""Ingest benchmark: a full ingest of a medium firm, a no-change incremental run, peak memory, and landing
against a bare COPY + upsert of the same rows.

    .venv/bin/python bench/ingest.py [--scale medium] [--home .pshub/bench] [--sample 200000] [--landing-only]

The sandbox runs in a process of its own (`pshub sandbox serve`), as a real SaaS would be elsewhere; each
ingest runs in a child process (the Prefect flow `ingest`, as `pshub ingest` runs it) so that its peak
memory is its own. The firm is generated once in <home>/sandbox and reused by later runs.
Targets (issue 4): landing >= 0.7x the bare baseline; no-change incremental <= 10 s; peak memory <= 500 MB;
full medium ingest well under 5 minutes.
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

    print(f"load average (1, 5, 15 min) at the start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    t = time.perf_counter()
    sandbox = start_sandbox(home, args.scale, env)
    print(f"sandbox ({args.scale}) up in {time.perf_counter() - t:.1f}s (generated once, then reused)")
    try:
        full, quiet = run_ingest(env, [True, False])
        load_after_full = os.getloadavg()
        (cold,) = run_ingest(env, [False])
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)

    rows = sum(r["rows_fetched"] for r in full["results"])
    print(f"\nfull ingest: {full['seconds']:.1f}s for {rows:,} records ({rows / full['seconds']:,.0f} rows/s overall; "
          f"process start, imports and Prefect's API start {full['startup_seconds']:.1f}s not included; "
          f"load average after it {', '.join(f'{x:.2f}' for x in load_after_full)}; "
          f"the ingest process used {full['cpu_seconds']:.0f} CPU seconds)")
    print(f"  {'object':<48} {'rows':>10} {'seconds':>8} {'rows/s':>9}  status")
    for r in sorted(full["results"], key=lambda r: -r["rows_fetched"]):
        rate = r["rows_fetched"] / r["seconds"] if r["seconds"] else 0
        print(f"  {r['system'] + '.' + r['object']:<48} {r['rows_fetched']:>10,} {r['seconds']:>8.1f} {rate:>9,.0f}  "
              f"{r['status']}{' ' + r['error'][:80] if r.get('error') else ''}")
    changed = sum(r["rows_landed"] for r in quiet["results"])
    print(f"\nno-change incremental: {quiet['seconds']:.1f}s with Prefect's API already up "
          f"({sum(r['rows_fetched'] for r in quiet['results']):,} records re-read in the overlap window, "
          f"{changed} landed)")
    print(f"no-change incremental in a fresh process: {cold['since_start']:.1f}s from its first line to the results "
          f"(imports and Prefect's API start {cold['startup_seconds']:.1f}s, the flow {cold['seconds']:.1f}s)")
    print(f"peak memory (RSS) of the ingest process: full {full['peak_kb'] / 1024:.0f} MB, "
          f"no-change incremental alone {cold['peak_kb'] / 1024:.0f} MB")

    print_landing(landing_vs_baseline(url, args.sample))
    print(f"\nload average (1, 5, 15 min) at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


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
