"""Ingest against the sandbox over loopback HTTP into real PostgreSQL: the raw tables track the sources exactly.

One firm, told as a story: a full run, incremental runs after the firm's clock moves on (inserts, updates,
deletes), a no-change run, a run through faults, and a run killed half-way; each ends equal to the source.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psycopg
import pytest

from connectors import catalog
from ingest_support import admin, differences, land_all, table_snapshot, tick

ALL = catalog.select()


@pytest.fixture(scope="module")
def clean(source, clients, new_database):
    """The warehouse of the undisturbed story: a full run, straight after the firm was generated."""
    url = new_database("clean")
    results = land_all(clients, url, objects=ALL, reconcile=True)
    return url, results


def assert_equal_to_source(source, url):
    with psycopg.connect(url) as conn:
        problems = [p for obj in ALL for p in differences(source, conn, obj)]
    assert not problems, "\n".join(problems)


def test_a_full_run_lands_every_object_equal_to_the_source(source, clean):
    url, results = clean
    assert {r.status for r in results} == {"completed"}, [(r.object, r.status, r.error) for r in results]
    assert all(r.rows_fetched > 0 for r in results if r.object not in ("deletedrecord", "User",
                                                                        "customrecord_pshub_invoice_request"))
    assert_equal_to_source(source, url)


def test_incremental_runs_after_the_clock_moves_track_inserts_updates_and_deletes(source, clients, clean):
    url, full = clean
    for days in (3, 9):
        tick(source, days)
        results = land_all(clients, url, objects=ALL, reconcile=True)
        assert {r.status for r in results} == {"completed"}, [(r.object, r.status, r.error) for r in results]
        assert_equal_to_source(source, url)
    fetched = {r.object: r.rows_fetched for r in results}
    assert fetched["time_entries"] < {r.object: r.rows_fetched for r in full}["time_entries"]  # incremental
    with psycopg.connect(url) as conn:
        deleted = {obj.key: conn.execute(f'select count(*) from raw_{obj.system}."{obj.table}" where is_deleted')
                   .fetchone()[0] for obj in ALL if obj.name != "deletedrecord"}
    # the clock deletes records in each system; they are flagged, not lost
    assert sum(deleted.values()) > 0, deleted


def test_a_run_with_no_source_change_changes_nothing(source, clients, clean):
    url, _ = clean
    with psycopg.connect(url) as conn:
        before = {obj.key: table_snapshot(conn, obj) for obj in ALL}
    results = land_all(clients, url, objects=ALL, reconcile=False)
    assert sum(r.rows_landed for r in results) == 0, [(r.object, r.rows_landed) for r in results if r.rows_landed]
    with psycopg.connect(url) as conn:
        assert {obj.key: table_snapshot(conn, obj) for obj in ALL} == before


def test_with_faults_on_the_landed_state_is_the_clean_runs(source, clean, new_database):
    from ingest_support import client_of

    quiet, faulty = new_database("quiet"), new_database("faulty")
    made = {s: client_of(source, s) for s in ("salesforce", "netsuite", "kantata")}
    faults = {"error_rate": 0.10, "rate_limit_rate": 0.05, "drop_rate": 0.03, "retry_after_seconds": 1}
    try:
        land_all(made, quiet, objects=ALL, reconcile=True)
        for system in made:
            admin(source, system, "POST", "stats/reset")
            admin(source, system, "PUT", "faults", json=faults)
        results = land_all(made, faulty, objects=ALL, reconcile=True)
        stats = {s: admin(source, s, "GET", "stats") for s in made}
    finally:
        for system in made:
            admin(source, system, "PUT", "faults", json={"error_rate": 0, "rate_limit_rate": 0, "drop_rate": 0})
            made[system].close()
    assert {r.status for r in results} == {"completed"}
    statuses = {code for s in stats.values() for code in s["by_status"]}
    assert {"500", "429", "0"} <= statuses, stats  # the faults did happen (0 = connection dropped)
    with psycopg.connect(quiet) as a, psycopg.connect(faulty) as b:
        for obj in ALL:
            assert table_snapshot(b, obj) == table_snapshot(a, obj), obj.key


KILLED_RUN = textwrap.dedent("""
    import sys
    import psycopg
    sys.path.insert(0, {support!r})
    from connectors import catalog
    from flows.objects import land_object, progress_listener
    from ingest_support import client_of

    class Source:  # the running sandbox's address and credentials, as the parent test knows them
        urls, credentials = {urls!r}, {credentials!r}

    (obj,) = catalog.find("kantata", "time_entries")
    def show(p):
        print(p.stage, p.rows_fetched, flush=True)
    with psycopg.connect({url!r}) as conn, progress_listener(show):
        land_object(client_of(Source, "kantata"), obj, "r-killed", conn=conn, batch_rows=200)
""")


def test_a_run_killed_in_the_middle_of_an_object_converges_when_run_again(source, clients, new_database):
    (obj,) = catalog.find("kantata", "time_entries")
    url = new_database("killed")
    script = KILLED_RUN.format(support=str(Path(__file__).parent), urls=source.urls,
                               credentials=source.credentials, url=url)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).parents[2], env=os.environ.copy())
    landed_batches = 0
    for line in proc.stdout:
        if line.startswith("landing"):
            landed_batches += 1
            if landed_batches == 5:
                proc.send_signal(signal.SIGKILL)
                break
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    with psycopg.connect(url) as conn:
        partial = conn.execute("select count(*) from raw_kantata.time_entries").fetchone()[0]
        status = conn.execute("select status from ops.loads where run_id = 'r-killed'").fetchone()[0]
    assert 0 < partial < len(__import__("ingest_support").source_rows(source, obj))
    assert status == "running"  # never marked completed
    land_all(clients, url, objects=[obj], reconcile=True)
    with psycopg.connect(url) as conn:
        assert differences(source, conn, obj) == []
