"""A cycle's outcome as Prefect shows it, read back from Prefect's API: a partial cycle is a Completed run named
Partial, a failed one a Failed run (not a plain Completed), and both still give their summary to the caller."""
from __future__ import annotations

import psycopg
import pytest

# a small cycle: one NetSuite and one Kantata object, a staging view, no sync
SMALL = {"objects": ["term", "roles"], "dbt_select": ["stg_netsuite__terms"], "syncs": [], "alert": False}


@pytest.fixture(scope="module")
def cycles(warehouse_url, home):
    """A partial cycle (Kantata refuses the hub's token: revoked, an error no retry helps), then a failed one (the
    sandbox is stopped: no system answers), on a hub of their own."""
    from flows.hub import run_cycle
    from isolated_hub import isolated_hub

    with isolated_hub(warehouse_url, home / "ops-cycle-states", "pshub_ops_cycle_states") as env:
        env["sandbox"].revoke_kantata_token(None)
        partial = run_cycle(**SMALL)
        env["sandbox"].stop()
        failed = run_cycle(**SMALL)
        with psycopg.connect(env["database_url"]) as conn:
            flow_runs = dict(conn.execute("select run_id, flow_run_id from ops.runs where run_id = any(%s)",
                                          ([partial["run_id"], failed["run_id"]],)))
        yield {"partial": partial, "failed": failed, "flow_runs": flow_runs}


def _flow_run(flow_run_id: str):
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(flow_run_id)


def test_a_partial_cycle_is_a_completed_flow_run_named_partial(cycles):
    partial = cycles["partial"]
    assert partial["status"] == "partial", partial.get("problems")
    assert {(l["system"], l["status"]) for l in partial["loads"]} == {("netsuite", "completed"), ("kantata", "failed")}
    run = _flow_run(cycles["flow_runs"][partial["run_id"]])
    assert run.name == partial["run_id"]
    assert (run.state.type.value, run.state.name) == ("COMPLETED", "Partial")
    assert "kantata.roles" in run.state.message


def test_a_failed_cycle_is_a_failed_flow_run_and_its_caller_still_gets_the_summary(cycles):
    failed = cycles["failed"]
    assert failed["status"] == "failed"
    assert all(l["status"] == "failed" for l in failed["loads"])
    assert "ingest failed for every system: dbt and the syncs did not run" in failed["problems"]
    run = _flow_run(cycles["flow_runs"][failed["run_id"]])
    assert run.name == failed["run_id"]
    assert (run.state.type.value, run.state.name) == ("FAILED", "Failed")
    assert "ingest failed for every system" in run.state.message


def test_a_cycle_whose_dbt_build_did_not_run_is_failed_not_partial():
    from flows.hub import cycle_status

    summary = {"errors": ["transform: dbt build failed before running any node"], "totals": {}}
    assert cycle_status(summary) == "failed"
    assert cycle_status({"errors": ["ingest: crm timed out"], "totals": {}}) == "partial"
