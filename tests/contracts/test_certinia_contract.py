"""Certinia PSA (pse__ objects in the Salesforce org), against the sandbox firm placed in Certinia, through the hub's
Salesforce connector. Each test names the Certinia documentation it checks: the "Professional Services Automation
Data Dictionary" (help.certinia.com/TechnicalReference/<release>/ProfessionalServicesAutomation/Schema/<Object>.htm).
"""
from __future__ import annotations

import datetime as dt

import pytest

from connectors import catalog

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@pytest.fixture(scope="module")
def certinia(tmp_path_factory):
    """A demo firm whose delivery is in Certinia (sandbox.certinia_firm), served over loopback in this process."""
    from connectors.salesforce import SalesforceClient
    from sandbox.server import SandboxServer

    server = SandboxServer(tmp_path_factory.mktemp("certinia-sandbox"), scale="demo", seed=11, psa="certinia",
                           systems=("salesforce", "kantata"))
    server.start()
    client = SalesforceClient(server.urls["salesforce"], server.credentials["salesforce"], max_attempts=3)
    yield server, client
    client.close()
    server.stop()


def _all(client, soql: str) -> list[dict]:
    return [r for page in client.query_pages(soql) for r in page]


def test_every_certinia_field_the_hub_reads_is_described_on_its_object(certinia):
    # Data dictionary, one page per object: the fields of the catalog (connectors/catalog.py, CERTINIA) exist there
    _server, client = certinia
    for obj in catalog.CERTINIA.values():
        described = set(client.describe_fields(obj.name))
        assert set(obj.field_names) <= described, (obj.name, set(obj.field_names) - described)


def test_a_timecard_split_holds_the_days_of_one_time_period_of_its_timecard(certinia):
    # Timecard__c ("Timecard Split"): "PSA creates timecard splits when a timecard spans the boundary of a time
    # period ... Timecards (pse__Timecard_Header__c) have a master-detail relationship with timecard splits"; both
    # carry Monday_Hours__c ... Sunday_Hours__c. Here the time period is the month.
    _server, client = certinia
    day_fields = ", ".join(f"pse__{d}_Hours__c" for d in DAYS)
    headers = {r["Id"]: r for r in _all(client, f"SELECT Id, pse__Start_Date__c, pse__End_Date__c, pse__Total_Hours__c, "
                                                f"{day_fields} FROM pse__Timecard_Header__c")}
    splits = _all(client, f"SELECT Id, pse__Timecard_Header__c, pse__Start_Date__c, pse__End_Date__c, "
                          f"pse__Total_Hours__c, {day_fields} FROM pse__Timecard__c")
    assert headers and len(splits) > len(headers), "some weeks span a month end and are split"
    by_header: dict[str, list[dict]] = {}
    for s in splits:
        by_header.setdefault(s["pse__Timecard_Header__c"], []).append(s)
        start, end = dt.date.fromisoformat(s["pse__Start_Date__c"]), dt.date.fromisoformat(s["pse__End_Date__c"])
        assert (start.year, start.month) == (end.year, end.month) and start <= end
        assert sum(s[f"pse__{d}_Hours__c"] for d in DAYS) == pytest.approx(s["pse__Total_Hours__c"])
    assert set(by_header) == set(headers)
    for hid, parts in by_header.items():
        header = headers[hid]
        assert dt.date.fromisoformat(header["pse__Start_Date__c"]).weekday() == 0  # weeks from Monday
        for d in DAYS:  # each day's hours are in exactly one split of its timecard
            assert sum(p[f"pse__{d}_Hours__c"] for p in parts) == pytest.approx(header[f"pse__{d}_Hours__c"])


def test_resources_are_contacts_and_assignments_name_them(certinia):
    # Contact page of the data dictionary (Is_Resource__c, Resource_Role__c); Assignment__c.Resource__c looks up to
    # Contact, Project__c to Proj__c, Schedule__c to the assignment's schedule (Start_Date__c, End_Date__c)
    _server, client = certinia
    resources = {r["Id"] for r in _all(client, "SELECT Id FROM Contact WHERE pse__Is_Resource__c = true")}
    projects = {r["Id"] for r in _all(client, "SELECT Id FROM pse__Proj__c")}
    schedules = {r["Id"] for r in _all(client, "SELECT Id FROM pse__Schedule__c")}
    assignments = _all(client, "SELECT Id, pse__Resource__c, pse__Project__c, pse__Schedule__c, pse__Bill_Rate__c "
                               "FROM pse__Assignment__c")
    assert resources and assignments
    for a in assignments:
        assert a["pse__Resource__c"] in resources and a["pse__Project__c"] in projects
        assert a["pse__Schedule__c"] in schedules and a["pse__Bill_Rate__c"] > 0


