"""Dynamics 365 Finance contracts: the Microsoft identity platform's token endpoint and the OData data entities,
asserted against the sandbox over HTTPS, and the hub's connector that relies on them. Each test names its source;
sandbox/dynamics.py lists what is confirmed and what is the sandbox's choice."""
from __future__ import annotations

import datetime as dt
import uuid

import httpx
import pytest

from connectors import catalog
from connectors.dynamics import BatchFailed, DynamicsClient, odata_literal
from connectors.http import AuthError, RateLimited


def _token_form(vendor, **override) -> dict:
    creds = vendor.credentials_for("dynamics")
    return {"grant_type": "client_credentials", "client_id": creds["client_id"], "client_secret": creds["client_secret"],
            "scope": vendor.urls["dynamics"] + "/.default", **override}


@pytest.fixture(scope="session")
def dyn(vendor, ca):
    client = DynamicsClient(vendor.urls["dynamics"], vendor.credentials_for("dynamics"), verify=ca, max_attempts=8,
                            keys=catalog.DYNAMICS_KEYS, integer_keys=catalog.DYNAMICS_INTEGER_KEYS)
    yield client
    client.close()


@pytest.fixture(scope="session")
def d365_http(dyn, vendor, ca):
    return httpx.Client(base_url=vendor.urls["dynamics"] + "/data",
                        headers={"Authorization": f"Bearer {dyn.token()}"}, verify=ca, timeout=30)


def test_client_credentials_token_is_a_bearer_token_with_a_lifetime_and_no_refresh_token(vendor, ca):
    # Microsoft identity platform, "OAuth 2.0 client credentials flow", successful response: token_type Bearer,
    # expires_in, ext_expires_in, access_token; this flow never issues a refresh token.
    body = httpx.post(vendor.credentials_for("dynamics")["token_url"], data=_token_form(vendor), verify=ca).json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0 and body["access_token"]
    assert "refresh_token" not in body


@pytest.mark.parametrize("override, status, error, code", [
    ({"client_secret": "wrong"}, 401, "invalid_client", 7000215),
    ({"scope": "https://example.operations.dynamics.com/"}, 400, "invalid_scope", 1002012),
    ({"grant_type": "password"}, 400, "unsupported_grant_type", 70003),
])
def test_token_errors_carry_an_error_code_and_an_aadsts_description(vendor, ca, override, status, error, code):
    # Same page, "Error response": {error, error_description "AADSTSnnnn: ...", error_codes, timestamp, trace_id,
    # correlation_id}; a client credentials scope must be the resource's ID URI suffixed with /.default.
    r = httpx.post(vendor.credentials_for("dynamics")["token_url"], data=_token_form(vendor, **override), verify=ca)
    assert r.status_code == status
    body = r.json()
    assert body["error"] == error and body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}:")


def test_the_connector_reports_a_refused_secret_without_the_secret(vendor, ca):
    creds = {**vendor.credentials_for("dynamics"), "client_secret": "not-the-secret-" + uuid.uuid4().hex}
    with DynamicsClient(vendor.urls["dynamics"], creds, verify=ca, max_attempts=2) as client:
        with pytest.raises(AuthError) as err:
            client.token()
    assert "AADSTS7000215" in str(err.value) and creds["client_secret"] not in str(err.value)


