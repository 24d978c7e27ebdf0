"""`pshub ingest` as a user runs it: a fresh process. Several objects (or --flow) run as the Prefect flow, Prefect's
API started beside the imports; one object lands directly, without Prefect."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg

# the command as its entry point runs it; then, on stderr, which of the slow imports it made
PROBE = ("import sys\nfrom pshub.app.cli import main\nsys.argv = ['pshub'] + sys.argv[1:]\ntry:\n    main()\n"
         "finally:\n    print('IMPORTED=' + ','.join(m for m in ('prefect', 'pandas') if m in sys.modules), "
         "file=sys.stderr)\n")


def _pshub_ingest(prefect_home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PREFECT_HOME": str(prefect_home)}
    env.pop("PREFECT_API_URL", None)
    return subprocess.run([sys.executable, "-c", PROBE, "ingest", *args], env=env, capture_output=True, text=True,
                          timeout=300)


def _imported(proc: subprocess.CompletedProcess) -> set[str]:
    line = next(l for l in proc.stderr.splitlines() if l.startswith("IMPORTED="))
    return set(filter(None, line.removeprefix("IMPORTED=").split(",")))


def _last_loads(url: str, obj: str, n: int) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("select status, rows_landed from ops.loads where system = 'kantata' and object = %s"
                            " order by load_id desc limit %s", (obj, n)).fetchall()


def test_pshub_ingest_as_a_flow_lands_and_migrates_prefects_database_once(hub_sandbox, warehouse_url, tmp_path):
    prefect_home = tmp_path / "prefect"
    first = _pshub_ingest(prefect_home, "--system", "kantata", "--object", "users", "--flow")
    assert first.returncode == 0, first.stderr[-3000:]
    assert "prefect" in _imported(first)
    assert list(prefect_home.glob(".pshub-migrated-*")), "the first start migrates and remembers it"

    again = _pshub_ingest(prefect_home, "--system", "kantata", "--object", "users", "--flow")
    assert again.returncode == 0, again.stderr[-3000:]
    assert [status for status, _ in _last_loads(warehouse_url, "users", 2)] == ["completed", "completed"]


def test_pshub_ingest_of_one_object_lands_without_prefect_and_with_nothing_new_without_pandas(
        hub_sandbox, warehouse_url, tmp_path):
    prefect_home = tmp_path / "prefect"
    first = _pshub_ingest(prefect_home, "-s", "kantata", "-o", "time_entries")
    assert first.returncode == 0, first.stderr[-3000:]
    assert "prefect" not in _imported(first)

    # nothing changed: the records read again in the overlap are landed already, so none needs checking
    again = _pshub_ingest(prefect_home, "-s", "kantata", "-o", "time_entries")
    assert again.returncode == 0, again.stderr[-3000:]
    assert _imported(again) == set()
    assert not (prefect_home / "prefect.db").exists(), "no Prefect server was started"
    (status, landed), _ = _last_loads(warehouse_url, "time_entries", 2)
    assert (status, landed) == ("completed", 0)
    assert "kantata.time_entries" in again.stdout and "completed" in again.stdout
