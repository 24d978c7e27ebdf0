"""Contract tests of the simulated Salesforce REST API over loopback HTTP."""
from __future__ import annotations

import re

import httpx
import pytest

from sandbox.server import SandboxServer

Q = "/services/data/v62.0/query"
SF_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000\+0000$")


def test_token_returns_instance_url_of_the_sandbox(sandbox):
    r = httpx.post(sandbox.urls["salesforce"] + "/services/oauth2/token",
                   data={"grant_type": "client_credentials", **sandbox.credentials["salesforce"]})
    body = r.json()
    assert r.status_code == 200
    assert body["instance_url"] == sandbox.urls["salesforce"] and body["token_type"] == "Bearer"
    assert {"access_token", "id", "issued_at", "signature", "scope"} <= set(body)


def test_token_accepts_basic_auth_and_rejects_a_wrong_secret(sandbox):
    c = sandbox.credentials["salesforce"]
    ok = httpx.post(sandbox.urls["salesforce"] + "/services/oauth2/token", data={"grant_type": "client_credentials"},
                    auth=(c["client_id"], c["client_secret"]))
    bad = httpx.post(sandbox.urls["salesforce"] + "/services/oauth2/token",
                     data={"grant_type": "client_credentials", "client_id": c["client_id"], "client_secret": "nope"})
    assert ok.status_code == 200
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_client"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}])
def test_missing_or_wrong_token_gets_invalid_session_id(sandbox, headers):
    r = httpx.get(sandbox.urls["salesforce"] + Q, params={"q": "SELECT Id FROM Account"}, headers=headers)
    assert r.status_code == 401
    assert r.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_expired_token_gets_401_and_a_new_token_works(sandbox_dir, sandbox, anchor):
    import time
    with SandboxServer(sandbox_dir, token_ttl_seconds=1, anchor=anchor) as sb:
        def token():
            return httpx.post(sb.urls["salesforce"] + "/services/oauth2/token",
                              data={"grant_type": "client_credentials", **sb.credentials["salesforce"]}).json()["access_token"]
        tok = token()
        get = lambda t: httpx.get(sb.urls["salesforce"] + Q, params={"q": "SELECT Id FROM User"},
                                  headers={"Authorization": f"Bearer {t}"})
        assert get(tok).status_code == 200
        time.sleep(1.2)
        assert get(tok).status_code == 401
        assert get(token()).status_code == 200


def _page_all(sf, path, q, batch=200):
    r = sf.get(path, params={"q": q}, headers={"Sforce-Query-Options": f"batchSize={batch}"})
    assert r.status_code == 200, r.text
    body = r.json()
    pages, records = [body], list(body["records"])
    while not body["done"]:
        body = sf.get(body["nextRecordsUrl"]).json()
        pages.append(body)
        records += body["records"]
    return pages, records


def test_incremental_query_pages_through_next_records_url_to_the_last_page(sf):
    q = ("SELECT Id, AccountId, Name, StageName, IsClosed, IsWon, CloseDate, Amount, CurrencyIsoCode, SystemModstamp "
         "FROM Opportunity WHERE SystemModstamp >= 2020-01-01T00:00:00Z ORDER BY SystemModstamp ASC")
    pages, records = _page_all(sf, Q, q)
    assert len(pages) > 1 and pages[-1]["done"] and "nextRecordsUrl" not in pages[-1]
    assert all(len(p["records"]) == 200 for p in pages[:-1])
    assert len(records) == pages[0]["totalSize"] == len({r["Id"] for r in records})
    stamps = [r["SystemModstamp"] for r in records]
    assert stamps == sorted(stamps) and all(SF_DATETIME.match(s) for s in stamps)
    rec = records[0]
    assert rec["attributes"] == {"type": "Opportunity", "url": f"/services/data/v62.0/sobjects/Opportunity/{rec['Id']}"}
    assert isinstance(rec["IsClosed"], bool) and len(rec["Id"]) == 18


def test_query_all_adds_deleted_rows_that_query_hides(sf):
    q = "SELECT Id, IsDeleted FROM Opportunity"
    _, live = _page_all(sf, Q, q, 2000)
    _, every = _page_all(sf, "/services/data/v62.0/queryAll", q, 2000)
    deleted = [r for r in every if r["IsDeleted"]]
    assert deleted and not any(r["IsDeleted"] for r in live)
    assert len(every) == len(live) + len(deleted)


