"""States the operations tests plant in the sandbox firm, so that they assert on what they built rather than on
what the generated firm happens to hold on the day the tests run."""
from __future__ import annotations

import datetime as dt

from sandbox.store import Store, ns_datetime


def plant_time_entry_today(store: Store) -> int:
    """An approved time entry dated the firm's today, a copy of its latest one: the current week is in the weekly
    marts whatever the weekday (early on a Monday nobody has logged time in the new week yet)."""
    today = store.now().date()
    with store.write_lock:
        c = store.conn()
        cur = c.execute("SELECT * FROM kt_time_entries WHERE approved = 1 AND time_in_minutes > 0"
                        " ORDER BY date_performed DESC, id LIMIT 1")
        row = dict(zip([d[0] for d in cur.description], cur.fetchone()))
        stamp = store.stamp("kantata")
        row.update(id=store.new_kt_id("time_entries"), date_performed=today.isoformat(), created_at=stamp,
                   updated_at=stamp, notes="Planted: logged today")
        c.execute(f"INSERT INTO kt_time_entries ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                  list(row.values()))
    return row["id"]


def plant_overdue_invoice(store: Store, days_overdue: int = 45, amount: float = 12345.67) -> str:
    """An open NetSuite invoice of the firm's first project, due `days_overdue` days before the firm's today and
    not paid at all; returns its document number. Shaped as the sandbox's own billing run writes invoices."""
    today = store.now().date()
    with store.write_lock:
        c = store.conn()
        job, customer, subsidiary, currency = c.execute(
            "SELECT j.id, j.parent, j.subsidiary, coalesce(j.currency, cu.currency) FROM ns_job j "
            "JOIN ns_customer cu ON cu.id = j.parent ORDER BY j.id LIMIT 1").fetchone()
        trandate = today - dt.timedelta(days=days_overdue + 30)
        period = c.execute("SELECT id FROM ns_accountingperiod WHERE startdate <= ? AND enddate >= ?",
                           (trandate.isoformat(), trandate.isoformat())).fetchone()
        tid = store.next_ids("ns_transaction")
        stamp = ns_datetime(store.now())
        c.execute("BEGIN")
        c.execute("INSERT INTO ns_transaction (id, tranid, type, trandate, entity, subsidiary, currency, exchangerate, "
                  "foreigntotal, foreignamountpaid, foreignamountunpaid, status, postingperiod, terms, duedate, memo, "
                  "createddate, lastmodifieddate) VALUES (?,?,'CustInvc',?,?,?,?,1.0,?,0,?,'A',?,NULL,?,?,?,?)",
                  (tid, f"INV{tid:06d}", trandate.isoformat(), customer, subsidiary, currency, amount, amount,
                   period[0] if period else None, (today - dt.timedelta(days=days_overdue)).isoformat(),
                   "Planted overdue invoice", stamp, stamp))
        key = store.next_ids("ns_transactionline", 2)
        c.execute("INSERT INTO ns_transactionline (uniquekey, \"transaction\", id, linesequencenumber, mainline, entity, "
                  "subsidiary, netamount, foreignamount, isbillable, memo, linelastmodifieddate) "
                  "VALUES (?,?,0,0,'T',?,?,?,?,'F','',?)", (key, tid, customer, subsidiary, amount, amount, stamp))
        c.execute("INSERT INTO ns_transactionline (uniquekey, \"transaction\", id, linesequencenumber, mainline, item, "
                  "entity, subsidiary, quantity, rate, netamount, foreignamount, isbillable, memo, linelastmodifieddate) "
                  "VALUES (?,?,1,1,'F',17,?,?,1,?,?,?,'T','Planted overdue invoice',?)",
                  (key + 1, tid, job, subsidiary, amount, amount, amount, stamp))
        c.execute("COMMIT")
    return f"INV{tid:06d}"


def plant_unmatched_customer(store: Store, amount: float = 16445.00, name: str = "Unmatched Holdings Ltd") -> dict:
    """An ERP customer no CRM account knows (no external id, a name no account has), in the first subsidiary that
    bills in GBP, with one open invoice of `amount` due 20 days ago; returns its ids and currency."""
    today = store.now().date()
    with store.write_lock:
        c = store.conn()
        subsidiary, currency = c.execute(
            "SELECT s.id, s.currency FROM ns_subsidiary s JOIN ns_currency cu ON cu.id = s.currency "
            "WHERE cu.name = 'GBP' ORDER BY s.id LIMIT 1").fetchone()
        code = c.execute("SELECT name FROM ns_currency WHERE id = ?", (currency,)).fetchone()[0]
        stamp = ns_datetime(store.now())
        customer = store.next_ids("ns_entity")
        c.execute("BEGIN")
        c.execute("INSERT INTO ns_customer (id, entityid, companyname, subsidiary, currency, creditholdoverride, "
                  "isinactive, datecreated, lastmodifieddate) VALUES (?,?,?,?,?,'AUTO','F',?,?)",
                  (customer, f"CUST{customer}", name, subsidiary, currency, stamp, stamp))
        rel = store.next_ids("ns_customersubsidiaryrelationship")
        c.execute("INSERT INTO ns_customersubsidiaryrelationship (id, entity, subsidiary, isprimarysub, lastmodifieddate) "
                  "VALUES (?,?,?,'T',?)", (rel, customer, subsidiary, stamp))
        trandate, due = today - dt.timedelta(days=50), today - dt.timedelta(days=20)
        period = c.execute("SELECT id FROM ns_accountingperiod WHERE startdate <= ? AND enddate >= ?",
                           (trandate.isoformat(), trandate.isoformat())).fetchone()
        tid = store.next_ids("ns_transaction")
        c.execute("INSERT INTO ns_transaction (id, tranid, type, trandate, entity, subsidiary, currency, exchangerate, "
                  "foreigntotal, foreignamountpaid, foreignamountunpaid, status, postingperiod, terms, duedate, memo, "
                  "createddate, lastmodifieddate) VALUES (?,?,'CustInvc',?,?,?,?,1.0,?,0,?,'A',?,NULL,?,?,?,?)",
                  (tid, f"INV{tid:06d}", trandate.isoformat(), customer, subsidiary, currency, amount, amount,
                   period[0] if period else None, due.isoformat(), "Planted invoice of an unmatched customer",
                   stamp, stamp))
        key = store.next_ids("ns_transactionline")
        c.execute("INSERT INTO ns_transactionline (uniquekey, \"transaction\", id, linesequencenumber, mainline, entity, "
                  "subsidiary, netamount, foreignamount, isbillable, memo, linelastmodifieddate) "
                  "VALUES (?,?,0,0,'T',?,?,?,?,'F','',?)", (key, tid, customer, subsidiary, amount, amount, stamp))
        c.execute("COMMIT")
    return {"erp_customer_id": str(customer), "name": name, "currency": code, "amount": amount,
            "invoice": f"INV{tid:06d}"}
