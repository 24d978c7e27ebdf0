"""The firm's books in Dynamics 365 Finance: reference data always, and the legal entities routed to it.

Routing is off by default (every entity posts to NetSuite). `routes` = {legal entity: cut-over date}: from that date
the entity's time, expenses, invoices and payments are in Dynamics instead of NetSuite; its customers and projects are
migrated to Dynamics (and stay in NetSuite as well when NetSuite holds transactions of theirs from before the date).
Applied once, when the firm is generated or first served with routes; the routes are kept in the firm's meta.
Records moved out of NetSuite leave no deletedrecord trace: in this firm they were never posted there.
"""
from __future__ import annotations

import datetime as dt
import json

from sandbox.dynamics import COMPANIES, EMPTY_DATE, NS_SUBSIDIARY, create_tables, d365_date, d365_datetime, table
from sandbox.store import Store, parse_datetime

CURRENCY_CODES = {1: "USD", 2: "GBP", 3: "CAD", 4: "EUR"}
TERMS = {3: "Due on receipt", 4: "Net15", 5: "Net30", 6: "Net45", 7: "Net60"}
BILLING_TYPE = {"TM": "TimeMaterial", "FBI": "FixedPrice", "FBM": "FixedPrice", "CB": "FixedPrice"}
STAGE = {1: "Completed", 2: "InProcess", 3: "Created", 4: "InProcess", 17: "Created"}
ROLE_CATEGORY = {11: "Analyst", 12: "Consulting", 13: "ProjMgmt", 14: "ProgMgmt", 15: "Architecture"}


def parse_routes(text: str | None) -> dict[str, str | None]:
    """`UK` or `UK@2026-06-01,DE` -> {"UK": "2026-06-01", "DE": None} (None: all of its books, however old)."""
    out: dict[str, str | None] = {}
    for item in (text or "").replace(" ", "").split(","):
        if not item:
            continue
        entity, _, day = item.partition("@")
        entity = entity.upper()
        if entity not in COMPANIES:
            raise ValueError(f"unknown legal entity {entity!r}; known: {', '.join(COMPANIES)}")
        if day:
            dt.date.fromisoformat(day)  # a clear error for a bad date
        out[entity] = day or None
    return out


def _stamp(ns_stamp: str | None) -> str:
    return d365_datetime(parse_datetime(ns_stamp)) if ns_stamp else "2000-01-01T00:00:00Z"


def populate(store: Store, routes: dict[str, str | None] | None = None) -> dict:
    """Reference data (once) and the routed entities' books (once per firm). Returns what was moved, per entity set."""
    c = store.conn()
    with store.write_lock:
        create_tables(c)
        c.execute("BEGIN")
        try:
            if store.meta("dynamics_reference") != "1":
                _reference(store)
                c.execute("INSERT OR REPLACE INTO sandbox_meta VALUES ('dynamics_reference', '1')")
            moved: dict[str, int] = {}
            done = json.loads(store.meta("dynamics_routes") or "{}")
            for entity, day in (routes or {}).items():
                if entity in done:
                    continue
                start = day or "0001-01-01"  # no date: every record of the entity, however old
                for k, v in _route(store, entity, start).items():
                    moved[k] = moved.get(k, 0) + v
                done[entity] = start
            c.execute("INSERT OR REPLACE INTO sandbox_meta VALUES ('dynamics_routes', ?)", (json.dumps(done),))
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
    return moved


def routes_of(store: Store) -> dict[str, str]:
    """The legal entities routed to Dynamics in this firm and their cut-over dates."""
    return json.loads(store.meta("dynamics_routes") or "{}")


def _insert(c, entity: str, rows: list[dict]) -> int:
    if not rows:
        return 0
    cols = list(rows[0])
    c.executemany(f'INSERT OR REPLACE INTO "{table(entity)}" ({", ".join(chr(34) + k + chr(34) for k in cols)}) '
                  f'VALUES ({", ".join("?" * len(cols))})', [[r[k] for k in cols] for r in rows])
    return len(rows)


