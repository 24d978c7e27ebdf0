"""The CRM syncs when the CRM is HubSpot: the same outbound rows (Salesforce field names, keyed by the CRM role's ids,
HubSpot's) are written to HubSpot deals and companies by batch update, 100 a call; under 5xx and 429s every record
ends in HubSpot once with its latest values; a deal HubSpot no longer has is that record's exception only; and the
invoice records are upserted into the firm's custom object of ERP invoices by their unique ERP invoice id and
associated with their company, once each under faults."""
from __future__ import annotations

import dataclasses
import uuid
from collections import Counter

import psycopg
import pytest

from pshub.clients import client_for
from reverse_etl import engine
from reverse_etl.syncs import HUBSPOT_UPDATE, HUBSPOT_UPSERT, SYNCS, for_crm

LINK_COLUMNS = ('"Id" text, "ERP_Project_Id__c" text, "PSA_Project_Id__c" text, "Project_Status__c" text, '
                '"Sync_Status__c" text, "Last_Sync_Error__c" text, _customer text')


@pytest.fixture
def hubspot_faults(sandbox_admin):
    yield lambda **changes: sandbox_admin.faults("hubspot", **changes)
    sandbox_admin.faults("hubspot", error_rate=0, rate_limit_rate=0, drop_rate=0)


def _deals(ids: list[str]) -> dict[str, dict]:
    with client_for("hubspot") as client:
        found = {}
        for start in range(0, len(ids), 100):
            page = client.search_page("deals", [{"propertyName": "hs_object_id", "operator": "IN",
                                                 "values": ids[start:start + 100]}], None,
                                      ["erp_project_id", "psa_project_id", "sync_status", "project_status"])
            found |= {r["id"]: r["properties"] for r in page["results"]}
        return found


def test_the_crm_syncs_go_to_hubspot_companies_and_deals_and_the_invoice_records_to_a_custom_object():
    links = for_crm(SYNCS["crm_opportunity_links"], "hubspot")
    assert (links.destination, links.object, links.operation, links.batch_size) == ("hubspot", "deals",
                                                                                    HUBSPOT_UPDATE, 100)
    assert for_crm(SYNCS["crm_account_finance"], "hubspot").object == "companies"
    invoices = for_crm(SYNCS["crm_invoices"], "hubspot")
    assert (invoices.destination, invoices.object, invoices.operation, invoices.batch_size) == (
        "hubspot", "erp_invoices", HUBSPOT_UPSERT, 100)
    assert for_crm(SYNCS["erp_customers"], "hubspot") is SYNCS["erp_customers"]
    assert for_crm(SYNCS["crm_opportunity_links"], "salesforce") is SYNCS["crm_opportunity_links"]


def test_deal_links_converge_in_hubspot_under_faults_and_a_missing_deal_is_its_own_exception(conn, outbound_table,
                                                                                          hubspot_faults):
    with client_for("hubspot") as client:
        ids = [r["id"] for r in client.search_page("deals", [], {"propertyName": "hs_object_id",
                                                                 "direction": "ASCENDING"}, [])["results"]]
        ids += [r["id"] for r in client.search_page("deals", [], {"propertyName": "hs_object_id",
                                                                  "direction": "ASCENDING"}, [], after=200)["results"]]
    assert len(ids) > 150
    name = "t_hubspot_links"
    rows = [(i, f"90{n:04d}", f"70{n:04d}", "In Progress", "Synced", None, f"Client {n}") for n, i in enumerate(ids)]
    rows.append(("999999999", "1", "1", "In Progress", "Synced", None, "Gone Ltd"))  # a deal HubSpot does not have
    outbound_table(name, LINK_COLUMNS, rows)
    sync = dataclasses.replace(for_crm(SYNCS["crm_opportunity_links"], "hubspot"), name=name)
    hubspot_faults(error_rate=0.2, rate_limit_rate=0.2, seed=4)
    results = []
    for n in range(8):  # as the hub's cycles would: what failed is retried by the next run
        results.append(engine.apply(conn, sync, f"r-hs-links-{n}", lambda: client_for("hubspot"), concurrency=2,
                                    confirm=True))
        if results[-1].planned <= 1:
            break
    hubspot_faults(error_rate=0, rate_limit_rate=0)
    assert results[-1].planned <= 1, [(r.status, r.pushed, r.failed, r.message) for r in results]
    assert sum(r.pushed for r in results) == len(ids)
    assert min(r.write_calls for r in results[:1]) >= (len(ids) + 99) // 100  # 100 a call
    in_hubspot = _deals(ids)
    assert {i: (p["erp_project_id"], p["psa_project_id"], p["sync_status"]) for i, p in in_hubspot.items()} == \
        {r[0]: (r[1], r[2], r[4]) for r in rows[:-1]}
    exceptions = conn.execute("select record_key, reason_code from ops.sync_exceptions where sync_name = %s "
                              "and resolved_at is null", (name,)).fetchall()
    conn.rollback()
    assert exceptions == [("999999999", "OBJECT_NOT_FOUND")]

    # a later change is pushed, and only it
    with psycopg.connect(conn.info.dsn, password=conn.info.password, autocommit=True) as admin:
        admin.execute(f'update outbound.{name} set "Project_Status__c" = %s where "Id" = %s', ("Completed", ids[0]))
    again = engine.apply(conn, sync, "r-hs-links-change", lambda: client_for("hubspot"), confirm=True)
    assert again.pushed == 1 and again.write_calls == 1
    assert _deals([ids[0]])[ids[0]]["project_status"] == "Completed"


