"""The PSA syncs when the PSA is Certinia (PSHUB_PSA=certinia): the project shells go to Certinia projects
(pse__Proj__c) by sObject Collections upsert on CRM_Opportunity_Id__c; under server errors and lost answers, each
engagement's project exists once, with its latest values; the planned roles, billing milestones and credit-hold flag
go to Certinia resource requests, milestones (upserted by External_Id__c) and the project's Credit_Hold__c."""
from __future__ import annotations

import dataclasses

import psycopg

from pshub.clients import client_for
from reverse_etl import engine
from reverse_etl.apply import apply_sync
from reverse_etl.syncs import (CERTINIA_PROJECTS, CERTINIA_SYNCS, PSA_SKIPPED, SALESFORCE_UPDATE, SALESFORCE_UPSERT,
                               SYNCS, for_psa, for_systems)

COLUMNS = ('"CRM_Opportunity_Id__c" text, "Name" text, "pse__Account__c" text, "pse__Opportunity__c" text, '
           '"pse__Project_Type__c" text, "pse__Stage__c" text, "pse__Is_Active__c" boolean, '
           '"pse__Is_Billable__c" boolean, "pse__Start_Date__c" date, "pse__End_Date__c" date, '
           '"pse__Bookings__c" numeric, "pse__Description__c" text, "CurrencyIsoCode" text, "Billing_Model__c" text, '
           '"Legal_Entity__c" text, "Service_Line__c" text, _psa_project_id text, _customer text')


def test_with_certinia_every_psa_sync_goes_to_its_certinia_object_and_none_is_skipped():
    shells = for_psa(SYNCS["psa_projects"], "certinia")
    assert shells is CERTINIA_PROJECTS
    assert (shells.destination, shells.object, shells.key, shells.operation, shells.model) == (
        "salesforce", "pse__Proj__c", "CRM_Opportunity_Id__c", SALESFORCE_UPSERT, "outbound.certinia_projects")
    taken = {n: for_psa(s, "certinia") for n, s in SYNCS.items() if s.destination == "kantata"}
    assert {n: (s.destination, s.object, s.key, s.operation, s.model) for n, s in taken.items()} == {
        "psa_projects": ("salesforce", "pse__Proj__c", "CRM_Opportunity_Id__c", SALESFORCE_UPSERT,
                         "outbound.certinia_projects"),
        "psa_project_roles": ("salesforce", "pse__Resource_Request__c", "External_Id__c", SALESFORCE_UPSERT,
                              "outbound.certinia_resource_requests"),
        "psa_project_milestones": ("salesforce", "pse__Milestone__c", "External_Id__c", SALESFORCE_UPSERT,
                                   "outbound.certinia_milestones"),
        "psa_credit_holds": ("salesforce", "pse__Proj__c", "Id", SALESFORCE_UPDATE, "outbound.certinia_credit_holds")}
    assert PSA_SKIPPED == {}  # no PSA sync is left without a Certinia destination
    assert for_psa(SYNCS["psa_projects"], "kantata") is SYNCS["psa_projects"]
    assert for_psa(SYNCS["erp_projects"], "certinia") is SYNCS["erp_projects"]
    # with HubSpot as the CRM too, the Certinia records stay in the Salesforce org Certinia runs in
    assert {n: for_systems(SYNCS[n], "hubspot", "certinia") for n in taken} == taken


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


def test_roles_milestones_and_credit_holds_reach_their_certinia_records_once(conn, outbound_table):
    """The three other PSA syncs as Certinia takes them, pushed twice: the first run makes each record (on a project
    made for the test), the second, with one change, updates that record only."""
    with client_for("salesforce") as sf:
        project = sf.upsert_collection("pse__Proj__c", "CRM_Opportunity_Id__c", [
            {"CRM_Opportunity_Id__c": "006TROLES000000001", "Name": "Roles test", "CurrencyIsoCode": "USD"}])[0]["id"]
    tables = {
        "psa_project_roles": ('"External_Id__c" text, "pse__Project__c" text, "pse__Resource_Role__c" text, '
                              '"pse__SOW_Hours__c" numeric, "pse__Suggested_Bill_Rate__c" numeric, "CurrencyIsoCode" text',
                              [(f"00kTROLE{n:010d}", project, role, 40.0 * n, 150.0 + n, "USD")
                               for n, role in enumerate(("Consultant", "Senior Consultant", "Engagement Manager"), 1)]),
        "psa_project_milestones": ('"External_Id__c" text, "Name" text, "pse__Project__c" text, '
                                   '"pse__Target_Date__c" date, "pse__Milestone_Amount__c" numeric, '
                                   '"pse__Exclude_from_Billing__c" boolean, "CurrencyIsoCode" text',
                                   [(f"006TROLES000000001:{n}", f"Milestone {n} of 2", project, f"2026-0{n + 2}-28",
                                     5000.0, False, "USD") for n in (1, 2)]),
        "psa_credit_holds": ('"Id" text, "Credit_Hold__c" boolean', [(project, True)]),
    }
    objects = {"psa_project_roles": ("pse__Resource_Request__c", "External_Id__c, pse__Project__c, pse__Resource_Role__c, "
                                     "pse__SOW_Hours__c, pse__Suggested_Bill_Rate__c"),
               "psa_project_milestones": ("pse__Milestone__c", "External_Id__c, pse__Project__c, Name, "
                                          "pse__Target_Date__c, pse__Milestone_Amount__c"),
               "psa_credit_holds": ("pse__Proj__c", "Id, Credit_Hold__c")}
    for name, (columns, rows) in tables.items():
        table = f"t_certinia_{name}"
        outbound_table(table, columns, rows)
        sync = dataclasses.replace(CERTINIA_SYNCS[name], name=table, model_name=None)
        first = engine.apply(conn, sync, f"r-{table}-1", lambda: client_for("salesforce"), confirm=True)
        assert (first.status, first.pushed, first.failed) == ("succeeded", len(rows), 0), (name, first.message)
        obj, fields_read = objects[name]
        key = sync.key
        where = f"Id = '{project}'" if key == "Id" else f"{key} LIKE '{rows[0][0][:10]}%'"
        with client_for("salesforce") as sf:
            found = [r for page in sf.query_pages(f"SELECT Id, {fields_read} FROM {obj} WHERE {where}") for r in page]
        assert sorted(r[key] for r in found) == sorted(r[0] for r in rows), name
        if name == "psa_credit_holds":
            assert found[0]["Credit_Hold__c"] is True
        else:
            assert {r["pse__Project__c"] for r in found} == {project}
        # a change to one row is an update of its record, and only it is pushed
        with psycopg.connect(conn.info.dsn, password=conn.info.password, autocommit=True) as admin:
            admin.execute(f"update outbound.{table} set \"CurrencyIsoCode\" = 'EUR' where \"{key}\" = %s"
                          if name != "psa_credit_holds" else
                          f"update outbound.{table} set \"Credit_Hold__c\" = false where \"{key}\" = %s", (rows[0][0],))
        again = engine.apply(conn, sync, f"r-{table}-2", lambda: client_for("salesforce"), confirm=True)
        assert (again.planned, again.pushed) == (1, 1), name
        with client_for("salesforce") as sf:
            after = [r for page in sf.query_pages(f"SELECT Id FROM {obj} WHERE {where}") for r in page]
        assert sorted(r["Id"] for r in after) == sorted(r["Id"] for r in found), name