def test_query_returns_objects_that_have_no_deleted_flag(sf):
    _, users = _page_all(sf, Q, "SELECT Id, Name FROM User", 2000)
    _, all_users = _page_all(sf, "/services/data/v62.0/queryAll", "SELECT Id, Name FROM User", 2000)
    assert users and len(users) == len(all_users)


def test_where_in_and_or_limit_and_count(sf):
    body = sf.get(Q, params={"q": "SELECT Id, StageName FROM Opportunity WHERE StageName IN ('Closed Won', 'Closed Lost') "
                                  "AND (Amount > 100000 OR CurrencyIsoCode = 'GBP') ORDER BY Amount DESC LIMIT 5"}).json()
    assert body["totalSize"] == len(body["records"]) == 5
    assert {r["StageName"] for r in body["records"]} <= {"Closed Won", "Closed Lost"}
    count = sf.get(Q, params={"q": "SELECT COUNT() FROM Account"}).json()
    assert count["totalSize"] > 0 and count["records"] == []


@pytest.mark.parametrize("q,code", [
    ("SELECT Id, Foo__c FROM Account", "INVALID_FIELD"),
    ("SELECT Id FROM Invoice__x", "INVALID_TYPE"),
    ("SELECT Id FROM Account WHERE", "MALFORMED_QUERY"),
    ("SELECT Id FROM Account GROUP BY Name", "MALFORMED_QUERY"),
    ("SELECT Id FROM Account WHERE CreatedDate = THIS_FISCAL_YEAR", "MALFORMED_QUERY"),
    ("SELECT Id FROM Account WHERE IsDeleted = 'yes'", "INVALID_FIELD"),
    ("DELETE FROM Account", "MALFORMED_QUERY"),
])
def test_unsupported_soql_gets_salesforce_error_bodies(sf, q, code):
    r = sf.get(Q, params={"q": q})
    assert r.status_code == 400
    assert r.json()[0]["errorCode"] == code and r.json()[0]["message"]


def test_every_api_response_carries_sforce_limit_info(sf):
    r = sf.get(Q, params={"q": "SELECT Id FROM User"})
    assert re.match(r"^api-usage=\d+/\d+$", r.headers["Sforce-Limit-Info"])


def test_single_upsert_creates_then_updates_by_external_id(sf):
    url = "/services/data/v62.0/sobjects/Account/External_Id__c/HUB-TEST-1"
    created = sf.patch(url, json={"Name": "Upsert Test Ltd", "Legal_Entity__c": "UK", "CurrencyIsoCode": "GBP"})
    assert created.status_code == 201 and created.json()["created"] is True
    updated = sf.patch(url, json={"Open_AR__c": 1234.5, "Credit_Hold__c": True})
    assert updated.status_code == 200 and updated.json()["id"] == created.json()["id"]
    rec = sf.get(f"/services/data/v62.0/sobjects/Account/{created.json()['id']}").json()
    assert rec["Open_AR__c"] == 1234.5 and rec["Credit_Hold__c"] is True and rec["External_Id__c"] == "HUB-TEST-1"


def test_collection_upsert_returns_results_in_request_order_and_isolates_failures(sf):
    recs = [{"attributes": {"type": "Account"}, "External_Id__c": f"HUB-COLL-{i}", "Name": f"Coll {i}"} for i in range(3)]
    recs.insert(1, {"attributes": {"type": "Account"}, "External_Id__c": "HUB-COLL-BAD", "Name": "Bad", "NoSuch__c": 1})
    r = sf.patch("/services/data/v62.0/composite/sobjects/Account/External_Id__c", json={"allOrNone": False, "records": recs})
    res = r.json()
    assert r.status_code == 200 and len(res) == 4
    assert [x["success"] for x in res] == [True, False, True, True]
    assert res[1]["errors"][0]["statusCode"] == "INVALID_FIELD"
    assert all(x["created"] for x in res if x["success"])
    again = sf.patch("/services/data/v62.0/composite/sobjects/Account/External_Id__c",
                     json={"records": [recs[0], recs[2]]}).json()
    assert [x["created"] for x in again] == [False, False] and again[0]["id"] == res[0]["id"]


