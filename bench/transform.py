"""Transform benchmark: a full dbt build of a medium firm, then an incremental build after one day of
`sandbox tick` plus an incremental ingest, and their ratio.

    .venv/bin/python bench/transform.py [--scale medium] [--home .pshub/bench-transform] [--days 1] [--rounds 3]

The sandbox runs in a process of its own and the ingests run as the Prefect flow in child processes (as in
bench/ingest.py); both dbt builds run as `pshub transform` runs them (flows.transform.run_build: every raw table
ensured, then `dbt build` with its tests over what plan_build selects), in this process; each build's node timings are kept in
<home>/dbt/target/run_results_{full,incremental}.json. The firm is generated once in <home>/sandbox and reused by
later runs (each round advances its clock by --days). With --rounds N the whole measure (full build, a day, an
incremental build) is repeated N times and the medians are printed too. Targets: full build under 3 minutes;
incremental at most 15% of full.
"""
from __future__ import annotations

import argparse
import os
import statistics
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from _harness import bench_env, run_child, start_sandbox  # noqa: E402

CHILD = """
import json, time
from flows.ingest import ingest
from pshub.runs import new_run_id
started = time.perf_counter()
results = ingest(new_run_id())
print("RESULT " + json.dumps({"seconds": time.perf_counter() - started, "results": results}, default=str), flush=True)
"""


def run_ingest(env: dict) -> dict:
    """One incremental ingest (the Prefect flow `ingest`, as `pshub ingest` runs it) in a child process."""
    return run_child(CHILD, env, "ingest")[0]


def load() -> str:
    """The machine's load average over the last minute, printed beside each figure."""
    return f"load {os.getloadavg()[0]:.1f}"


def dbt_build(full_refresh: bool) -> tuple[float, object]:
    from flows.transform import run_build
    from pshub.settings import get_settings

    started = time.perf_counter()
    result = run_build(full_refresh=full_refresh, raise_on_failure=False)
    elapsed = time.perf_counter() - started
    result.load = load()  # at the end of the build
    # keep each build's node timings (dbt overwrites run_results.json): <home>/dbt/target/run_results_<kind>.json
    target = get_settings().home_dir / "dbt" / "target"
    if (target / "run_results.json").exists():
        shutil.copyfile(target / "run_results.json",
                        target / f"run_results_{'full' if full_refresh else 'incremental'}.json")
    return elapsed, result


def one_round(args, env: dict, url: str) -> tuple[float, float]:
    """A full build, `sandbox tick --days N` and an incremental ingest, then an incremental build: their seconds."""
    import psycopg

    t = time.perf_counter()
    sandbox = start_sandbox(args.home, args.scale, env)
    print(f"sandbox ({args.scale}) up in {time.perf_counter() - t:.1f}s (generated once, then reused)")
    try:
        first = run_ingest(env)  # a first run lands everything; later runs catch up
        print(f"ingest before the full build: {first['seconds']:.1f}s, "
              f"{sum(r['rows_landed'] for r in first['results']):,} records landed")

        full_s, full = dbt_build(full_refresh=True)
        if not full.success:
            sys.exit("full build failed: " + "; ".join(full.failures[:5]))

        tick = subprocess.run([str(ROOT / ".venv/bin/pshub"), "sandbox", "tick", "--days", str(args.days)],
                              cwd=ROOT, env=env, capture_output=True, text=True)
        if tick.returncode != 0:
            sys.exit(f"sandbox tick failed:\n{tick.stderr[-2000:]}")
        day = run_ingest(env)
        landed = {f"{r['system']}.{r['object']}": r["rows_landed"] for r in day["results"] if r["rows_landed"]}
        print(f"ingest after `sandbox tick --days {args.days}`: {day['seconds']:.1f}s, "
              f"{sum(landed.values()):,} records landed ({', '.join(f'{k} {v:,}' for k, v in sorted(landed.items()))})")

        with psycopg.connect(url) as conn:
            watermark = conn.execute("select max(_load_watermark) from intermediate.int_time_entries").fetchone()[0]
        incr_s, incr = dbt_build(full_refresh=False)
        if not incr.success:
            sys.exit("incremental build failed: " + "; ".join(incr.failures[:5]))
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)

    with psycopg.connect(url) as conn:
        entries, reprocessed = conn.execute(
            "select count(*), count(*) filter (where _load_watermark > %s) from intermediate.int_time_entries",
            (watermark,)).fetchone()
    print(f"\nfull build (dbt build --full-refresh: {len(full.built)} nodes, {full.tests_passed} tests): {full_s:.1f}s"
          f" ({full.load})  (target < 180s)")
    print(f"incremental build (dbt build: {len(incr.built)} nodes, {incr.tests_passed} tests): {incr_s:.1f}s"
          f" ({incr.load})")
    print(f"  built: {incr.scope}")
    print(f"  time entries: {entries:,}, reprocessed by the incremental build: {reprocessed:,}")
    print(f"ratio incremental / full: {incr_s / full_s:.0%}  (target <= 15%)")
    return full_s, incr_s, full.load, incr.load


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", default="medium")
    ap.add_argument("--home", default=str(ROOT / ".pshub" / "bench-transform"))
    ap.add_argument("--days", type=int, default=1, help="days the sandbox advances before the incremental build")
    ap.add_argument("--rounds", type=int, default=1, help="repeat the measure; print the medians")
    args = ap.parse_args()
    args.home = Path(args.home).resolve()
    env = bench_env(args.home, "WARNING")

    from pshub.migrations import migrate
    from pshub.warehouse import database_url

    url = database_url()
    migrate(url)
    rounds = []
    for number in range(1, args.rounds + 1):
        if args.rounds > 1:
            print(f"\n== round {number} of {args.rounds}")
        rounds.append(one_round(args, env, url))
    if args.rounds > 1:
        full_s = statistics.median(f for f, *_ in rounds)
        incr_s = statistics.median(i for _, i, *_ in rounds)
        each = "; ".join(f"{f:.1f}s ({fl}) / {i:.1f}s ({il}) = {i / f:.0%}" for f, i, fl, il in rounds)
        print(f"\nmedian of {args.rounds} rounds: full build {full_s:.1f}s, incremental build {incr_s:.1f}s, "
              f"ratio {incr_s / full_s:.0%} (target <= 15%)\nrounds, full / incremental: {each}")


if __name__ == "__main__":
    main()
