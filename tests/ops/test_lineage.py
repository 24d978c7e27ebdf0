"""Which syncs a dbt failure blocks: read from dbt's manifest and run results (no warehouse needed)."""
from __future__ import annotations

import json
import time

from flows.hub import blocked_syncs, load_dbt_artifacts
from reverse_etl.syncs import Sync

# staging -> mart -> two outbound models; a second, independent branch -> a third outbound model
MANIFEST = {
    "nodes": {
        "model.p.stg_accounts": {"name": "stg_accounts", "schema": "staging", "alias": "stg_accounts"},
        "model.p.collections": {"name": "collections", "schema": "marts", "alias": "collections"},
        "model.p.crm_finance": {"name": "crm_finance", "schema": "outbound", "alias": "crm_finance"},
        "model.p.credit_holds": {"name": "credit_holds", "schema": "outbound", "alias": "credit_holds"},
        "model.p.stg_opps": {"name": "stg_opps", "schema": "staging", "alias": "stg_opps"},
        "model.p.erp_projects": {"name": "erp_projects", "schema": "outbound", "alias": "erp_projects"},
        "test.p.not_null_collections_open_ar.abc": {"name": "not_null_collections_open_ar",
                                                    "attached_node": "model.p.collections",
                                                    "depends_on": {"nodes": ["model.p.collections"]}},
        "test.p.assert_no_orphans": {"name": "assert_no_orphans", "attached_node": None,
                                     "depends_on": {"nodes": ["model.p.stg_opps"]}},
    },
    "unit_tests": {
        "unit_test.p.collections.dso": {"name": "dso", "depends_on": {"nodes": ["model.p.collections"]}},
    },
    "child_map": {
        "model.p.stg_accounts": ["model.p.collections"],
        "model.p.collections": ["model.p.crm_finance", "model.p.credit_holds", "test.p.not_null_collections_open_ar.abc"],
        "model.p.crm_finance": [], "model.p.credit_holds": [],
        "model.p.stg_opps": ["model.p.erp_projects", "test.p.assert_no_orphans"],
        "model.p.erp_projects": [],
    },
}
SYNCS = [Sync(name=n, destination="netsuite", object="x", key="k", fields=(), operation="upsert")
         for n in ("crm_finance", "credit_holds", "erp_projects")]


def results(*pairs):
    return {"results": [{"unique_id": uid, "status": status, "message": msg} for uid, status, msg in pairs]}


def test_a_failed_test_on_a_mart_blocks_only_the_syncs_downstream_of_it():
    blocked = blocked_syncs(SYNCS, MANIFEST, results(
        ("model.p.collections", "success", None),
        ("test.p.not_null_collections_open_ar.abc", "fail", "Got 3 results"),
        ("model.p.crm_finance", "skipped", None), ("model.p.credit_holds", "skipped", None),
        ("model.p.erp_projects", "success", None)))
    assert set(blocked) == {"crm_finance", "credit_holds"}
    assert blocked["crm_finance"] == "upstream marts.collections: dbt test not_null_collections_open_ar fail"


def test_a_model_error_blocks_its_own_sync_with_the_database_message():
    blocked = blocked_syncs(SYNCS, MANIFEST, results(
        ("model.p.erp_projects", "error", "\x1b[31mDatabase Error\x1b[0m in model erp_projects\n  division by zero")))
    assert blocked == {"erp_projects": "outbound.erp_projects: model error: Database Error in model erp_projects division by zero"}


def test_a_failed_unit_test_and_a_singular_test_name_the_model_they_test():
    blocked = blocked_syncs(SYNCS, MANIFEST, results(
        ("unit_test.p.collections.dso", "fail", "actual differs"),
        ("test.p.assert_no_orphans", "fail", "Got 1 result")))
    assert set(blocked) == {"crm_finance", "credit_holds", "erp_projects"}
    assert "dbt unit test dso fail" in blocked["credit_holds"]
    assert blocked["erp_projects"] == "upstream staging.stg_opps: dbt test assert_no_orphans fail"


def test_warnings_and_passes_block_nothing():
    assert blocked_syncs(SYNCS, MANIFEST, results(
        ("test.p.not_null_collections_open_ar.abc", "warn", "Got 1 result"),
        ("model.p.erp_projects", "success", None))) == {}


def test_run_results_older_than_the_build_are_not_trusted(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps(MANIFEST))
    (tmp_path / "run_results.json").write_text(json.dumps(
        {"metadata": {"generated_at": "2020-01-01T00:00:00.000000Z"}, "results": []}))
    assert load_dbt_artifacts(tmp_path, not_before=time.time()) is None
    assert load_dbt_artifacts(tmp_path, not_before=0) is not None
