"""Cycle benchmark: the incremental hub cycle after the firm advances a day, median of --rounds with the load
average beside each, and the latency from a closed-won deal to its project existing in the ERP and the PSA.

    .venv/bin/python bench/cycle.py [--scale medium] [--home .pshub/bench-cycle] [--days 1] [--rounds 3]

The sandbox runs in a process of its own; each cycle runs in a child process that starts as `pshub run` does
(Prefect's temporary API booting while the flow's modules import, waited for as long as it works at starting;
pshub/prefect_api.py), then runs the flow `hub`. The first run of a home generates the firm and times the first
full cycle (generation excluded) and then the catch-up cycle that lands the hub's own writes of that first cycle
(reported apart, not in the median: the rounds count plain days); later runs reuse both and start with a catch-up
cycle of whatever changed since. Targets (issue 17): first full cycle at most 600 s; its catch-up under
180 s; the incremental cycle after `sandbox tick --days 1` at most 30 s, every deal won that day in the ERP and the PSA
after it (a deal a project sync holds back with its reason, such as one of a duplicate CRM account, is shown as such).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from _harness import bench_env, run_child, start_sandbox  # noqa: E402

CHILD = """
import json, time
started = time.time()
from pshub import prefect_api
api = prefect_api.start()  # as `pshub run` starts: before the flow's modules import
from flows.hub import WARM_UP, run_cycle
api.wait(warm_up=WARM_UP)
flow_started = time.time()
summary = run_cycle(alert=False)
print("RESULT " + json.dumps({"started": started, "startup_seconds": flow_started - started,
                              "seconds": time.time() - flow_started, "summary": summary}, default=str), flush=True)
