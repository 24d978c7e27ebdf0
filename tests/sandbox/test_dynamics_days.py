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
                d365.create("ProjectHourJournalLines", {
                    "dataAreaId": "nbuk", "JournalNumber": "HUB-TEST", "LineNumber": n, "ProjectID": project,
                    "Worker": "E000001", "CategoryId": "Consulting", "TransactionDate": f"{start.isoformat()}T12:00:00Z",
                    "Hours": hours, "SalesPrice": 150.0, "CurrencyCode": "GBP", "LineProperty": "Chargeable",
                    "PshExternalId": f"hub-test-{n}"})
        changes = sb.tick(27)["changes"]  # the 3rd (billing run) and the 10th (period close) of next month
        month = (start.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        assert changes.get("dynamics.invoices.created", 0) > 0 and changes.get("dynamics.payments.created", 0) > 0
        # the billing run invoiced in Dynamics every chargeable UK line of last month and before
        assert c.execute(
            "SELECT COUNT(*) FROM d365_ProjectHourJournalLines h JOIN d365_Projects p ON p.dataAreaId = h.dataAreaId "
            "AND p.ProjectID = h.ProjectID WHERE h.dataAreaId = 'nbuk' AND h.InvoiceIdentifier IS NULL "
            "AND h.LineProperty = 'Chargeable' AND p.ProjectType = 'TimeMaterial' "
            "AND substr(h.TransactionDate, 1, 10) < ?", (month.isoformat(),)).fetchone()[0] == 0
        invoiced = c.execute(
            "SELECT h.InvoiceNumber, h.InvoiceDate, ROUND(SUM(l.LineAmount), 2) FROM d365_FreeTextInvoiceHeaders h "
            "JOIN d365_FreeTextInvoiceLines l ON l.dataAreaId = h.dataAreaId AND l.InvoiceIdentifier = h.InvoiceIdentifier "
            "WHERE h.dataAreaId = 'nbuk' AND substr(h.InvoiceDate, 1, 10) = ? GROUP BY 1, 2",
            ((month + dt.timedelta(days=2)).isoformat(),)).fetchall()
        assert invoiced and all(total > 0 for _n, _d, total in invoiced)
        # the hub's two lines: one invoice line of their hours at their price (beside the project's other work)
        lines = c.execute("SELECT l.Description, l.Quantity, l.LineAmount FROM d365_FreeTextInvoiceLines l "
                          "WHERE (l.dataAreaId, l.InvoiceIdentifier) IN (SELECT dataAreaId, InvoiceIdentifier "
                          "FROM d365_ProjectHourJournalLines WHERE JournalNumber = 'HUB-TEST')").fetchall()
        assert ("timebill", 13.5, 2025.0) in lines, lines
        # nothing of the UK's posted to NetSuite on these days; the other entities' still are
        new = dict(c.execute("SELECT subsidiary, COUNT(*) FROM ns_transaction WHERE type IN ('CustInvc', 'CustPymt') "
                             "AND trandate > ? GROUP BY 1", (start.isoformat(),)).fetchall())
        assert 2 not in new and new.get(1, 0) > 0, new
        # every company's last month closed on the 10th, as NetSuite's calendar
        closed_on = (month + dt.timedelta(days=9)).isoformat()
        last_month = (month - dt.timedelta(days=1)).isoformat()
        periods = c.execute("SELECT PeriodStatus, substr(ModifiedDateTime, 1, 10) FROM d365_FiscalPeriods "
                            "WHERE dataAreaId = 'nbuk' AND substr(EndDate, 1, 10) = ?", (last_month,)).fetchall()
        assert periods == [("PermanentlyClosed", closed_on)], periods
        assert c.execute("SELECT closed, closedondate FROM ns_accountingperiod WHERE enddate = ? AND isquarter = 'F' "
                         "AND isyear = 'F' AND isadjust = 'F'", (last_month,)).fetchone() == ("T", closed_on)
