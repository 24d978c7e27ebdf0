"""Prefect flow `hub`: one cycle, ingest -> transform -> sync, under one run id.

A failed dbt model or test stops only the syncs whose outbound model is that model or downstream of it
(read from dbt's manifest and run results); every other sync still runs.

The cycle composes its three stages one way: each is a flow of its own (flows/ingest.py, flows/transform.py,
flows/sync.py), whose function the hub calls inside its own flow run (Flow.fn: the stage's tasks become the hub
run's, with the same names), and each owns its retries in its tasks (an object's landing, the dbt build, one sync),
so a stage retries the same in a cycle as on its own (`pshub ingest|transform|sync apply`); the hub adds no retry.
Not as subflows: a subflow run is a flow run of its own in Prefect's API (created, set Running, set Completed, its
heartbeat thread joined at its end, which sleeps in one-second steps), about a second a stage on a 2-core
machine, 3 s of the medium firm's incremental cycle at load 14; nothing reads the stages' runs (ops.runs, the
status, the report and the alerts are the hub's). The hub's task runner is the ingest flow's (its landing
workers), so the landings run as many at once as in `pshub ingest`. What is the hub's: the run id, the lock,
which syncs a dbt failure blocks, the record and the alert.
The cycle ends with a row in ops.runs (status succeeded | partial | failed | skipped), a Prefect artifact
summarising it, and a webhook alert when it failed or crossed a threshold.

Cycles are serialised by a warehouse advisory lock: a scheduled cycle that finds another one running is
recorded as skipped (if_busy="skip") or waits for it (if_busy="wait").
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

import psycopg
import psycopg.sql
from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.context import FlowRunContext
from prefect.runtime import flow_run as current_flow_run
from prefect.states import Completed, Failed
from prefect.task_runners import ThreadPoolTaskRunner

from connectors import catalog
from flows.ingest import LANDING_WORKERS, ingest
from flows.sync import sync
from flows.transform import transform
from pshub import alerts, runlog
from pshub import status as ops_status
from pshub.dbt import DbtFailed, parse_ahead, parse_in_background
from pshub.runs import connection_name, finish_run, mark_abandoned, new_run_id, set_current_run_id, start_run
from pshub.settings import get_settings
from pshub.warehouse import connect, database_url
from reverse_etl.syncs import SYNCS, for_systems

log = logging.getLogger("pshub.hub")

CYCLE_LOCK_KEY = 0x70736875620001  # one hub cycle at a time per warehouse
# What a cycle imports only when it needs it: dbt when its build starts (pshub/dbt.py imports it lazily), pandera
# (and pandas) when the first sync validates rows to push (reverse_etl/engine.py). A command that starts Prefect's API
# for a cycle imports these while the server boots (prefect_api.TemporaryApi.wait), as long as it is not ready.
# Then dbt's parse of the project, which the build would otherwise do before its first node (pshub.dbt.parse_ahead).
WARM_UP = ("dbt.cli.main", "dbt.adapters.postgres", "dbt.task.build", parse_ahead, "pandera.pandas")

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_RUN_ID = re.compile(r"r\d{8}T\d{6}Z-[0-9a-f]{6}")


def flow_run_name() -> str:
    """The Prefect flow run is named by the hub's run id: the one passed, or a new one that the cycle then uses."""
    return (current_flow_run.parameters or {}).get("run_id") or new_run_id()


