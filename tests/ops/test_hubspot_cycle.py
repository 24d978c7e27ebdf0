"""HubSpot as the CRM (PSHUB_CRM=hubspot) and Certinia as the PSA (PSHUB_PSA=certinia), through the hub's own cycle:
the ingest lands HubSpot and Certinia (not Salesforce's CRM objects, not Kantata), and a closed-won HubSpot deal of no
ERP yet becomes a NetSuite customer and project and a Certinia project (pse__Proj__c, its CRM_Opportunity_Id__c the
deal's id) in one cycle, the deal showing their ids and its sync status in HubSpot; the ERP's invoices appear on their HubSpot company
(records of the firm's ERP invoices custom object, associated with it), and a second cycle writes none of them again.
The records held back say to act in HubSpot and Certinia, never in Salesforce or Kantata.

A hub of its own (its own warehouse database and sandbox firm, small, seed 7, its delivery placed in Certinia). The
same marts from HubSpot + Certinia (with the UK's books in Dynamics 365 Finance) as from Salesforce + Kantata + NetSuite
are compared in tests/dbt (test_invariance); Salesforce with Kantata runs in the operations tests' cycle."""
from __future__ import annotations


import psycopg
import pytest

from isolated_hub import installed_stack, isolated_hub
from pshub.clients import client_for


@pytest.fixture(scope="module")
def hubspot_hub(warehouse_url, home):
    with installed_stack("hubspot", "certinia"), \
            isolated_hub(warehouse_url, home / "hubspot-crm", "pshub_hubspot_crm_test", psa="certinia") as env:
        yield env