def _reference(store: Store) -> None:
    c = store.conn()
    now = d365_datetime(store.now())
    _insert(c, "LegalEntities", [{"LegalEntityId": code, "Name": name, "AddressCountryRegionId": country,
                                  "AccountingCurrency": cur, "ModifiedDateTime": now}
                                 for code, name, cur, country in COMPANIES.values()])
    _insert(c, "Currencies", [{"CurrencyCode": code, "Name": name, "Symbol": sym, "ModifiedDateTime": now}
                              for code, name, sym in c.execute("SELECT name, name, symbol FROM ns_currency")])
    rates = c.execute("SELECT basecurrency, transactioncurrency, exchangerate, effectivedate, lastmodifieddate "
                      "FROM ns_currencyrate ORDER BY basecurrency, transactioncurrency, effectivedate").fetchall()
    rows = []
    for i, (base, cur, rate, eff, stamp) in enumerate(rates):
        nxt = rates[i + 1] if i + 1 < len(rates) else None
        end = None
        if nxt and nxt[0] == base and nxt[1] == cur:
            end = (dt.date.fromisoformat(nxt[3]) - dt.timedelta(days=1)).isoformat()
        # NetSuite: 1 base = rate x transaction currency... the hub reads the rate as given; Default is the rate type
        rows.append({"RateTypeName": "Default", "FromCurrency": CURRENCY_CODES.get(cur, str(cur)),
                     "ToCurrency": CURRENCY_CODES.get(base, str(base)), "StartDate": d365_date(eff),
                     "EndDate": d365_date(end), "Rate": rate, "ModifiedDateTime": _stamp(stamp)})
    _insert(c, "ExchangeRates", rows)
    periods = c.execute("SELECT periodname, startdate, enddate, closed, lastmodifieddate FROM ns_accountingperiod "
                        "WHERE isquarter = 'F' AND isyear = 'F' AND isadjust = 'F'").fetchall()
    # one fiscal calendar for every legal entity; each entity's ledger keeps its own status of each period
    _insert(c, "FiscalPeriods", [
        {"Calendar": "Fiscal", "FiscalYear": start[:4], "PeriodName": name, "StartDate": d365_date(start),
         "EndDate": d365_date(end), "ModifiedDateTime": _stamp(stamp)} for name, start, end, _closed, stamp in periods])
    _insert(c, "LedgerFiscalPeriods", [
        {"LedgerName": code, "Calendar": "Fiscal", "YearName": start[:4], "PeriodName": name,
         "PeriodStatus": "PermanentlyClosed" if closed == "T" else "Open", "LegalEntityId": code,
         "ModifiedDateTime": _stamp(stamp)}
        for code, *_ in COMPANIES.values() for name, start, _end, closed, stamp in periods])