# -- which syncs a dbt failure blocks (plain functions over dbt's artifacts) -------------------------------
def _one_line(message: str | None, limit: int = 160) -> str:
    text = " ".join(_ANSI.sub("", message or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def failed_roots(manifest: dict, run_results: dict) -> dict[str, str]:
    """{model/seed/snapshot unique_id: why} for each node that errored or whose test/unit test failed."""
    roots: dict[str, list[str]] = defaultdict(list)
    nodes, unit_tests = manifest.get("nodes", {}), manifest.get("unit_tests", {})
    for result in run_results.get("results", []):
        uid, status = result["unique_id"], result["status"]
        if status not in ("error", "fail", "runtime error"):
            continue
        node = nodes.get(uid) or unit_tests.get(uid) or {}
        kind = uid.split(".", 1)[0]
        short = node.get("name") or uid.rsplit(".", 1)[-1]
        if kind in ("model", "seed", "snapshot"):
            roots[uid].append(f"{kind} {status}: {_one_line(result.get('message'))}")
            continue
        # a data test hangs off one model (attached_node); a unit test names its model in depends_on
        tested = [node["attached_node"]] if node.get("attached_node") else [
            n for n in node.get("depends_on", {}).get("nodes", []) if n.split(".", 1)[0] in ("model", "seed", "snapshot")]
        label = "unit test" if kind == "unit_test" else "test"
        for model in tested:
            roots[model].append(f"dbt {label} {short} {status}")
    return {uid: "; ".join(reasons) for uid, reasons in roots.items()}


def blocked_models(manifest: dict, run_results: dict) -> dict[str, str]:
    """{model unique_id: why} for each failed root and every model downstream of one."""
    roots = failed_roots(manifest, run_results)
    children = manifest.get("child_map", {})
    blocked: dict[str, set[str]] = defaultdict(set)
    for root in roots:
        stack, seen = [root], {root}
        while stack:
            uid = stack.pop()
            blocked[uid].add(root)
            for child in children.get(uid, []):
                if child not in seen and child.split(".", 1)[0] in ("model", "snapshot", "seed"):
                    seen.add(child)
                    stack.append(child)
    return {uid: "; ".join(("" if uid == r else "upstream ") + f"{relation(manifest, r)}: {roots[r]}"
                           for r in sorted(rs))
            for uid, rs in blocked.items()}


def relation(manifest: dict, uid: str) -> str:
    """schema.table of a dbt node, as a Sync names its model."""
    node = manifest.get("nodes", {}).get(uid, {})
    return f"{node['schema']}.{node.get('alias') or node['name']}" if node.get("schema") else uid


def installed_syncs() -> list:
    """Every sync as this installation's CRM and PSA take it (reverse_etl.syncs.for_systems); those with no destination
    there left out (their apply says why)."""
    settings = get_settings()
    return [s for s in (for_systems(x, settings.crm, settings.psa) for x in SYNCS.values()) if s is not None]


def blocked_syncs(syncs, manifest: dict, run_results: dict) -> dict[str, str]:
    """{sync name: why} for each sync whose outbound model (or its held-back rows model) failed or is
    downstream of a failure."""
    by_relation = {relation(manifest, uid): reason for uid, reason in blocked_models(manifest, run_results).items()}
    out = {}
    for s in syncs:
        reasons = [by_relation[m] for m in (s.model, getattr(s, "blocked_model", None)) if m in by_relation]
        if reasons:
            out[s.name] = "; ".join(dict.fromkeys(reasons))
    return out


def load_dbt_artifacts(target: Path, not_before: float) -> tuple[dict, dict] | None:
    """(manifest, run_results) of the dbt invocation that finished after `not_before` (epoch), else None."""
    try:
        results = json.loads((target / "run_results.json").read_text())
        manifest = json.loads((target / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    generated = dt.datetime.fromisoformat(results["metadata"]["generated_at"].replace("Z", "+00:00"))
    if generated.timestamp() < not_before - 1:
        return None  # another invocation's results: they say nothing about this build
    return manifest, results


# -- stages ------------------------------------------------------------------------------------------------
def transform_stage(select: list[str] | None, full_refresh: bool) -> dict:
    """The `transform` flow (its task retries the build); when it fails, dbt's artifacts say which nodes failed and
    so which syncs are blocked. When no node failed (dbt stopped before building: a compilation error, the warehouse
    unreachable), it raises: nothing the build should have made can be trusted."""
    started = time.time()
    try:
        return {**transform.fn(select, full_refresh), "blocked_syncs": {}}
    except DbtFailed as exc:
        artifacts = load_dbt_artifacts(get_settings().home_dir / "dbt" / "target", started)
        if artifacts is None or not any(r["status"] in ("error", "fail", "runtime error")
                                        for r in artifacts[1].get("results", [])):
            raise
        manifest, results = artifacts
        failures = exc.failures
    nodes = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
    done = [(r["unique_id"].split(".", 1)[0], nodes.get(r["unique_id"], {}).get("name") or r["unique_id"])
            for r in results.get("results", []) if r["status"] in ("success", "pass")]
    return {"command": " ".join(results.get("args", {}).get("invocation_command", "").split()[1:]) or "build",
            "success": False, "built": [f"{kind}.{name}" for kind, name in done if kind not in ("test", "unit_test")],
            "tests_passed": sum(kind in ("test", "unit_test") for kind, _ in done),
            "warnings": [], "failures": [_one_line(f, 300) for f in failures], "scope": "",
            # the syncs as the installation's CRM and PSA take them: their own outbound models (Certinia's, with it)
            "blocked_syncs": blocked_syncs(installed_syncs(), manifest, results),
            "failed_models": sorted(relation(manifest, uid) for uid in failed_roots(manifest, results))}


def count_echoes(loads: list[dict]) -> None:
    """Sets each load's `hub_echoes`: the landed rows that are records the hub itself wrote (a sync's ledger names
    them as its destination id) since the object's previous landing, i.e. the hub's own writes coming back.

    Each count is a hash semi-join of the load's rows with the ledger, never a nested loop: right after a first
    load and a first push, the raw tables and the ledger can still carry the statistics of the empty tables they
    were (autovacuum analyses them later), and a nested loop over tens of thousands of rows on either side (the
    ledger has no index on destination_id; the raw id is compared as text) is quadratic. In the medium firm's
    catch-up cycle, 46 s passed between the ingest and the transform, here, before autovacuum had analysed the
    tables; the same counts on analysed tables took 0.8 s."""
    with connect() as conn:
        conn.execute("set local enable_nestloop = off")  # this transaction only: the counts below
        for load in loads:
            load["hub_echoes"] = 0
            syncs = [s.name for s in SYNCS.values()
                     if s.destination == load["system"] and s.object.lower() == load["object"].lower()]
            if not syncs or load.get("rows_landed", 0) <= 0 or load.get("load_id", -1) < 0:
                continue
            (obj,) = catalog.find(load["system"], load["object"])
            load["hub_echoes"] = conn.execute(psycopg.sql.SQL("""
                select count(*) from {raw} r
                 where r._load_id = %(load)s
                   and exists (select 1 from ops.sync_ledger l
                                where l.sync_name = any(%(syncs)s) and l.destination_id = r.id::text
                                  and l.synced_at >= coalesce((
                                      select max(p.started_at) from ops.loads p
                                       where p.system = %(system)s and p.object = %(object)s
                                         and p.status = 'completed' and p.load_id < %(load)s), '-infinity'))
            """).format(raw=psycopg.sql.Identifier(f"raw_{obj.system}", obj.table)),
                {"load": load["load_id"], "syncs": syncs, "system": obj.system, "object": obj.name}).fetchone()[0]


def ingest_failed_everywhere(summary: dict) -> bool:
    """The ingest stage raised, or no system landed any object: there is nothing new to model, and what the
    marts would say has not changed."""
    if any(e.startswith("ingest:") for e in summary.get("errors") or []):
        return True
    loads = summary.get("loads") or []
    return bool(loads) and all(l.get("status") == "failed" for l in loads)


# -- the cycle ---------------------------------------------------------------------------------------------
def _totals(run_id: str, summary: dict) -> dict:
    loads, syncs, transform = summary.get("loads") or [], summary.get("syncs") or [], summary.get("transform") or {}
    with connect() as conn:
        # new = first seen in this cycle (a hold seen again keeps its first_seen_at): not every open one it touched
        started, = conn.execute("select started_at from ops.runs where run_id = %s", (run_id,)).fetchone()
        stake = ops_status.money_at_stake(conn, since=started)
        stake.pop("hold_groups", None)
        new_exceptions = stake["new_holds"] + stake["new_failures"]
    return {
        "rows_landed": sum(max(l.get("rows_landed", 0), 0) for l in loads),
        "rows_echoed": sum(l.get("hub_echoes", 0) for l in loads),
        "rows_fetched": sum(max(l.get("rows_fetched", 0), 0) for l in loads),
        "rows_quarantined": sum(max(l.get("rows_quarantined", 0), 0) for l in loads),
        "objects_failed": sum(l.get("status") == "failed" for l in loads),
        "models_built": len(transform.get("built", [])),
        "tests_passed": transform.get("tests_passed", 0),
        "dbt_failures": len(transform.get("failures", [])),
        "records_pushed": sum(s.get("pushed", 0) for s in syncs),
        "syncs_blocked": sum(s.get("status") == "blocked" for s in syncs),
        "syncs_failed": sum(s.get("status") == "failed" for s in syncs),
        "syncs_refused": sum(s.get("status") == "refused" for s in syncs),
        "new_exceptions": new_exceptions,
        **stake,
    }


def problems(summary: dict) -> list[str]:
    """One line per thing that kept the cycle from succeeding, for ops.runs and the status."""
    out = list(summary.get("errors") or [])
    failed = [l for l in summary.get("loads") or [] if l.get("status") == "failed"]
    if len(failed) > 6:
        by_system = defaultdict(int)
        for l in failed:
            by_system[l["system"]] += 1
        out.append(f"ingest: {len(failed)} object(s) failed ("
                   + ", ".join(f"{system} {n}" for system, n in by_system.items()) + ")")
    elif failed:
        out.append(f"ingest: {len(failed)} object(s) failed: "
                   + ", ".join(f"{l['system']}.{l['object']}" for l in failed))
    blocked = [s["sync"] for s in summary.get("syncs") or [] if s.get("status") == "blocked"]
    if blocked and not any(e.startswith("transform:") for e in out):
        roots = (summary.get("transform") or {}).get("failed_models") or ["?"]
        out.append(f"dbt failures on {', '.join(roots)} blocked {len(blocked)} sync(s): {', '.join(blocked)}")
    failed_syncs = [s["sync"] for s in summary.get("syncs") or [] if s.get("status") == "failed"]
    if failed_syncs:
        out.append(f"sync failed: {', '.join(failed_syncs)}")
    # a refused plan waits for a person: the line says what it would do and how to confirm it
    out += [s.get("message") or f"safety stop: {s['sync']} refused" for s in summary.get("syncs") or []
            if s.get("status") == "refused"]
    return out


def cycle_status(summary: dict) -> str:
    """succeeded when nothing failed or was blocked; partial when the cycle finished around failures; failed when
    dbt did not build at all (nothing was modelled, no sync ran). A cycle whose ingest failed for every system is
    failed too (it stops before dbt: see _run_cycle)."""
    errors = summary.get("errors") or []
    if any(e.startswith("transform:") for e in errors):
        return "failed"
    if errors:
        return "partial"
    t = summary.get("totals", {})
    if t.get("objects_failed") or t.get("dbt_failures") or t.get("syncs_blocked") or t.get("syncs_failed") \
            or t.get("syncs_refused"):
        return "partial"
    return "succeeded"


@flow(name="hub", log_prints=True, flow_run_name=flow_run_name,
      task_runner=ThreadPoolTaskRunner(max_workers=LANDING_WORKERS))
def hub(run_id: str | None = None, full_refresh: bool = False, systems: list[str] | None = None,
        objects: list[str] | None = None, reconcile: bool | None = None, syncs: list[str] | None = None,
        dbt_select: list[str] | None = None, if_busy: str = "wait", alert: bool = True) -> dict:
    """One cycle under one run id: land (`systems`/`objects`, default all), `dbt build` (`dbt_select`,
    default all), push (`syncs`, default all; [] = none), then record, summarise and alert.

    full_refresh: the one meaning of --full-refresh in every command: each stage that runs starts from nothing:
    the ingest re-reads every record of the objects it lands (cursors ignored) and dbt rebuilds every model,
    incremental ones included, and runs every test (`dbt build --full-refresh`; an incremental build leaves some out).
    reconcile: Kantata id listing for deletes (True = now; None = when a day old). if_busy: skip | wait.
    """
    settings = get_settings()
    runlog.install(settings.home_dir)
    ctx = FlowRunContext.get()
    flow_run = ctx.flow_run if ctx else None
    run_id = run_id or (flow_run.name if flow_run and _RUN_ID.fullmatch(flow_run.name or "") else new_run_id())
    set_current_run_id(run_id)
    flow_run_id = str(flow_run.id) if flow_run else None
    parameters = {"full_refresh": full_refresh, "systems": systems, "objects": objects, "reconcile": reconcile,
                  "syncs": syncs, "dbt_select": dbt_select,
                  # what started it: a deployment's schedule, a deployment run by hand, or a direct call
                  "deployment_id": str(flow_run.deployment_id) if flow_run and flow_run.deployment_id else None,
                  "auto_scheduled": bool(flow_run and flow_run.auto_scheduled)}
    summary: dict = {"run_id": run_id, "parameters": parameters, "loads": [], "transform": {}, "syncs": [],
                     "errors": [], "seconds": {}}

    # the lock lives on its own connection for the whole cycle; it goes with the connection, and its name says the
    # cycle is alive (a later cycle marks a `running` one without it abandoned)
    lock_conn = psycopg.connect(database_url(), autocommit=True, application_name=connection_name(run_id))
    try:
        with connect() as conn:
            for abandoned in mark_abandoned(conn):
                log.warning("cycle %s was abandoned (its process stopped before the end)", abandoned,
                            extra={"stage": "cycle"})
            start_run(conn, "cycle", run_id)
            conn.execute("update ops.runs set parameters = %s::jsonb, flow_run_id = %s where run_id = %s",
                         (json.dumps(parameters), flow_run_id, run_id))
            conn.commit()
        if not lock_conn.execute("select pg_try_advisory_lock(%s)", (CYCLE_LOCK_KEY,)).fetchone()[0]:
            if if_busy == "skip":
                summary["status"] = "skipped"
                summary["errors"].append("another hub cycle was running")
                log.warning("cycle %s skipped: another cycle is running", run_id, extra={"stage": "cycle"})
                with connect() as conn:
                    finish_run(conn, run_id, "skipped", summary)
                return summary
            log.info("cycle %s waits for the running cycle", run_id, extra={"stage": "cycle"})
            lock_conn.execute("select pg_advisory_lock(%s)", (CYCLE_LOCK_KEY,))
        summary = _run_cycle(run_id, summary, full_refresh, systems, objects, reconcile, syncs, dbt_select, alert)
    finally:
        lock_conn.close()
    if parameters["deployment_id"]:  # a scheduled or deployed run: its outcome on the terminal that serves it
        print_outcome(summary)
    return final_state(summary)


def outcome_line(summary: dict) -> str:
    t = summary.get("totals") or {}
    line = (f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M:%SZ} cycle {summary['run_id']} {summary.get('status')}: "
            f"{t.get('rows_landed', 0):,} rows landed, {t.get('records_pushed', 0):,} records pushed, "
            f"{t.get('new_failures', 0)} new failures, {t.get('new_holds', 0)} new holds")
    problems = summary.get("problems") or summary.get("errors") or []
    return line + (f" | {problems[0]}" + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else "")
                   if problems else "")


def print_outcome(summary: dict) -> None:
    """Straight to the process's stdout (not print: log_prints sends that to Prefect's logger, which the terminal
    of `pshub serve` only shows for CRITICAL)."""
    sys.stdout.write(outcome_line(summary) + "\n")
    sys.stdout.flush()


class CycleFailed(RuntimeError):
    """A cycle that ran to its end and failed (nothing landed from any system, or dbt did not build): the flow run
    ends Failed, and calling the flow raises this, with the cycle's summary."""

    def __init__(self, summary: dict):
        super().__init__(f"cycle {summary.get('run_id')} failed: " + "; ".join(summary.get("problems") or
                                                                               summary.get("errors") or [])[:500])
        self.summary = summary

    def __reduce__(self):  # Prefect keeps the flow's result, pickled: rebuilt from the summary alone
        return (CycleFailed, (self.summary,))


def final_state(summary: dict):
    """The flow run's final state: a partial cycle is a completed run named Partial (Prefect's states have names
    besides their types: docs.prefect.io, "States"), so that the UI does not show it as a plain success; a failed
    one is Failed, its exception carrying the summary (run_cycle returns it); any other returns the summary."""
    problems = "; ".join(summary.get("problems") or summary.get("errors") or [])[:500]
    if summary.get("status") == "partial":
        return Completed(name="Partial", message=problems or "partial", data=summary)
    if summary.get("status") == "failed":
        return Failed(message=problems or "failed", data=CycleFailed(summary))
    return summary


def run_cycle(**parameters) -> dict:
    """Run the hub flow in this process and return the cycle's summary, whatever its status (a failed cycle's
    flow run ends Failed, and the flow call raises CycleFailed with the summary)."""
    try:
        return hub(**parameters)
    except CycleFailed as failed:
        return failed.summary


def _run_cycle(run_id, summary, full_refresh, systems, objects, reconcile, sync_names, dbt_select, alert) -> dict:
    status = "failed"
    error: str | None = None
    log.info("cycle %s started", run_id, extra={"stage": "cycle", "parameters": summary["parameters"]})
    try:
        # dbt's parse of the project, unless the process holds it already, beside the ingest (the build waits for it)
        parse_in_background()
        started = time.perf_counter()
        try:
            summary["loads"] = ingest.fn(run_id, systems=systems, objects=objects, full_refresh=full_refresh,
                                      reconcile=reconcile)
        except Exception as exc:  # sources down after retries: model and push what is already landed
            summary["errors"].append(f"ingest: {_one_line(str(exc), 300)}")
            log.error("cycle %s: ingest failed: %s", run_id, exc, extra={"stage": "ingest"})
        summary["seconds"]["ingest"] = round(time.perf_counter() - started, 2)
        try:
            count_echoes(summary["loads"])
        except Exception as exc:  # a count for the summary: never a reason to stop the cycle
            log.warning("cycle %s: echoes not counted: %s", run_id, exc, extra={"stage": "ingest"})
        if ingest_failed_everywhere(summary):
            # nothing landed from any system: building and pushing again would only repeat the last cycle
            summary["errors"].append("ingest failed for every system: dbt and the syncs did not run")
            summary["totals"] = _totals(run_id, summary)
            summary["problems"] = problems(summary)
            status = "failed"
            return summary

        started = time.perf_counter()
        try:
            summary["transform"] = transform_stage(dbt_select, full_refresh=full_refresh)
        except Exception as exc:  # dbt did not run at all: nothing it should have built can be trusted
            summary["transform"] = {"built": [], "tests_passed": 0, "warnings": [], "failures": [_one_line(str(exc), 300)],
                                    "blocked_syncs": {name: f"dbt build did not run: {_one_line(str(exc))}"
                                                      for name in SYNCS}}
            summary["errors"].append(f"transform: {_one_line(str(exc), 300)}")
            log.error("cycle %s: dbt build did not run: %s", run_id, exc, extra={"stage": "transform"})
        summary["seconds"]["transform"] = round(time.perf_counter() - started, 2)

        started = time.perf_counter()
        try:
            summary["syncs"] = sync.fn(run_id, sync_names, blocked=summary["transform"].get("blocked_syncs", {}))
        except Exception as exc:  # the stage itself failed (each sync's failure is in its own result)
            summary["errors"].append(f"sync: {_one_line(str(exc), 300)}")
            log.error("cycle %s: sync stage failed: %s", run_id, exc, extra={"stage": "sync"})
        summary["seconds"]["sync"] = round(time.perf_counter() - started, 2)

        summary["totals"] = _totals(run_id, summary)
        status = cycle_status(summary)
        summary["problems"] = problems(summary)
        return summary
    except BaseException as exc:
        error = _one_line(f"{type(exc).__name__}: {exc}", 2000)
        summary["errors"].append(error)
        raise
    finally:
        summary["status"] = status
        with connect() as conn:
            finish_run(conn, run_id, status, summary)
            if error:
                conn.execute("update ops.runs set error = %s where run_id = %s", (error, run_id))
                conn.commit()
        log.info("cycle %s %s", run_id, status, extra={"stage": "cycle", "status": status,
                                                      "totals": summary.get("totals", {})})
        _publish(run_id, summary)
        if alert:
            alerts.after_cycle(summary)


def _publish(run_id: str, summary: dict) -> None:
    """The run's Prefect artifact (key hub-cycle: its history is the cycle history in the Prefect UI)."""
    try:
        create_markdown_artifact(markdown=ops_status.cycle_markdown(summary), key="hub-cycle",
                                 description=f"hub cycle {run_id}: {summary.get('status')}")
    except Exception as exc:  # the artifact is a view of ops.runs; losing it must not fail the cycle
        log.warning("cycle %s: artifact not created: %s", run_id, exc)
