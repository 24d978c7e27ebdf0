"""Contract tests of the simulated NetSuite and Kantata APIs over loopback HTTP."""
from __future__ import annotations

import concurrent.futures as cf

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

SUITEQL = "/services/rest/query/v1/suiteql"
REC = "/services/rest/record/v1"


# ---- NetSuite ------------------------------------------------------------------------------------------
def test_netsuite_token_needs_a_jwt_signed_by_the_registered_key(sandbox, ns_auth, tmp_path):
    make, request = ns_auth
    ok = request(sandbox, make(sandbox))
    assert ok.status_code == 200 and ok.json()["token_type"] == "bearer" and ok.json()["expires_in"] == "3600"
    other = tmp_path / "other.pem"
    other.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    assert request(sandbox, make(sandbox, key_path=other)).json() == {"error": "invalid_client"}
    assert request(sandbox, make(sandbox, kid="wrong-cert")).status_code == 401
    assert request(sandbox, make(sandbox, lifetime=7200)).json() == {"error": "invalid_grant"}


def test_netsuite_401_body(sandbox):
    r = httpx.post(sandbox.urls["netsuite"] + SUITEQL, json={"q": "SELECT id FROM customer"})
    assert r.status_code == 401 and r.json()["o:errorDetails"][0]["o:errorCode"] == "INVALID_LOGIN"


def test_suiteql_pages_to_the_last_page_with_links(ns):
    q = {"q": "SELECT id, entityid, companyname, externalid, subsidiary, currency, terms, lastmodifieddate FROM customer ORDER BY id"}
    first = ns.post(SUITEQL, params={"limit": 7}, json=q).json()
    total, seen, body = first["totalResults"], [], first
    while True:
        seen += [i["id"] for i in body["items"]]
        if not body["hasMore"]:
            break
        nxt = next(l["href"] for l in body["links"] if l["rel"] == "next")
        body = ns.post(nxt, json=q).json()
    assert len(seen) == total == len(set(seen)) and total > 7
    assert {l["rel"] for l in first["links"]} == {"first", "next", "last", "self"}
    item = first["items"][0]
    assert item["links"] == [] and isinstance(item["id"], str)
    assert "/" in item["lastmodifieddate"]  # account date format unless TO_CHAR


def test_suiteql_joins_and_date_functions(ns):
    r = ns.post(SUITEQL, params={"limit": 5}, json={"q": (
        "SELECT t.id, t.tranid, TO_CHAR(t.lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS modified, c.companyname "
        "FROM transaction t JOIN customer c ON c.id = t.entity WHERE t.type = 'CustInvc' AND "
        "t.lastmodifieddate >= TO_TIMESTAMP('2020-01-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS') "
        "AND t.trandate >= TO_DATE('2020-01-01', 'YYYY-MM-DD') ORDER BY t.lastmodifieddate")})
    items = r.json()["items"]
    assert r.status_code == 200 and len(items) == 5
    assert len(items[0]["modified"]) == 19 and items[0]["tranid"].startswith("INV")


@pytest.mark.parametrize("q", ["SELECT nope FROM customer", "SELECT id FROM nosuchtable", "DELETE FROM customer",
                               "SELECT id FROM customer WHERE", "SELECT SYSDATE() FROM customer", ""])
def test_bad_suiteql_gets_400_with_error_details_never_500(ns, q):
    r = ns.post(SUITEQL, json={"q": q})
    assert r.status_code == 400
    assert r.json()["status"] == 400 and r.json()["o:errorDetails"][0]["detail"]


def test_suiteql_limit_above_1000_is_rejected(ns):
    r = ns.post(SUITEQL, params={"limit": 1001}, json={"q": "SELECT id FROM customer"})
    assert r.status_code == 400 and r.json()["o:errorDetails"][0]["o:errorCode"] == "INVALID_PARAMETER"


def test_put_by_external_id_creates_then_updates_the_same_record(ns):
    body = {"companyName": "Eid Test GmbH", "subsidiary": {"id": "3"}, "currency": {"id": "4"}, "terms": {"id": "5"}}
    a = ns.put(REC + "/customer/eid:0018dEIDTEST", json=body)
    b = ns.put(REC + "/customer/eid:0018dEIDTEST", json={**body, "email": "ap@eid.example"})
    assert a.status_code == b.status_code == 204
    assert a.headers["Location"] == b.headers["Location"]
    rec = ns.get(a.headers["Location"]).json()
    assert rec["externalId"] == "0018dEIDTEST" and rec["email"] == "ap@eid.example"
    assert rec["subsidiary"]["id"] == "3"
    hits = ns.post(SUITEQL, json={"q": "SELECT id FROM customer WHERE externalid = '0018dEIDTEST'"}).json()
    assert hits["count"] == 1


