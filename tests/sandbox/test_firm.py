"""The synthetic firm: determinism, shape, defects manifest, clock, persistence."""
from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3

import httpx

from sandbox.generate import DEFECT_KINDS, generate
from sandbox.server import SandboxServer
from sandbox.simulate import tick
from sandbox.store import Store


def _digest(path) -> str:
    c = sqlite3.connect(path)
    h = hashlib.sha256()
    for (t,) in c.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sandbox_meta' ORDER BY name"):
        for row in c.execute(f'SELECT * FROM "{t}" ORDER BY 1'):
            h.update(repr(row).encode())
    return h.hexdigest()


def test_same_seed_same_firm_other_seed_other_firm(tmp_path, anchor):
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        generate(Store(tmp_path / name), "demo", seed, anchor=anchor)
    a, b, c = (_digest(tmp_path / x / "firm.sqlite") for x in "abc")
    assert a == b != c


def test_generation_says_its_steps_and_the_rows_written_done_of_total(tmp_path, anchor):
    import io

    from pshub.app.progress import CycleProgress
    from sandbox.generate import STEPS

    seen = []
    counts = generate(Store(tmp_path / "p"), "demo", 7, anchor=anchor, progress=seen.append)
    assert [p["done"] for p in seen if "rows" not in p] == list(range(len(STEPS) + 1))
    writing = [p for p in seen if "rows" in p]
    assert [p["tables"] for p in writing] == list(range(1, writing[0]["tables_total"] + 1))
    assert writing[-1]["rows"] == writing[-1]["rows_total"] == sum(n for t, n in counts.items()
                                                                   if t not in ("defects", "seconds"))
    # on the terminal (as `pshub demo` shows it): the first and the last step always, done of total
    out = io.StringIO()
    generate(Store(tmp_path / "q"), "demo", 7, anchor=anchor, progress=CycleProgress(out).sandbox)
    lines = out.getvalue().splitlines()
    assert "sandbox generating the demo firm: 0 of 9 steps done (now: reference data)" in lines[0]
    assert lines[-1].endswith("sandbox generating the demo firm: 9 of 9 steps done")


