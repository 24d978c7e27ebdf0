"""The PSA syncs when the PSA is Certinia (PSHUB_PSA=certinia): the project shells go to Certinia projects
(pse__Proj__c) by sObject Collections upsert on CRM_Opportunity_Id__c; under server errors and lost answers, each
engagement's project exists once, with its latest values; the PSA syncs with no Certinia destination are skipped,
with why."""
from __future__ import annotations

import dataclasses

import psycopg

from pshub.clients import client_for
from reverse_etl import engine
from reverse_etl.apply import apply_sync
from reverse_etl.syncs import CERTINIA_PROJECTS, PSA_SKIPPED, SALESFORCE_UPSERT, SYNCS, for_psa, for_systems

COLUMNS = ('"CRM_Opportunity_Id__c" text, "Name" text, "pse__Account__c" text, "pse__Opportunity__c" text, '
           '"pse__Project_Type__c" text, "pse__Stage__c" text, "pse__Is_Active__c" boolean, '
           '"pse__Is_Billable__c" boolean, "pse__Start_Date__c" date, "pse__End_Date__c" date, '
           '"pse__Bookings__c" numeric, "pse__Description__c" text, "CurrencyIsoCode" text, "Billing_Model__c" text, '
           '"Legal_Entity__c" text, "Service_Line__c" text, _psa_project_id text, _customer text')


def test_with_certinia_the_shell_sync_goes_to_certinia_projects_and_the_other_psa_syncs_are_skipped():
    shells = for_psa(SYNCS["psa_projects"], "certinia")
    assert shells is CERTINIA_PROJECTS
    assert (shells.destination, shells.object, shells.key, shells.operation, shells.model) == (
        "salesforce", "pse__Proj__c", "CRM_Opportunity_Id__c", SALESFORCE_UPSERT, "outbound.certinia_projects")
    assert {n for n, s in SYNCS.items() if s.destination == "kantata" and for_psa(s, "certinia") is None} == \
        set(PSA_SKIPPED)
    assert for_psa(SYNCS["psa_projects"], "kantata") is SYNCS["psa_projects"]
    assert for_psa(SYNCS["erp_projects"], "certinia") is SYNCS["erp_projects"]
    # with HubSpot as the CRM too, the Certinia projects stay in the Salesforce org Certinia runs in
    assert for_systems(SYNCS["psa_projects"], "hubspot", "certinia") is CERTINIA_PROJECTS


def test_a_skipped_psa_sync_says_why(monkeypatch, conn):
    from pshub.settings import get_settings

    monkeypatch.setenv("PSHUB_PSA", "certinia")
    get_settings.cache_clear()
    try:
        result = apply_sync("psa_project_milestones", "r-cert-skip", conn=conn)
    finally:
        monkeypatch.delenv("PSHUB_PSA")
        get_settings.cache_clear()
    assert result.status == "skipped" and "certinia" in result.message and "milestones" in result.message


def test_certinia_project_shells_are_created_once_under_faults_then_updated(conn, outbound_table, sandbox_admin):
    name = "t_certinia_projects"
    rows = [(f"006T{n:014d}", f"Client {n} - Rollout", None, None, "Customer Project", "Planned", True, True,
             "2026-01-05", "2026-06-30", 10000.0 + n, "Time and Materials engagement", "USD", "Time and Materials",
             "US", "Strategy", None, f"Client {n}") for n in range(230)]
    # a project made by hand before the hub, matched to its deal by rule in dbt: adopted (updated by its Id, taking the
    # external id), never made twice
    with client_for("salesforce") as sf:
        sf.token()
        made = sf.request("POST", sf._api("/sobjects/pse__Proj__c"), json={"Name": "Client X - Rollout (by hand)"}).json()
    rows.append(("006TBYHAND00000001", "Client X - Rollout", None, None, "Customer Project", "Planned", True, True,
                 "2026-01-05", "2026-06-30", 5000.0, "Fixed Fee engagement", "USD", "Fixed Fee", "US", "Strategy",
                 made["id"], "Client X"))
    outbound_table(name, COLUMNS, rows)
    sync = dataclasses.replace(CERTINIA_PROJECTS, name=name, model_name=None)
    sandbox_admin.faults("salesforce", error_rate=0.2, lost_response_rate=0.2, seed=9)
    results = []
    for n in range(10):  # as the hub's cycles would: what failed is retried by the next run
        results.append(engine.apply(conn, sync, f"r-cert-{n}", lambda: client_for("salesforce"), concurrency=2,
                                    confirm=True))
        if results[-1].planned == 0:
            break
    sandbox_admin.faults("salesforce", error_rate=0, lost_response_rate=0)
    assert results[-1].planned == 0, [(r.status, r.pushed, r.failed, r.message) for r in results]
    with client_for("salesforce") as sf:
        made = [r for page in sf.query_pages("SELECT Id, CRM_Opportunity_Id__c, pse__Bookings__c FROM pse__Proj__c "
                                             "WHERE CRM_Opportunity_Id__c LIKE '006T%' OR Name LIKE 'Client X%'")
                for r in page]
    # exactly once each, whatever was lost on the way (the upsert by external id meets what it made)
    assert sorted(r["CRM_Opportunity_Id__c"] for r in made) == sorted(r[0] for r in rows)
    assert {r["CRM_Opportunity_Id__c"]: r["Id"] for r in made}["006TBYHAND00000001"] == rows[-1][-2]
    ledger = dict(conn.execute("select record_key, destination_id from ops.sync_ledger where sync_name = %s", (name,)))
    conn.rollback()
    assert ledger == {r["CRM_Opportunity_Id__c"]: r["Id"] for r in made}

    # a later change is an update of the same project, and only it is pushed
    with psycopg.connect(conn.info.dsn, password=conn.info.password, autocommit=True) as admin:
        admin.execute(f"""update outbound.{name} set "pse__Bookings__c" = 1 where "CRM_Opportunity_Id__c" = %s""",
                      (rows[0][0],))
    again = engine.apply(conn, sync, "r-cert-again", lambda: client_for("salesforce"), concurrency=2, confirm=True)
    assert (again.pushed, again.planned) == (1, 1)
    with client_for("salesforce") as sf:
        found = [r for page in sf.query_pages(f"SELECT Id, pse__Bookings__c FROM pse__Proj__c "
                                              f"WHERE CRM_Opportunity_Id__c = '{rows[0][0]}'") for r in page]
    assert [(r["Id"], r["pse__Bookings__c"]) for r in found] == [(ledger[rows[0][0]], 1.0)]