def _route(store: Store, entity: str, start: str) -> dict[str, int]:
    """Move one legal entity's books dated on or after `start` from NetSuite to Dynamics."""
    c = store.conn()
    code = COMPANIES[entity][0]
    sub = NS_SUBSIDIARY[entity]
    before = lambda col: f"{col} < '{start}'"  # noqa: E731 (a date literal, not user input: parsed by parse_routes)
    moved: dict[str, int] = {}
    # customers: every customer of the entity is migrated; NetSuite keeps those with earlier transactions
    customers = c.execute("SELECT id, entityid, companyname, externalid, currency, terms, creditlimit, "
                          "creditholdoverride, email, lastmodifieddate FROM ns_customer WHERE subsidiary = ?",
                          (sub,)).fetchall()
    account = {cid: f"C{cid:06d}" for cid, *_ in customers}
    moved["CustomersV3"] = _insert(c, "CustomersV3", [
        {"dataAreaId": code, "CustomerAccount": account[cid], "OrganizationName": name, "CustomerGroupId": "Services",
         "SalesCurrencyCode": CURRENCY_CODES.get(cur, "GBP"), "PaymentTerms": TERMS.get(terms, "Net30"),
         "CreditLimit": limit or 0.0, "OnHoldStatus": "All" if hold == "ON" else "No",
         "AddressCountryRegionId": COMPANIES[entity][3], "PrimaryContactEmail": email,
         "PshCrmAccountId": ext, "ModifiedDateTime": _stamp(stamp)}
        for cid, _eid, name, ext, cur, terms, limit, hold, email, stamp in customers])
    jobs = c.execute("SELECT id, companyname, parent, currency, entitystatus, jobbillingtype, startdate, "
                     "coalesce(enddate, projectedenddate), custentity_crm_opportunity_id, custentity_billing_model, "
                     "custentity_service_line, lastmodifieddate, datecreated FROM ns_job WHERE subsidiary = ?",
                     (sub,)).fetchall()
    project = {jid: f"P{jid:06d}" for jid, *_ in jobs}
    moved["Projects"] = _insert(c, "Projects", [
        {"dataAreaId": code, "ProjectID": project[jid], "ProjectName": name,
         "CustomerAccount": account.get(parent, f"C{parent:06d}" if parent else ""), "ProjectGroup": "Services",
         "ProjectType": BILLING_TYPE.get(btype, "TimeMaterial"), "ProjectStage": STAGE.get(status, "InProcess"),
         "StartDate": d365_date(sd), "EndDate": d365_date(ed), "CurrencyCode": CURRENCY_CODES.get(cur, "GBP"),
         # the job's creation day (UTC): ProjTable.Created is a date, without the time of day NetSuite keeps
         "DateOfCreation": d365_date(parse_datetime(created).date().isoformat()) if created else EMPTY_DATE,
         "PshCrmOpportunityId": opp, "PshBillingModel": bm, "PshServiceLine": sl, "ModifiedDateTime": _stamp(stamp)}
        for jid, name, parent, cur, status, btype, sd, ed, opp, bm, sl, stamp, created in jobs])
    invoices = c.execute(
        f"SELECT id, tranid, type, trandate, entity, currency, duedate, memo, lastmodifieddate FROM ns_transaction "
        f"WHERE subsidiary = ? AND type IN ('CustInvc', 'CustCred') AND NOT {before('trandate')}", (sub,)).fetchall()
    invoice_ids = {tid for tid, *_ in invoices}
    invoice_number = {tid: tranid for tid, tranid, *_ in invoices}
    # each invoice's project: the job named on its lines
    inv_project = dict(c.execute(
        f"SELECT l.\"transaction\", max(l.entity) FROM ns_transactionline l JOIN ns_transaction t ON t.id = "
        f"l.\"transaction\" WHERE t.subsidiary = ? AND t.type IN ('CustInvc', 'CustCred') AND l.mainline = 'F' "
        f"AND NOT {before('t.trandate')} GROUP BY l.\"transaction\"", (sub,)).fetchall())
    moved["FreeTextInvoiceHeaders"] = _insert(c, "FreeTextInvoiceHeaders", [
        {"dataAreaId": code, "InvoiceIdentifier": tid, "InvoiceNumber": tranid,
         "CustomerAccount": account.get(cust, f"C{cust:06d}"), "InvoiceDate": d365_date(day),
         "DueDate": d365_date(due), "CurrencyCode": CURRENCY_CODES.get(cur, "GBP"), "IsPosted": "Yes",
         "InvoiceDescription": memo, "PshProjectId": project.get(inv_project.get(tid)),
         "ModifiedDateTime": _stamp(stamp)}
        for tid, tranid, typ, day, cust, cur, due, memo, stamp in invoices])
    sign = {tid: (-1.0 if typ == "CustCred" else 1.0) for tid, _t, typ, *_ in invoices}
    lines = c.execute(
        f"SELECT l.\"transaction\", l.linesequencenumber, l.memo, l.quantity, l.rate, l.netamount, l.entity, "
        f"l.linelastmodifieddate FROM ns_transactionline l JOIN ns_transaction t ON t.id = l.\"transaction\" "
        f"WHERE t.subsidiary = ? AND t.type IN ('CustInvc', 'CustCred') AND l.mainline = 'F' "
        f"AND NOT {before('t.trandate')}", (sub,)).fetchall()
    moved["FreeTextInvoiceLines"] = _insert(c, "FreeTextInvoiceLines", [
        {"dataAreaId": code, "InvoiceIdentifier": tid, "LineNumber": seq, "Description": memo,
         "Quantity": qty, "UnitPrice": rate, "LineAmount": sign[tid] * (amount or 0.0),  # credit notes: negative
         "PshProjectId": project.get(job), "ModifiedDateTime": _stamp(stamp)}
        for tid, seq, memo, qty, rate, amount, job, stamp in lines])
    payments = c.execute(
        f"SELECT p.id, p.tranid, p.trandate, p.entity, p.currency, p.foreigntotal, p.memo, p.lastmodifieddate, "
        f"(SELECT min(k.previousdoc) FROM ns_previoustransactionlink k WHERE k.nextdoc = p.id) FROM ns_transaction p "
        f"WHERE p.subsidiary = ? AND p.type = 'CustPymt' AND NOT {before('p.trandate')}", (sub,)).fetchall()
    moved["CustomerPaymentJournalLines"] = _insert(c, "CustomerPaymentJournalLines", [
        {"dataAreaId": code, "JournalBatchNumber": f"PAY-{day[:7]}", "LineNumber": pid,
         "AccountDisplayValue": account.get(cust, f"C{cust:06d}"), "TransactionDate": d365_date(day),
         "CreditAmount": total, "CurrencyCode": CURRENCY_CODES.get(cur, "GBP"),
         # a payment of an invoice still in NetSuite (dated before the cut-over) names it all the same
         "MarkedInvoice": invoice_number.get(inv) or (c.execute("SELECT tranid FROM ns_transaction WHERE id = ?",
                                                                (inv,)).fetchone() or [None])[0] if inv else None,
         "PaymentReference": tranid, "TransactionText": memo, "ModifiedDateTime": _stamp(stamp)}
        for pid, tranid, day, cust, cur, total, memo, stamp, inv in payments])
    payment_ids = {p[0] for p in payments}
    hours = c.execute(
        f"SELECT b.id, b.externalid, b.employee, b.customer, b.item, b.hours, b.rate, b.isbillable, b.trandate, b.memo, "
        f"b.invoice, b.lastmodifieddate, j.currency FROM ns_timebill b JOIN ns_job j ON j.id = b.customer "
        f"WHERE j.subsidiary = ? AND NOT {before('b.trandate')}", (sub,)).fetchall()
    moved["JournalTrans"] = _insert(c, "JournalTrans", [
        {"dataAreaId": code, "JournalId": f"HRS-{day[:7]}", "LineNumber": bid, "ProjectID": project[job],
         "ResourceId": f"E{emp:06d}" if emp else "", "Category": ROLE_CATEGORY.get(item, "Consulting"),
         "ProjectDate": d365_date(day), "Hours": hrs, "SalesPrice": rate,
         "CurrencyId": CURRENCY_CODES.get(cur, "GBP"), "LineProperty": "Chargeable" if bill == "T" else "NonChargeable",
         "Description": memo, "PshInvoiceIdentifier": inv, "PshExternalId": ext, "ModifiedDateTime": _stamp(stamp)}
        for bid, ext, emp, job, item, hrs, rate, bill, day, memo, inv, stamp, cur in hours])
    expenses = c.execute(
        f"SELECT e.id, e.externalid, e.employee, e.entity, e.category, e.amount, e.currency, e.isbillable, e.trandate, "
        f"e.memo, e.invoice, e.lastmodifieddate FROM ns_expensereport e WHERE e.subsidiary = ? "
        f"AND NOT {before('e.trandate')}", (sub,)).fetchall()
    moved["ExpenseJournalLines"] = _insert(c, "ExpenseJournalLines", [
        {"dataAreaId": code, "JournalBatchNumber": f"EXP-{day[:7]}", "LineNumber": eid,
         "ProjId": project.get(job, f"P{job:06d}" if job else ""), "ResourceId": f"E{emp:06d}" if emp else "",
         "ProjectCategory": category or "", "ProjectDate": d365_date(day), "DebitAmount": amount,
         "CurrencyCode": CURRENCY_CODES.get(cur, "GBP"),
         "ProjectLineProperty": "Chargeable" if bill == "T" else "NonChargeable",
         "Text": memo, "PshInvoiceIdentifier": inv, "PshExternalId": ext, "ModifiedDateTime": _stamp(stamp)}
        for eid, ext, emp, job, category, amount, cur, bill, day, memo, inv, stamp in expenses])
    # out of NetSuite: what moved, and the customers and projects with nothing left there from before the date
    for tbl, ids in (("ns_timebill", [h[0] for h in hours]), ("ns_expensereport", [e[0] for e in expenses]),
                     ("ns_transaction", sorted(invoice_ids | payment_ids))):
        c.executemany(f'DELETE FROM "{tbl}" WHERE id = ?', [(i,) for i in ids])
    c.executemany('DELETE FROM ns_transactionline WHERE "transaction" = ?',
                  [(i,) for i in sorted(invoice_ids | payment_ids)])
    c.executemany("DELETE FROM ns_previoustransactionlink WHERE nextdoc = ?", [(i,) for i in sorted(payment_ids)])
    c.execute("DELETE FROM ns_job WHERE subsidiary = ? AND id NOT IN (SELECT customer FROM ns_timebill WHERE customer "
              "IS NOT NULL UNION SELECT entity FROM ns_expensereport WHERE entity IS NOT NULL UNION SELECT l.entity "
              "FROM ns_transactionline l WHERE l.entity IS NOT NULL)", (sub,))
    c.execute("DELETE FROM ns_customer WHERE subsidiary = ? AND id NOT IN (SELECT parent FROM ns_job WHERE parent IS "
              "NOT NULL UNION SELECT entity FROM ns_transaction WHERE entity IS NOT NULL)", (sub,))
    c.execute("DELETE FROM ns_customersubsidiaryrelationship WHERE entity NOT IN (SELECT id FROM ns_customer)")
    return moved



