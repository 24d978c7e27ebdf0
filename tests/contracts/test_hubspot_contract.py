"""HubSpot CRM contracts: v3 objects and search, pipelines, owners, v4 associations, batch upsert, private-app auth and
the rate limits, asserted against the sandbox over HTTPS, and the hub's connector that relies on them. Each test
names its source; sandbox/hubspot.py lists them, and what is confirmed and what is the sandbox's choice."""
from __future__ import annotations

import time
import uuid

import httpx
import pytest

from connectors.http import AuthError, LimitExceeded
from connectors.hubspot import HubSpotClient

STAMP_SORT = [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}]


@pytest.fixture(scope="session")
def hs_http(vendor, ca):
    return httpx.Client(base_url=vendor.urls["hubspot"],
                        headers={"Authorization": f"Bearer {vendor.credentials['hubspot']['access_token']}"},
                        verify=ca, timeout=30)


@pytest.fixture
def hs(vendor, ca):
    client = HubSpotClient(vendor.urls["hubspot"], vendor.credentials["hubspot"], verify=ca, max_attempts=8)
    yield client
    client.close()


def _search(hs_http, obj: str, retry: bool = True, **body) -> httpx.Response:
    """One search; a 429 of the search endpoints' per-second limit is waited out (a second) when `retry`."""
    for _ in range(10):
        r = hs_http.post(f"/crm/v3/objects/{obj}/search", json=body)
        if not (retry and r.status_code == 429):
            return r
        time.sleep(1)
    return r


def test_a_private_app_token_is_sent_as_a_bearer_token_and_a_wrong_one_is_refused(vendor, ca, hs_http):
    # "Private apps": Authorization: Bearer <token>; a request without a valid token answers 401 with
    # category INVALID_AUTHENTICATION.
    assert hs_http.get("/crm/v3/owners").status_code == 200
    r = httpx.get(vendor.urls["hubspot"] + "/crm/v3/owners", headers={"Authorization": "Bearer pat-na1-wrong"},
                  verify=ca)
    assert r.status_code == 401 and r.json()["category"] == "INVALID_AUTHENTICATION"
    with HubSpotClient(vendor.urls["hubspot"], {"access_token": "pat-na1-wrong"}, verify=ca) as bad:
        with pytest.raises(AuthError) as err:
            next(bad.owners())
    assert "pat-na1-wrong" not in str(err.value)


def test_search_pages_hold_at_most_200_records_and_page_with_after(hs_http):
    # "Search the CRM": up to 200 records a page; the answer has total, results and paging.next.after.
    assert _search(hs_http, "deals", limit=201).status_code == 400
    first = _search(hs_http, "deals", limit=50, sorts=STAMP_SORT).json()
    assert len(first["results"]) == 50 and first["total"] > 50
    second = _search(hs_http, "deals", limit=50, sorts=STAMP_SORT, after=first["paging"]["next"]["after"]).json()
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}
    stamps = [r["properties"]["hs_lastmodifieddate"] for r in first["results"] + second["results"]]
    assert stamps == sorted(stamps)  # sorted by hs_lastmodifieddate ascending, as asked


def test_a_search_cannot_page_past_10000_results(hs_http):
    # Search limits: a query pages through 10,000 results at most; a request past that is refused (400).
    r = _search(hs_http, "deals", limit=10, after="10000")
    assert r.status_code == 400 and r.json()["category"] == "VALIDATION_ERROR"


def test_search_filters_on_hs_lastmodifieddate_in_epoch_milliseconds(hs_http):
    # Filters: {propertyName, operator GTE/LT/EQ..., value}; datetime values as epoch milliseconds; filters of a
    # group are ANDed, groups ORed.
    everything = _search(hs_http, "companies", limit=200, sorts=STAMP_SORT,
                         properties=["hs_lastmodifieddate"]).json()["results"]
    middle = everything[len(everything) // 2]["properties"]["hs_lastmodifieddate"]
    from connectors.hubspot import epoch_ms, parse_datetime
    since = _search(hs_http, "companies", limit=200, properties=["hs_lastmodifieddate"], filterGroups=[
        {"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GTE",
                      "value": epoch_ms(parse_datetime(middle))}]}]).json()
    assert since["total"] == sum(1 for r in everything if r["properties"]["hs_lastmodifieddate"] >= middle)
    assert _search(hs_http, "companies", filterGroups=[{"filters": [{"propertyName": "name", "operator": "EQ",
                                                                    "value": "x"}]}] * 6).status_code == 400


