"""Exactly once under failure: the apply process is killed at random points, then run again to the end.
Afterwards each destination holds every record once, with the latest values."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pshub.clients import client_for

RUNNER = Path(__file__).with_name("apply_runner.py")


def start_apply(name: str, kind: str, trial: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, str(RUNNER), name, kind, f"r-kill-{trial}"], stdout=subprocess.PIPE,
                            text=True, env=os.environ.copy())
    assert proc.stdout.readline().strip() == "ready"  # imports done, warehouse connected: the apply starts now
    return proc


def kill_at_random_points(name: str, kind: str, trials: int, window: float, mutate) -> list[str]:
    """`trials` applies, each killed after a random delay in [0, window) (some finish first), with the source
    changing between trials; then one apply to the end."""
    rng = random.Random(20261122)
    outcomes = []
    for trial in range(trials):
        mutate(trial, rng)
        proc = start_apply(name, kind, trial)
        time.sleep(rng.uniform(0, window))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            outcomes.append("killed")
        else:
            outcomes.append("finished")
        proc.wait(timeout=60)
    final = start_apply(name, kind, trials)
    assert final.wait(timeout=300) == 0
    status = final.stdout.read().split()
    assert status[0] == "succeeded" and status[2] == "0", status
    return outcomes


@pytest.fixture(scope="module")
def workspace_id(hub_sandbox):
    with client_for("kantata") as kt:
        return str(next(iter(kt.list_pages("workspaces", {"per_page": 1})))[0]["id"])


def test_kantata_creates_survive_kills_without_duplicates(conn, outbound_table, sandbox_admin, workspace_id):
    """Kantata has no external-id upsert: write intents and look-ups keep creates exactly once."""
    name = "t_kill_stories"
    columns = "external_id text, workspace_id text, title text, story_type text, due_date date"
    rows = [(f"ks-{i:03d}", workspace_id, f"kill-story-{i:03d}", "milestone", "2026-12-01") for i in range(60)]
    outbound_table(name, columns, rows)
    sandbox_admin.latency(25)

    def mutate(trial, rng):  # a third of the rows change due date each trial: updates inside every batch
        changed = rng.sample(range(60), 20)
        conn.execute(f"update outbound.{name} set due_date = due_date + 1 where external_id = any(%s)",
                     ([f"ks-{i:03d}" for i in changed],))
        conn.commit()

    try:
        outcomes = kill_at_random_points(name, "stories", trials=20, window=2.5, mutate=mutate)
    finally:
        sandbox_admin.latency(0)
    assert outcomes.count("killed") >= 15, outcomes

    expected = dict(conn.execute(f"select title, due_date::text from outbound.{name}").fetchall())
    with client_for("kantata") as kt:
        stories = [s for page in kt.list_pages("stories", {"workspace_id": workspace_id, "archived": "include"})
                   for s in page if s["title"].startswith("kill-story-")]
    titles = [s["title"] for s in stories]
    assert sorted(titles) == sorted(expected), "a story is missing or was created twice"
    assert {s["title"]: s["due_date"][:10] for s in stories} == expected
    ledger = conn.execute("select count(*) from ops.sync_ledger where sync_name = %s", (name,)).fetchone()[0]
    assert ledger == 60


def test_erp_time_bills_survive_kills_without_double_posting(conn, outbound_table, sandbox_admin, hub_sandbox):
    name = "t_kill_timebills"
    with client_for("netsuite") as ns:
        employee = next(iter(ns.suiteql_pages("SELECT id FROM employee ORDER BY id")))[0]["id"]
        project = next(iter(ns.suiteql_pages("SELECT id FROM job ORDER BY id")))[0]["id"]
        periods = [r for p in ns.suiteql_pages("SELECT startdate, closed FROM accountingperiod ORDER BY startdate DESC")
                   for r in p]
    day = next(str(p["startdate"])[:10] for p in periods if str(p.get("closed", "F")).upper() in ("F", "FALSE", "0"))
    columns = ("external_id text, employee text, customer text, hours numeric, rate numeric, \"tranDate\" date,"
               " memo text, _customer text, _engagement text, _amount_at_stake numeric, _currency text")
    rows = [(f"kt-{i:03d}", employee, project, 1.0, 100, day, "v0", "Acme", "opp", 100, "USD") for i in range(120)]
    outbound_table(name, columns, rows)
    sandbox_admin.latency(25)

    def mutate(trial, rng):
        changed = rng.sample(range(120), 30)
        conn.execute(f"update outbound.{name} set hours = hours + 0.25, memo = %s where external_id = any(%s)",
                     (f"v{trial + 1}", [f"kt-{i:03d}" for i in changed]))
        conn.commit()

    try:
        outcomes = kill_at_random_points(name, "timebills", trials=10, window=1.5, mutate=mutate)
    finally:
        sandbox_admin.latency(0)
    assert outcomes.count("killed") >= 6, outcomes

    expected = {r[0]: (float(r[1]), r[2]) for r in conn.execute(f"select external_id, hours, memo from outbound.{name}")}
    with client_for("netsuite") as ns:
        found = [r for p in ns.suiteql_pages("SELECT externalid, hours, memo FROM timebill WHERE memo LIKE 'v%'"
                                             " AND externalid IS NOT NULL") for r in p if r["externalid"].startswith("kt-")]
    assert len(found) == len({r["externalid"] for r in found}) == 120, "a time bill was posted twice or not at all"
    assert {r["externalid"]: (float(r["hours"]), r["memo"]) for r in found} == expected