# -- the firm's days in Dynamics (sandbox.simulate.tick) ------------------------------------------------------------
# What a simulated day posts for a legal entity routed to Dynamics goes to Dynamics, as the move above placed its books:
# the billing run invoices the unbilled chargeable journal lines Dynamics holds, payments of the entity's invoices
# (those NetSuite holds from before the cut-over too) are customer payment journal lines, the month's periods close in
# every company on the 10th, and customers go on hold when an invoice is 90+ days overdue. The rules are NetSuite's in
# sandbox/simulate.py, so that a firm placed in either ERP lives the same days.
TERMS_DAYS = {"Due on receipt": 0, "Net15": 15, "Net30": 30, "Net45": 45, "Net60": 60}


def has_dynamics(c) -> bool:
    return c.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'd365_Projects'").fetchone() is not None


def routed_subsidiaries(store: Store, day: dt.date) -> dict[int, str]:
    """NetSuite subsidiary -> Dynamics company, for the legal entities routed to Dynamics on `day`."""
    return {NS_SUBSIDIARY[entity]: COMPANIES[entity][0] for entity, start in routes_of(store).items()
            if start <= day.isoformat()}


def _d365_stamp(ns_stamp: str) -> str:
    return d365_datetime(parse_datetime(ns_stamp))


def billing_run(c, store: Store, day: dt.date, stamp: str) -> int:
    """Invoice last month's (and older) unbilled chargeable hour and expense journal lines, per project, as free text
    invoices (NetSuite's billing run, sandbox/simulate.py: time and materials projects' time by category, expenses in
    one line). Invoice numbers continue NetSuite's transaction sequence (the moved invoices kept theirs)."""
    month_start = day.replace(day=1).isoformat()
    work: dict[tuple[str, str], list] = {}
    for company, project, category, hours, amount, keys in c.execute(
            "SELECT h.dataAreaId, h.ProjectID, h.Category, SUM(h.Hours), SUM(h.Hours * COALESCE(h.SalesPrice, 0)), "
            "GROUP_CONCAT(h.JournalId || '|' || h.LineNumber) FROM d365_JournalTrans h "
            "JOIN d365_Projects p ON p.dataAreaId = h.dataAreaId AND p.ProjectID = h.ProjectID "
            "WHERE h.PshInvoiceIdentifier IS NULL AND h.LineProperty = 'Chargeable' "
            "AND substr(h.ProjectDate, 1, 10) < ? AND COALESCE(p.ProjectType, 'TimeMaterial') = 'TimeMaterial' "
            "GROUP BY 1, 2, 3", (month_start,)).fetchall():
        work.setdefault((company, project), []).append(("JournalTrans", "JournalId", "timebill", hours, amount, keys))
    for company, project, amount, keys in c.execute(
            "SELECT dataAreaId, ProjId, SUM(DebitAmount), GROUP_CONCAT(JournalBatchNumber || '|' || LineNumber) "
            "FROM d365_ExpenseJournalLines WHERE PshInvoiceIdentifier IS NULL AND ProjectLineProperty = 'Chargeable' "
            "AND substr(ProjectDate, 1, 10) < ? AND ProjId <> '' GROUP BY 1, 2", (month_start,)).fetchall():
        work.setdefault((company, project), []).append(("ExpenseJournalLines", "JournalBatchNumber", "expensereport",
                                                        1.0, amount, keys))
    made = 0
    when = _d365_stamp(stamp)
    for (company, project), lines in sorted(work.items()):
        found = c.execute("SELECT p.CustomerAccount, p.CurrencyCode, c.PaymentTerms FROM d365_Projects p "
                          "LEFT JOIN d365_CustomersV3 c ON c.dataAreaId = p.dataAreaId "
                          "AND c.CustomerAccount = p.CustomerAccount WHERE p.dataAreaId = ? AND p.ProjectID = ?",
                          (company, project)).fetchone()
        total = round(sum(x[4] or 0 for x in lines), 2)
        if found is None or total <= 0:
            continue
        account, currency, terms = found
        tid = store.next_ids("ns_transaction")
        due = (day + dt.timedelta(days=TERMS_DAYS.get(terms, 30))).isoformat()
        _insert(c, "FreeTextInvoiceHeaders", [
            {"dataAreaId": company, "InvoiceIdentifier": tid, "InvoiceNumber": f"INV{tid:06d}", "CustomerAccount": account,
             "InvoiceDate": d365_date(day.isoformat()), "DueDate": d365_date(due), "CurrencyCode": currency,
             "IsPosted": "Yes", "InvoiceDescription": "Monthly billing run", "PshProjectId": project,
             "ModifiedDateTime": when}])
        _insert(c, "FreeTextInvoiceLines", [
            {"dataAreaId": company, "InvoiceIdentifier": tid, "LineNumber": seq, "Description": kind,
             "Quantity": hours, "UnitPrice": round((amount or 0) / hours, 2) if hours else None,
             "LineAmount": round(amount or 0, 2), "PshProjectId": project, "ModifiedDateTime": when}
            for seq, (_entity, _journal, kind, hours, amount, _keys) in enumerate(lines, start=1)])
        for entity, journal, _kind, _hours, _amount, keys in lines:
            c.executemany(f'UPDATE "{table(entity)}" SET PshInvoiceIdentifier = ?, ModifiedDateTime = ? '
                          f'WHERE dataAreaId = ? AND "{journal}" = ? AND LineNumber = ?',
                          [(tid, when, company, *k.split("|")) for k in keys.split(",")])
        made += 1
    return made


