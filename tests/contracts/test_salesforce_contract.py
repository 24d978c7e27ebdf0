"""Salesforce REST API contracts, against the sandbox over HTTPS: the hub's connector and simple-salesforce."""
from __future__ import annotations

import datetime as dt
import json

import pytest
import requests
from simple_salesforce import Salesforce as SimpleSalesforce
from simple_salesforce.exceptions import SalesforceError

from connectors.http import LimitExceeded, RateLimited
from connectors.salesforce import SalesforceClient


@pytest.fixture(scope="module")
def simple_sf(hub_clients, vendor, tls_cert):
    """simple-salesforce, a client nobody here wrote, on a session the hub's token flow opened."""
    session = requests.Session()
    session.verify = str(tls_cert[0])
    session.trust_env = False  # a CA bundle from the environment would replace the sandbox's certificate
    return SimpleSalesforce(instance_url=vendor.urls["salesforce"], session_id=hub_clients["salesforce"].token(),
                            version="62.0", session=session)


# -- query and paging -----------------------------------------------------------------------------------
def test_simple_salesforce_query_and_query_more_page_through_every_record(simple_sf, sf_http):
    # REST API Developer Guide, "Execute a SOQL Query": {totalSize, done, nextRecordsUrl, records}; batches of
    # 2000 by default, Sforce-Query-Options batchSize between 200 and 2000.
    total = sf_http.get("/query", params={"q": "SELECT COUNT() FROM Opportunity"}).json()["totalSize"]
    first = simple_sf.query("SELECT Id, Name, SystemModstamp FROM Opportunity ORDER BY Id")
    assert first["totalSize"] == total and first["records"][0]["attributes"]["type"] == "Opportunity"
    every = simple_sf.query_all("SELECT Id FROM Opportunity ORDER BY Id")["records"]
    assert len(every) == len({r["Id"] for r in every}) == total
    small = sf_http.get("/query", params={"q": "SELECT Id FROM Opportunity ORDER BY Id"},
                        headers={"Sforce-Query-Options": "batchSize=200"}).json()
    if total > 200:
        assert small["done"] is False and len(small["records"]) == 200
        assert small["nextRecordsUrl"].startswith("/services/data/v62.0/query/")
        more = simple_sf.query_more(small["nextRecordsUrl"], identifier_is_url=True)
        assert more["records"][0]["Id"] > small["records"][-1]["Id"]


def test_query_all_returns_deleted_rows_with_isdeleted(simple_sf):
    # REST API Developer Guide, "Execute a SOQL Query that Includes Deleted Items" (queryAll).
    rows = simple_sf.query_all("SELECT Id, IsDeleted FROM Account", include_deleted=True)["records"]
    live = simple_sf.query_all("SELECT Id FROM Account")["records"]
    assert len(rows) >= len(live) and all("IsDeleted" in r for r in rows)


# -- SOQL date literals -------------------------------------------------------------------------------------
def test_soql_relative_date_literals_parse_and_select_their_range(simple_sf, sf_http, vendor):
    # SOQL and SOSL Reference, "Date Formats and Date Literals in WHERE": YESTERDAY, TODAY, LAST_N_DAYS:n,
    # THIS_MONTH ... are ranges from 00:00:00; `=` matches inside the range, `<` before it, `>` after it.
    today = vendor.store.now().date()
    for literal in ("TODAY", "YESTERDAY", "LAST_N_DAYS:30", "THIS_MONTH", "LAST_MONTH", "THIS_QUARTER", "THIS_YEAR",
                    "LAST_90_DAYS", "NEXT_N_DAYS:7", "LAST_WEEK"):
        r = sf_http.get("/query", params={"q": f"SELECT Id FROM Opportunity WHERE CloseDate = {literal}"})
        assert r.status_code == 200, (literal, r.text)
    start = today - dt.timedelta(days=30)
    expected = simple_sf.query_all(f"SELECT Id FROM Opportunity WHERE CloseDate >= {start.isoformat()} "
                                   f"AND CloseDate <= {today.isoformat()}")["totalSize"]
    assert simple_sf.query_all("SELECT Id FROM Opportunity WHERE CloseDate = LAST_N_DAYS:30")["totalSize"] == expected
    modified = simple_sf.query_all("SELECT Id FROM Account WHERE SystemModstamp < TODAY")["totalSize"] + \
        simple_sf.query_all("SELECT Id FROM Account WHERE SystemModstamp = TODAY")["totalSize"] + \
        simple_sf.query_all("SELECT Id FROM Account WHERE SystemModstamp > TODAY")["totalSize"]
    assert modified == simple_sf.query_all("SELECT Id FROM Account")["totalSize"]
    # a literal inside quotes is a string, not a date
    assert sf_http.get("/query", params={"q": "SELECT Id FROM Account WHERE Name = 'TODAY'"}).status_code == 200


