"""The marts and outbound models as analysts and BI tools meet them: every column described (in dbt and as a
PostgreSQL comment), contracts enforced on the marts, exposures for the report and each sync, the KPIs as metrics,
and KPI definitions that name unit tests which exist."""
from __future__ import annotations

import json
import re

import pytest

from pshub.dbt import PROJECT_DIR
from reverse_etl.syncs import SYNCS


@pytest.fixture(scope="module")
def manifest(built, dbt_settings) -> dict:
    return json.loads((dbt_settings.home_dir / "dbt" / "target" / "manifest.json").read_text())


def relation_columns(db, schema: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for table, column in db.execute("select table_name, column_name from information_schema.columns "
                                    "where table_schema = %s order by table_name, ordinal_position", (schema,)):
        out.setdefault(table, []).append(column)
    return out


@pytest.mark.parametrize("schema", ["marts", "outbound"])
def test_every_mart_and_outbound_column_has_a_description(manifest, db, schema):
    relations = relation_columns(db, schema)
    assert len(relations) >= (8 if schema == "marts" else 20)
    undescribed = []
    for table, columns in relations.items():
        node = manifest["nodes"][f"model.pshub.{table}"]
        assert node["description"].strip(), table
        described = {name: c.get("description", "").strip() for name, c in node["columns"].items()}
        undescribed += [f"{schema}.{table}.{c}" for c in columns if not described.get(c)]
    assert undescribed == []


def test_psql_shows_the_descriptions_of_marts_engagements(manifest, db):
    # what `\d+ marts.engagements` prints in its Description column: pg_description, written by persist_docs
    comments = dict(db.execute("""
        select a.attname, col_description(a.attrelid, a.attnum)
          from pg_attribute a
         where a.attrelid = 'marts.engagements'::regclass and a.attnum > 0 and not a.attisdropped""").fetchall())
    described = {name: c["description"].strip() for name, c in manifest["nodes"]["model.pshub.engagements"]["columns"].items()}
    assert len(comments) > 60
    assert {name: (text or "").strip() for name, text in comments.items()} == {name: described[name] for name in comments}
    table_comment = db.execute("select obj_description('marts.engagements'::regclass, 'pg_class')").fetchone()[0]
    assert table_comment and table_comment.startswith("Grain: one row per engagement")


def test_outbound_views_carry_their_column_descriptions_as_comments(db):
    missing = db.execute("""
        select c.relname || '.' || a.attname
          from pg_attribute a
          join pg_class c on c.oid = a.attrelid
          join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'outbound' and a.attnum > 0 and not a.attisdropped
           and coalesce(col_description(a.attrelid, a.attnum), '') = ''""").fetchall()
    assert missing == []


def test_every_mart_has_an_enforced_contract(manifest):
    marts = [n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["schema"] == "marts"]
    assert len(marts) >= 8
    assert [n["name"] for n in marts if not n["config"]["contract"]["enforced"]] == []
    assert all(c.get("data_type") for n in marts for c in n["columns"].values())


def test_the_report_and_every_sync_are_exposures_of_what_they_read(manifest):
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    for sync in SYNCS.values():
        assert f"model.pshub.{sync.name}" in exposures[f"sync_{sync.name}"]["depends_on"]["nodes"], sync.name
    report = set(exposures["hub_report"]["depends_on"]["nodes"])
    # every mart pshub/app/report.py reads
    read = set(re.findall(r"marts\.([a-z_]+)", (PROJECT_DIR / "pshub" / "app" / "report.py").read_text()))
    assert read and {f"model.pshub.{m}" for m in read} <= report


def test_the_kpis_are_semantic_metrics(manifest):
    metrics = {m["name"] for m in manifest["metrics"].values()}
    assert {"sold", "recognized_revenue", "billed", "collected", "margin", "margin_pct", "wip",
            "billable_utilization", "total_utilization", "open_ar"} <= metrics
    assert {s["name"] for s in manifest["semantic_models"].values()} == {"engagements", "resource_weeks", "invoices"}


def test_the_kpi_definitions_point_at_unit_tests_that_exist(manifest):
    text = (PROJECT_DIR / "dbt_project" / "docs" / "kpis.md").read_text()
    rows = [line.split("|")[1:-1] for line in text.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) >= 20
    unit_tests = {u["name"] for u in manifest["unit_tests"].values()}
    cited = {name for row in rows for name in re.findall(r"`([a-z0-9_]+)`", row[3]) if not name.startswith("test_")}
    assert len(cited) >= 12 and cited <= unit_tests, cited - unit_tests
    assert sum("none yet" in row[3] for row in rows) <= 2
