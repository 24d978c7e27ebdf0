"""The CRM syncs when the CRM is HubSpot: the same outbound rows (Salesforce field names, keyed by the CRM role's ids,
HubSpot's) are written to HubSpot deals and companies by batch update, 100 a call; under 5xx and 429s every record
ends in HubSpot once with its latest values; a deal HubSpot no longer has is that record's exception only; and the
invoice-record sync, which HubSpot has no object for yet, is skipped with why."""
from __future__ import annotations

import dataclasses

import psycopg
import pytest

from pshub.clients import client_for
from reverse_etl import engine
from reverse_etl.syncs import HUBSPOT_UPDATE, SYNCS, for_crm

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


def test_the_crm_syncs_go_to_hubspot_companies_and_deals_and_the_invoice_records_to_none():
    links = for_crm(SYNCS["crm_opportunity_links"], "hubspot")
    assert (links.destination, links.object, links.operation, links.batch_size) == ("hubspot", "deals",
                                                                                    HUBSPOT_UPDATE, 100)
    assert for_crm(SYNCS["crm_account_finance"], "hubspot").object == "companies"
    assert for_crm(SYNCS["crm_invoices"], "hubspot") is None
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


def test_with_hubspot_as_the_crm_the_invoice_records_sync_is_skipped_with_why(monkeypatch):
    from pshub.settings import get_settings
    from reverse_etl.apply import apply_sync

    monkeypatch.setenv("PSHUB_CRM", "hubspot")
    get_settings.cache_clear()
    try:
        result = apply_sync("crm_invoices", "r-hs-skip")
    finally:
        monkeypatch.delenv("PSHUB_CRM")
        get_settings.cache_clear()
    assert result.status == "skipped" and "hubspot" in result.message
