"""Invoices and collections in the CRM: every ERP invoice of a synced account is an ERP_Invoice__c record of it, with
the ERP's own open balance; a payment recorded in the ERP shows as paid after one cycle; a deleted invoice's record
stays, voided. Checked against the sandbox's CRM and ERP over their APIs, in a hub of its own."""
from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from isolated_hub import installed_stack, isolated_hub
from pshub.clients import client_for


def crm_invoices() -> dict[str, list[dict]]:
    """ERP_Invoice__c records of the sandbox CRM by external id (a list: the test counts duplicates)."""
    found: dict[str, list[dict]] = {}
    with client_for("salesforce") as sf:
        for page in sf.query_pages("SELECT Id, ERP_Invoice_Id__c, Name, Account__c, Amount__c, Open_Balance__c, "
                                   "CurrencyIsoCode, Status__c, Days_Overdue__c, Last_Payment_Date__c, "
                                   "Collection_Stage__c FROM ERP_Invoice__c"):
            for record in page:
                found.setdefault(record["ERP_Invoice_Id__c"], []).append(record)
    return found


def synced_accounts() -> dict[str, dict]:
    """CRM accounts that carry an ERP customer id (written by crm_account_finance), by that ERP customer id."""
    with client_for("salesforce") as sf:
        return {r["ERP_Customer_Id__c"]: r for page in sf.query_pages(
            "SELECT Id, ERP_Customer_Id__c, Credit_Limit__c, Available_Credit__c, Collection_Stage__c, "
            "Finance_Synced_At__c FROM Account WHERE ERP_Customer_Id__c != null") for r in page}


def erp_invoices() -> dict[str, dict]:
    """The ERP's own invoices and credit memos (SuiteQL), each with the customer it bills (a job's customer too)."""
    with client_for("netsuite") as ns:
        parents = {str(r["id"]): str(r["parent"]) for page in ns.suiteql_pages("SELECT j.id, j.parent FROM job j")
                   for r in page}
        out = {}
        for page in ns.suiteql_pages("SELECT t.id, t.type, t.entity, t.foreigntotal, t.foreignamountunpaid, "
                                     "t.status FROM transaction t WHERE t.type IN ('CustInvc', 'CustCred')"):
            for r in page:
                entity = str(r["entity"])
                out[str(r["id"])] = {**r, "customer": parents.get(entity, entity)}
        return out


def signed_open(invoice: dict) -> float:
    unpaid = abs(float(invoice["foreignamountunpaid"] or 0))
    return -unpaid if invoice["type"] == "CustCred" else unpaid


@pytest.fixture(scope="module")
def hub_env(warehouse_url, home):
    """A hub of its own, selling in Salesforce and delivering in Certinia: one of the supported pairs no other cycle of
    the tests runs (Salesforce + Kantata: the operations hub; HubSpot + Certinia: test_hubspot_cycle; HubSpot +
    Kantata: test_tls_warehouse). What it checks is the CRM's and the ERP's, whichever PSA delivers."""
    with installed_stack("salesforce", "certinia"), \
            isolated_hub(warehouse_url, home / "crm-invoices", "pshub_crm_invoices_test", psa="certinia") as env:
        yield env


CREDIT_LIMIT = 50000.0


@pytest.fixture(scope="module")
def first(hub_env):
    """Finance sets a credit limit on three ERP customers (REST PATCH), then one full cycle."""
    from flows.hub import hub

    with client_for("netsuite") as ns:
        customers = sorted({str(r["entity"]) for page in ns.suiteql_pages(
            "SELECT t.entity FROM transaction t WHERE t.type = 'CustInvc'") for r in page}, key=int)[:3]
        for customer_id in customers:
            ns.update("customer", customer_id, {"creditLimit": CREDIT_LIMIT})
    summary = hub()
    assert summary["status"] == "succeeded", summary
    return {"summary": summary, "crm": crm_invoices(), "accounts": synced_accounts(), "erp": erp_invoices(),
            "limited": customers}


@pytest.fixture(scope="module")
def after_payment_and_deletion(first, hub_env):
    """An open invoice paid in full and a paid invoice deleted, in the ERP; then one more cycle."""
    from flows.hub import hub
    from sandbox.netsuite import delete_record
    from sandbox.simulate import record_payment

    mine = {i: inv for i, inv in first["erp"].items() if inv["customer"] in first["accounts"]}
    paid_now = next(i for i, inv in sorted(mine.items()) if inv["type"] == "CustInvc" and inv["status"] == "A"
                    and float(inv["foreignamountunpaid"]) > 0)
    deleted = next(i for i, inv in sorted(mine.items()) if inv["type"] == "CustInvc" and inv["status"] == "B")
    store = hub_env["sandbox"].store
    with store.write_lock:
        record_payment(store.conn(), store, int(paid_now), store.now().date(), store.stamp("netsuite"))
        delete_record(store, "transaction", int(deleted))
    summary = hub()
    assert summary["status"] == "succeeded", summary
    return {"paid": paid_now, "deleted": deleted, "summary": summary, "crm": crm_invoices()}