def record_payment(c, store: Store, company: str, account: str, invoice_number: str, total: float, currency: str,
                   day: dt.date, stamp: str) -> int:
    """A customer payment journal line paying the whole of an invoice (marked against its number, in Dynamics or in
    NetSuite, as the move does). Returns its line number (NetSuite's transaction sequence, as the moved payments)."""
    pid = store.next_ids("ns_transaction")
    _insert(c, "CustomerPaymentJournalLines", [
        {"dataAreaId": company, "JournalBatchNumber": f"PAY-{day.isoformat()[:7]}", "LineNumber": pid,
         "AccountDisplayValue": account, "TransactionDate": d365_date(day.isoformat()), "CreditAmount": total,
         "CurrencyCode": currency, "MarkedInvoice": invoice_number, "PaymentReference": f"PYMT{pid:06d}",
         "TransactionText": f"Payment for {invoice_number}", "ModifiedDateTime": _d365_stamp(stamp)}])
    return pid


def open_invoices(c, day: dt.date) -> list[tuple]:
    """(company, invoice identifier, number, customer account, currency, total, due date) of the invoices dated on or
    before `day` that no payment journal line marks yet."""
    return c.execute(
        "SELECT h.dataAreaId, h.InvoiceIdentifier, h.InvoiceNumber, h.CustomerAccount, h.CurrencyCode, "
        "(SELECT ROUND(SUM(l.LineAmount), 2) FROM d365_FreeTextInvoiceLines l WHERE l.dataAreaId = h.dataAreaId "
        " AND l.InvoiceIdentifier = h.InvoiceIdentifier), substr(h.DueDate, 1, 10) FROM d365_FreeTextInvoiceHeaders h "
        "WHERE substr(h.InvoiceDate, 1, 10) <= ? AND NOT EXISTS (SELECT 1 FROM d365_CustomerPaymentJournalLines p "
        "WHERE p.dataAreaId = h.dataAreaId AND p.MarkedInvoice = h.InvoiceNumber) ORDER BY h.InvoiceIdentifier",
        (day.isoformat(),)).fetchall()