def test_post_patch_delete_and_deletedrecord(ns):
    cust = ns.post(SUITEQL, params={"limit": 1}, json={"q": "SELECT id FROM customer ORDER BY id"}).json()["items"][0]["id"]
    r = ns.post(REC + "/job", json={"companyName": "Hub project", "parent": {"id": cust}, "externalId": "006TESTJOB"})
    assert r.status_code == 204
    loc = r.headers["Location"]
    assert ns.patch(loc, json={"projectedValue": 50000}).status_code == 204
    assert ns.get(loc).json()["projectedValue"] == 50000
    dup = ns.post(REC + "/job", json={"companyName": "again", "parent": {"id": cust}, "externalId": "006TESTJOB"})
    assert dup.status_code == 400
    rid = loc.rsplit("/", 1)[1]
    assert ns.delete(loc).status_code == 204
    assert ns.get(loc).status_code == 404
    gone = ns.post(SUITEQL, json={"q": f"SELECT recordid, type FROM deletedrecord WHERE recordid = '{rid}'"}).json()
    assert gone["items"][0]["type"] == "job"


def test_bad_reference_and_closed_period_are_rejected(ns):
    bad = ns.post(REC + "/customer", json={"companyName": "X", "subsidiary": {"id": "99"}})
    assert bad.status_code == 400 and bad.json()["o:errorDetails"][0]["o:errorCode"] == "INVALID_KEY_OR_REF"
    closed = ns.post(SUITEQL, json={"q": "SELECT startdate FROM accountingperiod WHERE closed = 'T' ORDER BY id"}).json()
    emp = ns.post(SUITEQL, params={"limit": 1}, json={"q": "SELECT id FROM employee"}).json()["items"][0]["id"]
    day = closed["items"][-1]["startdate"]
    m, d, y = day.split("/")
    r = ns.put(REC + "/timebill/eid:TE-CLOSED", json={"employee": {"id": emp}, "hours": 2,
                                                      "tranDate": f"{y}-{int(m):02d}-{int(d):02d}"})
    assert r.status_code == 400 and "closed" in r.json()["o:errorDetails"][0]["detail"]


def test_concurrency_limit_gives_429_beyond_n_requests_at_once(sandbox, ns, faults):
    faults("netsuite", concurrency_limit=2, latency_ms=300)
    with cf.ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(lambda _: ns.post(SUITEQL, params={"limit": 1}, json={"q": "SELECT id FROM term"}).status_code,
                              range(6)))
    assert codes.count(200) >= 2 and codes.count(429) >= 1
    r429 = None
    faults("netsuite", concurrency_limit=0)
    r429 = ns.post(SUITEQL, json={"q": "SELECT id FROM term"})
    assert r429.status_code == 429 and "Retry-After" not in r429.headers
    assert r429.json()["o:errorDetails"][0]["o:errorCode"] == "CONCURRENCY_LIMIT_EXCEEDED"


def test_dropped_connections_fault(ns, faults):
    faults("netsuite", drop_rate=1.0)
    with pytest.raises(httpx.TransportError):
        ns.post(SUITEQL, json={"q": "SELECT id FROM term"})


# ---- Kantata ------------------------------------------------------------------------------------------
def test_kantata_has_no_client_credentials_grant_and_401s_without_a_token(sandbox):
    c = sandbox.credentials["kantata"]
    cc = httpx.post(sandbox.urls["kantata"] + "/oauth/token", data={"grant_type": "client_credentials",
                                                                    "client_id": c["client_id"],
                                                                    "client_secret": c["client_secret"]})
    assert cc.status_code == 400 and cc.json()["error"] == "unsupported_grant_type"
    r = httpx.get(sandbox.urls["kantata"] + "/api/v1/workspaces.json")
    assert r.status_code == 401 and r.json()["errors"][0]["type"] == "oauth"