def test_search_allows_one_sort_only(hs_http):
    assert _search(hs_http, "deals", sorts=STAMP_SORT * 2).status_code == 400


def test_archived_records_are_listed_with_archived_true_and_never_found_by_search(hs_http):
    # "Archive": moved to the recycling bin; GET /crm/v3/objects/{object}?archived=true lists them; search does not.
    archived = hs_http.get("/crm/v3/objects/deals", params={"archived": "true", "limit": 100}).json()["results"]
    assert archived and all(r["archived"] and r["archivedAt"] for r in archived)
    ids = [r["id"] for r in archived]
    found = _search(hs_http, "deals", filterGroups=[{"filters": [
        {"propertyName": "hs_object_id", "operator": "IN", "values": ids}]}]).json()
    assert found["total"] == 0


def test_closed_won_is_a_stage_whose_metadata_says_closed_with_probability_one(hs_http):
    # "CRM API | Pipelines": each stage has metadata isClosed and probability (strings); a deal's dealstage is a
    # stage id: a won deal is in a closed stage of probability 1.0, whatever its label.
    pipelines = hs_http.get("/crm/v3/pipelines/deals").json()["results"]
    stages = {s["id"]: s for p in pipelines for s in p["stages"]}
    won = {sid for sid, s in stages.items() if s["metadata"]["isClosed"] == "true"
           and float(s["metadata"]["probability"]) == 1.0}
    assert won == {"closedwon"}
    deals = _search(hs_http, "deals", limit=200, properties=["dealstage", "pipeline"]).json()["results"]
    assert {d["properties"]["dealstage"] for d in deals} <= set(stages)
    assert {d["properties"]["pipeline"] for d in deals} == {p["id"] for p in pipelines}


def test_v4_associations_batch_read_names_the_deal_of_each_line_item(hs_http):
    # Associations v4 batch read: {results: [{from: {id}, to: [{toObjectId, associationTypes: [{category, typeId,
    # label}]}]}]}; at most 100 inputs.
    items = _search(hs_http, "line_items", limit=5).json()["results"]
    body = hs_http.post("/crm/v4/associations/line_items/deals/batch/read",
                        json={"inputs": [{"id": i["id"]} for i in items]}).json()
    assert [r["from"]["id"] for r in body["results"]] == [i["id"] for i in items]
    assert all(len(r["to"]) == 1 and r["to"][0]["associationTypes"][0]["category"] == "HUBSPOT_DEFINED"
               for r in body["results"])
    too_many = hs_http.post("/crm/v4/associations/line_items/deals/batch/read",
                            json={"inputs": [{"id": "1"}] * 101})
    assert too_many.status_code == 400


def test_owners_list_active_owners_and_archived_ones_apart(hs_http):
    active = hs_http.get("/crm/v3/owners", params={"limit": 500}).json()["results"]
    archived = hs_http.get("/crm/v3/owners", params={"limit": 500, "archived": "true"}).json()["results"]
    assert active and not {o["id"] for o in active} & {o["id"] for o in archived}
    assert all({"id", "email", "firstName", "lastName", "userId"} <= set(o) for o in active)


@pytest.fixture
def test_key(vendor):
    """A deal key of this test's own; its deal is removed from the firm afterwards (other contracts count deals)."""
    key = f"PSHUB-TEST-{uuid.uuid4().hex[:8]}"
    yield key
    with vendor.store.write_lock:
        vendor.store.conn().execute("DELETE FROM sf_Opportunity WHERE External_Id__c = ?", (key,))