# -- writes: single upsert by external id, sObject Collections ---------------------------------------------
def test_simple_salesforce_upsert_by_external_id_creates_then_updates(simple_sf):
    # REST API Developer Guide, "Insert or Update (Upsert) a Record Using an External ID": 201 when created;
    # when updated 200 with {"created": false} from API 46.0 on (204 with no body before).
    assert simple_sf.Account.upsert("External_Id__c/contract-acct-1", {"Name": "Contract Account"}) == 201
    assert simple_sf.Account.upsert("External_Id__c/contract-acct-1", {"Name": "Contract Account 2"}) == 200
    rows = simple_sf.query("SELECT Id, Name FROM Account WHERE External_Id__c = 'contract-acct-1'")["records"]
    assert [r["Name"] for r in rows] == ["Contract Account 2"]


def test_simple_salesforce_collections_update_answers_per_record_in_request_order(simple_sf):
    # REST API Developer Guide, "Update Multiple Records" (sObject Collections): up to 200 records, one result per
    # record in request order; with allOrNone false a bad record fails alone.
    ids = [r["Id"] for r in simple_sf.query("SELECT Id FROM Account ORDER BY Id LIMIT 3")["records"]]
    records = [{"attributes": {"type": "Account"}, "id": i, "Open_AR__c": 10.5} for i in ids]
    records.insert(1, {"attributes": {"type": "Account"}, "id": "001000000000000AAA", "Open_AR__c": 1})
    results = simple_sf.restful("composite/sobjects", method="PATCH",
                                data=json.dumps({"allOrNone": False, "records": records}))
    assert [r["success"] for r in results] == [True, False, True, True]
    assert results[1]["errors"][0]["statusCode"] in ("ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY",
                                                     "NOT_FOUND", "MALFORMED_ID")
    assert [r["id"] for i, r in enumerate(results) if i != 1] == ids


def test_simple_salesforce_collections_upsert_by_external_id(simple_sf):
    # REST API Developer Guide, "Upsert Up to 200 Records" (PATCH /composite/sobjects/{SObject}/{ExternalIdField}).
    records = [{"attributes": {"type": "Account"}, "External_Id__c": f"contract-coll-{i}", "Name": f"Coll {i}"}
               for i in range(3)]
    first = simple_sf.restful("composite/sobjects/Account/External_Id__c", method="PATCH",
                              data=json.dumps({"allOrNone": False, "records": records}))
    again = simple_sf.restful("composite/sobjects/Account/External_Id__c", method="PATCH",
                              data=json.dumps({"allOrNone": False, "records": records}))
    assert [r["created"] for r in first] == [True] * 3 and [r["created"] for r in again] == [False] * 3
    assert [r["id"] for r in first] == [r["id"] for r in again]


