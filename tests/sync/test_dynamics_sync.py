"""Syncs to Dynamics 365 Finance: the engine pushes outbound rows as $batch change sets by natural key; under 5xx,
429 and lost responses every record ends in the ERP once with its latest values, and later changes are PATCHed."""
from __future__ import annotations

import uuid

import psycopg
import pytest

from connectors.dynamics import odata_literal
from pshub.clients import client_for
from reverse_etl import engine
from reverse_etl.syncs import DYNAMICS_UPSERT, Sync, fields

CUSTOMER_COLUMNS = 'external_id text, "dataAreaId" text, "CustomerAccount" text, "OrganizationName" text, ' \
                   '"SalesCurrencyCode" text, _customer text'
HOUR_COLUMNS = 'external_id text, "dataAreaId" text, "JournalId" text, "LineNumber" integer, "ProjectID" text, ' \
               '"ProjectDate" date, "Hours" numeric, "SalesPrice" numeric, "CurrencyId" text, ' \
               '"PshExternalId" text, _customer text, _amount_at_stake numeric, _currency text'


def customers_sync(name: str, batch_size: int = 25) -> Sync:
    return Sync(name, "dynamics", "CustomersV3", "external_id",
                fields("dataAreaId!", "CustomerAccount!", "OrganizationName!", "SalesCurrencyCode"),
                DYNAMICS_UPSERT, batch_size=batch_size, natural_key=("dataAreaId", "CustomerAccount"))


def hours_sync(name: str) -> Sync:
    return Sync(name, "dynamics", "JournalTrans", "external_id",
                fields("dataAreaId!", "JournalId!", "LineNumber:integer!", "ProjectID!", "ProjectDate:date!",
                       "Hours:number!", "SalesPrice:number", "CurrencyId", "PshExternalId"),
                DYNAMICS_UPSERT, batch_size=20, natural_key=("dataAreaId", "JournalId", "LineNumber"))


def apply_until_clean(conn, sync, runs: int = 10) -> list[engine.SyncResult]:
    """Runs as the hub's cycles would: failed records are retried by the next run."""
    results = []
    for n in range(runs):
        results.append(engine.apply(conn, sync, f"r-d365-{n}", lambda: client_for("dynamics"), concurrency=3,
                                    confirm=True))
        if results[-1].planned == 0:
            break
    return results


def in_erp(entity: str, flt: str) -> list[dict]:
    with client_for("dynamics") as client:
        return [r for p in client.pages(entity, filter=flt) for r in p]


@pytest.fixture
def dynamics_faults(sandbox_admin):
    yield lambda **changes: sandbox_admin.faults("dynamics", **changes)
    sandbox_admin.faults("dynamics", error_rate=0, rate_limit_rate=0, drop_rate=0, lost_response_rate=0)


def test_customers_converge_under_faults_then_changes_are_patched(conn, outbound_table, dynamics_faults):
    name, prefix = "t_d365_customers", "H" + uuid.uuid4().hex[:5].upper()
    rows = [(f"crm-{prefix}-{i}", "nbuk", f"{prefix}{i:03d}", f"Client {i} Ltd", "GBP", f"Client {i}")
            for i in range(60)]
    outbound_table(name, CUSTOMER_COLUMNS, rows)
    sync = customers_sync(name)
    dynamics_faults(error_rate=0.2, rate_limit_rate=0.1, retry_after_seconds=1, lost_response_rate=0.3)
    results = apply_until_clean(conn, sync)
    assert results[-1].planned == 0, [(r.status, r.pushed, r.failed, r.message) for r in results]
    dynamics_faults(error_rate=0, rate_limit_rate=0, lost_response_rate=0)
    found = [r for chunk in (rows[:30], rows[30:])
             for r in in_erp("CustomersV3", " or ".join(f"CustomerAccount eq {odata_literal(c[2])}" for c in chunk))]
    assert sorted((r["CustomerAccount"], r["OrganizationName"]) for r in found) == sorted((r[2], r[3]) for r in rows)
    with psycopg.connect(conn.info.dsn, password=conn.info.password, autocommit=True) as admin:
        admin.execute(f'update outbound.{name} set "OrganizationName" = "OrganizationName" || \' (renamed)\' '
                      f"where external_id like %s", (f"crm-{prefix}-1%",))
    second = engine.apply(conn, sync, "r-d365-rename", lambda: client_for("dynamics"), confirm=True)
    assert second.planned_inserts == 0 and second.planned_updates == 11 and second.pushed == 11
    assert second.write_calls == 1  # one change set
    renamed = in_erp("CustomersV3", "CustomerAccount eq " + odata_literal(f"{prefix}010"))
    assert renamed[0]["OrganizationName"] == "Client 10 Ltd (renamed)"


def test_hour_lines_are_posted_once_despite_lost_answers(conn, outbound_table, dynamics_faults):
    """Financial records: a lost answer to a change set that committed is redone by natural key, never posted
    twice; the hours in the ERP are exactly the outbound model's."""
    with client_for("dynamics") as client:  # the UK ledger's first open period, dated by the shared calendar
        open_ = {(r["Calendar"], r["YearName"], r["PeriodName"]) for p in client.pages(
            "LedgerFiscalPeriods", filter="LegalEntityId eq 'nbuk' and PeriodStatus eq "
                                          "Microsoft.Dynamics.DataEntities.FiscalPeriodStatus'Open'") for r in p}
        day = min(r["StartDate"] for p in client.pages("FiscalPeriods") for r in p
                  if (r["Calendar"], r["FiscalYear"], r["PeriodName"]) in open_)[:10]
    name, journal = "t_d365_hours", "HUB-" + uuid.uuid4().hex[:6].upper()
    rows = [(f"te-{journal}-{i}", "nbuk", journal, i + 1, "P000001", day, 1 + (i % 8) * 0.5, 120, "GBP",
             f"te-{journal}-{i}", "Client", 120.0, "GBP") for i in range(45)]
    outbound_table(name, HOUR_COLUMNS, rows)
    dynamics_faults(error_rate=0.2, rate_limit_rate=0.1, retry_after_seconds=1, lost_response_rate=0.5)
    results = apply_until_clean(conn, hours_sync(name))
    assert results[-1].planned == 0, [(r.status, r.pushed, r.failed, r.message) for r in results]
    dynamics_faults(lost_response_rate=0, error_rate=0, rate_limit_rate=0)
    lines = in_erp("JournalTrans", f"JournalId eq {odata_literal(journal)}")
    assert sorted(r["LineNumber"] for r in lines) == list(range(1, 46))
    assert sum(r["Hours"] for r in lines) == pytest.approx(sum(r[6] for r in rows))