def test_every_erp_invoice_of_a_synced_account_is_in_the_crm_once_with_the_erps_open_balance(first):
    accounts, crm = first["accounts"], first["crm"]
    mine = {i: inv for i, inv in first["erp"].items() if inv["customer"] in accounts}
    assert len(accounts) > 5 and len(mine) > 20
    assert {i: len(crm.get(i, [])) for i in mine} == {i: 1 for i in mine}
    for invoice_id, invoice in mine.items():
        record = crm[invoice_id][0]
        assert record["Account__c"] == accounts[invoice["customer"]]["Id"]
        assert float(record["Open_Balance__c"]) == pytest.approx(signed_open(invoice)), invoice_id
    # and nothing else: no record for an invoice of a customer no CRM account is synced with
    assert set(crm) <= set(mine)


def test_invoice_status_and_days_overdue_follow_the_erp(first):
    crm, erp = first["crm"], first["erp"]
    statuses = {}
    for invoice_id, (record,) in crm.items():
        invoice = erp[invoice_id]
        statuses[record["Status__c"]] = statuses.get(record["Status__c"], 0) + 1
        if invoice["type"] == "CustCred":
            assert record["Status__c"] == "credited"
        elif float(invoice["foreignamountunpaid"] or 0) == 0:
            assert record["Status__c"] in ("paid", "credited") and record["Days_Overdue__c"] == 0
        else:
            assert record["Status__c"] in ("open", "partially paid", "overdue")
            assert (record["Status__c"] == "overdue") == (record["Days_Overdue__c"] > 0)
            assert record["Collection_Stage__c"] not in (None, "none")
    assert statuses.get("paid", 0) > 0 and statuses.get("overdue", 0) > 0, statuses


def test_accounts_show_credit_limit_available_credit_stage_and_when_finance_was_synced(first):
    accounts = first["accounts"]
    assert all(a["Finance_Synced_At__c"] and a["Collection_Stage__c"] for a in accounts.values())
    limited = [accounts[c] for c in first["limited"] if c in accounts]
    assert limited and all(a["Credit_Limit__c"] == CREDIT_LIMIT for a in limited)
    with client_for("salesforce") as sf:
        open_ar = {r["Id"]: r["Open_AR__c"] for page in sf.query_pages(
            "SELECT Id, Open_AR__c FROM Account WHERE Credit_Limit__c != null") for r in page}
    assert {a["Id"]: a["Available_Credit__c"] for a in limited} == {
        a["Id"]: pytest.approx(CREDIT_LIMIT - open_ar[a["Id"]]) for a in limited}
    unlimited = [a for c, a in accounts.items() if c not in first["limited"]]
    assert all(a["Credit_Limit__c"] is None and a["Available_Credit__c"] is None for a in unlimited)


def test_opportunities_show_unbilled_work_and_when_delivery_was_synced(first, hub_env):
    pushed = first["summary"]["syncs"]
    assert next(s for s in pushed if s["sync"] == "crm_opportunity_delivery")["pushed"] > 0
    with client_for("salesforce") as sf:
        rows = [r for page in sf.query_pages("SELECT Id, Unbilled_Work__c, Last_Synced_At__c FROM Opportunity "
                                             "WHERE Last_Synced_At__c != null") for r in page]
    with psycopg.connect(hub_env["database_url"]) as conn:
        wip = dict(conn.execute("select crm_opportunity_id, wip_amount from marts.engagements").fetchall())
    assert rows and {r["Id"]: r["Unbilled_Work__c"] for r in rows} == {
        r["Id"]: (None if wip[r["Id"]] is None else pytest.approx(float(wip[r["Id"]]))) for r in rows}
    assert any(r["Unbilled_Work__c"] for r in rows)
    synced = [dt.datetime.fromisoformat(r["Last_Synced_At__c"].replace("+0000", "+00:00")) for r in rows]
    assert max(synced) > dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2)


def test_a_payment_recorded_in_the_erp_shows_as_paid_in_the_crm_after_one_cycle(first, after_payment_and_deletion):
    before = first["crm"][after_payment_and_deletion["paid"]][0]
    (record,) = after_payment_and_deletion["crm"][after_payment_and_deletion["paid"]]
    assert before["Status__c"] != "paid" and float(before["Open_Balance__c"]) > 0
    assert record["Status__c"] == "paid" and float(record["Open_Balance__c"]) == 0
    assert record["Last_Payment_Date__c"] is not None and record["Days_Overdue__c"] == 0


def test_an_invoice_deleted_in_the_erp_keeps_its_crm_record_marked_voided(after_payment_and_deletion):
    (record,) = after_payment_and_deletion["crm"][after_payment_and_deletion["deleted"]]
    assert record["Status__c"] == "voided" and float(record["Open_Balance__c"]) == 0


def test_a_cycle_with_no_erp_change_writes_no_invoice(after_payment_and_deletion, hub_env):
    from flows.hub import hub

    summary = hub()
    pushed = {s["sync"]: s["pushed"] for s in summary["syncs"]}
    assert pushed["crm_invoices"] == 0 and pushed["crm_account_finance"] == 0, pushed


def test_this_hub_sold_in_salesforce_and_delivered_in_certinia(first, hub_env):
    with psycopg.connect(hub_env["database_url"]) as conn:
        crm = dict(conn.execute("select crm_system, count(*) from intermediate.int_crm_opportunities group by 1"))
        psa = dict(conn.execute("select psa_system, count(*) from intermediate.int_psa_projects group by 1"))
    assert crm.keys() == {"salesforce"} and psa.keys() == {"certinia"}, (crm, psa)
