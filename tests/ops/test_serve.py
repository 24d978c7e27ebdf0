"""`pshub serve` runs the deployments of a prefect.yaml on their schedules: a short one fires a cycle."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import yaml

from pshub.dbt import PROJECT_DIR

# a quick cycle: one small object, its staging view, no sync
QUICK = {"objects": ["term"], "dbt_select": ["stg_netsuite__terms"], "syncs": [], "alert": False, "if_busy": "skip"}


def test_the_project_deployments_are_scheduled_as_the_issue_asks():
    from pshub.app.deployments import runner_deployments

    deployments = {d.name: d for d in runner_deployments(PROJECT_DIR / "prefect.yaml")}
    crons = {name: [s.schedule.cron for s in d.schedules] for name, d in deployments.items()}
    assert crons == {"cycle-every-15-minutes": ["*/15 * * * *"], "nightly-delete-reconciliation": ["30 2 * * *"],
                     "weekly-full-refresh": ["0 4 * * SUN"]}
    assert deployments["nightly-delete-reconciliation"].parameters["reconcile"] is True
    weekly = deployments["weekly-full-refresh"].parameters
    assert weekly["full_refresh"] is True and "time_entries" not in weekly["objects"]
    assert all(d.entrypoint.endswith("flows/hub.py:hub") for d in deployments.values())


def test_the_weekly_refresh_names_only_objects_the_catalog_knows():
    from connectors import catalog

    spec = next(d for d in yaml.safe_load((PROJECT_DIR / "prefect.yaml").read_text())["deployments"]
                if d["name"] == "weekly-full-refresh")
    chosen = catalog.select(None, spec["parameters"]["objects"])
    assert {o.name for o in chosen} >= {"User", "users", "term", "accountingperiod"}


def test_serve_fires_a_scheduled_cycle(ops_env, tmp_path):
    from pshub.app.deployments import scheduler_problem

    assert scheduler_problem() is None, scheduler_problem()
    spec = {"deployments": [{"name": "quick-test", "entrypoint": str(PROJECT_DIR / "flows" / "hub.py") + ":hub",
                             "parameters": QUICK, "schedules": [{"interval": 5}]}]}
    (tmp_path / "prefect.yaml").write_text(yaml.safe_dump(spec))
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_API_URL": ""}
    env.pop("PREFECT_API_URL")
    # serve's server keeps its state apart from PREFECT_HOME's database: a command that started a server of its own
    # (on PREFECT_HOME) would leave its flow run where serve's API cannot see it
    serve_env = {**env, "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{tmp_path / 'served.db'}"}
    started = time.time()
    proc = subprocess.Popen([str(Path(sys.executable).parent / "pshub"), "serve", "--file", str(tmp_path / "prefect.yaml")],
                            env=serve_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    shared = None
    try:
        row = None
        with psycopg.connect(ops_env["database_url"], autocommit=True) as conn:
            while time.time() - started < 240 and proc.poll() is None:
                row = conn.execute("""select run_id, status, parameters from ops.runs
                                      where kind = 'cycle' and started_at > to_timestamp(%s)
                                        and (parameters ->> 'auto_scheduled')::boolean and finished_at is not null
                                      order by started_at limit 1""", (started,)).fetchone()
                if row:
                    break
                time.sleep(2)
        if row:  # while serve runs, a command that runs a flow uses serve's Prefect server, not one of its own
            shared = _a_command_shares_the_served_prefect_server(env, tmp_path / "prefect")
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        interrupted = time.time()
        try:
            output = proc.communicate(timeout=60)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output = proc.communicate()[0].decode(errors="replace") + "\n[killed: no stop within 60 s]"
        print(f"serve stopped {time.time() - interrupted:.1f} s after Ctrl-C (exit {proc.returncode})")
    assert row is not None, f"no scheduled cycle ran; serve said:\n{output[-3000:]}"
    run_id, status, parameters = row
    assert status == "succeeded", parameters
    assert parameters["objects"] == ["term"] and parameters["deployment_id"]
    assert "quick-test" in output
    # one outcome line per cycle on the serving terminal, the flow run named by the run id; a clean stop
    assert f"cycle {run_id} succeeded:" in output, output[-3000:]
    # a dbt build that the stop interrupts (its flow run cancelled) reports the interrupt with a stack trace of its
    # own (dbt's MainStackTrace event, at error level) before the hub stops the run; nothing else may print one
    beyond_dbt = re.sub(r"\d\d:\d\d:\d\d  Traceback \(most recent call last\):.*?\n(KeyboardInterrupt|\S*"
                        r"TerminationSignal)[^\n]*\n", "", output, flags=re.S)
    assert "never awaited" not in output and "Traceback" not in beyond_dbt, output[-3000:]
    assert output.rstrip().endswith("stopped"), output[-3000:]
    assert shared is not None and shared["exit"] == 0, shared
    assert shared["transform_runs_on_the_served_server"] == 1, shared
    assert not (tmp_path / "prefect" / "pshub-server.json").exists(), "serve withdraws its server when it stops"


def _a_command_shares_the_served_prefect_server(env: dict, prefect_home: Path) -> dict:
    import json

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.settings import PREFECT_API_URL, temporary_settings

    api_url = json.loads((prefect_home / "pshub-server.json").read_text())["url"]
    command = subprocess.run([str(Path(sys.executable).parent / "pshub"), "transform", "--select", "stg_netsuite__terms"],
                             env=env, capture_output=True, text=True, timeout=600)
    with temporary_settings({PREFECT_API_URL: api_url}), get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["transform"])))
    # the command's own run (a cycle runs its transform inside its own flow run; a subflow would have a parent task run)
    commands = [r for r in runs if r.parent_task_run_id is None]
    return {"exit": command.returncode, "stderr": command.stderr[-2000:],
            "transform_runs_on_the_served_server": len(commands)}


def test_each_deployment_has_its_own_concurrency_limit_and_collision_strategy():
    from pshub.app.deployments import runner_deployments

    deployments = {d.name: d for d in runner_deployments(PROJECT_DIR / "prefect.yaml")}
    limits = {name: (d.concurrency_limit, str(d.concurrency_options.collision_strategy.value))
              for name, d in deployments.items()}
    assert limits == {"cycle-every-15-minutes": (1, "CANCEL_NEW"), "nightly-delete-reconciliation": (1, "ENQUEUE"),
                      "weekly-full-refresh": (1, "ENQUEUE")}