def close_periods(c, through: str, stamp: str) -> int:
    """Every ledger's open periods ending on or before `through` (YYYY-MM-DD) closed, as NetSuite's calendar."""
    return c.execute("UPDATE d365_LedgerFiscalPeriods SET PeriodStatus = 'PermanentlyClosed', ModifiedDateTime = ? "
                     "WHERE PeriodStatus = 'Open' AND EXISTS (SELECT 1 FROM d365_FiscalPeriods p "
                     "WHERE p.Calendar = d365_LedgerFiscalPeriods.Calendar AND p.FiscalYear = d365_LedgerFiscalPeriods.YearName "
                     "AND p.PeriodName = d365_LedgerFiscalPeriods.PeriodName AND substr(p.EndDate, 1, 10) <= ?)",
                     (_d365_stamp(stamp), through)).rowcount


def credit_holds(c, day: dt.date, overdue_netsuite_customers: set[int], stamp: str) -> tuple[int, int]:
    """A customer with an invoice 90+ days overdue (in Dynamics, or in NetSuite from before its entity's cut-over) goes
    on hold (OnHoldStatus All), and off it (No) when none is left. Returns (on, off)."""
    limit = (day - dt.timedelta(days=90)).isoformat()
    over = {(company, account) for company, _t, _n, account, _c, _total, due in open_invoices(c, day)
            if due and due < limit}
    over |= {(company, f"C{cid:06d}") for (company,) in c.execute("SELECT DISTINCT dataAreaId FROM d365_CustomersV3")
             for cid in overdue_netsuite_customers}
    held = {(company, account) for company, account in c.execute(
        "SELECT dataAreaId, CustomerAccount FROM d365_CustomersV3 WHERE OnHoldStatus = 'All'")}
    existing = {(company, account) for company, account in c.execute(
        "SELECT dataAreaId, CustomerAccount FROM d365_CustomersV3")}
    when = _d365_stamp(stamp)
    on = [(when, *k) for k in sorted((over & existing) - held)]
    off = [(when, *k) for k in sorted(held - over)]
    c.executemany("UPDATE d365_CustomersV3 SET OnHoldStatus = 'All', ModifiedDateTime = ? "
                  "WHERE dataAreaId = ? AND CustomerAccount = ?", on)
    c.executemany("UPDATE d365_CustomersV3 SET OnHoldStatus = 'No', ModifiedDateTime = ? "
                  "WHERE dataAreaId = ? AND CustomerAccount = ?", off)
    return len(on), len(off)
