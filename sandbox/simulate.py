"""The firm's clock: `tick(days)` plays each day of business in the three systems.

PSA: people on active workspaces record time each working day; time is approved after a lag;
some unapproved entries are deleted; milestones complete on their due date; workspaces past their due
date complete. CRM: new deals appear, open deals move through the stages and close won or lost; a few
are deleted. ERP: a billing run on the 3rd of each month invoices the unbilled time bills, expense reports
and invoice requests (the hub's postings included) of the previous month; payments arrive on time, late
or never; customers with invoices 90+ days overdue go on credit hold; the previous month's period closes
on the 10th. Every change carries the day's timestamp, so incremental readers see it.
A legal entity the firm places in Dynamics 365 Finance (sandbox.dynamics_firm) lives the same days there: its billing
run invoices what Dynamics holds, its payments (of invoices NetSuite holds from before its cut-over too) are Dynamics
payment journal lines, its customers go on hold there, and every company's periods close on the 10th.
"""
from __future__ import annotations

import datetime as dt
import zlib

import numpy as np

from sandbox import certinia_firm, dynamics_firm
from sandbox.generate import ENTITIES, OPEN_STAGES, SERVICE_LINES, BILLING_MODELS
from sandbox.netsuite import delete_record
from sandbox.store import Store, kt_datetime, ns_datetime, sf_datetime

STAGE_ORDER = [s for s, _ in OPEN_STAGES]


def tick(store: Store, days: int) -> dict:
    days = int(days)
    seed = int(store.meta("seed", 42))
    summary: dict[str, int] = {}
    with store.write_lock:
        start = store.now()
        c = store.conn()
        for k in range(1, days + 1):
            t = start + dt.timedelta(days=k)
            rng = np.random.default_rng([seed, t.toordinal()])
            c.execute("BEGIN")
            try:
                _day(c, store, t, rng, summary)
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
        store.advance(days)
        store.set_meta("last_tick_day", str(store.now().date()))
    return {"days": days, "now": store.now().isoformat() + "Z", "changes": summary}


def _add(summary, key, n):
    if n:
        summary[key] = summary.get(key, 0) + int(n)


def _stamp(t: dt.datetime, rng, fmt) -> str:
    # a time earlier on the same simulated day, never later than t
    return fmt(t - dt.timedelta(seconds=int(rng.integers(0, 6 * 3600))))


