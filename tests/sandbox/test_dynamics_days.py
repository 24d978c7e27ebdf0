"""The firm's clock with a legal entity placed in Dynamics 365 Finance: the days post that entity's new ERP records to
Dynamics (its billing run, its payments, its period close), and nothing of it to NetSuite; the other entities' go on in
NetSuite as before."""
from __future__ import annotations

import datetime as dt

from connectors import catalog
from connectors.dynamics import DynamicsClient
from sandbox.server import SandboxServer

ANCHOR = dt.datetime(2025, 6, 15, 12, 0, 0)


def test_days_post_a_routed_entitys_new_records_to_dynamics(tmp_path):
    with SandboxServer(tmp_path, scale="demo", seed=7, anchor=ANCHOR, dynamics_routes="UK") as sb:
        c = sb.store.conn()
        start = sb.store.now().date()
        # the hub posts approved UK time of this month as project hour journal lines (its connector, over HTTP)
        project = c.execute("SELECT ProjectID FROM d365_Projects WHERE dataAreaId = 'nbuk' "
                            "AND ProjectType = 'TimeMaterial' ORDER BY ProjectID LIMIT 1").fetchone()[0]
        with DynamicsClient(sb.urls["dynamics"], sb.credentials_for("dynamics"), keys=catalog.DYNAMICS_KEYS,
                            integer_keys=catalog.DYNAMICS_INTEGER_KEYS) as d365:
            for n, hours in enumerate((6.0, 7.5), start=1):
                d365.create("JournalTrans", {
                    "dataAreaId": "nbuk", "JournalId": "HUB-TEST", "LineNumber": n, "ProjectID": project,
                    "ResourceId": "E000001", "Category": "Consulting", "ProjectDate": f"{start.isoformat()}T12:00:00Z",
                    "Hours": hours, "SalesPrice": 150.0, "CurrencyId": "GBP", "LineProperty": "Chargeable",
                    "PshExternalId": f"hub-test-{n}"})
        changes = sb.tick(27)["changes"]  # the 3rd (billing run) and the 10th (period close) of next month
        month = (start.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        assert changes.get("dynamics.invoices.created", 0) > 0 and changes.get("dynamics.payments.created", 0) > 0
        # the billing run invoiced in Dynamics every chargeable UK line of last month and before
        assert c.execute(
            "SELECT COUNT(*) FROM d365_JournalTrans h JOIN d365_Projects p ON p.dataAreaId = h.dataAreaId "
            "AND p.ProjectID = h.ProjectID WHERE h.dataAreaId = 'nbuk' AND h.PshInvoiceIdentifier IS NULL "
            "AND h.LineProperty = 'Chargeable' AND p.ProjectType = 'TimeMaterial' "
            "AND substr(h.ProjectDate, 1, 10) < ?", (month.isoformat(),)).fetchone()[0] == 0
        invoiced = c.execute(
            "SELECT h.InvoiceNumber, h.InvoiceDate, ROUND(SUM(l.LineAmount), 2) FROM d365_FreeTextInvoiceHeaders h "
            "JOIN d365_FreeTextInvoiceLines l ON l.dataAreaId = h.dataAreaId AND l.InvoiceIdentifier = h.InvoiceIdentifier "
            "WHERE h.dataAreaId = 'nbuk' AND substr(h.InvoiceDate, 1, 10) = ? GROUP BY 1, 2",
            ((month + dt.timedelta(days=2)).isoformat(),)).fetchall()
        assert invoiced and all(total > 0 for _n, _d, total in invoiced)
        # the hub's two lines: one invoice line of their hours at their price (beside the project's other work)
        lines = c.execute("SELECT l.Description, l.Quantity, l.LineAmount FROM d365_FreeTextInvoiceLines l "
                          "WHERE (l.dataAreaId, l.InvoiceIdentifier) IN (SELECT dataAreaId, PshInvoiceIdentifier "
                          "FROM d365_JournalTrans WHERE JournalId = 'HUB-TEST')").fetchall()
        assert ("timebill", 13.5, 2025.0) in lines, lines
        # nothing of the UK's posted to NetSuite on these days; the other entities' still are
        new = dict(c.execute("SELECT subsidiary, COUNT(*) FROM ns_transaction WHERE type IN ('CustInvc', 'CustPymt') "
                             "AND trandate > ? GROUP BY 1", (start.isoformat(),)).fetchall())
        assert 2 not in new and new.get(1, 0) > 0, new
        # every company's last month closed on the 10th, as NetSuite's calendar
        closed_on = (month + dt.timedelta(days=9)).isoformat()
        last_month = (month - dt.timedelta(days=1)).isoformat()
        periods = c.execute("SELECT l.PeriodStatus, substr(l.ModifiedDateTime, 1, 10) FROM d365_LedgerFiscalPeriods l "
                            "JOIN d365_FiscalPeriods p ON p.Calendar = l.Calendar AND p.FiscalYear = l.YearName "
                            "AND p.PeriodName = l.PeriodName WHERE l.LegalEntityId = 'nbuk' "
                            "AND substr(p.EndDate, 1, 10) = ?", (last_month,)).fetchall()
        assert periods == [("PermanentlyClosed", closed_on)], periods
        assert c.execute("SELECT closed, closedondate FROM ns_accountingperiod WHERE enddate = ? AND isquarter = 'F' "
                         "AND isyear = 'F' AND isadjust = 'F'", (last_month,)).fetchone() == ("T", closed_on)


def test_a_firm_made_before_the_documented_names_keeps_its_journal_lines_and_periods():
    """A firm kept from a version that served ProjectHourJournalLines, ProjectExpenseJournalLines and per-company
    FiscalPeriods: its lines move to JournalTrans and ExpenseJournalLines, its periods to the shared calendar and the
    ledgers' statuses (sandbox.dynamics._migrate), nothing lost."""
    import sqlite3

    from sandbox.dynamics import create_tables
    c = sqlite3.connect(":memory:")
    c.execute('CREATE TABLE "d365_ProjectHourJournalLines" (dataAreaId, JournalNumber, LineNumber, ProjectID, Worker, '
              'CategoryId, TransactionDate, Hours, SalesPrice, CurrencyCode, LineProperty, Text, InvoiceIdentifier, '
              'PshExternalId, ModifiedDateTime)')
    c.execute('CREATE TABLE "d365_ProjectExpenseJournalLines" (dataAreaId, JournalNumber, LineNumber, ProjectID, Worker, '
              'CategoryId, TransactionDate, Amount, CurrencyCode, LineProperty, Text, InvoiceIdentifier, PshExternalId, '
              'ModifiedDateTime)')
    c.execute('CREATE TABLE "d365_FiscalPeriods" (dataAreaId, Calendar, FiscalYear, PeriodName, StartDate, EndDate, '
              'PeriodStatus, ModifiedDateTime, PRIMARY KEY (dataAreaId, Calendar, FiscalYear, PeriodName))')
    day = "2025-01-06T12:00:00Z"
    c.execute('INSERT INTO "d365_ProjectHourJournalLines" VALUES (\'nbuk\', \'HRS-2025-01\', 7, \'P000001\', '
              '\'E000002\', \'Consulting\', ?, 7.5, 150, \'GBP\', \'Chargeable\', \'memo\', 41, \'te-7\', ?)', (day, day))
    c.execute('INSERT INTO "d365_ProjectExpenseJournalLines" VALUES (\'nbuk\', \'EXP-2025-01\', 8, \'P000001\', '
              '\'E000002\', \'Travel\', ?, 99.5, \'GBP\', \'Chargeable\', \'taxi\', NULL, \'ex-8\', ?)', (day, day))
    for company, status in (("nbus", "Open"), ("nbuk", "PermanentlyClosed")):
        c.execute('INSERT INTO "d365_FiscalPeriods" VALUES (?, \'Fiscal\', \'2025\', \'Jan 2025\', '
                  '\'2025-01-01T12:00:00Z\', \'2025-01-31T12:00:00Z\', ?, ?)', (company, status, day))
    create_tables(c)
    tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert not {"d365_ProjectHourJournalLines", "d365_ProjectExpenseJournalLines"} & tables
    assert c.execute("SELECT JournalId, LineNumber, ResourceId, Category, ProjectDate, Hours, CurrencyId, Description, "
                     "PshInvoiceIdentifier FROM d365_JournalTrans").fetchall() == [
        ("HRS-2025-01", 7, "E000002", "Consulting", day, 7.5, "GBP", "memo", 41)]
    assert c.execute("SELECT JournalBatchNumber, ProjId, ProjectCategory, DebitAmount, ProjectLineProperty "
                     "FROM d365_ExpenseJournalLines").fetchall() == [("EXP-2025-01", "P000001", "Travel", 99.5,
                                                                       "Chargeable")]
    assert c.execute("SELECT Calendar, FiscalYear, PeriodName, StartDate FROM d365_FiscalPeriods").fetchall() == [
        ("Fiscal", "2025", "Jan 2025", "2025-01-01T12:00:00Z")]
    assert sorted(c.execute("SELECT LedgerName, LegalEntityId, YearName, PeriodStatus FROM d365_LedgerFiscalPeriods")) \
        == [("nbuk", "nbuk", "2025", "PermanentlyClosed"), ("nbus", "nbus", "2025", "Open")]
