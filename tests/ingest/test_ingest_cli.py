"""`pshub ingest` as a user runs it: a fresh process, Prefect's API started beside its imports."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg


def _pshub_ingest(prefect_home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PREFECT_HOME": str(prefect_home)}
    env.pop("PREFECT_API_URL", None)
    return subprocess.run([str(Path(sys.executable).parent / "pshub"), "ingest", *args], env=env,
                          capture_output=True, text=True, timeout=300)


def test_pshub_ingest_lands_and_migrates_prefects_database_once(hub_sandbox, warehouse_url, tmp_path):
    prefect_home = tmp_path / "prefect"
    first = _pshub_ingest(prefect_home, "--system", "kantata", "--object", "users")
    assert first.returncode == 0, first.stderr[-3000:]
    assert list(prefect_home.glob(".pshub-migrated-*")), "the first start migrates and remembers it"

    again = _pshub_ingest(prefect_home, "--system", "kantata", "--object", "users")
    assert again.returncode == 0, again.stderr[-3000:]
    with psycopg.connect(warehouse_url) as conn:
        statuses = [r[0] for r in conn.execute(
            "select status from ops.loads where system = 'kantata' and object = 'users' order by load_id desc limit 2")]
    assert statuses == ["completed", "completed"]