def test_firm_shape_follows_metrics(sandbox):
    c = sandbox.store.conn()
    people = c.execute("SELECT COUNT(*) FROM kt_users").fetchone()[0]
    start = sandbox.store.meta("history_start")
    billable = c.execute("SELECT SUM(time_in_minutes)/60.0 FROM kt_time_entries WHERE billable=1 AND approved=1 "
                         "AND date_performed >= date(?, '+1 month') AND date_performed < date(?, '+10 months')",
                         (start, start)).fetchone()[0]
    utilization = billable / (people * 9 * 21 * 8)
    assert 45 <= people <= 55 and 0.5 < utilization < 0.9
    models = dict(c.execute("SELECT Billing_Model__c, COUNT(*) FROM sf_Opportunity WHERE IsWon=1 GROUP BY 1").fetchall())
    assert 0.45 < models["Time and Materials"] / sum(models.values()) < 0.75
    assert {r[0] for r in c.execute("SELECT DISTINCT currency FROM ns_transaction")} >= {1, 2, 4}
    median = sorted(r[0] for r in c.execute("SELECT Amount FROM sf_Opportunity WHERE IsWon=1 AND CurrencyIsoCode='USD'"))
    assert 60_000 < median[len(median) // 2] < 400_000
    # engagements that predate the hub: made by hand, no external ids
    assert c.execute("SELECT COUNT(*) FROM ns_job WHERE externalid IS NULL").fetchone()[0] > 0
    paid_late = c.execute("SELECT COUNT(*) FROM ns_transaction i JOIN ns_previoustransactionlink l ON l.previousdoc=i.id "
                          "JOIN ns_transaction p ON p.id=l.nextdoc WHERE p.trandate > i.duedate").fetchone()[0]
    assert paid_late > 0


def test_manifest_covers_every_data_quality_rule_and_points_at_real_records(sandbox):
    m = httpx.get(sandbox.urls["netsuite"] + "/__sandbox/manifest").json()
    assert {d["rule"] for d in m["defects"]} == set(range(1, 14))
    assert set(m["by_kind"]) == set(DEFECT_KINDS)
    c = sandbox.store.conn()
    for d in m["defects"]:
        key = "Id" if d["system"] == "salesforce" else ("uniquekey" if d["object"] == "transactionline" else "id")
        prefix = {"salesforce": "sf", "netsuite": "ns", "kantata": "kt"}[d["system"]]
        assert c.execute(f'SELECT 1 FROM "{prefix}_{d["object"]}" WHERE "{key}" = ?', (d["id"] if prefix == "sf" else int(d["id"]),)).fetchone(), d


def test_tick_makes_real_changes_that_incremental_reads_see(tmp_path, anchor, sf):
    with SandboxServer(tmp_path, anchor=anchor) as sb:
        c = sb.store.conn()
        before = sb.store.stamp("salesforce")
        invoices = c.execute("SELECT COUNT(*) FROM ns_transaction WHERE type='CustInvc'").fetchone()[0]
        entries = c.execute("SELECT MAX(id) FROM kt_time_entries").fetchone()[0]
        # the firm's history is billed: the billing run of the 3rd invoices what was posted since (as the hub posts it)
        report = _post_expense_report(sb.store, anchor.date().isoformat())
        r = httpx.post(sb.urls["kantata"] + "/__sandbox/tick", params={"days": 35}, timeout=120).json()
        assert r["days"] == 35 and r["changes"]["netsuite.invoices.created"] > 0
        assert c.execute("SELECT COUNT(*) FROM ns_transaction WHERE type='CustInvc'").fetchone()[0] > invoices
        assert c.execute("SELECT e.billed, t.memo FROM ns_expensereport e JOIN ns_transaction t ON t.id = e.invoice "
                         "WHERE e.id = ?", (report,)).fetchone() == ("T", "Monthly billing run")
        assert c.execute("SELECT MAX(id) FROM kt_time_entries").fetchone()[0] > entries
        assert c.execute("SELECT COUNT(*) FROM ns_deletedrecord").fetchone()[0] > 0
        tok = httpx.post(sb.urls["salesforce"] + "/services/oauth2/token",
                         data={"grant_type": "client_credentials", **sb.credentials["salesforce"]}).json()["access_token"]
        q = f"SELECT Id, StageName, IsDeleted FROM Opportunity WHERE SystemModstamp > {before[:19]}Z"
        changed = httpx.get(sb.urls["salesforce"] + "/services/data/v62.0/queryAll", params={"q": q},
                            headers={"Authorization": f"Bearer {tok}"}).json()
        assert changed["totalSize"] > 0 and any(rec["IsDeleted"] for rec in changed["records"])


def _post_expense_report(store, day: str) -> int:
    """An unbilled billable expense report of the firm's first project dated `day`, as the hub posts one."""
    c = store.conn()
    job, sub, cur = c.execute("SELECT id, subsidiary, currency FROM ns_job ORDER BY id LIMIT 1").fetchone()
    rid = store.next_ids("ns_expensereport")
    stamp = store.stamp("netsuite")
    with store.write_lock:
        c.execute("INSERT INTO ns_expensereport (id, externalid, tranid, entity, subsidiary, trandate, category, amount, "
                  "currency, isbillable, memo, billed, datecreated, lastmodifieddate) "
                  "VALUES (?, 'test-1', ?, ?, ?, ?, 'Travel', 123.45, ?, 'T', 'Travel expense', 'F', ?, ?)",
                  (rid, f"EXP{rid:06d}", job, sub, day, cur, stamp, stamp))
    return rid


def test_history_bills_expenses_in_their_month_and_the_first_billing_day_none_of_it(tmp_path, anchor):
    """The firm's expense reports from before the hub were billed as the billing run bills them: in the invoice of
    their project on the 3rd of the next month, in one Expense Reimbursement line (item 19) of their amount; so the
    first simulated billing day has none of that history left to bill."""
    store = Store(tmp_path)
    generate(store, "demo", 42, anchor=anchor)
    c = store.conn()
    cutover = store.meta("hub_cutover")
    reports, unbilled = c.execute("SELECT COUNT(*), SUM(billed = 'F') FROM ns_expensereport").fetchone()
    assert reports > 50 and unbilled == 0
    # each on a customer invoice of its project (but the invoices the defects made project-less), dated the 3rd of the
    # month after the expense
    assert c.execute("SELECT COUNT(*) FROM ns_expensereport e JOIN ns_transaction t ON t.id = e.invoice "
                     "WHERE t.type = 'CustInvc' AND t.trandate = date(e.trandate, 'start of month', '+1 month', '+2 days') "
                     "AND EXISTS (SELECT 1 FROM ns_transactionline l WHERE l.\"transaction\" = t.id AND l.mainline = 'F' "
                     "AND l.item = 19 AND (l.entity = e.entity OR (l.entity IS NULL AND CAST(t.id AS TEXT) IN "
                     "(SELECT id FROM sandbox_defects WHERE kind = 'invoice_without_project'))))").fetchone()[0] == reports
    # the invoice's Expense Reimbursement line is the sum of the reports it bills; its total the sum of its lines
    assert c.execute("""SELECT COUNT(*) FROM (SELECT invoice, SUM(amount) AS billed FROM ns_expensereport GROUP BY invoice) e
                        LEFT JOIN (SELECT "transaction" AS tid, SUM(foreignamount) AS amount FROM ns_transactionline
                                   WHERE item = 19 AND mainline = 'F' GROUP BY 1) l ON l.tid = e.invoice
                        WHERE l.amount IS NULL OR abs(l.amount - e.billed) > 0.005""").fetchone()[0] == 0
    assert c.execute("""SELECT COUNT(*) FROM ns_transaction t WHERE type = 'CustInvc' AND abs(foreigntotal - (SELECT
                        SUM(foreignamount) FROM ns_transactionline l WHERE l."transaction" = t.id AND l.mainline = 'F'))
                        > 0.005""").fetchone()[0] == 0
    # the next 3rd: the billing run finds nothing of the history to bill (nothing was posted since: no hub here)
    today = store.now().date()
    changes = tick(store, (today.replace(day=28) + dt.timedelta(days=8)).replace(day=3).toordinal() - today.toordinal()
                   + 1)["changes"]
    assert "netsuite.invoices.created" not in changes
    assert c.execute("SELECT COUNT(*) FROM ns_expensereport WHERE billed = 'F' AND trandate < ?", (cutover,)).fetchone()[0] == 0


def test_restart_keeps_the_firm_and_its_writes(tmp_path, anchor):
    with SandboxServer(tmp_path, anchor=anchor) as sb:
        ep = (tmp_path / "endpoints.json").read_text()
        assert sb.urls["salesforce"] in ep
        sb.store.conn().execute("UPDATE sf_Account SET Name = 'Persisted' WHERE rowid = 1")
        creds = sb.credentials
    assert not (tmp_path / "endpoints.json").exists()
    with SandboxServer(tmp_path, anchor=anchor, seed=999) as sb2:
        assert sb2.generation is None and sb2.credentials == creds
        assert sb2.store.conn().execute("SELECT Name FROM sf_Account WHERE rowid = 1").fetchone()[0] == "Persisted"
    assert (tmp_path / "netsuite_private_key.pem").stat().st_mode & 0o777 == 0o600