def test_certinia_objects_page_by_systemmodstamp_like_every_salesforce_object(certinia):
    # REST API Developer Guide, "Execute a SOQL Query" (nextRecordsUrl, Sforce-Query-Options batchSize): the
    # connector's incremental read of a pse__ object is the one of Account or Opportunity
    server, client = certinia
    obj = catalog.CERTINIA["pse__Timecard__c"]
    pages = list(client.changed_pages(obj.name, ("Id", "SystemModstamp", "pse__Total_Hours__c"),
                                      since=None, updated_field="SystemModstamp"))
    records = [r for page in pages for r in page]
    assert len(pages) > 1 and len({r["Id"] for r in records}) == len(records)
    assert len(records) == server.store.conn().execute('SELECT count(*) FROM "sf_pse__Timecard__c"').fetchone()[0]
    stamps = [r["SystemModstamp"] for r in records]
    assert stamps == sorted(stamps)


def test_a_project_upserted_by_the_crm_opportunity_external_id_is_created_once(certinia):
    # REST API Developer Guide, "Upsert Up to 200 Records" (PATCH /composite/sobjects/{SObject}/{ExternalIdField}):
    # the hub's project shell sync creates pse__Proj__c by its CRM_Opportunity_Id__c external id, so a retry
    # updates the project it made instead of making a second one
    _server, client = certinia
    record = {"attributes": {"type": "pse__Proj__c"}, "CRM_Opportunity_Id__c": "contract-opp-1",
              "Name": "Contract project", "pse__Stage__c": "Planned", "CurrencyIsoCode": "USD"}
    first = client.upsert_collection("pse__Proj__c", "CRM_Opportunity_Id__c", [record])
    again = client.upsert_collection("pse__Proj__c", "CRM_Opportunity_Id__c", [{**record, "pse__Stage__c": "In Progress"}])
    assert [r["created"] for r in first] == [True] and [r["created"] for r in again] == [False]
    assert first[0]["id"] == again[0]["id"]
    found = _all(client, "SELECT Id, pse__Stage__c FROM pse__Proj__c WHERE CRM_Opportunity_Id__c = 'contract-opp-1'")
    assert [(r["Id"], r["pse__Stage__c"]) for r in found] == [(first[0]["id"], "In Progress")]


def test_every_field_the_hub_writes_to_certinia_is_described_on_its_object(certinia):
    # The PSA syncs as Certinia takes them (reverse_etl.syncs.CERTINIA_SYNCS) write only fields the objects have: the
    # Data Dictionary's pages, and a real org's export of them (sirhcrd/sirhcrd.github.io, schema-intel/data/tables/
    # pse_resource_request_c.md: pse__Project__c, pse__Resource_Role__c, pse__SOW_Hours__c,
    # pse__Suggested_Bill_Rate__c, CurrencyIsoCode; pse_milestone_c.md: pse__Target_Date__c, pse__Milestone_Amount__c),
    # and the firm's own fields for the hub (External_Id__c, CRM_Opportunity_Id__c, Credit_Hold__c)
    from reverse_etl.syncs import CERTINIA_SYNCS

    _server, client = certinia
    for sync in CERTINIA_SYNCS.values():
        described = set(client.describe_fields(sync.object))
        written = set(sync.pushed_columns) | {sync.key}
        assert written <= described, (sync.name, sync.object, written - described)


@pytest.mark.parametrize("obj", ["pse__Resource_Request__c", "pse__Milestone__c"])
def test_a_record_upserted_by_the_firms_external_id_is_created_once(certinia, obj):
    # REST API Developer Guide, "Upsert Up to 200 Records": the hub's resource requests and milestones are upserted by
    # the firm's External_Id__c field on the project the hub made, so a retry updates the record it made
    _server, client = certinia
    project = _all(client, "SELECT Id FROM pse__Proj__c ORDER BY Id LIMIT 1")[0]["Id"]
    record = {"External_Id__c": f"contract-{obj}", "pse__Project__c": project, "CurrencyIsoCode": "USD",
              **({"pse__Resource_Role__c": "Consultant", "pse__SOW_Hours__c": 40.0} if obj == "pse__Resource_Request__c"
                 else {"Name": "Contract milestone", "pse__Target_Date__c": "2026-03-31",
                       "pse__Milestone_Amount__c": 1000.0})}
    first = client.upsert_collection(obj, "External_Id__c", [record])
    again = client.upsert_collection(obj, "External_Id__c", [{**record, "CurrencyIsoCode": "EUR"}])
    assert [r["created"] for r in first] == [True] and [r["created"] for r in again] == [False]
    found = _all(client, f"SELECT Id, pse__Project__c, CurrencyIsoCode FROM {obj} "
                         f"WHERE External_Id__c = 'contract-{obj}'")
    assert [(r["Id"], r["pse__Project__c"], r["CurrencyIsoCode"]) for r in found] == [(first[0]["id"], project, "EUR")]
