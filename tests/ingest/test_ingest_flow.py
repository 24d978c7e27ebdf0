"""The Prefect flow `ingest`, as `pshub ingest` runs it: the configured systems (here the hub's sandbox, found
through PSHUB_HOME), every object, systems at the same time, progress reported as it goes."""
from __future__ import annotations

import io

import psycopg

from connectors import catalog
from flows.ingest import ingest
from flows.objects import progress_listener
from pshub.app.progress import TerminalProgress
from pshub.runs import new_run_id


def test_the_flow_lands_every_object_of_the_three_systems_at_once_with_progress(hub_sandbox, warehouse_url):
    events, terminal = [], io.StringIO()
    run_id = new_run_id()
    with progress_listener(events.append), progress_listener(TerminalProgress(terminal, every_seconds=0)):
        results = ingest(run_id)

    expected = {(o.system, o.name) for o in catalog.select()}
    assert {(r["system"], r["object"]) for r in results} == expected
    failed = [(r["system"], r["object"], r["error"]) for r in results if r["status"] != "completed"]
    assert failed == []
    with psycopg.connect(warehouse_url) as conn:
        loads = conn.execute("select count(*) from ops.loads where run_id = %s and status = 'completed'",
                             (run_id,)).fetchone()[0]
    assert loads == len(expected) - len(failed)

    # systems ran at the same time: some object of each system started before another system's last one ended
    spans: dict[str, list[float]] = {}
    clock = 0
    for e in events:  # events arrive in the order they happen; their index is a clock
        clock += 1
        if e.stage == "started":
            spans.setdefault(e.system, [clock, clock])
        if e.stage == "completed":
            spans[e.system][1] = clock
    overlapping = [(a, b) for a in spans for b in spans if a < b
                   and spans[a][0] < spans[b][1] and spans[b][0] < spans[a][1]]
    assert len(overlapping) == 3, spans

    assert {(e.system, e.object) for e in events if e.stage == "completed"} == expected - {
        (system, name) for system, name, _ in failed}
    assert "kantata.time_entries" in terminal.getvalue() and "completed" in terminal.getvalue()