def test_a_closed_won_hubspot_deal_becomes_erp_and_psa_projects_in_one_cycle_and_shows_their_ids(hubspot_hub):
    from flows.hub import run_cycle

    with client_for("salesforce") as sf:  # the firm's Certinia projects as delivery left them, before the hub runs
        stages = {r["Id"]: (r["pse__Stage__c"], r["pse__Is_Active__c"]) for page in sf.query_pages(
            "SELECT Id, pse__Stage__c, pse__Is_Active__c FROM pse__Proj__c") for r in page}
    result = run_cycle()
    with psycopg.connect(hubspot_hub["database_url"]) as conn:
        landed = {r[0] for r in conn.execute(
            "select distinct system from ops.loads where status = 'completed'")}
        won = dict(conn.execute(
            "select crm_opportunity_id, crm_account_id from intermediate.int_crm_opportunities where is_won"))
        projects = dict(conn.execute("select record_key, destination_id from ops.sync_ledger"
                                     " where sync_name = 'erp_projects'"))
        customers = dict(conn.execute("select record_key, destination_id from ops.sync_ledger"
                                      " where sync_name = 'erp_customers'"))
        shells = dict(conn.execute("select record_key, destination_id from ops.sync_ledger"
                                   " where sync_name = 'psa_projects'"))
        systems = {r[0] for r in conn.execute("select distinct crm_system from intermediate.int_crm_opportunities")}
    assert "hubspot" in landed and "salesforce" not in landed, landed
    assert systems == {"hubspot"}
    new_projects = {deal: job for deal, job in projects.items() if deal in won}
    assert new_projects, (result.get("status"), result.get("failures"))
    with client_for("netsuite") as ns:
        jobs = {r["externalid"]: str(r["id"]) for p in ns.suiteql_pages(
            "SELECT id, externalid FROM job WHERE externalid IS NOT NULL") for r in p}
        custs = {r["externalid"] for p in ns.suiteql_pages(
            "SELECT externalid FROM customer WHERE externalid IS NOT NULL") for r in p}
    # the deal's ERP project (external id = HubSpot deal id) and its company's ERP customer (= HubSpot company id)
    assert all(jobs.get(deal) == job for deal, job in new_projects.items())
    assert {won[deal] for deal in new_projects} <= custs | set(customers) and {won[d] for d in new_projects} <= custs
    assert "certinia" in landed and "kantata" not in landed, landed
    assert set(new_projects) <= set(shells)  # and a Certinia project shell each, in the Salesforce org
    with client_for("salesforce") as sf:
        certinia = {r["CRM_Opportunity_Id__c"]: r["Id"] for page in sf.query_pages(
            "SELECT Id, CRM_Opportunity_Id__c FROM pse__Proj__c WHERE CRM_Opportunity_Id__c != null") for r in page}
    assert {d: certinia.get(d) for d in new_projects} == {d: shells[d] for d in new_projects}
    # the projects the cycle adopted (made by hand, matched by rule, updated by Id) keep the stage and active flag
    # delivery gave them in Certinia: the shell sync never moves a running or finished project back to Planned
    adopted = set(shells.values()) & set(stages)
    with client_for("salesforce") as sf:
        after = {r["Id"]: (r["pse__Stage__c"], r["pse__Is_Active__c"]) for page in sf.query_pages(
            "SELECT Id, pse__Stage__c, pse__Is_Active__c FROM pse__Proj__c") for r in page}
    assert adopted and {p: after[p] for p in adopted} == {p: stages[p] for p in adopted}
    # the other PSA syncs wrote Certinia's records in the same cycle: the deals' planned roles as resource requests
    # on their projects (upserted by External_Id__c = the line item id), and each project's credit-hold flag
    with psycopg.connect(hubspot_hub["database_url"]) as conn:
        roles = dict(conn.execute("""select "External_Id__c", "pse__Project__c" from outbound.certinia_resource_requests
                                      where "External_Id__c" in (select record_key from ops.sync_ledger
                                                                  where sync_name = 'psa_project_roles')"""))
        holds = dict(conn.execute("""select "Id", "Credit_Hold__c" from outbound.certinia_credit_holds
                                      where "Id" in (select record_key from ops.sync_ledger
                                                      where sync_name = 'psa_credit_holds')"""))
    with client_for("salesforce") as sf:
        requests = {r["External_Id__c"]: r["pse__Project__c"] for page in sf.query_pages(
            "SELECT External_Id__c, pse__Project__c FROM pse__Resource_Request__c WHERE External_Id__c != null")
            for r in page}
        flags = {r["Id"]: r["Credit_Hold__c"] for page in sf.query_pages(
            "SELECT Id, Credit_Hold__c FROM pse__Proj__c") for r in page}
    assert roles and {k: requests.get(k) for k in roles} == roles
    assert set(roles.values()) & set(shells.values())  # on the projects this cycle made, among others
    assert holds and {k: flags.get(k) for k in holds} == holds
    # the deal shows the ids and the sync status the hub wrote back (crm_opportunity_links, to HubSpot)
    with client_for("hubspot") as hs:
        ids = sorted(new_projects)[:100]
        page = hs.search_page("deals", [{"propertyName": "hs_object_id", "operator": "IN", "values": ids}], None,
                              ["erp_project_id", "psa_project_id", "sync_status"])
    shown = {r["id"]: r["properties"] for r in page["results"]}
    assert {d: shown[d]["erp_project_id"] for d in ids} == {d: new_projects[d] for d in ids}
    assert all(shown[d]["psa_project_id"] == shells[d] and shown[d]["sync_status"] for d in ids)
    print(f"HubSpot cycle: {len(new_projects)} closed-won deals became NetSuite and Certinia projects; "
          f"cycle {result.get('status')}")