def _day(c, store: Store, t: dt.datetime, rng, summary) -> None:
    day = t.date()
    d = day.isoformat()
    workday = day.weekday() < 5
    kt = lambda: _stamp(t, rng, kt_datetime)
    ns = lambda: _stamp(t, rng, ns_datetime)
    sf = lambda: _stamp(t, rng, sf_datetime)
    # ---- PSA --------------------------------------------------------------------------------------------
    if certinia_firm.placed(store):  # the firm's delivery is in Certinia: its days are lived there
        certinia_firm.day(c, store, t, rng, sf, lambda key, n: _add(summary, key, n))
    elif workday:
        res = c.execute(
            "SELECT r.workspace_id, r.user_id, r.role_id, r.bill_rate, r.cost_rate, w.currency, w.price_in_cents "
            "FROM kt_workspace_resources r JOIN kt_workspaces w ON w.id = r.workspace_id "
            "WHERE w.status_message = 'In Progress' AND w.archived = 0 AND r.user_id IS NOT NULL "
            "AND (w.start_date IS NULL OR w.start_date <= ?) AND (w.due_date IS NULL OR w.due_date >= ?) "
            "AND (r.start_date IS NULL OR r.start_date <= ?) AND (r.end_date IS NULL OR r.end_date >= ?)",
            (d, d, d, d)).fetchall()
        if res:
            per_user: dict[int, int] = {}
            for r in res:
                per_user[r[1]] = per_user.get(r[1], 0) + 1
            first = store.next_ids("kt_time_entries", len(res))
            rows = []
            for i, (ws, user, role, bill, cost, cur, price) in enumerate(res):
                if rng.random() < 0.07:  # time off
                    continue
                minutes = int(round(rng.normal(7.3, 0.8) / per_user[user] * 4)) * 15
                story = c.execute("SELECT id FROM kt_stories WHERE workspace_id = ? AND story_type = 'task' AND deleted_at IS NULL "
                                  "ORDER BY id LIMIT 1", (ws,)).fetchone()
                if bill is None and role is not None:
                    rc = c.execute("SELECT rcr.rate_in_cents FROM kt_rate_card_roles rcr JOIN kt_rate_cards rc ON rc.id = rcr.rate_card_id "
                                   "WHERE rc.currency = ? AND rcr.role_id = ?", (cur, role)).fetchone()
                    bill = rc[0] / 100 if rc else None
                s = kt()
                rows.append((first + i, ws, story[0] if story else None, user, role, d, max(15, minutes),
                             int(bool(price)), "Delivery", int(round((bill or 0) * 100)), int(round((cost or 0) * 100)),
                             cur, 0, 0, None, s, s))
            c.executemany("INSERT INTO kt_time_entries (id, workspace_id, story_id, user_id, role_id, date_performed, "
                          "time_in_minutes, billable, notes, rate_in_cents, cost_rate_in_cents, currency, approved, "
                          "is_invoiced, invoice_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            _add(summary, "kantata.time_entries.created", len(rows))
        # approvals: entries submitted three or more days ago
        cutoff = kt_datetime(t - dt.timedelta(days=3))
        n = c.execute("UPDATE kt_time_entries SET approved = 1, updated_at = ? WHERE approved = 0 AND created_at <= ? "
                      "AND time_in_minutes > 0 AND is_invoiced = 0", (kt(), cutoff)).rowcount
        _add(summary, "kantata.time_entries.approved", n)
        # a few unapproved entries are withdrawn (deleted)
        ids = [r[0] for r in c.execute("SELECT id FROM kt_time_entries WHERE approved = 0 ORDER BY id DESC LIMIT 200")]
        if ids:
            gone = [int(x) for x in rng.choice(ids, min(len(ids), int(rng.poisson(1))), replace=False)]
            if gone:
                c.execute(f"DELETE FROM kt_time_entries WHERE id IN ({', '.join('?' * len(gone))})", gone)
                _add(summary, "kantata.time_entries.deleted", len(gone))
    n = c.execute("UPDATE kt_stories SET state = 'completed', percentage_complete = 100, updated_at = ? "
                  "WHERE story_type = 'milestone' AND state != 'completed' AND due_date <= ? AND deleted_at IS NULL "
                  "AND workspace_id IN (SELECT id FROM kt_workspaces WHERE status_message = 'In Progress')", (kt(), d)).rowcount
    _add(summary, "kantata.milestones.completed", n)
    n = c.execute("UPDATE kt_workspaces SET status_message = 'Completed', status_key = 400, status_color = 'blue', "
                  "updated_at = ? WHERE status_message = 'In Progress' AND due_date < ? AND title NOT LIKE 'Internal - %'",
                  (kt(), d)).rowcount
    _add(summary, "kantata.workspaces.completed", n)
    # ---- CRM ------------------------------------------------------------------------------------------
    accts = c.execute("SELECT Id, Legal_Entity__c, CurrencyIsoCode, OwnerId, Name FROM sf_Account WHERE IsDeleted = 0 "
                      "AND Legal_Entity__c IN ('US','UK','DE') ORDER BY Id").fetchall()
    if workday and accts:
        for _ in range(int(rng.poisson(max(0.3, len(accts) / 40)))):
            a = accts[int(rng.integers(0, len(accts)))]
            oid = store.new_sf_id("Opportunity")
            s = sf()
            close = (day + dt.timedelta(days=int(rng.integers(30, 150)))).isoformat()
            start = (day + dt.timedelta(days=int(rng.integers(40, 170)))).isoformat()
            amount = float(round(rng.lognormal(np.log(150000), 0.85) / 100) * 100)
            model = BILLING_MODELS[int(rng.choice(len(BILLING_MODELS), p=[b[1] for b in BILLING_MODELS]))][0]
            c.execute("INSERT INTO sf_Opportunity (Id, AccountId, Name, StageName, IsClosed, IsWon, CloseDate, Amount, "
                      "Probability, CurrencyIsoCode, Type, OwnerId, Billing_Model__c, Legal_Entity__c, Service_Line__c, "
                      "Start_Date__c, IsDeleted, CreatedDate, LastModifiedDate, SystemModstamp) "
                      "VALUES (?,?,?,?,0,0,?,?,10,?,?,?,?,?,?,?,0,?,?,?)",
                      (oid, a[0], f"{a[4].split(' ')[0]} {SERVICE_LINES[int(rng.integers(0, len(SERVICE_LINES)))]} {d}",
                       "Prospecting", close, amount, a[2], "Existing Business", a[3], model, a[1],
                       SERVICE_LINES[int(rng.integers(0, len(SERVICE_LINES)))], start, s, s, s))
            _add(summary, "salesforce.Opportunity.created", 1)
    open_opps = c.execute("SELECT Id, StageName, Amount, CurrencyIsoCode, Start_Date__c FROM sf_Opportunity "
                          "WHERE IsClosed = 0 AND IsDeleted = 0 ORDER BY Id").fetchall()
    for oid, stage, amount, cur, start in open_opps:
        if rng.random() >= 0.06:
            continue
        s = sf()
        i = STAGE_ORDER.index(stage) if stage in STAGE_ORDER else 0
        if i + 1 < len(STAGE_ORDER):
            new, prob, closed, won = STAGE_ORDER[i + 1], OPEN_STAGES[i + 1][1], 0, 0
        elif rng.random() < 0.45:
            new, prob, closed, won = "Closed Won", 100, 1, 1
        else:
            new, prob, closed, won = "Closed Lost", 0, 1, 0
        c.execute("UPDATE sf_Opportunity SET StageName = ?, Probability = ?, IsClosed = ?, IsWon = ?, "
                  "CloseDate = CASE WHEN ? = 1 THEN ? ELSE CloseDate END, End_Date__c = CASE WHEN ? = 1 THEN "
                  "date(COALESCE(Start_Date__c, ?), '+4 months') ELSE End_Date__c END, LastModifiedDate = ?, SystemModstamp = ? WHERE Id = ?",
                  (new, prob, closed, won, closed, d, won, d, s, s, oid))
        _add(summary, "salesforce.Opportunity.stage_changed", 1)
        if won:
            _add(summary, "salesforce.Opportunity.closed_won", 1)
            from sandbox.generate import ROLES, Generator
            roles = rng.choice(len(ROLES), int(rng.integers(1, 4)), replace=False)
            for r in roles:
                price = Generator.local_rate(ROLES[r][1], cur)
                qty = float(max(1, round((amount or 0) / len(roles) / price)))
                lid = store.new_sf_id("OpportunityLineItem")
                c.execute("INSERT INTO sf_OpportunityLineItem (Id, OpportunityId, Name, Role__c, Quantity, UnitPrice, "
                          "TotalPrice, CurrencyIsoCode, IsDeleted, CreatedDate, LastModifiedDate, SystemModstamp) "
                          "VALUES (?,?,?,?,?,?,?,?,0,?,?,?)", (lid, oid, ROLES[r][0], ROLES[r][0], qty, float(price),
                                                              qty * price, cur, s, s, s))
    if open_opps and rng.random() < 0.1:
        oid = open_opps[int(rng.integers(0, len(open_opps)))][0]
        s = sf()
        c.execute("UPDATE sf_Opportunity SET IsDeleted = 1, LastModifiedDate = ?, SystemModstamp = ? WHERE Id = ?", (s, s, oid))
        _add(summary, "salesforce.Opportunity.deleted", 1)
    # ---- ERP ------------------------------------------------------------------------------------------
    # the legal entities the firm places in Dynamics 365 Finance (on this day): their new books go there
    # (a firm with no entity there draws nothing more: its days stay as they were)
    dynamics = dynamics_firm.has_dynamics(c) and bool(dynamics_firm.routes_of(store))
    routed = dynamics_firm.routed_subsidiaries(store, day) if dynamics else {}
    if day.day == 3:
        _billing_run(c, store, day, rng, ns, summary)
        if dynamics:
            _add(summary, "dynamics.invoices.created", dynamics_firm.billing_run(c, store, day, ns()))
    if day.day == 10:
        prev_end = (day.replace(day=1) - dt.timedelta(days=1)).isoformat()
        stamp = ns()
        n = c.execute("UPDATE ns_accountingperiod SET closed = 'T', closedondate = ?, lastmodifieddate = ? "
                      "WHERE closed = 'F' AND enddate <= ?", (d, stamp, prev_end)).rowcount
        _add(summary, "netsuite.accountingperiod.closed", n)
        if dynamics:
            _add(summary, "dynamics.ledgerfiscalperiods.closed", dynamics_firm.close_periods(c, prev_end, stamp))
    _payments(c, store, day, rng, ns, summary, routed)
    if dynamics:
        _dynamics_payments(c, store, day, ns, summary)
    # credit hold: any open invoice more than 90 days past due
    over = {r[0] for r in c.execute("SELECT DISTINCT entity FROM ns_transaction WHERE type = 'CustInvc' AND status = 'A' "
                                    "AND duedate < date(?, '-90 days')", (d,))}
    on = {r[0] for r in c.execute("SELECT id FROM ns_customer WHERE creditholdoverride = 'ON'")}
    for cid in over - on:
        c.execute("UPDATE ns_customer SET creditholdoverride = 'ON', lastmodifieddate = ? WHERE id = ?", (ns(), cid))
        _add(summary, "netsuite.customer.credit_hold_on", 1)
    for cid in on - over:
        c.execute("UPDATE ns_customer SET creditholdoverride = 'AUTO', lastmodifieddate = ? WHERE id = ?", (ns(), cid))
        _add(summary, "netsuite.customer.credit_hold_off", 1)
    if dynamics:
        held, freed = dynamics_firm.credit_holds(c, day, over, ns())
        _add(summary, "dynamics.customer.credit_hold_on", held)
        _add(summary, "dynamics.customer.credit_hold_off", freed)
    # corrections: now and then finance deletes an unbilled hand-entered time bill
    if rng.random() < 0.3:
        hit = c.execute("SELECT id FROM ns_timebill WHERE billed = 'F' AND externalid IS NULL ORDER BY id LIMIT 1 OFFSET ?",
                        (int(rng.integers(0, 50)),)).fetchone()
        if hit:
            delete_record(store, "timebill", hit[0])
            c.execute("UPDATE ns_deletedrecord SET deleteddate = ? WHERE id = (SELECT MAX(id) FROM ns_deletedrecord)", (ns(),))
            _add(summary, "netsuite.timebill.deleted", 1)


def _terms_days(c, terms) -> int:
    r = c.execute("SELECT daysuntilnetdue FROM ns_term WHERE id = ?", (terms,)).fetchone() if terms else None
    return r[0] if r else 30


def _period(c, day: str):
    r = c.execute("SELECT id FROM ns_accountingperiod WHERE startdate <= ? AND enddate >= ?", (day, day)).fetchone()
    return r[0] if r else None


def _billing_run(c, store, day: dt.date, rng, ns, summary) -> None:
    """Invoice last month's (and older) unbilled time bills, expense reports and invoice requests per project."""
    month_start = day.replace(day=1).isoformat()
    d = day.isoformat()
    work: dict[int, list] = {}
    for jid, item, hours, amount, ids in c.execute(
            "SELECT customer, item, SUM(hours), SUM(hours * COALESCE(rate, 0)), GROUP_CONCAT(id) FROM ns_timebill "
            "WHERE billed = 'F' AND isbillable = 'T' AND trandate < ? AND customer IS NOT NULL "
            "AND customer IN (SELECT id FROM ns_job WHERE jobbillingtype = 'TM' OR jobbillingtype IS NULL) "
            "GROUP BY customer, item", (month_start,)).fetchall():
        work.setdefault(jid, []).append(("timebill", item or 12, hours, amount, ids))
    for jid, amount, ids in c.execute(
            "SELECT entity, SUM(amount), GROUP_CONCAT(id) FROM ns_expensereport WHERE billed = 'F' AND isbillable = 'T' "
            "AND trandate < ? AND entity IS NOT NULL GROUP BY entity", (month_start,)).fetchall():
        work.setdefault(jid, []).append(("expensereport", 19, 1.0, amount, ids))
    for rid, jid, amount in c.execute(
            "SELECT id, custrecord_pshub_ir_project, custrecord_pshub_ir_amount FROM customrecord_pshub_invoice_request "
            "WHERE custrecord_pshub_ir_status = 'Pending'".replace("customrecord_pshub_invoice_request",
                                                                   "ns_customrecord_pshub_invoice_request")).fetchall():
        work.setdefault(jid, []).append(("request", 17, 1.0, amount, str(rid)))
    period = _period(c, d)
    for jid, lines in sorted(work.items()):
        job = c.execute("SELECT parent, subsidiary, currency FROM ns_job WHERE id = ?", (jid,)).fetchone()
        if job is None:
            continue
        cust = c.execute("SELECT terms, currency FROM ns_customer WHERE id = ?", (job[0],)).fetchone()
        terms = cust[0] if cust else 5
        total = round(sum(x[3] or 0 for x in lines), 2)
        if total <= 0:
            continue
        tid = store.next_ids("ns_transaction")
        s = ns()
        due = (day + dt.timedelta(days=_terms_days(c, terms))).isoformat()
        c.execute("INSERT INTO ns_transaction (id, tranid, type, trandate, entity, subsidiary, currency, exchangerate, "
                  "foreigntotal, foreignamountpaid, foreignamountunpaid, status, postingperiod, terms, duedate, memo, "
                  "createddate, lastmodifieddate) VALUES (?,?,'CustInvc',?,?,?,?,1.0,?,0,?,'A',?,?,?,?,?,?)",
                  (tid, f"INV{tid:06d}", d, job[0], job[1], job[2] or (cust[1] if cust else 1), total, total, period,
                   terms, due, "Monthly billing run", s, s))
        seq = 0
        uk = store.next_ids("ns_transactionline", len(lines) + 1)
        c.execute("INSERT INTO ns_transactionline (uniquekey, \"transaction\", id, linesequencenumber, mainline, entity, "
                  "subsidiary, netamount, foreignamount, isbillable, memo, linelastmodifieddate) VALUES (?,?,0,0,'T',?,?,?,?,'F','',?)",
                  (uk, tid, job[0], job[1], total, total, s))
        for kind, item, hours, amount, ids in lines:
            seq += 1
            c.execute("INSERT INTO ns_transactionline (uniquekey, \"transaction\", id, linesequencenumber, mainline, item, "
                      "entity, subsidiary, quantity, rate, netamount, foreignamount, isbillable, memo, linelastmodifieddate) "
                      "VALUES (?,?,?,?,'F',?,?,?,?,?,?,?,'T',?,?)",
                      (uk + seq, tid, seq, seq, item, jid, job[1], hours, round((amount or 0) / hours, 2) if hours else None,
                       round(amount or 0, 2), round(amount or 0, 2), kind, s))
            id_list = [int(x) for x in ids.split(",")]
            q = ", ".join("?" * len(id_list))
            if kind == "timebill":
                c.execute(f"UPDATE ns_timebill SET billed = 'T', invoice = ?, lastmodifieddate = ? WHERE id IN ({q})", [tid, s, *id_list])
            elif kind == "expensereport":
                c.execute(f"UPDATE ns_expensereport SET billed = 'T', invoice = ?, lastmodifieddate = ? WHERE id IN ({q})", [tid, s, *id_list])
            else:
                c.execute(f"UPDATE ns_customrecord_pshub_invoice_request SET custrecord_pshub_ir_status = 'Invoiced', "
                          f"custrecord_pshub_ir_invoice = ?, lastmodifieddate = ? WHERE id IN ({q})", [tid, s, *id_list])
        _add(summary, "netsuite.invoices.created", 1)


def record_payment(c, store, tid: int, day: dt.date, stamp: str) -> int:
    """A customer payment of an open invoice's whole amount on `day`: the payment, its line, the link to the invoice,
    and the invoice paid in full (status B, nothing unpaid). Returns the payment's id."""
    d = day.isoformat()
    cust, sub, cur, total, tranid = c.execute("SELECT entity, subsidiary, currency, foreigntotal, tranid FROM ns_transaction "
                                              "WHERE id = ?", (tid,)).fetchone()
    pid = store.next_ids("ns_transaction")
    c.execute("INSERT INTO ns_transaction (id, tranid, type, trandate, entity, subsidiary, currency, exchangerate, "
              "foreigntotal, foreignamountpaid, foreignamountunpaid, status, postingperiod, closedate, memo, "
              "createddate, lastmodifieddate) VALUES (?,?,'CustPymt',?,?,?,?,1.0,?,?,0,'C',?,?,?,?,?)",
              (pid, f"PYMT{pid:06d}", d, cust, sub, cur, total, total, _period(c, d), d, f"Payment for {tranid}", stamp,
               stamp))
    uk = store.next_ids("ns_transactionline")
    c.execute("INSERT INTO ns_transactionline (uniquekey, \"transaction\", id, linesequencenumber, mainline, entity, "
              "subsidiary, netamount, foreignamount, isbillable, memo, linelastmodifieddate) VALUES (?,?,0,0,'T',?,?,?,?,'F','',?)",
              (uk, pid, cust, sub, total, total, stamp))
    lid = store.next_ids("ns_previoustransactionlink")
    c.execute("INSERT INTO ns_previoustransactionlink VALUES (?,?,?,'Payment',?,?)", (lid, tid, pid, total, stamp))
    c.execute("UPDATE ns_transaction SET status = 'B', foreignamountpaid = foreigntotal, foreignamountunpaid = 0, "
              "closedate = ?, lastmodifieddate = ? WHERE id = ?", (d, stamp, tid))
    return pid


def _pays_today(tid: int, cust, due: str | None, day: dt.date) -> bool:
    """Whether an open invoice is paid on `day`: its customer's (deterministic) payment behaviour and its own."""
    h = zlib.crc32(f"{tid}".encode()) / 2**32
    profile = zlib.crc32(f"c{cust}".encode()) % 20  # 0 = never pays, 1..9 late, 10..19 on time
    if profile == 0 and h < 0.5:
        return False
    if profile < 10:
        if h > 0.97:
            return False
        delay = int(-20 * np.log(max(1e-6, 1 - h))) + 1
    else:
        delay = -int(h * 10)
    pay_day = (dt.date.fromisoformat(due) + dt.timedelta(days=delay)) if due else day
    return pay_day <= day


def _payments(c, store, day: dt.date, rng, ns, summary, routed: dict[int, str] | None = None) -> None:
    """Open invoices get paid on the day their (deterministic) payment behaviour says; a few never are. An invoice of
    a subsidiary whose entity posts to Dynamics now (routed: subsidiary -> company; it dates from before the cut-over)
    is paid there, by a payment journal line marked against it, as the move placed such payments."""
    d = day.isoformat()
    for tid, cust, sub, cur, total, due, tranid in c.execute(
            "SELECT id, entity, subsidiary, currency, foreigntotal, duedate, tranid FROM ns_transaction "
            "WHERE type = 'CustInvc' AND status = 'A' AND trandate <= ?", (d,)).fetchall():
        if not _pays_today(tid, cust, due, day):
            continue
        stamp = ns()
        if routed and sub in routed:
            dynamics_firm.record_payment(c, store, routed[sub], f"C{cust:06d}", tranid, total,
                                         dynamics_firm.CURRENCY_CODES.get(cur, "GBP"), day, stamp)
            c.execute("UPDATE ns_transaction SET status = 'B', foreignamountpaid = foreigntotal, foreignamountunpaid = 0, "
                      "closedate = ?, lastmodifieddate = ? WHERE id = ?", (d, stamp, tid))
            _add(summary, "dynamics.payments.created", 1)
            continue
        record_payment(c, store, tid, day, stamp)
        _add(summary, "netsuite.payments.created", 1)


def _dynamics_payments(c, store, day: dt.date, ns, summary) -> None:
    """Dynamics' open invoices paid by the same behaviour as NetSuite's (the customer's number: its account's digits,
    the NetSuite id the move numbered it from)."""
    for company, tid, number, account, currency, total, due in dynamics_firm.open_invoices(c, day):
        cust = int(account[1:]) if account and account[1:].isdigit() else account
        if total is None or total <= 0 or not _pays_today(tid, cust, due, day):
            continue
        dynamics_firm.record_payment(c, store, company, account, number, total, currency, day, ns())
        _add(summary, "dynamics.payments.created", 1)
