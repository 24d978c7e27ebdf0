"""Operator faults end in one line, at once: settings to fix, unknown names, an unreachable warehouse or system,
a killed cycle, a new home with an external warehouse, and the default home found from the project."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from pshub.runs import connection_name, mark_abandoned
from pshub.settings import ConfigurationError, Settings, project_dir, redact_url

PSHUB = str(Path(sys.executable).parent / "pshub")


def _pshub(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    full = {**os.environ, **(env or {})}
    full.pop("PREFECT_API_URL", None)
    return subprocess.run([PSHUB, *args], env=full, capture_output=True, text=True, timeout=600, cwd=cwd)


def _one_error_line(result: subprocess.CompletedProcess) -> str:
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, result.stderr[-3000:]
    assert lines[0].startswith("error: ") and "Traceback" not in result.stdout + result.stderr
    return lines[0]


def test_a_new_home_with_an_external_warehouse_gets_its_folders_and_a_stopped_sandbox_is_one_line(
        warehouse_url, tmp_path):
    home = tmp_path / "new" / "nested" / "home"
    result = _pshub("run", env={"PSHUB_HOME": str(home), "PSHUB_DATABASE_URL": warehouse_url,
                                "PREFECT_HOME": str(home / "prefect")})
    assert result.returncode == 2
    line = _one_error_line(result)
    assert "PSHUB_SALESFORCE_URL" in line and "sandbox" in line
    assert "Prefect home" not in result.stderr
    for folder in ("prefect", "logs", "dbt"):
        assert (home / folder).is_dir()


def test_an_unknown_object_is_refused_before_anything_starts(tmp_path):
    result = _pshub("ingest", "--object", "nosuch", env={"PSHUB_HOME": str(tmp_path / "h")})
    assert result.returncode == 2
    assert "unknown object(s) nosuch" in _one_error_line(result)
    assert not (tmp_path / "h" / "prefect").exists(), "no Prefect start-up for a name that does not exist"


def test_an_unreachable_warehouse_is_one_line_without_its_password(tmp_path):
    url = "postgresql://hub:s3cret-pw@127.0.0.1:1/hub"
    result = _pshub("status", env={"PSHUB_HOME": str(tmp_path / "h"), "PSHUB_DATABASE_URL": url})
    assert result.returncode == 1
    line = _one_error_line(result)
    assert "127.0.0.1:1" in line and "PSHUB_DATABASE_URL" in line
    assert "s3cret-pw" not in result.stdout + result.stderr


def test_debug_shows_the_traceback(tmp_path):
    url = "postgresql://hub:s3cret-pw@127.0.0.1:1/hub"
    result = _pshub("--debug", "status", env={"PSHUB_HOME": str(tmp_path / "h"), "PSHUB_DATABASE_URL": url})
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_urls_are_printed_without_passwords():
    assert redact_url("postgresql://hub:p%40ss@db.example:5432/hub") == "postgresql://hub:***@db.example:5432/hub"
    assert redact_url("postgresql://postgres@127.0.0.1:5/pshub") == "postgresql://postgres@127.0.0.1:5/pshub"


def test_the_default_home_is_the_projects_whatever_the_working_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("PSHUB_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert Settings().home_dir == project_dir() / ".pshub"
    assert (project_dir() / "dbt_project.yml").is_file()


def test_without_a_project_and_without_pshub_home_the_command_refuses_and_says_why(monkeypatch):
    monkeypatch.delenv("PSHUB_HOME", raising=False)
    monkeypatch.setattr("pshub.settings.project_dir", lambda: None)
    with pytest.raises(ConfigurationError, match="set PSHUB_HOME"):
        Settings().home_dir


def test_a_cycle_whose_process_is_gone_is_marked_abandoned_and_a_live_one_is_not(warehouse_url):
    dead, alive = f"rtest-dead-{time.time_ns()}", f"rtest-alive-{time.time_ns()}"
    with psycopg.connect(warehouse_url) as conn, \
            psycopg.connect(warehouse_url, application_name=connection_name(alive)):
        conn.execute("insert into ops.runs (run_id, kind) values (%s, 'cycle'), (%s, 'cycle')", (dead, alive))
        conn.execute("insert into ops.loads (run_id, system, object) values (%s, 'kantata', 'users')", (dead,))
        conn.commit()
        assert dead in mark_abandoned(conn)
        statuses = dict(conn.execute("select run_id, status from ops.runs where run_id in (%s, %s)", (dead, alive)))
        assert statuses == {dead: "abandoned", alive: "running"}
        load = conn.execute("select status, error from ops.loads where run_id = %s", (dead,)).fetchone()
        assert load[0] == "failed" and load[1].startswith("abandoned")
        conn.execute("delete from ops.loads where run_id = %s", (dead,))
        conn.execute("delete from ops.runs where run_id in (%s, %s)", (dead, alive))
        conn.commit()


def test_a_prefect_api_configured_in_prefects_own_settings_is_used_rather_than_a_server_of_the_commands_own(
        monkeypatch, tmp_path):
    """PREFECT_API_URL counts wherever Prefect reads it: the environment, a .env or prefect.toml in the working
    folder, or the active profile of profiles.toml (read without importing Prefect)."""
    from pshub import prefect_api

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("PREFECT_PROFILE", raising=False)
    monkeypatch.delenv("PREFECT_PROFILES_PATH", raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "prefect").mkdir()
    assert prefect_api.configured_api_url() is None
    (tmp_path / "prefect" / "profiles.toml").write_text(
        'active = "team"\n[profiles.team]\nPREFECT_API_URL = "http://prefect.internal:4200/api"\n'
        '[profiles.other]\nPREFECT_API_URL = "http://elsewhere:4200/api"\n')
    assert prefect_api.configured_api_url() == "http://prefect.internal:4200/api"
    monkeypatch.setenv("PREFECT_PROFILE", "other")
    assert prefect_api.configured_api_url() == "http://elsewhere:4200/api"
    (tmp_path / "prefect.toml").write_text('[api]\nurl = "http://from-the-project:4200/api"\n')
    assert prefect_api.configured_api_url() == "http://from-the-project:4200/api"
    (tmp_path / ".env").write_text("PREFECT_API_URL=http://from-dotenv:4200/api\n")
    assert prefect_api.configured_api_url() == "http://from-dotenv:4200/api"
    monkeypatch.setenv("PREFECT_API_URL", "http://from-the-environment:4200/api")
    assert prefect_api.configured_api_url() == "http://from-the-environment:4200/api"


def test_a_served_prefect_server_is_shared_only_while_its_process_lives_and_answers(tmp_path):
    import http.server
    import threading

    from pshub import prefect_api

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/api/health" else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/api"
    try:
        assert prefect_api.shared_server_url(tmp_path) is None
        prefect_api.announce_server(tmp_path, url, os.getpid())
        assert prefect_api.shared_server_url(tmp_path) == url
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout.strip()
        prefect_api.announce_server(tmp_path, url, int(dead))  # a server file its process left behind
        assert prefect_api.shared_server_url(tmp_path) is None
        prefect_api.announce_server(tmp_path, url, os.getpid())
        prefect_api.withdraw_server(tmp_path, os.getpid())
        assert not (tmp_path / prefect_api.SERVER_FILE).exists()
    finally:
        server.shutdown()
    prefect_api.announce_server(tmp_path, url, os.getpid())
    assert prefect_api.shared_server_url(tmp_path) is None, "a server that does not answer is not shared"


def test_a_starting_prefect_server_is_waited_for_while_it_works_and_given_up_on_when_stuck(monkeypatch):
    """A first start migrates a new database: minutes of CPU on a busy machine. The wait lasts while the server uses
    CPU (up to four times the setting in all), and ends after the setting's seconds without any."""
    from pshub import prefect_api

    monkeypatch.setenv("PSHUB_PREFECT_STARTUP_TIMEOUT_SECONDS", "3")
    nowhere = f"http://127.0.0.1:{prefect_api._free_port()}/api"

    def waited(code: str) -> tuple[float, str]:
        process = subprocess.Popen([sys.executable, "-c", code])
        started = time.monotonic()
        try:
            with pytest.raises(prefect_api.PrefectApiUnavailable) as unavailable:
                prefect_api.TemporaryApi(process, nowhere, None).wait()
        finally:
            process.kill()
            process.wait()
        return time.monotonic() - started, str(unavailable.value)

    stuck, why = waited("import time; time.sleep(60)")
    assert stuck < 10 and "did not start within" in why and "PSHUB_PREFECT_STARTUP_TIMEOUT_SECONDS" in why
    working, why = waited("while True: pass")
    assert working >= 11 and "did not start within" in why
    exited, why = waited("raise SystemExit(3)")
    assert "exited with code 3" in why


