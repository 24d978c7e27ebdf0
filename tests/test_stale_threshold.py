""""Stale" is said in one place: the `warn_after` of each dbt source's freshness. `pshub status` reads it there, so
changing it in the sources' yml changes what status calls stale, and `dbt source freshness` warns at the same age."""
from __future__ import annotations

import datetime as dt
import shutil

import pytest
import yaml

import pshub.dbt
from pshub import status


@pytest.fixture
def project_with_kantata_stale_after_a_minute(tmp_path, monkeypatch):
    """A copy of the dbt project whose Kantata sources warn after 1 minute; NetSuite's keep the project's value."""
    shutil.copytree(pshub.dbt.PROJECT_DIR / "dbt_project" / "models", tmp_path / "dbt_project" / "models")
    sources = tmp_path / "dbt_project" / "models" / "staging" / "kantata" / "_kantata__sources.yml"
    declared = yaml.safe_load(sources.read_text())
    declared["sources"][0]["config"]["freshness"]["warn_after"] = {"count": 1, "period": "minute"}
    sources.write_text(yaml.safe_dump(declared))
    monkeypatch.setattr(pshub.dbt, "PROJECT_DIR", tmp_path)
    return tmp_path


def test_status_reads_the_threshold_from_the_dbt_sources(project_with_kantata_stale_after_a_minute, conn):
    assert status.stale_after("kantata", "time_entries") == dt.timedelta(minutes=1)
    netsuite = yaml.safe_load((pshub.dbt.PROJECT_DIR / "dbt_project" / "models" / "staging" / "netsuite"
                               / "_netsuite__sources.yml").read_text())["sources"][0]["config"]["freshness"]["warn_after"]
    assert status.stale_after("netsuite", "customer") == netsuite["count"] * status.PERIODS[netsuite["period"]]
    # two objects last landed two minutes ago (in this transaction, rolled back): only Kantata's is stale
    conn.execute("""insert into ops.loads (run_id, system, object, started_at, completed_at, status)
                    values ('stale-probe', 'kantata', 'stale_probe', now() - interval '3 minutes',
                            now() - interval '2 minutes', 'completed'),
                           ('stale-probe', 'netsuite', 'stale_probe', now() - interval '3 minutes',
                            now() - interval '2 minutes', 'completed')""")
    rows = {(r["system"], r["object"]): r for r in status.freshness(conn) if r["object"] == "stale_probe"}
    assert rows[("kantata", "stale_probe")]["stale"] and not rows[("netsuite", "stale_probe")]["stale"]
    conn.rollback()
