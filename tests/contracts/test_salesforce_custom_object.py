"""The custom object the CRM invoice sync writes (ERP_Invoice__c), against the sandbox over HTTPS with simple-salesforce."""
from __future__ import annotations

import json

import pytest
import requests
from simple_salesforce import Salesforce as SimpleSalesforce


@pytest.fixture(scope="module")
def simple_sf(hub_clients, vendor, tls_cert):
    session = requests.Session()
    session.verify = str(tls_cert[0])
    session.trust_env = False
    return SimpleSalesforce(instance_url=vendor.urls["salesforce"], session_id=hub_clients["salesforce"].token(),
                            version="62.0", session=session)


def test_custom_object_collections_upsert_by_its_external_id_field_creates_once(simple_sf):
    # REST API Developer Guide, "Upsert Up to 200 Records" (PATCH /composite/sobjects/{SObject}/{ExternalIdField}):
    # a custom object's external id field works as a standard object's does; created says which records were new.
    records = [{"attributes": {"type": "ERP_Invoice__c"}, "ERP_Invoice_Id__c": f"contract-inv-{i}", "Name": f"INV{i}",
                "Open_Balance__c": 100.0 * i, "Status__c": "open"} for i in range(3)]
    first = simple_sf.restful("composite/sobjects/ERP_Invoice__c/ERP_Invoice_Id__c", method="PATCH",
                              data=json.dumps({"allOrNone": False, "records": records}))
    records[1].update(Open_Balance__c=0.0, Status__c="paid")
    again = simple_sf.restful("composite/sobjects/ERP_Invoice__c/ERP_Invoice_Id__c", method="PATCH",
                              data=json.dumps({"allOrNone": False, "records": records}))
    assert [r["created"] for r in first] == [True] * 3 and [r["created"] for r in again] == [False] * 3
    assert [r["id"] for r in first] == [r["id"] for r in again]
    found = simple_sf.query("SELECT Status__c, Open_Balance__c FROM ERP_Invoice__c "
                            "WHERE ERP_Invoice_Id__c = 'contract-inv-1'")["records"]
    assert [(r["Status__c"], r["Open_Balance__c"]) for r in found] == [("paid", 0.0)]


def test_a_new_custom_object_record_without_its_name_is_refused_with_required_field_missing(simple_sf):
    # REST API Developer Guide, "Status Codes and Error Responses": a missing required field is
    # REQUIRED_FIELD_MISSING, per record in a collection (allOrNone false), the others still written.
    records = [{"attributes": {"type": "ERP_Invoice__c"}, "ERP_Invoice_Id__c": "contract-inv-noname"},
               {"attributes": {"type": "ERP_Invoice__c"}, "ERP_Invoice_Id__c": "contract-inv-named", "Name": "INV9"}]
    results = simple_sf.restful("composite/sobjects/ERP_Invoice__c/ERP_Invoice_Id__c", method="PATCH",
                                data=json.dumps({"allOrNone": False, "records": records}))
    assert results[0]["success"] is False and results[0]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert results[1]["success"] is True and results[1]["created"] is True
