"""The sandbox with each system in a process of its own (SandboxServer(processes=True), what `pshub sandbox serve`
runs): the systems answer from different processes over one firm, and what spans systems still spans them."""
from __future__ import annotations

import concurrent.futures
import datetime as dt

import httpx
import pytest

from sandbox.server import SYSTEMS, SandboxServer

ANCHOR = dt.datetime(2025, 6, 15, 12, 0, 0)


@pytest.fixture(scope="module")
def spread(tmp_path_factory):
    with SandboxServer(tmp_path_factory.mktemp("processes"), scale="demo", seed=5, anchor=ANCHOR,
                       processes=True) as sb:
        yield sb


def _kt(sb) -> httpx.Client:
    return httpx.Client(base_url=sb.urls["kantata"] + "/api/v1",
                        headers={"Authorization": f"Bearer {sb.credentials['kantata']['token']}"}, timeout=60)


def _sf_token(sb) -> str:
    return httpx.post(sb.urls["salesforce"] + "/services/oauth2/token",
                      data={"grant_type": "client_credentials", **sb.credentials["salesforce"]}).json()["access_token"]


def test_each_system_answers_from_a_process_of_its_own(spread):
    pids = {s: httpx.get(u + "/__sandbox/info").json()["pid"] for s, u in spread.urls.items()}
    assert len(set(pids.values())) == len(SYSTEMS)
    assert all(proc.poll() is None for proc in spread._workers.values())


def test_admin_calls_that_span_systems_reach_every_process(spread):
    try:
        spread.latency_ms = 7  # Python API: every system
        assert {httpx.get(u + "/__sandbox/info").json()["latency_ms"] for u in spread.urls.values()} == {7}
        httpx.put(spread.urls["kantata"] + "/__sandbox/latency", json={"latency_ms": 3}).raise_for_status()
        assert {httpx.get(u + "/__sandbox/info").json()["latency_ms"] for u in spread.urls.values()} == {3}
        # faults keyed by system, sent to one port, change the other systems
        r = httpx.put(spread.urls["kantata"] + "/__sandbox/faults", json={"netsuite": {"error_rate": 0.5}})
        assert r.json()["netsuite"]["error_rate"] == 0.5
        assert httpx.get(spread.urls["netsuite"] + "/__sandbox/faults").json()["error_rate"] == 0.5
        assert spread.faults["netsuite"]["error_rate"] == 0.5 and spread.faults["kantata"]["error_rate"] == 0
        spread.set_faults("netsuite", {"error_rate": 0.0})
        assert httpx.get(spread.urls["netsuite"] + "/__sandbox/faults").json()["error_rate"] == 0
    finally:
        spread.latency_ms = 0


def test_token_expiry_on_any_port_expires_every_systems_tokens(spread):
    token = _sf_token(spread)
    query = spread.urls["salesforce"] + "/services/data/v62.0/query"
    assert httpx.get(query, params={"q": "SELECT Id FROM Account LIMIT 1"},
                     headers={"Authorization": f"Bearer {token}"}).status_code == 200
    httpx.post(spread.urls["kantata"] + "/__sandbox/tokens/expire").raise_for_status()
    r = httpx.get(query, params={"q": "SELECT Id FROM Account LIMIT 1"}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and r.json()[0]["errorCode"] == "INVALID_SESSION_ID"


def test_a_tick_in_one_process_moves_every_systems_clock_and_data(spread):
    before = {s: httpx.get(u + "/__sandbox/clock").json()["offset_days"] for s, u in spread.urls.items()}
    with _kt(spread) as kt:
        entries = kt.get("/time_entries.json", params={"per_page": 1}).json()["count"]
        httpx.post(spread.urls["netsuite"] + "/__sandbox/tick", params={"days": 2}, timeout=600).raise_for_status()
        spread.tick(1)  # and from the Python API, in the parent process
        after = {s: httpx.get(u + "/__sandbox/clock").json()["offset_days"] for s, u in spread.urls.items()}
        assert all(after[s] == pytest.approx(before[s] + 3, abs=0.01) for s in spread.urls)
        assert kt.get("/time_entries.json", params={"per_page": 1}).json()["count"] > entries  # days of PSA time


def test_writes_from_every_process_at_once_all_land_with_distinct_ids(spread):
    """Writes of different systems' processes are serialised on the firm's file lock: none is lost or refused."""
    sf_headers = {"Authorization": f"Bearer {_sf_token(spread)}"}
    workspace = None
    with _kt(spread) as kt:
        workspace = next(iter(kt.get("/workspaces.json", params={"per_page": 1}).json()["workspaces"]))

    def kantata(i: int) -> str:
        r = httpx.post(spread.urls["kantata"] + "/api/v1/stories.json", timeout=60,
                       headers={"Authorization": f"Bearer {spread.credentials['kantata']['token']}"},
                       json={"story": {"workspace_id": workspace, "title": f"parallel {i}"}})
        assert r.status_code == 200, r.text
        return "kt" + next(iter(r.json()["stories"]))

    def salesforce(i: int) -> str:
        r = httpx.post(spread.urls["salesforce"] + "/services/data/v62.0/sobjects/Account", headers=sf_headers,
                       json={"Name": f"Parallel {i}"}, timeout=60)
        assert r.status_code == 201, r.text
        return "sf" + r.json()["id"]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda i: (kantata if i % 2 else salesforce)(i), range(40)))
    assert len(set(ids)) == 40


def test_stop_ends_every_process(tmp_path):
    sb = SandboxServer(tmp_path, scale="demo", seed=5, anchor=ANCHOR, processes=True).start()
    workers = list(sb._workers.values())
    sb.stop()
    assert all(proc.poll() is not None for proc in workers)
    assert not (tmp_path / "endpoints.json").exists()


def test_serve_prints_ids_and_paths_but_no_secret(spread):
    """`pshub sandbox serve` prints each system's credentials; its output is often kept in a log, so secrets are
    masked there (they are in the endpoints file, mode 0600)."""
    from sandbox.cli import _shown

    printed = "\n".join(f"{k}: {_shown(k, v)}" for s in SYSTEMS for k, v in spread.credentials[s].items())
    secrets = [v for s in SYSTEMS for k, v in spread.credentials[s].items()
               if any(w in k for w in ("secret", "token", "password"))]
    assert secrets and not any(v in printed for v in secrets)
    assert spread.credentials["salesforce"]["client_id"] in printed  # ids stay visible: they say which app is used
    assert spread.credentials["salesforce"]["jwt_private_key_path"] in printed
    assert oct((spread.data_dir / "endpoints.json").stat().st_mode & 0o777) == "0o600"