INVOICE_COLUMNS = ('"ERP_Invoice_Id__c" text, "Name" text, "Account__c" text, "Opportunity__c" text, '
                   '"Document_Type__c" text, "Invoice_Date__c" date, "Due_Date__c" date, "Amount__c" numeric, '
                   '"Open_Balance__c" numeric, "CurrencyIsoCode" text, "Status__c" text, "Days_Overdue__c" integer, '
                   '"Last_Payment_Date__c" date, "Collection_Stage__c" text, _customer text')


def test_invoice_records_land_once_on_their_hubspot_company_under_faults_and_a_missing_company_is_an_exception(
        conn, outbound_table, hubspot_faults):
    with client_for("hubspot") as client:
        companies = [r["id"] for r in client.search_page("companies", [], {"propertyName": "hs_object_id",
                                                                           "direction": "ASCENDING"}, [])["results"]]
        schema = client.custom_object("erp_invoices")
    name = "t_hubspot_invoices"
    tag = f"T-{uuid.uuid4().hex[:6]}"
    rows = [(f"{tag}-{n}", f"INV-{n:05d}", companies[n % len(companies)], None, "Invoice", "2026-10-01", "2026-10-31",
             100 + n, 100 + n, "USD", "open", 0, None, "none", f"Client {n}") for n in range(230)]
    rows.append((f"{tag}-gone", "INV-GONE", "999999999", None, "Invoice", "2026-10-01", "2026-10-31", 5, 5, "USD",
                 "open", 0, None, "none", "Gone Ltd"))  # a company HubSpot does not have
    outbound_table(name, INVOICE_COLUMNS, rows)
    sync = dataclasses.replace(for_crm(SYNCS["crm_invoices"], "hubspot"), name=name)
    hubspot_faults(error_rate=0.2, rate_limit_rate=0.2, seed=5)
    results = []
    for n in range(8):
        results.append(engine.apply(conn, sync, f"r-hs-inv-{n}", lambda: client_for("hubspot"), concurrency=2,
                                    confirm=True))
        if results[-1].planned <= 1:
            break
    hubspot_faults(error_rate=0, rate_limit_rate=0)
    assert results[-1].planned <= 1, [(r.status, r.pushed, r.failed, r.message) for r in results]
    assert sum(r.pushed for r in results) == 230
    with client_for("hubspot") as client:
        records = {}
        for page in client.list_pages(f"/crm/v3/objects/{schema['objectTypeId']}",
                                      {"properties": "erp_invoice_id,invoice_number,amount"}):
            records |= {r["properties"]["erp_invoice_id"]: r for r in page
                        if r["properties"]["erp_invoice_id"].startswith(f"{tag}-")}
        held = client.request("POST", f"/crm/v4/associations/companies/{schema['objectTypeId']}/batch/read",
                              json={"inputs": [{"id": c} for c in companies[:100]]}).json()["results"]
    # one record each (a retried upsert met the record it made), with its values, on its company, once; the record
    # of the missing company is written but on no company, and held as an exception until its company is right
    assert sorted(records) == sorted(r[0] for r in rows)
    assert all(records[r[0]]["properties"]["amount"] in (str(r[7]), f"{r[7]}.0") for r in rows[:-1])
    on_company = Counter((str(r["from"]["id"]), str(t["toObjectId"])) for r in held for t in r["to"])
    mine = {records[r[0]]["id"]: r[2] for r in rows[:-1]}
    assert {(c, i) for (c, i) in on_company if i in mine} == {(c, i) for i, c in mine.items()}
    assert max(n for (c, i), n in on_company.items() if i in mine) == 1
    assert records[f"{tag}-gone"]["id"] not in {i for (_c, i) in on_company}
    exceptions = conn.execute("select record_key, reason_code from ops.sync_exceptions where sync_name = %s "
                              "and resolved_at is null", (name,)).fetchall()
    conn.rollback()
    assert exceptions == [(f"{tag}-gone", "OBJECT_NOT_FOUND")]
    # nothing changed: a run writes nothing
    again = engine.apply(conn, sync, "r-hs-inv-again", lambda: client_for("hubspot"), confirm=True)
    assert again.pushed == 0 and again.planned <= 1