def test_batch_upsert_creates_then_updates_by_a_unique_property_and_takes_at_most_100_inputs(hs_http, hs, test_key):
    # Batch upsert: {inputs: [{idProperty, id, properties}]}, idProperty a property with unique values: a value not
    # found creates the record (new: true), found updates it (new: false).
    key = test_key
    created = hs.batch_upsert("deals", "external_id", [(key, {"dealname": "Contract test", "dealstage": "closedwon",
                                                             "amount": 1000})])
    assert created[0]["new"] is True
    updated = hs.batch_upsert("deals", "external_id", [(key, {"sync_status": "Synced", "erp_project_id": "4242"})])
    assert updated[0]["new"] is False and updated[0]["id"] == created[0]["id"]
    again = hs_http.get(f"/crm/v3/objects/deals/{created[0]['id']}",
                        params={"properties": "sync_status,erp_project_id,dealstage"})
    assert again.json()["properties"] == {"sync_status": "Synced", "erp_project_id": "4242", "dealstage": "closedwon"}
    r = hs_http.post("/crm/v3/objects/deals/batch/upsert", json={"inputs": [
        {"idProperty": "external_id", "id": key, "properties": {}}] * 101})
    assert r.status_code == 400
    r = hs_http.post("/crm/v3/objects/deals/batch/upsert", json={"inputs": [
        {"idProperty": "dealname", "id": "x", "properties": {}}]})
    assert r.status_code == 400  # not a property with unique values


def test_every_answer_carries_the_rate_limit_headers(hs_http):
    # "API usage guidelines and limits": X-HubSpot-RateLimit-Daily, -Daily-Remaining, -Interval-Milliseconds, -Max,
    # -Remaining on the answers of a private app's calls.
    headers = hs_http.get("/crm/v3/owners").headers
    assert headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    for h in ("Daily", "Daily-Remaining", "Max", "Remaining"):
        assert int(headers[f"X-HubSpot-RateLimit-{h}"]) >= 0


def test_beyond_the_search_per_second_limit_a_429_names_its_policy(hs_http, faults):
    # 429 body {status: error, message, errorType: RATE_LIMIT, correlationId, policyName} (HubSpot/hubspot-api-python
    # #117); the search endpoints have their own per-second limit.
    faults("hubspot", search_requests_per_second=1)
    answers = [_search(hs_http, "deals", retry=False, limit=1) for _ in range(4)]
    limited = [a for a in answers if a.status_code == 429]
    assert limited
    body = limited[0].json()
    assert body["errorType"] == "RATE_LIMIT" and body["policyName"] == "SECONDLY" and body["correlationId"]


def test_the_connector_waits_out_429s_and_stops_at_the_daily_limit(vendor, ca, faults):
    faults("hubspot", rate_limit_rate=0.5, seed=3)
    with HubSpotClient(vendor.urls["hubspot"], vendor.credentials["hubspot"], verify=ca, max_attempts=12) as client:
        owners = [o for page in client.owners() for o in page]
        assert owners and client.rate_limited > 0
    faults("hubspot", rate_limit_rate=0.0, daily_request_limit=1)
    with HubSpotClient(vendor.urls["hubspot"], vendor.credentials["hubspot"], verify=ca) as client:
        with pytest.raises(LimitExceeded):
            list(client.owners())  # the second call is past the day's limit


def _invoice_schema(hs_http) -> dict:
    return next(s for s in hs_http.get("/crm/v3/schemas").json()["results"] if s["name"] == "erp_invoices")


def test_the_erp_invoices_custom_object_is_described_by_its_schema_with_a_unique_property_and_companies(hs_http):
    # "Schemas API" (developers.hubspot.com, crm custom objects): GET /crm/v3/schemas lists each custom object with
    # objectTypeId "2-<id>", fullyQualifiedName "p<portal>_<name>", properties (hasUniqueValue) and associations
    # [{id, fromObjectTypeId, toObjectTypeId}] to the objects it was created associated with (companies: 0-2).
    schema = _invoice_schema(hs_http)
    assert schema["objectTypeId"].startswith("2-") and schema["fullyQualifiedName"].endswith("_erp_invoices")
    unique = {p["name"] for p in schema["properties"] if p["hasUniqueValue"]}
    assert unique == {"erp_invoice_id"}
    assert {(a["fromObjectTypeId"], a["toObjectTypeId"]) for a in schema["associations"]} == {
        (schema["objectTypeId"], "0-2"), ("0-2", schema["objectTypeId"])}
    assert hs_http.get(f"/crm/v3/schemas/{schema['objectTypeId']}").json()["name"] == "erp_invoices"