def test_the_holds_say_to_act_in_hubspot_and_certinia_never_salesforce_or_kantata(hubspot_hub):
    """Who must act, where (`pshub exceptions`, status, report): the hold reasons name the installation's CRM and PSA
    (intermediate.int_hold_reasons fills the seed's {crm} and {psa}), not the default stack's."""
    from flows.hub import run_cycle
    from pshub.exceptions import grouped, one

    with psycopg.connect(hubspot_hub["database_url"]) as conn:
        if not conn.execute("select count(*) from ops.runs where kind = 'cycle'").fetchone()[0]:
            run_cycle()  # run alone: the module's first cycle (the first test runs it)
        guide = {r[0]: r[1:] for r in conn.execute(
            "select reason_code, who_acts, where_to_fix, what_to_fix from intermediate.int_hold_reasons")}
        holds = grouped(conn)["hold"]
        held = conn.execute("select min(exception_id) from ops.sync_exceptions where stage = 'blocked'"
                            " and reason_code = 'unapproved_time'").fetchone()[0]
        shown = one(conn, held) if held else None
    assert guide["unapproved_time"] == ("project manager", "Certinia", "approve or reject the time entries")
    assert guide["missing_legal_entity"][1] == "HubSpot" and guide["closed_period"][1] == "NetSuite"
    assert guide["closed_period"][2].endswith("in Certinia")
    named = " ".join(" ".join(filter(None, g)) for g in guide.values())
    assert "{" not in named and "Kantata" not in named and "Salesforce" not in named
    assert holds and all(g["where"] and "{" not in g["where"] for g in holds if g["reason_code"] in guide)
    assert {g["where"] for g in holds} & {"Certinia", "HubSpot"}, [(g["reason_code"], g["where"]) for g in holds]
    if shown:
        assert shown[1] == guide["unapproved_time"]


def _invoice_records() -> tuple[dict[str, dict], set[tuple[str, str]]]:
    """The ERP invoice records in HubSpot ({erp invoice id: record}) and the (company, record) pairs associated."""
    with client_for("hubspot") as hs:
        schema = hs.custom_object("erp_invoices")
        records = {r["properties"]["erp_invoice_id"]: r for page in hs.list_pages(
            f"/crm/v3/objects/{schema['objectTypeId']}", {"properties": "erp_invoice_id,amount,currency,status"})
            for r in page}
        companies = [r["id"] for r in hs.search_page("companies", [], {"propertyName": "hs_object_id",
                                                                       "direction": "ASCENDING"}, [])["results"]]
        pairs = set()
        for start in range(0, len(companies), 100):
            answer = hs.request("POST", f"/crm/v4/associations/companies/{schema['objectTypeId']}/batch/read",
                                json={"inputs": [{"id": c} for c in companies[start:start + 100]]}).json()
            pairs |= {(str(r["from"]["id"]), str(t["toObjectId"])) for r in answer["results"] for t in r["to"]}
    return records, pairs


def test_the_invoices_appear_on_the_hubspot_company_and_a_second_cycle_writes_none_again(hubspot_hub):
    from flows.hub import run_cycle

    with psycopg.connect(hubspot_hub["database_url"]) as conn:
        cycles = conn.execute("select count(*) from ops.runs where kind = 'cycle'").fetchone()[0]
    if not cycles:  # run alone: the module's first cycle (the test above runs it)
        run_cycle()
    with psycopg.connect(hubspot_hub["database_url"]) as conn:
        expected = dict(conn.execute("""select "ERP_Invoice_Id__c", "Account__c" from outbound.crm_invoices"""))
        pushed = {r[0] for r in conn.execute("select record_key from ops.sync_ledger where sync_name = 'crm_invoices'")}
        held = {r[0] for r in conn.execute("select record_key from ops.sync_exceptions where sync_name = 'crm_invoices'"
                                           " and resolved_at is null")}
    # every invoice row pushed, or held with its reason (an invalid row)
    assert pushed and set(expected) == pushed | held and not pushed & held, (len(expected), len(pushed), len(held))
    records, pairs = _invoice_records()
    assert set(records) == pushed  # one record each
    # each on its company (the CRM account the invoice's ERP customer is matched to: a HubSpot company id), once
    assert {(expected[key], rec["id"]) for key, rec in records.items()} == pairs

    print(f"HubSpot invoices: {len(records)} ERP invoice records on {len({c for c, _r in pairs})} companies "
          f"({len(held)} held)")
    again = run_cycle()
    invoices = [s for s in again.get("syncs") or [] if s.get("sync") == "crm_invoices"]
    assert invoices and invoices[0]["write_calls"] == 0 and invoices[0]["status"] not in ("failed", "blocked"), invoices
    assert _invoice_records() == (records, pairs)