"""
FIRST_TARGET_SECONDS = 600
TARGET_SECONDS = 30
CATCH_UP_TARGET_SECONDS = 180  # issue 17: the catch-up of the hub's own writes must not cost a cycle three minutes


def run_cycle(env: dict, home: Path) -> dict:
    """One cycle in a child process: its summary, the flow's seconds, the 1-minute load average at its start, and
    what took its time (inside())."""
    load = os.getloadavg()[0]
    result = run_child(CHILD, env, "cycle")[0]
    result["load_before"] = load
    result["inside"] = inside(home, result["summary"], result["seconds"])
    return result


def inside(home: Path, summary: dict, seconds: float, top: int = 5) -> str:
    """Where a cycle's time went beyond its three stages: the cycle's own steps between them, the dbt invocation
    (its start before the first node, its slowest nodes from target/run_results.json) and the slowest syncs
    (ops.sync_runs)."""
    from pshub.warehouse import connect

    stages = summary.get("seconds") or {}
    lines = [f"    between the stages (the cycle's own steps, Prefect's flow run): "
             f"{seconds - sum(stages.values()):.1f} s"]
    try:
        results = json.loads((home / "dbt" / "target" / "run_results.json").read_text())
        nodes = sorted(results["results"], key=lambda r: -r["execution_time"])
        started = min((t["started_at"] for r in results["results"] for t in r["timing"]), default=None)
        first = ""
        if started and stages.get("transform"):
            import datetime as dt

            end = dt.datetime.fromisoformat(results["metadata"]["generated_at"].replace("Z", "+00:00"))
            begin = dt.datetime.fromisoformat(started.replace("Z", "+00:00"))
            nodes_ran = (end - begin).total_seconds()
            first = (f", from its first node to its end {nodes_ran:.1f} s of the transform's {stages['transform']:.1f} s"
                     f" (the rest: the stage's start, the build's plan, dbt's import and parse, the record)")
        lines.append(f"    dbt: {len(nodes)} nodes{first}; slowest: "
                     + ", ".join(f"{r['unique_id'].split('.', 2)[-1]} {r['execution_time']:.1f} s"
                                 for r in nodes[:top]))
    except (OSError, ValueError, KeyError):
        pass
    with connect() as conn:
        syncs = conn.execute("""select sync_name, extract(epoch from finished_at - started_at), rows_pushed, write_calls
                                  from ops.sync_runs where run_id = %s and finished_at is not null
                                 order by 2 desc limit %s""", (summary.get("run_id"), top)).fetchall()
    if syncs:
        lines.append("    slowest syncs: " + ", ".join(f"{name} {float(s):.1f} s ({pushed:,} pushed, {calls:,} write calls)"
                                                         for name, s, pushed, calls in syncs))
    return "\n".join(lines)


def won_deals() -> set[str]:
    from pshub.clients import client_for

    with client_for("salesforce") as sf:
        return {r["Id"] for page in sf.query_pages("SELECT Id FROM Opportunity WHERE IsWon = true") for r in page}


def provisioned(deals: set[str]) -> tuple[set[str], set[str]]:
    """(deals with a NetSuite project, deals with a Kantata workspace) stamped with the opportunity id."""
    from connectors.kantata import KantataClient
    from pshub.clients import client_for
    from pshub.settings import get_settings

    with client_for("netsuite") as ns:
        erp = {r["externalid"] for page in ns.suiteql_pages("SELECT externalid FROM job WHERE externalid IS NOT NULL")
               for r in page}
    cfg = get_settings().system("kantata")
    psa = set()
    with KantataClient(cfg.base_url, cfg.credentials) as kt:
        for page in kt.list_pages("custom_field_values", {"subject_type": "Workspace"}):  # field 1 = CRM Opportunity ID
            psa.update(str(r.get("value")) for r in page if str(r.get("custom_field_id")) == "1")
    return deals & erp, deals & psa


def held(deals: set[str]) -> dict[str, list[str]]:
    """The deals among `deals` that a project sync holds back with a reason someone must act on (an open exception of
    erp_projects, d365_projects or psa_projects, Certinia's too: a duplicate CRM account, a deal without a start
    date): {deal: ["sync reason_code", ...]}. Such a deal cannot get its projects until then; any other missing one
    is a failure of the cycle."""
    from pshub.warehouse import connect

    if not deals:
        return {}
    found: dict[str, list[str]] = {}
    with connect() as conn:
        for deal, sync, reason in conn.execute(
                """select record_key, sync_name, reason_code from ops.sync_exceptions
                    where resolved_at is null and record_key = any(%s)
                      and sync_name in ('erp_projects', 'd365_projects', 'psa_projects')
                    order by 1, 2""", (sorted(deals),)):
            found.setdefault(deal, []).append(f"{sync} {reason}")
    return found


def loadavg() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--home", default=str(ROOT / ".pshub" / "bench-cycle"))
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3, help="incremental cycles, each after --days; the median counts (0: only the first or catch-up cycle)")
    args = parser.parse_args()
    home = Path(args.home).resolve()
    env = bench_env(home, "ERROR")

    print(f"load average (1, 5, 15 min) at the start: {loadavg()}; {os.cpu_count()} cores", flush=True)
    sandbox = start_sandbox(home, args.scale, env)
    rounds = []
    try:
        marker = home / "initial_cycle.json"
        if not marker.exists():
            print(f"first full cycle at {args.scale} scale (once per home) ...", flush=True)
            first = run_cycle(env, home)
            totals = first["summary"].get("totals") or {}
            marker.write_text(json.dumps({"seconds": first["seconds"], "status": first["summary"].get("status"),
                                          "load_before": first["load_before"], "rows_landed": totals.get("rows_landed"),
                                          "records_pushed": totals.get("records_pushed"),
                                          "stages": first["summary"].get("seconds"),
                                          "startup_seconds": first["startup_seconds"], "inside": first["inside"]}))
            what = "the hub's own writes of the first cycle coming back"
        else:
            what = "whatever changed since the last benchmark (real time passes)"
        # not counted in the median: after a first cycle, it lands and transforms the records the hub just pushed
        # (tens of thousands of time bills, projects, custom field values); later, what changed while no cycle ran
        catch_up = run_cycle(env, home)
        print(f"catch-up cycle ({what}): {catch_up['seconds']:.1f} s at load {catch_up['load_before']:.1f}, "
              f"{catch_up['summary'].get('status')} ({stage_seconds(catch_up['summary'])}; Prefect's start "
              f"{catch_up['startup_seconds']:.1f} s before it)"
              + (f"; target < {CATCH_UP_TARGET_SECONDS} s" if "first cycle" in what else "")
              + f"\n{catch_up['inside']}", flush=True)
        first = json.loads(marker.read_text())
        print(f"first full cycle: {first['seconds']:.1f} s at load {first.get('load_before') or 0:.1f}, "
              f"{first['status']}, {first.get('rows_landed') or 0:,} rows landed, {first.get('records_pushed') or 0:,} "
              f"records pushed (target <= {FIRST_TARGET_SECONDS} s; "
              + ", ".join(f"{k} {v:.1f} s" for k, v in (first.get("stages") or {}).items())
              + (f"; Prefect's start {first['startup_seconds']:.1f} s before it" if "startup_seconds" in first else "")
              + ")" + (f"\n{first['inside']}" if first.get("inside") else ""), flush=True)
        urls = json.loads((home / "sandbox" / "endpoints.json").read_text())["urls"]
        for i in range(args.rounds):
            before = won_deals()
            httpx.post(f"{urls['salesforce']}/__sandbox/tick", params={"days": args.days},
                       timeout=600).raise_for_status()
            new = won_deals() - before
            result = run_cycle(env, home)
            erp, psa = provisioned(new)
            rounds.append((result, new, erp, psa, held((new - erp) | (new - psa))))
            show_round(i + 1, args.days, *rounds[-1])
    finally:
        sandbox.terminate()
        sandbox.wait(30)

    if not rounds:  # --rounds 0: the first cycle (or a catch-up) alone
        print(f"load average (1, 5, 15 min) at the end: {loadavg()}")
        return
    seconds = statistics.median(r[0]["seconds"] for r in rounds)
    with_startup = statistics.median(r[0]["seconds"] + r[0]["startup_seconds"] for r in rounds)
    print(f"\nincremental cycle after tick --days {args.days}, median of {len(rounds)}: {seconds:.1f} s "
          f"(target <= {TARGET_SECONDS} s; runs: "
          + ", ".join(f"{r[0]['seconds']:.1f} s at load {r[0]['load_before']:.1f}" for r in rounds)
          + f"); with the process's start-up before the flow (Prefect's API): {with_startup:.1f} s")
    failed = [r for r in rounds if r[0]["summary"].get("status") != "succeeded"]
    with_deals = [r for r in rounds if r[1]]
    # a deal held back with its reason (held()) counts as handled: the hub cannot make its projects until someone acts
    provisioned_all = all(deal in r[4] or (deal in r[2] and deal in r[3]) for r in with_deals for deal in r[1])
    if not with_deals:
        print("  closed-won -> project latency NOT MEASURED: no deal was won on the simulated days")
    else:
        held_back = sum(len(r[4]) for r in with_deals)
        print(f"  every deal won on the {len(with_deals)} day(s) with deals has a project in ERP and PSA after its "
              "cycle" + (f", or is held back with its reason ({held_back})" if held_back else "") + ": "
              + ("yes" if provisioned_all else "NO (see the rounds above)"))
    if failed:  # the deals may be provisioned and the cycle still not clean (a sync refused, failed or blocked)
        print("  NOT every cycle was clean: " + "; ".join(f"round {rounds.index(r) + 1} {r[0]['summary'].get('status')}"
                                                        for r in failed))
        provisioned_all = False
    print(f"load average (1, 5, 15 min) at the end: {loadavg()}")
    if not provisioned_all or not with_deals:
        sys.exit(1)


def stage_seconds(summary: dict) -> str:
    return ", ".join(f"{k} {v:.1f} s" for k, v in (summary.get("seconds") or {}).items())


def show_round(n: int, days: int, result: dict, new: set, erp: set, psa: set, held_back: dict) -> None:
    summary = result["summary"]
    stages = stage_seconds(summary)
    totals = summary.get("totals") or {}
    print(f"round {n}: incremental cycle after tick --days {days}: {result['seconds']:.1f} s at load "
          f"{result['load_before']:.1f} ({stages}; Prefect's start {result['startup_seconds']:.1f} s before it); "
          f"status {summary.get('status')}"
          + (f" ({'; '.join(summary.get('problems') or [])})" if summary.get("problems") else ""), flush=True)
    print(f"  {totals.get('rows_landed', 0):,} rows landed, {totals.get('models_built', 0)} models built, "
          f"{totals.get('records_pushed', 0):,} records pushed; deals won that day: {len(new)}, with an ERP project "
          f"after the cycle: {len(erp)}, with a PSA project: {len(psa)}"
          + (", held back: " + "; ".join(f"{deal} ({', '.join(why)})" for deal, why in sorted(held_back.items()))
             if held_back else "")
          + f"\n{result['inside']}", flush=True)


if __name__ == "__main__":
    main()