# -- limits: 403 REQUEST_LIMIT_EXCEEDED for both limits, no 429 ---------------------------------------------
def test_daily_limit_is_403_request_limit_exceeded_totalrequests(sf_http, hub_clients, faults):
    # REST API Developer Guide, "Status Codes and Error Responses": 403 with REQUEST_LIMIT_EXCEEDED means the
    # org's API request limits are exceeded. The daily allocation's message is "TotalRequests Limit exceeded.".
    faults("salesforce", daily_request_limit=0)
    r = sf_http.get("/query", params={"q": "SELECT Id FROM User"})
    assert r.status_code == 403
    assert r.json() == [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    with pytest.raises(LimitExceeded, match="daily API request limit"):
        next(iter(hub_clients["salesforce"].query_pages("SELECT Id FROM User")))


def test_concurrent_limit_is_403_too_and_the_hub_backs_off(sf_http, hub_clients, faults, simple_sf, vendor, ca):
    # Developer Limits and Allocations Quick Reference, "API Request Limits and Allocations": beyond the
    # concurrent long-running request limit "the API returns a REQUEST_LIMIT_EXCEEDED exception code"; the
    # status is 403 as for every request limit; Salesforce sends no 429. The message names the concurrency limit.
    faults("salesforce", rate_limit_rate=1.0)
    r = sf_http.get("/query", params={"q": "SELECT Id FROM User"})
    assert r.status_code == 403 and r.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    assert "Concurrent" in r.json()[0]["message"] and "TotalRequests" not in r.json()[0]["message"]
    with pytest.raises(SalesforceError):  # a third-party client sees the same 403
        simple_sf.query("SELECT Id FROM User")
    with pytest.raises(RateLimited, match="concurrent"):  # transient: retried with backoff, then given up here
        next(iter(hub_clients["salesforce"].query_pages("SELECT Id FROM User")))
    faults("salesforce", rate_limit_rate=0.3)
    with SalesforceClient(vendor.urls["salesforce"], vendor.credentials["salesforce"], verify=ca) as patient:
        rows = [r for page in patient.query_pages("SELECT Id FROM User") for r in page]
    assert rows  # waited out with the default attempts


def test_error_bodies_are_arrays_of_message_and_errorcode(sf_http):
    # REST API Developer Guide, "Status Codes and Error Responses": [{"message", "errorCode", "fields"?}].
    r = sf_http.get("/query", params={"q": "SELECT Nope FROM Account"})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "INVALID_FIELD"
    r = sf_http.get("/query", params={"q": "SELECT Id FROM Account"}, headers={"Authorization": "Bearer expired"})
    assert r.status_code == 401 and r.json()[0]["errorCode"] == "INVALID_SESSION_ID"


# -- JWT bearer flow ------------------------------------------------------------------------------------------
def test_jwt_bearer_flow_with_the_connected_apps_certificate(vendor, ca):
    # Salesforce Help, "OAuth 2.0 JWT Bearer Flow for Server-to-Server Integration": POST /services/oauth2/token
    # grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer, assertion = JWT (RS256; iss consumer key, sub username,
    # aud https://login.salesforce.com, exp); answer: access_token, instance_url, id, token_type, scope; no refresh
    # token. A user the app is not approved for, or a wrong signature: 400 invalid_grant.
    from pathlib import Path

    import httpx
    import jwt

    from connectors.http import AuthError
    from connectors.salesforce import JWT_BEARER, jwt_assertion

    creds = vendor.credentials["salesforce"]
    key = Path(creds["jwt_private_key_path"]).read_text()
    jwt_creds = {"client_id": creds["client_id"], "username": creds["username"], "private_key": key}
    with SalesforceClient(vendor.urls["salesforce"], jwt_creds, verify=ca) as sf:
        assert next(iter(sf.query_pages("SELECT Id FROM User")))
    assertion = jwt_assertion(creds["client_id"], creds["username"], key)
    assert jwt.get_unverified_header(assertion)["alg"] == "RS256"
    body = httpx.post(vendor.urls["salesforce"] + "/services/oauth2/token", verify=ca,
                      data={"grant_type": JWT_BEARER, "assertion": assertion}).json()
    assert {"access_token", "instance_url", "id", "token_type"} <= set(body) and "refresh_token" not in body
    stranger = jwt_assertion(creds["client_id"], "someone.else@example.com", key)
    refused = httpx.post(vendor.urls["salesforce"] + "/services/oauth2/token", verify=ca,
                         data={"grant_type": JWT_BEARER, "assertion": stranger})
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    with SalesforceClient(vendor.urls["salesforce"], {**jwt_creds, "private_key": other}, verify=ca) as sf:
        with pytest.raises(AuthError, match="invalid assertion"):
            sf.token()


# -- schema drift -----------------------------------------------------------------------------------------
def test_a_field_hidden_from_the_user_leaves_describe_and_a_query_naming_it_is_invalid_field(sf_http, hub_clients,
                                                                                             vendor):
    # describe lists only "the fields that the user can view, as defined by the user's field-level security
    # settings" (salesforcer, sf_describe_object_fields); a query naming one fails "No such column
    # 'example_field__c' on entity 'Opportunity'" (docs.withampersand.com, Salesforce troubleshooting guide).
    # The hub asks for the described fields only, so its read goes on without the field.
    vendor.hide_field("salesforce", "Opportunity", "Probability")
    try:
        described = [f["name"] for f in sf_http.get("/sobjects/Opportunity/describe").json()["fields"]]
        assert "Probability" not in described and "Amount" in described
        refused = sf_http.get("/query", params={"q": "SELECT Id, Probability FROM Opportunity"})
        assert refused.status_code == 400 and refused.json()[0]["errorCode"] == "INVALID_FIELD"
        assert "No such column 'Probability' on entity 'Opportunity'" in refused.json()[0]["message"]
        records = next(iter(hub_clients["salesforce"].changed_pages(
            "Opportunity", tuple(described), since=None, updated_field="SystemModstamp")))
        assert records and not any("Probability" in r for r in records)
    finally:
        vendor.hide_field("salesforce", "Opportunity", "Probability", hidden=False)
    assert "Probability" in [f["name"] for f in sf_http.get("/sobjects/Opportunity/describe").json()["fields"]]