def test_data_needs_a_valid_bearer_token(vendor, ca):
    assert httpx.get(vendor.urls["dynamics"] + "/data/LegalEntities", verify=ca).status_code == 401
    r = httpx.get(vendor.urls["dynamics"] + "/data/LegalEntities", verify=ca,
                  headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401


def test_entity_set_names_are_plural_and_case_sensitive(d365_http):
    # finance and operations OData: the CustomerV3 entity is read as CustomersV3, and names are case-sensitive
    # (d365fo.integrations, Get-D365ODataEntityData).
    assert d365_http.get("/CustomersV3", params={"cross-company": "true"}).status_code == 200
    assert d365_http.get("/customersv3", params={"cross-company": "true"}).status_code == 404
    assert d365_http.get("/CustomerV3", params={"cross-company": "true"}).status_code == 404


def test_without_cross_company_a_read_sees_the_default_company_only(d365_http):
    # "Cross-company behavior of data entities": a query is filtered to the caller's company unless cross-company=true;
    # dataAreaId names each record's legal entity.
    tag = "X" + uuid.uuid4().hex[:7].upper()
    for company in ("nbus", "nbuk", "nbde"):
        assert d365_http.post("/CustomersV3", json={"dataAreaId": company, "CustomerAccount": tag,
                                                    "OrganizationName": f"Cross {company}"}).status_code == 201
    flt = {"$filter": f"CustomerAccount eq '{tag}'"}
    own = {r["dataAreaId"] for r in d365_http.get("/CustomersV3", params=flt).json()["value"]}
    every = {r["dataAreaId"] for r in d365_http.get("/CustomersV3", params={**flt, "cross-company": "true"}).json()["value"]}
    assert own == {"nbus"} and every == {"nbus", "nbuk", "nbde"}


# The project journals and the periods, as a client generated from a finance and operations environment's $metadata
# names them (SAP Cloud SDK for JavaScript, OData v4: github.com/ntrtd/d365-agent, src/mcp_hub/d365-client/
# JournalTrans.ts, ExpenseJournalLines.ts, FiscalPeriods.ts, LedgerFiscalPeriods.ts: `_keys` and properties), with the
# Common Data Model agreeing on the entities (operationsCommon ProjectManagementAndAccounting ProjJournalTransEntity
# "Project hour journal lines", ExpenseJournalLineEntity "Project expense journal lines").
DOCUMENTED = {
    "JournalTrans": (("dataAreaId", "JournalId", "LineNumber"),
                     ("ProjectID", "Category", "ResourceId", "ProjectDate", "Hours", "SalesPrice", "CurrencyId",
                      "LineProperty", "Description")),
    "ExpenseJournalLines": (("dataAreaId", "JournalBatchNumber", "LineNumber"),
                            ("ProjId", "ProjectCategory", "ResourceId", "ProjectDate", "DebitAmount", "CurrencyCode",
                             "ProjectLineProperty", "Text")),
    "FiscalPeriods": (("Calendar", "FiscalYear", "StartDate", "EndDate", "PeriodName"), ()),
    "LedgerFiscalPeriods": (("LedgerName", "Calendar", "YearName", "PeriodName"), ("PeriodStatus", "LegalEntityId")),
}


@pytest.mark.parametrize("entity", sorted(DOCUMENTED))
def test_journals_and_periods_are_served_under_their_documented_names_keys_and_fields(d365_http, entity):
    key, fields = DOCUMENTED[entity]
    r = d365_http.get(f"/{entity}", params={"cross-company": "true", "$top": "1", "$select": ",".join(key + fields)})
    assert r.status_code == 200, r.text
    assert catalog.DYNAMICS_KEYS[entity] == key  # the hub keys the landed records (and its upserts) by them
    assert set(key + fields) <= {name for name, _typ in catalog.DYNAMICS[entity].typed_fields()} | {"_key"}


def test_the_names_no_source_gives_are_not_served(d365_http):
    for undocumented in ("ProjectHourJournalLines", "ProjectExpenseJournalLines"):
        assert d365_http.get(f"/{undocumented}", params={"cross-company": "true"}).status_code == 404
    # FiscalPeriods is the calendar every legal entity shares: no company and no status on it
    for field in ("dataAreaId", "PeriodStatus"):
        assert d365_http.get("/FiscalPeriods", params={"$select": field}).status_code == 400
    for field in ("JournalNumber", "Worker", "CategoryId", "TransactionDate"):
        assert d365_http.get("/JournalTrans", params={"$select": field}).status_code == 400


def test_a_ledger_period_is_a_period_of_the_shared_calendar_for_each_legal_entity(d365_http):
    calendar = d365_http.get("/FiscalPeriods").json()["value"]
    ledger = d365_http.get("/LedgerFiscalPeriods").json()["value"]
    names = {(p["Calendar"], p["FiscalYear"], p["PeriodName"]) for p in calendar}
    assert {(p["Calendar"], p["YearName"], p["PeriodName"]) for p in ledger} == names
    assert {p["LegalEntityId"] for p in ledger} == {"nbus", "nbuk", "nbde"}
    one = calendar[0]
    key = ",".join(f"{k}={one[k]}" if k.endswith("Date") else f"{k}='{one[k]}'" for k in DOCUMENTED["FiscalPeriods"][0])
    got = d365_http.get(f"/FiscalPeriods({key})")  # date keys unquoted, as in $filter
    assert got.status_code == 200 and got.json()["PeriodName"] == one["PeriodName"]


def test_server_driven_paging_follows_next_links_to_every_record_once(d365_http):
    # OData v4 server-driven paging: a page holds at most odata.maxpagesize records (Preference-Applied says so) and
    # @odata.nextLink addresses the next page; the last page has no link. finance and operations caps pages at 10,000.
    whole = d365_http.get("/ExchangeRates", params={"cross-company": "true"}).json()
    assert "@odata.nextLink" not in whole and len(whole["value"]) > 100
    first = d365_http.get("/ExchangeRates", params={"cross-company": "true"}, headers={"Prefer": "odata.maxpagesize=40"})
    assert first.headers["Preference-Applied"] == "odata.maxpagesize=40"
    body, seen = first.json(), []
    while True:
        assert len(body["value"]) <= 40
        seen += [(r["FromCurrency"], r["ToCurrency"], r["StartDate"]) for r in body["value"]]
        if "@odata.nextLink" not in body:
            break
        body = d365_http.get(body["@odata.nextLink"], headers={"Prefer": "odata.maxpagesize=40"}).json()
    assert sorted(seen) == sorted((r["FromCurrency"], r["ToCurrency"], r["StartDate"]) for r in whole["value"])
    assert len(set(seen)) == len(seen)


def test_select_filter_on_modified_date_time_and_enum_literals(d365_http):
    # OData $select and $filter; DateTimeOffset literals unquoted; enumerations as
    # Microsoft.Dynamics.DataEntities.<Enum>'<Value>' and returned by name (LedgerFiscalPeriods.PeriodStatus is of enum
    # FiscalPeriodStatus in the generated client named above).
    every = d365_http.get("/LedgerFiscalPeriods").json()["value"]
    stamps = sorted(r["ModifiedDateTime"] for r in every)
    middle = stamps[len(stamps) // 2]
    r = d365_http.get("/LedgerFiscalPeriods", params={
        "$select": "LegalEntityId,PeriodName,ModifiedDateTime",
        "$filter": f"ModifiedDateTime ge {middle} and LegalEntityId eq 'nbuk'"}).json()["value"]
    assert r and all(x["ModifiedDateTime"] >= middle and x["LegalEntityId"] == "nbuk" for x in r)
    assert set(r[0]) == {"@odata.etag", "LegalEntityId", "PeriodName", "ModifiedDateTime"}
    assert len(r) == sum(1 for x in every if x["ModifiedDateTime"] >= middle and x["LegalEntityId"] == "nbuk")
    open_ = d365_http.get("/LedgerFiscalPeriods", params={
        "$filter": "PeriodStatus eq Microsoft.Dynamics.DataEntities.FiscalPeriodStatus'Open'"})
    assert {x["PeriodStatus"] for x in open_.json()["value"]} == {"Open"}


def test_unknown_properties_are_a_400_with_an_odata_error(d365_http):
    r = d365_http.get("/CustomersV3", params={"$filter": "NoSuchField eq 'x'"})
    assert r.status_code == 400 and "NoSuchField" in r.json()["error"]["message"]


def test_dates_come_at_noon_utc_and_an_empty_date_is_1900(d365_http):
    # finance and operations returns Date fields as DateTimeOffset (noon UTC) and an empty date as 1900-01-01
    # (unconfirmed: see sandbox/dynamics.py); staging reads the date part and takes 1900-01-01 for none.
    rates = d365_http.get("/ExchangeRates", params={"cross-company": "true"}).json()["value"]
    assert all(r["StartDate"].endswith("T12:00:00Z") for r in rates)
    assert any(r["EndDate"] == "1900-01-01T12:00:00Z" for r in rates)  # the current rate has no end


def test_429_carries_retry_after_and_the_connector_waits_for_it(d365_http, dyn, faults, ca):
    # "Service protection API limits": 429 Too Many Requests with Retry-After (seconds); a request sent again after
    # it is processed as a new request.
    faults("dynamics", rate_limit_rate=1.0, retry_after_seconds=2)
    r = d365_http.get("/LegalEntities")
    assert r.status_code == 429 and r.headers["Retry-After"] == "2"
    with DynamicsClient(dyn.base_url, dyn._credentials, verify=ca,
                        max_attempts=1) as once:
        once._token = dyn.token()
        once._token_expires_at = float("inf")
        with pytest.raises(RateLimited) as err:
            next(once.pages("LegalEntities"))
    assert err.value.retry_after == 2.0


def test_writes_by_natural_key_create_once_and_update_in_place(d365_http):
    # POST creates (201 with the record), a second POST of the same key is refused, PATCH on the key updates (204).
    account = "T" + uuid.uuid4().hex[:8].upper()
    record = {"dataAreaId": "nbuk", "CustomerAccount": account, "OrganizationName": "Contract Test Ltd",
              "SalesCurrencyCode": "GBP"}
    created = d365_http.post("/CustomersV3", json=record)
    assert created.status_code == 201 and created.json()["CustomerAccount"] == account
    again = d365_http.post("/CustomersV3", json=record)
    assert again.status_code == 400 and "already exists" in again.json()["error"]["innererror"]["message"] + \
        again.json()["error"]["message"]
    key = f"(dataAreaId='nbuk',CustomerAccount='{account}')"
    assert d365_http.patch("/CustomersV3" + key, json={"OrganizationName": "Renamed Ltd"}).status_code == 204
    got = d365_http.get("/CustomersV3" + key, params={"cross-company": "true"}).json()
    assert got["OrganizationName"] == "Renamed Ltd"
    assert d365_http.patch("/CustomersV3(dataAreaId='nbuk',CustomerAccount='NOPE')",
                           json={"OrganizationName": "x"}).status_code == 404


def test_a_batch_change_set_is_all_or_nothing(dyn, d365_http):
    # OData v4 $batch: a change set is atomic; when one change fails, none is applied and the change set answers one
    # error.
    a, b = ("B" + uuid.uuid4().hex[:8].upper() for _ in range(2))
    ok = dyn.batch([("POST", "CustomersV3", None, {"dataAreaId": "nbde", "CustomerAccount": a, "OrganizationName": "A"}),
                    ("PATCH", "CustomersV3", {"dataAreaId": "nbde", "CustomerAccount": a}, {"OrganizationName": "A2"})])
    assert ok == [201, 204]
    with pytest.raises(BatchFailed):
        dyn.batch([("POST", "CustomersV3", None, {"dataAreaId": "nbde", "CustomerAccount": b, "OrganizationName": "B"}),
                   ("POST", "CustomersV3", None, {"dataAreaId": "nbde", "CustomerAccount": a, "OrganizationName": "dup"})])
    assert dyn.get("CustomersV3", {"dataAreaId": "nbde", "CustomerAccount": b}) is None
    assert dyn.get("CustomersV3", {"dataAreaId": "nbde", "CustomerAccount": a})["OrganizationName"] == "A2"


def test_the_connector_converges_under_5xx_429_drops_and_lost_responses(dyn, faults, ca):
    # The bar: 20% 5xx, 10% 429 and lost responses; reads return every record once, upserts by natural key
    # leave each record exactly once with its last values.
    clean = [r["_key"] for p in dyn.changed_pages("ExchangeRates", ("Rate",), since=None) for r in p]
    accounts = ["F" + uuid.uuid4().hex[:8].upper() for _ in range(12)]
    faults("dynamics", error_rate=0.2, rate_limit_rate=0.1, retry_after_seconds=1, drop_rate=0.05,
           lost_response_rate=0.3)
    small = DynamicsClient(dyn.base_url, dyn._credentials, verify=ca,
                           max_attempts=30, page_size=50, keys=catalog.DYNAMICS_KEYS)
    try:
        faulted = [r["_key"] for p in small.changed_pages("ExchangeRates", ("Rate",), since=None) for r in p]
        for n, account in enumerate(accounts):
            key = {"dataAreaId": "nbuk", "CustomerAccount": account}
            for attempt in range(10):  # a failed upsert is tried again by the next sync run; here at once
                try:
                    small.upsert("CustomersV3", key, {"OrganizationName": f"Client {n}", "SalesCurrencyCode": "GBP"})
                    break
                except Exception:
                    if attempt == 9:
                        raise
    finally:
        small.close()
    faults("dynamics", error_rate=0, rate_limit_rate=0, drop_rate=0, lost_response_rate=0)
    assert sorted(faulted) == sorted(clean)
    flt = " or ".join(f"CustomerAccount eq {odata_literal(a)}" for a in accounts)
    found = [r for p in dyn.pages("CustomersV3", filter=flt) for r in p]
    assert sorted(r["CustomerAccount"] for r in found) == sorted(accounts)
    assert {r["CustomerAccount"]: r["OrganizationName"] for r in found} == {a: f"Client {n}" for n, a in
                                                                          enumerate(accounts)}


def test_the_hub_reads_changes_since_its_cursor_oldest_first(dyn):
    since = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    rows = [r for p in dyn.changed_pages("FiscalPeriods", ("PeriodName",), since=since) for r in p]
    stamps = [r["ModifiedDateTime"] for r in rows]
    assert stamps == sorted(stamps) and all(s >= "2026-01-01T00:00:00Z" for s in stamps)
    assert all(r["_key"] == "|".join(str(r[k]) for k in catalog.DYNAMICS_KEYS["FiscalPeriods"]) for r in rows)


@pytest.mark.parametrize("entity, journal, project, date", [
    ("JournalTrans", "JournalId", "ProjectID", "ProjectDate"),
    ("ExpenseJournalLines", "JournalBatchNumber", "ProjId", "ProjectDate"),
])
def test_a_journal_line_in_a_period_that_is_not_open_is_refused(d365_http, entity, journal, project, date):
    # A ledger period is Open, On hold or Permanently closed per legal entity (LedgerFiscalPeriods.PeriodStatus); a
    # period on hold or closed takes no posting (Arctic IT, "How to specify which users can post to a period in Dynamics
    # 365 Finance"; M. Aamer, "Microsoft Dynamics AX 2012 - Financial Periods": on hold "prevent[s] any entry to be
    # posted in that period"). The hub holds such time back itself (macro d365_closed_period, reason closed_period);
    # the ERP refuses it if it is sent anyway.
    calendar = {(p["Calendar"], p["FiscalYear"], p["PeriodName"]): p
                for p in d365_http.get("/FiscalPeriods").json()["value"]}
    ledger = d365_http.get("/LedgerFiscalPeriods", params={"$filter": "LegalEntityId eq 'nbuk'"}).json()["value"]
    closed = next(calendar[p["Calendar"], p["YearName"], p["PeriodName"]] for p in ledger if p["PeriodStatus"] != "Open")
    opened = next(calendar[p["Calendar"], p["YearName"], p["PeriodName"]] for p in ledger if p["PeriodStatus"] == "Open")
    line = {"dataAreaId": "nbuk", journal: "CT-" + uuid.uuid4().hex[:6].upper(), project: "P-CT"}
    refused = d365_http.post(f"/{entity}", json={**line, "LineNumber": 1, date: closed["StartDate"]})
    assert refused.status_code == 400 and "not open" in refused.json()["error"]["message"]
    taken = d365_http.post(f"/{entity}", json={**line, "LineNumber": 2, date: opened["StartDate"]})
    assert taken.status_code == 201


def test_a_project_carries_its_creation_day_as_date_of_creation(d365_http, vendor):
    # The Projects entity (ProjectEntity; Common Data Model operationsCommon ProjectManagementAndAccounting/
    # ProjectEntity.cdm.json) exposes DateOfCreation, backed by ProjTable.Created (Tables/.../Main/ProjTable.cdm.json:
    # TransDate, "Date of creation"): a date, sent as the other dates are (noon UTC), filled with the day the project
    # is created when the write leaves it out. Staging reads it as the project's creation day (int_erp_projects).
    project = "P-CT" + uuid.uuid4().hex[:6].upper()
    created = d365_http.post("/Projects", json={"dataAreaId": "nbuk", "ProjectID": project, "ProjectName": "Contract"})
    assert created.status_code == 201
    got = d365_http.get(f"/Projects(dataAreaId='nbuk',ProjectID='{project}')", params={
        "cross-company": "true", "$select": "ProjectID,DateOfCreation"}).json()
    today = vendor.clock()["now"][:10]  # the firm's clock
    assert got["DateOfCreation"] == f"{today}T12:00:00Z"
    assert ("DateOfCreation", "date") in list(catalog.DYNAMICS["Projects"].typed_fields())  # the connector selects it
