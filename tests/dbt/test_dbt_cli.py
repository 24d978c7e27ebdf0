"""dbt as an analyst runs it: `pshub dbt ...` and a plain `dbt` from the repository root, on the hub's warehouse."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pshub.dbt import PROJECT_DIR

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def analyst_env(dbt_settings, dbt_url, tmp_path_factory):
    """A shell's environment pointing the hub at the dbt tests' database, with dbt's output in a folder of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "PSHUB_DBT_"))}
    env.update(PSHUB_HOME=str(dbt_settings.home_dir), PSHUB_DATABASE_URL=dbt_url,
               DBT_TARGET_PATH=str(tmp_path_factory.mktemp("analyst-target")),
               DBT_LOG_PATH=str(tmp_path_factory.mktemp("analyst-logs")))
    return env


def pshub_dbt(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "pshub"), "dbt", *args], env=env, cwd=PROJECT_DIR, capture_output=True,
                          text=True, timeout=900)


def test_pshub_dbt_debug_connects_with_the_hubs_settings(analyst_env):
    done = pshub_dbt(analyst_env, "debug")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "All checks passed" in done.stdout and "Connection test: [OK" in done.stdout.replace("\x1b[32m", "")


def test_plain_dbt_from_the_repository_root_finds_the_profile_after_eval_of_pshub_dbt_env(analyst_env):
    printed = pshub_dbt(analyst_env, "--env")
    assert printed.returncode == 0, printed.stderr
    shell = f'eval "$({BIN / "pshub"} dbt --env)" && unset DBT_PROJECT_DIR DBT_PROFILES_DIR && {BIN / "dbt"} debug'
    done = subprocess.run(["bash", "-c", shell], env=analyst_env, cwd=PROJECT_DIR, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Using profiles.yml file at {PROJECT_DIR / 'profiles.yml'}" in done.stdout


def test_pshub_dbt_builds_and_tests_the_marts(built, analyst_env):
    # marts+ as the README says: rebuilding a table drops the views that read it (dbt-labs/dbt-core#2185)
    build = pshub_dbt(analyst_env, "build", "-s", "marts+")
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr
    results = json.loads((Path(analyst_env["DBT_TARGET_PATH"]) / "run_results.json").read_text())["results"]
    assert {"model.pshub.engagements", "model.pshub.customer_collections"} <= {r["unique_id"] for r in results}
    test = pshub_dbt(analyst_env, "test", "-s", "marts")
    assert test.returncode == 0, test.stdout[-3000:] + test.stderr
    results = json.loads((Path(analyst_env["DBT_TARGET_PATH"]) / "run_results.json").read_text())["results"]
    assert results and {r["status"] for r in results} <= {"pass", "success"}


def test_pshub_dbt_docs_generate_writes_the_catalog_of_the_marts(built, analyst_env):
    done = pshub_dbt(analyst_env, "docs", "generate")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    catalog = json.loads((Path(analyst_env["DBT_TARGET_PATH"]) / "catalog.json").read_text())
    assert "model.pshub.engagements" in catalog["nodes"]


def test_pshub_dbt_without_a_command_says_what_to_type(analyst_env):
    done = pshub_dbt(analyst_env)
    assert done.returncode != 0
    assert "pshub dbt debug" in done.stdout + done.stderr


def test_an_interrupted_dbt_build_raises_the_interrupt_instead_of_returning_a_failed_build(built, dbt_settings):
    """dbt hands Ctrl-C back as a failed result; the hub raises it again, so that a cycle (or `pshub serve`'s flow
    run) stops at once instead of retrying dbt."""
    import os
    import signal

    from pshub import dbt

    def interrupt_at_the_first_node(progress: dict) -> None:
        if progress.get("done"):
            os.kill(os.getpid(), signal.SIGINT)

    # Ctrl-C as a terminal gives it to a command: Python's own handler. Earlier tests of the same process may have
    # left another one installed (Prefect's runner sets its own), under which SIGINT raises nothing here.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with dbt.progress_listener(interrupt_at_the_first_node), pytest.raises(KeyboardInterrupt):
            dbt.run_dbt(["build", "--select", "stg_netsuite__terms+"], settings=dbt_settings, raise_on_failure=False)
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_process_parses_the_project_once_for_the_builds_it_runs(built, dbt_settings, monkeypatch):
    """run_dbt hands the project it parsed to the next dbt invocation: a second compile in the same process parses
    nothing (dbt logs no partial-parsing check for it). What the parse depends on is its key: the environment the
    parser reads (here the reporting currency) changes it; whether relations are kept (read only when a node runs)
    does not."""
    from pshub import dbt

    log = dbt_settings.home_dir / "dbt" / "logs" / "dbt.log"
    for _ in range(2):
        result = dbt.run_dbt(["compile", "--select", "int_as_of_date"], settings=dbt_settings)
        assert result.success, result.failures
    last_invocation = log.read_text().rsplit("Running with dbt=", 1)[1]
    assert "int_as_of_date" in last_invocation  # the log of the second compile
    assert "Partial parsing" not in last_invocation and "Unable to do partial parsing" not in last_invocation

    work = dbt_settings.home_dir / "dbt"
    key = dbt._parse_key(work)
    monkeypatch.setenv("PSHUB_DBT_KEEP_RELATIONS", "1")
    assert dbt._parse_key(work) == key
    monkeypatch.setenv("PSHUB_REPORTING_CURRENCY", "CHF")
    assert dbt._parse_key(work) != key


def test_a_builds_log_file_is_at_info_unless_dbt_log_level_file_says_otherwise(built, dbt_settings, monkeypatch):
    """A build's logs/dbt.log holds each node's start and result, not every statement dbt sends (dbt's default file
    level, debug, made dbt's threads queue on the file's lock); DBT_LOG_LEVEL_FILE, dbt's own variable, still chooses."""
    from pshub import dbt

    log = dbt_settings.home_dir / "dbt" / "logs" / "dbt.log"

    def logged_by_a_run() -> str:
        before = log.stat().st_size if log.exists() else 0
        result = dbt.run_dbt(["run", "--select", "int_as_of_date"], settings=dbt_settings)
        assert result.success, result.failures
        with log.open("rb") as f:
            f.seek(before)
            return f.read().decode(errors="replace")

    monkeypatch.delenv("DBT_LOG_LEVEL_FILE", raising=False)
    quiet = logged_by_a_run()
    assert "int_as_of_date" in quiet and "[info ]" in quiet
    assert "[debug]" not in quiet
    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")
    assert "[debug]" in logged_by_a_run()