def test_modules_a_command_imports_later_are_imported_while_its_prefect_server_starts_and_not_after(
        monkeypatch, tmp_path):
    """wait(warm_up=...) spends the server's start-up on imports the command needs anyway (dbt, for a cycle) and on
    work it would do later (a callable: dbt's parse of the project); a server that answers already is not kept
    waiting for them."""
    from pshub import prefect_api

    for name in ("pshub_warm_a", "pshub_warm_b"):
        (tmp_path / f"{name}.py").write_text("import time\nIMPORTED_AT = time.monotonic()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    port = prefect_api._free_port()
    # a server that answers /api/health two seconds after it starts, as Prefect's does once booted
    code = ("import http.server, time\n"
            "class H(http.server.BaseHTTPRequestHandler):\n"
            "    def do_GET(self):\n"
            "        self.send_response(200); self.end_headers()\n"
            "    def log_message(self, *a): pass\n"
            "time.sleep(2)\n"
            f"http.server.HTTPServer(('127.0.0.1', {port}), H).serve_forever()\n")
    process = subprocess.Popen([sys.executable, "-c", code])
    try:
        api = prefect_api.TemporaryApi(process, f"http://127.0.0.1:{port}/api", None)
        called = []

        def failing():
            raise RuntimeError("left for the command's own use of it to report")

        api.wait(warm_up=["pshub_warm_a", "no_such_module_anywhere", failing, lambda: called.append(time.monotonic())])
        ready = time.monotonic()
        assert sys.modules["pshub_warm_a"].IMPORTED_AT < ready
        assert len(called) == 1 and called[0] < ready
        api.wait(warm_up=["pshub_warm_b", lambda: called.append("late")])  # answering already: nothing done first
        assert "pshub_warm_b" not in sys.modules and called[1:] == []
    finally:
        process.kill()
        process.wait()
        for name in ("pshub_warm_a", "pshub_warm_b"):
            sys.modules.pop(name, None)


def test_an_unsupported_crm_and_psa_pair_is_refused_in_one_line_naming_the_supported_ones(monkeypatch):
    from pshub.settings import SUPPORTED_STACKS

    assert {("salesforce", "kantata"), ("hubspot", "kantata")} <= set(SUPPORTED_STACKS)
    assert Settings(crm="hubspot").crm == "hubspot"
    with pytest.raises(ConfigurationError, match="supported CRM\\+PSA: salesforce\\+kantata, hubspot\\+kantata"):
        Settings(crm="pipedrive")
    result = _pshub("demo", "--crm", "pipedrive")
    assert result.returncode == 2
    assert "PSHUB_CRM='pipedrive' is not a CRM the hub knows" in _one_error_line(result)
    # the demo's help says which pairs are supported and how to run each
    helped = _pshub("demo", "--help", env={"COLUMNS": "200"})
    assert "make demo CRM=hubspot" in " ".join(helped.stdout.split())