def test_time_entries_page_to_the_last_page_with_the_envelope(kt):
    params = {"per_page": 200, "from_archived_workspaces": "true"}
    first = kt.get("/api/v1/time_entries.json", params=params).json()
    meta = first["meta"]
    assert meta["page_size"] == 200 and meta["page_count"] == -(-first["count"] // 200) > 1
    ids = []
    for page in range(1, meta["page_count"] + 1):
        body = kt.get("/api/v1/time_entries.json", params={**params, "page": page}).json()
        assert [r["key"] for r in body["results"]] == ["time_entries"] * len(body["results"])
        ids += [r["id"] for r in body["results"]]
        assert set(body["time_entries"]) == {r["id"] for r in body["results"]}
    assert len(ids) == len(set(ids)) == first["count"]
    assert [int(i) for i in ids] == sorted(int(i) for i in ids)
    # a page asked for out of order (no keyset to continue from) gives the same rows
    again = kt.get("/api/v1/time_entries.json", params={**params, "page": 3}).json()
    assert [r["id"] for r in again["results"]] == ids[400:600]


@pytest.mark.parametrize("resource", ["time_entries", "workspaces", "stories", "workspace_resources", "users",
                                      "expenses", "workspace_allocations"])
def test_pages_rendered_by_sqlite_equal_the_python_rendering(kt, resource):
    """A page without include= is rendered to JSON by SQLite; with include= (any name) by Python: same records."""
    params = {"per_page": 200, "from_archived_workspaces": "true", "archived": "include", "include_archived": "true"}
    fast = kt.get(f"/api/v1/{resource}.json", params=params).json()
    slow = kt.get(f"/api/v1/{resource}.json", params={**params, "include": "no_such_include"}).json()
    assert fast["count"] == slow["count"] > 0 and fast["meta"] == slow["meta"]
    assert fast["results"] == slow["results"]
    assert fast[resource] == slow[resource]


def test_a_query_is_counted_once_its_next_pages_carry_that_count(sandbox, kt):
    """Sequential pages continue the query (keyset) with the count of its first page: no page counts the whole
    filtered set again, so a page's cost does not grow with the set. A first page counts afresh."""
    params = {"per_page": 50, "order": "id:asc"}
    first = kt.get("/api/v1/stories.json", params=params).json()
    workspace = next(iter(first["stories"].values()))["workspace_id"]
    created = kt.post("/api/v1/stories.json", json={"story": {"workspace_id": workspace, "title": "counted later"}})
    assert created.status_code == 200
    try:
        second = kt.get("/api/v1/stories.json", params={**params, "page": 2}).json()
        assert second["count"] == first["count"] and second["meta"]["page_number"] == 2
        assert kt.get("/api/v1/stories.json", params=params).json()["count"] == first["count"] + 1
    finally:
        kt.delete(f"/api/v1/stories/{next(iter(created.json()['stories']))}.json")


def test_an_updated_at_window_pages_every_record_once_in_key_order(sandbox, kt):
    """A window (updated_after, updated_before) read in updated_at order page by page: each page continues from
    the previous page's last key, and the pages hold exactly the window's records, in (updated_at, id) order."""
    stamps = [r[0] for r in sandbox.store.conn().execute(
        "SELECT updated_at FROM kt_time_entries ORDER BY updated_at, id")]
    after, before = stamps[len(stamps) // 4], stamps[3 * len(stamps) // 4]
    expected = [str(r[0]) for r in sandbox.store.conn().execute(
        "SELECT id FROM kt_time_entries WHERE updated_at > ? AND updated_at < ? ORDER BY updated_at, id",
        (after, before))]
    params = {"per_page": 37, "from_archived_workspaces": "true", "order": "updated_at:asc",
              "updated_after": after, "updated_before": before}
    ids, page = [], 1
    while True:
        body = kt.get("/api/v1/time_entries.json", params={**params, "page": page}).json()
        ids += [r["id"] for r in body["results"]]
        assert body["count"] == len(expected)
        if page >= body["meta"]["page_count"]:
            break
        page += 1
    assert page > 2 and ids == expected


def test_archived_workspaces_time_is_hidden_by_default(kt):
    default = kt.get("/api/v1/time_entries.json", params={"per_page": 1}).json()["count"]
    everything = kt.get("/api/v1/time_entries.json", params={"per_page": 1, "from_archived_workspaces": "true"}).json()["count"]
    assert everything > default


def test_filters_include_and_per_page_cap(kt):
    body = kt.get("/api/v1/time_entries.json", params={"per_page": 500, "include": "user,workspace",
                                                       "updated_after": "2020-01-01T00:00:00Z", "approved": "true"}).json()
    assert body["meta"]["page_size"] == 200
    entry = next(iter(body["time_entries"].values()))
    assert entry["approved"] is True and entry["user_id"] in body["users"] and entry["workspace_id"] in body["workspaces"]
    ws = next(iter(body["workspaces"].values()))
    assert set(ws["status"]) == {"color", "key", "message"}



def test_time_entries_filter_by_date_performed_between(kt):
    # developer.kantata.com/tag/Time-Entries: date_performed_between, two YYYY-MM-DD dates separated by a colon
    # (what each cycle lists to find recent deletions)
    body = kt.get("/api/v1/time_entries.json", params={"per_page": 200, "date_performed_between": "2020-01-01:2100-01-01",
                                                       "from_archived_workspaces": "true"}).json()
    day = next(iter(body["time_entries"].values()))["date_performed"]
    only = kt.get("/api/v1/time_entries.json", params={"per_page": 200, "date_performed_between": f"{day}:{day}",
                                                       "from_archived_workspaces": "true"}).json()
    assert 0 < only["count"] < body["count"]
    assert {e["date_performed"] for e in only["time_entries"].values()} == {day}

def test_workspace_story_and_custom_field_writes(kt):
    r = kt.post("/api/v1/workspaces.json", json={"workspace": {"title": "Hub shell", "currency": "USD",
                                                                "price_in_cents": 1_000_000, "budgeted": True}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "creator_role"
    r = kt.post("/api/v1/workspaces.json", json={"workspace": {"title": "Hub shell", "creator_role": "maven",
                                                                "currency": "USD", "price_in_cents": 1_000_000}})
    ws_id = r.json()["results"][0]["id"]
    stories = kt.post("/api/v1/stories.json", json={"stories": [
        {"workspace_id": ws_id, "title": f"Milestone {i}", "story_type": "milestone", "budget_estimate_in_cents": 100}
        for i in range(3)]}).json()
    assert [s["title"] for s in (stories["stories"][r["id"]] for r in stories["results"])] == ["Milestone 0", "Milestone 1", "Milestone 2"]
    upd = kt.put(f"/api/v1/workspaces/{ws_id}.json", json={"workspace": {"status": "In Progress"}}).json()
    assert upd["workspaces"][ws_id]["status"]["message"] == "In Progress"
    v1 = kt.post("/api/v1/custom_field_values.json", json={"custom_field_value": {
        "custom_field_id": 1, "subject_type": "Workspace", "subject_id": ws_id, "value": "006ABC"}}).json()
    v2 = kt.post("/api/v1/custom_field_values.json", json={"custom_field_value": {
        "custom_field_id": 1, "subject_type": "Workspace", "subject_id": ws_id, "value": "006DEF"}}).json()
    assert v1["results"][0]["id"] == v2["results"][0]["id"]
    assert kt.post("/api/v1/stories.json", json={"stories": [{"workspace_id": ws_id, "title": "x"}] * 101}).status_code == 422


def test_kantata_429_has_retry_after_and_500_has_errors(kt, faults):
    faults("kantata", rate_limit_rate=1.0, retry_after_seconds=7)
    r = kt.get("/api/v1/users.json")
    assert r.status_code == 429 and r.headers["Retry-After"] == "7" and r.json()["errors"]
    faults("kantata", rate_limit_rate=0.0, error_rate=1.0)
    r = kt.get("/api/v1/users.json")
    assert r.status_code == 500 and r.json()["errors"][0]["type"] == "system"


def test_latency_fault_delays_requests(sandbox, kt, faults):
    import time
    faults("kantata", latency_ms=250)
    t0 = time.perf_counter()
    kt.get("/api/v1/roles.json")
    assert time.perf_counter() - t0 >= 0.25
    faults("kantata", latency_ms=0)
    httpx.put(sandbox.urls["kantata"] + "/__sandbox/latency", json={"latency_ms": 200}).raise_for_status()
    t0 = time.perf_counter()
    kt.get("/api/v1/roles.json")
    assert time.perf_counter() - t0 >= 0.2


def test_lost_response_fault_commits_the_write_then_drops_the_answer(kt, ns, faults):
    """`lost_response_rate`: the write is done, the client sees a reset (the classic cause of double posting)."""
    faults("kantata", lost_response_rate=1.0)
    with pytest.raises(httpx.TransportError):
        kt.post("/api/v1/workspaces.json", json={"workspace": {"title": "Lost answer shell", "creator_role": "maven"}})
    faults("kantata", lost_response_rate=0.0)
    made = kt.get("/api/v1/workspaces.json", params={"include_archived": "true", "per_page": 200,
                                                     "order": "created_at:desc"}).json()
    assert [w["title"] for w in made["workspaces"].values()].count("Lost answer shell") == 1
    assert kt.get("/__sandbox/stats").json()["lost_responses"] >= 1
    faults("netsuite", lost_response_rate=1.0)  # reads are never dropped by this fault
    assert ns.post(SUITEQL, json={"q": "SELECT id FROM term"}).status_code == 200