def test_custom_object_records_are_upserted_by_their_unique_property_and_addressed_by_type_id_not_base_name(hs_http):
    # "Create or update a batch of objects by unique property values" (custom objects, batch/upsert): inputs
    # [{idProperty, id, properties}], at most 100; HubSpot changelog 2025-06 "Breaking change: removed support for
    # referencing custom object types by base name": the objectTypeId or fullyQualifiedName address the object.
    schema = _invoice_schema(hs_http)
    key = f"TEST-INV-{uuid.uuid4().hex[:8]}"
    url = f"/crm/v3/objects/{schema['objectTypeId']}/batch/upsert"
    first = hs_http.post(url, json={"inputs": [{"idProperty": "erp_invoice_id", "id": key,
                                                "properties": {"invoice_number": "INV-1", "amount": "100"}}]})
    assert first.status_code == 200 and first.json()["results"][0]["new"] is True
    again = hs_http.post(f"/crm/v3/objects/{schema['fullyQualifiedName']}/batch/upsert", json={"inputs": [
        {"idProperty": "erp_invoice_id", "id": key, "properties": {"amount": "80"}}]}).json()["results"][0]
    assert again["new"] is False and again["id"] == first.json()["results"][0]["id"]
    listed = hs_http.get(f"/crm/v3/objects/{schema['objectTypeId']}",
                         params={"properties": "erp_invoice_id,invoice_number,amount", "limit": 100}).json()
    mine = [r for r in listed["results"] if r["properties"]["erp_invoice_id"] == key]
    assert [(r["properties"]["invoice_number"], r["properties"]["amount"]) for r in mine] == [("INV-1", "80")]
    assert hs_http.post("/crm/v3/objects/erp_invoices/batch/upsert", json={"inputs": [
        {"idProperty": "erp_invoice_id", "id": key, "properties": {}}]}).status_code == 400  # its base name
    assert hs_http.post(url, json={"inputs": [{"idProperty": "invoice_number", "id": "x", "properties": {}}]}
                        ).status_code == 400  # not a property with unique values
    assert hs_http.post(url, json={"inputs": [{"idProperty": "erp_invoice_id", "id": f"{key}-{n}", "properties": {}}
                                              for n in range(101)]}).status_code == 400


def test_v4_batch_create_associates_a_record_with_a_company_once_by_the_schemas_association_type(hs_http, hs):
    # Associations v4 "Associate records (labelled)": POST /crm/v4/associations/{from}/{to}/batch/create {inputs:
    # [{from: {id}, to: {id}, types: [{associationCategory, associationTypeId}]}]} -> results [{fromObjectTypeId,
    # fromObjectId, toObjectTypeId, toObjectId, labels}]; a record not found is in errors (multi-status 207).
    schema = _invoice_schema(hs_http)
    type_id = next(int(a["id"]) for a in schema["associations"] if a["toObjectTypeId"] == "0-2")
    company = _search(hs_http, "companies", limit=1).json()["results"][0]["id"]
    key = f"TEST-INV-{uuid.uuid4().hex[:8]}"
    record = hs.batch_upsert(schema["objectTypeId"], "erp_invoice_id", [(key, {"invoice_number": key})])[0]["id"]
    assert hs.associate(schema["objectTypeId"], "companies", [(record, company)], type_id) == set()
    assert hs.associate(schema["objectTypeId"], "companies", [(record, company)], type_id) == set()  # no second link
    held = hs_http.post(f"/crm/v4/associations/companies/{schema['objectTypeId']}/batch/read",
                        json={"inputs": [{"id": company}]}).json()["results"]
    assert [t["toObjectId"] for r in held for t in r["to"]].count(int(record)) == 1
    assert hs.associate(schema["objectTypeId"], "companies", [(record, "999999999")], type_id) == {record}
    wrong = hs_http.post(f"/crm/v4/associations/{schema['objectTypeId']}/companies/batch/create", json={"inputs": [
        {"from": {"id": record}, "to": {"id": company}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                                  "associationTypeId": 5}]}]})
    assert wrong.status_code == 400