def test_collection_all_or_none_rolls_back_everything(sf):
    recs = [{"attributes": {"type": "Account"}, "External_Id__c": "HUB-AON-1", "Name": "AON"},
            {"attributes": {"type": "Account"}, "External_Id__c": "HUB-AON-2", "Name": "AON", "CreatedDate": "x"}]
    res = sf.patch("/services/data/v62.0/composite/sobjects/Account/External_Id__c",
                   json={"allOrNone": True, "records": recs}).json()
    assert res[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK" and not res[1]["success"]
    assert sf.get("/services/data/v62.0/sobjects/Account/External_Id__c/HUB-AON-1").status_code == 404


def test_collection_update_by_id_and_the_200_record_limit(sf):
    ids = [r["Id"] for r in sf.get(Q, params={"q": "SELECT Id FROM Opportunity WHERE IsWon = true LIMIT 3"}).json()["records"]]
    recs = [{"attributes": {"type": "Opportunity"}, "id": i, "Sync_Status__c": "Synced", "Burn_Pct__c": 42.0} for i in ids]
    recs.append({"attributes": {"type": "Opportunity"}, "id": "0068d00000zzzzzAAA", "Sync_Status__c": "Synced"})
    res = sf.patch("/services/data/v62.0/composite/sobjects", json={"records": recs}).json()
    assert [x["success"] for x in res] == [True, True, True, False]
    assert sf.get(f"/services/data/v62.0/sobjects/Opportunity/{ids[0]}").json()["Sync_Status__c"] == "Synced"
    too_many = sf.patch("/services/data/v62.0/composite/sobjects", json={"records": recs * 51})
    assert too_many.status_code == 400 and too_many.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_stats_count_write_calls_and_reset(sandbox, sf):
    base = sandbox.urls["salesforce"]
    httpx.post(base + "/__sandbox/stats/reset").raise_for_status()
    sf.get(Q, params={"q": "SELECT Id FROM User"})
    sf.patch("/services/data/v62.0/sobjects/Account/External_Id__c/HUB-STATS", json={"Name": "Stats"})
    stats = httpx.get(base + "/__sandbox/stats").json()
    assert stats["requests"] == 2 and stats["write_calls"] == 1 and stats["records_written"] == 1
    httpx.post(base + "/__sandbox/stats/reset")
    sf.get(Q, params={"q": "SELECT Id FROM User"})
    assert httpx.get(base + "/__sandbox/stats").json()["write_calls"] == 0


def test_daily_request_budget_gives_403_request_limit_exceeded(sf, faults):
    faults("salesforce", daily_request_limit=3)
    codes = [sf.get(Q, params={"q": "SELECT Id FROM User"}).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [403, 403]
    r = sf.get(Q, params={"q": "SELECT Id FROM User"})
    assert r.json() == [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]


def test_error_rate_fault_gives_500_unknown_exception(sf, faults):
    faults("salesforce", error_rate=1.0)
    r = sf.get(Q, params={"q": "SELECT Id FROM User"})
    assert r.status_code == 500 and r.json()[0]["errorCode"] == "UNKNOWN_EXCEPTION"


def test_simple_salesforce_uses_the_sandbox_as_salesforce(tmp_path, tls_cert, anchor):
    """A third-party client (simple-salesforce, over HTTPS as it insists) queries and upserts."""
    import requests
    from simple_salesforce import Salesforce

    cert, key = tls_cert
    with SandboxServer(tmp_path, certfile=cert, keyfile=key, anchor=anchor) as sb:
        base = sb.urls["salesforce"]
        assert base.startswith("https://")
        session = requests.Session()
        session.verify = str(cert)
        session.trust_env = False  # a CA bundle from the environment would override verify
        tok = session.post(base + "/services/oauth2/token",
                           data={"grant_type": "client_credentials", **sb.credentials["salesforce"]}).json()
        client = Salesforce(instance_url=tok["instance_url"], session_id=tok["access_token"], session=session,
                            version="62.0")
        everything = client.query_all("SELECT Id, Name, StageName FROM Opportunity")
        assert everything["totalSize"] == len(everything["records"]) > 0
        status = client.Account.upsert("External_Id__c/SS-1", {"Name": "Simple Co", "Legal_Entity__c": "US"})
        assert status == 201
        found = client.query("SELECT Id, Name FROM Account WHERE External_Id__c = 'SS-1'")
        assert found["records"][0]["Name"] == "Simple Co"
        assert client.Account.upsert("External_Id__c/SS-1", {"Name": "Simple Co 2"}) in (200, 204)
        assert client.query("SELECT Name FROM Account WHERE External_Id__c = 'SS-1'")["records"][0]["Name"] == "Simple Co 2"
