"""The firm's delivery in Certinia PSA instead of Kantata: the same projects, people, staffing, time, expenses,
milestones and rate cards, as Certinia's objects in the firm's Salesforce org (sandbox/schema.py, CERTINIA).

Applied once, when the firm is generated or first served with it (like the Dynamics placement, sandbox.dynamics_firm):
the Kantata records are re-expressed as Certinia records and removed from Kantata, and the records of the other
systems that name a Kantata record (an opportunity's PSA project id, an ERP record's external id, an invoice memo
naming a milestone) name its Certinia record instead. Kept in the firm's meta (`psa` = certinia).

How Kantata's records become Certinia's:
- a user is a Contact that is a resource (pse__Is_Resource__c), its role the resource role;
- a workspace is a project (pse__Proj__c); its custom fields are the project's fields of the same meaning, its client
  the account (pse__Account__c) of that name; an internal workspace (no budget, no client) an Internal project;
- a rate card's rate of a role is a rate card (pse__Rate_Card__c: one role's rate in one currency);
- a workspace resource is an assignment, its allocation the assignment's schedule, filled from a resource request;
- a task story is a project task, a milestone story a milestone;
- time entries are weekly timecards (pse__Timecard_Header__c, Monday to Sunday, one resource on one project with
  one rate, status and billing flag), split at each month end (pse__Timecard__c: "PSA creates timecard splits when a
  timecard spans the boundary of a time period"), the entry's hours and notes on its weekday. An entry joins a
  timecard only when nothing is lost: the day is free and the timecard is newer than those of the person's earlier
  entries of that day (so that their order, which says which of two equal entries is the copy, is kept);
- an expense is an expense (pse__Expense__c).
Record ids keep the Kantata records' order (a decimal body: the same order in any collation).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sandbox.schema import CERTINIA, CERTINIA_PREFIX
from sandbox.store import Store, parse_datetime, sf_datetime

_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Kantata workspace status -> Certinia project stage (pse__Proj__c.Stage__c picklist)
STAGE = {"Not Started": "Planned", "In Progress": "In Progress", "On Hold": "On Hold", "Completed": "Completed",
         "Cancelled": "Canceled"}
TRUE = {"true", "t", "1", "yes"}


def certinia_id(obj: str, n: int) -> str:
    """An 18-character Salesforce id of a Certinia object whose body is `n` in decimal (ids sort as `n` does)."""
    id15 = CERTINIA_PREFIX[obj] + "8d" + str(n).rjust(10, "0")
    return id15 + "".join(_SUFFIX[sum(1 << j for j, c in enumerate(id15[i * 5:(i + 1) * 5]) if c.isupper())]
                          for i in range(3))


def _sf(stamp: str | None) -> str | None:
    return sf_datetime(parse_datetime(stamp)) if stamp else None


def placed(store: Store) -> bool:
    return store.meta("psa") == "certinia"


def populate(store: Store) -> dict[str, int]:
    """Re-express the firm's Kantata delivery in Certinia (once). Returns the records written per Certinia object."""
    c = store.conn()
    with store.write_lock:
        if placed(store):
            return {}
        c.execute("BEGIN")
        try:
            counts = _place(c)
            c.execute("INSERT OR REPLACE INTO sandbox_meta VALUES ('psa', 'certinia')")
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
    return counts


def _rows(c, sql: str, params=()) -> list[dict]:
    cur = c.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _insert(c, obj: str, rows: list[dict], counts: dict) -> None:
    fields = [f.split(":")[0] for f in CERTINIA[obj]]
    for r in rows:
        r.setdefault("IsDeleted", 0)
        r.setdefault("LastModifiedDate", r.get("SystemModstamp"))
    c.executemany(f'INSERT INTO "sf_{obj}" ({", ".join(chr(34) + f + chr(34) for f in fields)}) '
                  f'VALUES ({", ".join("?" * len(fields))})', [[r.get(f) for f in fields] for r in rows])
    if rows:
        last = max(int(r["Id"][5:15]) for r in rows)
        c.execute("INSERT OR REPLACE INTO sandbox_seq VALUES (?, max(?, coalesce((SELECT value FROM sandbox_seq "
                  "WHERE name = ?), 0)))", (f"sf_{obj}", last, f"sf_{obj}"))
    counts[obj] = counts.get(obj, 0) + len(rows)


def _place(c) -> dict[str, int]:
    counts: dict[str, int] = {}
    role_name = {r["id"]: r["name"] for r in _rows(c, "SELECT id, name FROM kt_roles")}
    # people
    users = _rows(c, "SELECT * FROM kt_users ORDER BY id")
    contact = {u["id"]: certinia_id("Contact", u["id"]) for u in users}
    _insert(c, "Contact", [
        {"Id": contact[u["id"]], "FirstName": (u["full_name"] or "").partition(" ")[0],
         "LastName": (u["full_name"] or "").partition(" ")[2] or u["full_name"], "Name": u["full_name"],
         "Email": u["email_address"], "Title": u["headline"], "pse__Is_Resource__c": 1,
         "pse__Is_Resource_Active__c": 0 if u["disabled"] else 1, "pse__Resource_Role__c": u["headline"],
         "CreatedDate": _sf(u["created_at"]), "SystemModstamp": _sf(u["updated_at"])} for u in users], counts)
    # rate cards: one per role and currency
    rates = _rows(c, "SELECT r.*, c.title FROM kt_rate_card_roles r JOIN kt_rate_cards c ON c.id = r.rate_card_id "
                     "ORDER BY r.id")
    _insert(c, "pse__Rate_Card__c", [
        {"Id": certinia_id("pse__Rate_Card__c", r["id"]), "Name": f"{r['title']} - {role_name.get(r['role_id'])}",
         "pse__Role__c": role_name.get(r["role_id"]), "pse__Suggested_Bill_Rate__c": (r["rate_in_cents"] or 0) / 100.0,
         "pse__Average_Cost_Rate__c": 0.0, "CurrencyIsoCode": r["currency"], "CreatedDate": _sf(r["created_at"]),
         "SystemModstamp": _sf(r["updated_at"])} for r in rates], counts)
    # projects, with the workspace's custom fields as the project's fields
    fields = defaultdict(dict)
    for v in _rows(c, "SELECT v.subject_id, f.name, v.value FROM kt_custom_field_values v JOIN kt_custom_fields f "
                      "ON f.id = v.custom_field_id WHERE v.subject_type = 'Workspace'"):
        fields[v["subject_id"]][v["name"]] = v["value"]
    account_of = dict(c.execute("SELECT Name, min(Id) FROM sf_Account WHERE IsDeleted = 0 GROUP BY Name").fetchall())
    opportunities = {r[0] for r in c.execute("SELECT Id FROM sf_Opportunity")}
    workspaces = _rows(c, "SELECT * FROM kt_workspaces ORDER BY id")
    project = {w["id"]: certinia_id("pse__Proj__c", w["id"]) for w in workspaces}
    currency_of = {w["id"]: w["currency"] for w in workspaces}
    rows = []
    for w in workspaces:
        f = fields.get(w["id"], {})
        client, opp = f.get("Client"), (f.get("CRM Opportunity ID") or None)
        rows.append({
            "Id": project[w["id"]], "Name": w["title"], "pse__Account__c": account_of.get(client) if client else None,
            "pse__Opportunity__c": opp if opp in opportunities else None,
            "pse__Project_Type__c": "Internal" if not w["budgeted"] and not client else "Customer Project",
            "pse__Stage__c": STAGE.get(w["status_message"], w["status_message"]),
            "pse__Is_Active__c": 0 if w["archived"] else 1, "pse__Is_Billable__c": 1 if w["budgeted"] else 0,
            "pse__Start_Date__c": w["start_date"], "pse__End_Date__c": w["due_date"],
            "pse__Bookings__c": (w["price_in_cents"] or 0) / 100.0,
            "pse__Percent_Hours_Completed_For_Recognition__c": w["percentage_complete"],
            "pse__Description__c": w["description"], "CurrencyIsoCode": w["currency"], "CRM_Opportunity_Id__c": opp,
            "Billing_Model__c": f.get("Billing Model"), "Legal_Entity__c": f.get("Legal Entity"),
            "Service_Line__c": f.get("Service Line"),
            "Credit_Hold__c": int(str(f.get("Credit Hold") or "").lower() in TRUE),
            "Budget_Used__c": (w["budget_used_in_cents"] or 0) / 100.0,
            "CreatedDate": _sf(w["created_at"]), "SystemModstamp": _sf(w["updated_at"])})
    _insert(c, "pse__Proj__c", rows, counts)
    # staffing: assignment (workspace resource), its schedule (allocation) and the resource request it filled
    resources = _rows(c, "SELECT * FROM kt_workspace_resources ORDER BY id")
    allocations = {a["workspace_resource_id"]: a for a in _rows(c, "SELECT * FROM kt_workspace_allocations ORDER BY id")}
    assignment, assignment_of = {}, {}
    schedules, requests, assignments = [], [], []
    for r in resources:
        aid = assignment[r["id"]] = certinia_id("pse__Assignment__c", r["id"])
        assignment_of.setdefault((r["workspace_id"], r["user_id"]), aid)
        alloc = allocations.get(r["id"])
        sid = certinia_id("pse__Schedule__c", alloc["id"]) if alloc else None
        if alloc:
            schedules.append({"Id": sid, "Name": f"Schedule {alloc['id']}", "pse__Start_Date__c": alloc["start_date"],
                              "pse__End_Date__c": alloc["end_date"],
                              "pse__Scheduled_Hours__c": (alloc["minutes"] or 0) / 60.0,
                              "pse__Is_Blocking__c": alloc["hard"], "CreatedDate": _sf(alloc["created_at"]),
                              "SystemModstamp": _sf(alloc["updated_at"])})
        rid = certinia_id("pse__Resource_Request__c", r["id"])
        requests.append({"Id": rid, "Name": f"RR {r['id']}", "pse__Project__c": project.get(r["workspace_id"]),
                         "pse__Resource_Role__c": r["role_name"], "pse__Start_Date__c": r["start_date"],
                         "pse__End_Date__c": r["end_date"],
                         "pse__SOW_Hours__c": (alloc["minutes"] or 0) / 60.0 if alloc else None,
                         "pse__Status__c": "Assigned", "pse__Assignment__c": aid, "CurrencyIsoCode": r["currency"],
                         "CreatedDate": _sf(r["created_at"]), "SystemModstamp": _sf(r["updated_at"])})
        assignments.append({"Id": aid, "Name": f"{r['role_name']} {r['id']}", "pse__Project__c": project.get(r["workspace_id"]),
                            "pse__Resource__c": contact.get(r["user_id"]), "pse__Role__c": r["role_name"],
                            "pse__Bill_Rate__c": r["bill_rate"], "pse__Cost_Rate_Amount__c": r["cost_rate"],
                            "pse__Is_Billable__c": 1, "pse__Schedule__c": sid, "pse__Resource_Request__c": rid,
                            "CurrencyIsoCode": r["currency"], "CreatedDate": _sf(r["created_at"]),
                            "SystemModstamp": _sf(r["updated_at"])})
    _insert(c, "pse__Schedule__c", schedules, counts)
    _insert(c, "pse__Resource_Request__c", requests, counts)
    _insert(c, "pse__Assignment__c", assignments, counts)
    # stories: tasks and milestones
    story = {}
    tasks, milestones = [], []
    for s in _rows(c, "SELECT * FROM kt_stories ORDER BY id"):
        stamps = {"CreatedDate": _sf(s["created_at"]), "SystemModstamp": _sf(s["updated_at"]),
                  "IsDeleted": 1 if s["deleted_at"] else 0}
        if s["story_type"] == "milestone":
            sid = story[s["id"]] = certinia_id("pse__Milestone__c", s["id"])
            done = s["state"] == "completed"
            milestones.append({"Id": sid, "Name": s["title"], "pse__Project__c": project.get(s["workspace_id"]),
                               "pse__Target_Date__c": s["due_date"], "pse__Actual_Date__c": s["due_date"] if done else None,
                               "pse__Milestone_Amount__c": None if s["budget_estimate_in_cents"] is None
                               else s["budget_estimate_in_cents"] / 100.0,
                               "pse__Status__c": "Approved" if done else ("Open" if s["state"] == "started" else "Planned"),
                               "pse__Approved__c": int(done), "pse__Exclude_from_Billing__c": 0 if s["billable"] else 1,
                               "CurrencyIsoCode": currency_of.get(s["workspace_id"]), **stamps})
        else:
            sid = story[s["id"]] = certinia_id("pse__Project_Task__c", s["id"])
            tasks.append({"Id": sid, "Name": s["title"], "pse__Project__c": project.get(s["workspace_id"]),
                          "pse__Start_Date_Time__c": f"{s['start_date']}T00:00:00.000+0000" if s["start_date"] else None,
                          "pse__End_Date_Time__c": f"{s['due_date']}T00:00:00.000+0000" if s["due_date"] else None,
                          "pse__Started__c": int(s["state"] in ("started", "completed")),
                          "pse__Completed__c": int(s["state"] == "completed"),
                          "pse__Estimated_Hours__c": None if s["time_estimate_in_minutes"] is None
                          else s["time_estimate_in_minutes"] / 60.0, "pse__Billable__c": s["billable"], **stamps})
    _insert(c, "pse__Project_Task__c", tasks, counts)
    _insert(c, "pse__Milestone__c", milestones, counts)
    # time: weekly timecards
    time_of = _timecards(c, contact, project, assignment_of, counts)
    # expenses
    expenses = _rows(c, "SELECT * FROM kt_expenses ORDER BY id")
    expense = {e["id"]: certinia_id("pse__Expense__c", e["id"]) for e in expenses}
    _insert(c, "pse__Expense__c", [
        {"Id": expense[e["id"]], "Name": f"EX-{e['id']}", "pse__Project__c": project.get(e["workspace_id"]),
         "pse__Resource__c": contact.get(e["user_id"]), "pse__Expense_Date__c": e["date"], "pse__Type__c": e["category"],
         "pse__Description__c": e["notes"], "pse__Amount__c": (e["amount_in_cents"] or 0) / 100.0,
         "CurrencyIsoCode": e["currency"], "pse__Billable__c": e["is_billable"], "pse__Billed__c": e["is_invoiced"],
         "pse__Non_Reimbursible__c": 0 if e["reimbursable"] else 1, "pse__Approved__c": e["approved"],
         "pse__Status__c": "Approved" if e["approved"] else "Submitted", "CreatedDate": _sf(e["created_at"]),
         "SystemModstamp": _sf(e["updated_at"])} for e in expenses], counts)
    # what other systems say about Kantata records, now about their Certinia records
    _renamed(c, "sf_Opportunity", "Id", "PSA_Project_Id__c", {str(k): v for k, v in project.items()})
    _renamed(c, "ns_timebill", "id", "externalid", time_of)
    _renamed(c, "ns_expensereport", "id", "externalid", {str(k): v for k, v in expense.items()})
    milestone_ids = {str(k): v for k, v in story.items() if v.startswith(CERTINIA_PREFIX["pse__Milestone__c"])}
    for tbl, key in (("ns_transaction", "id"), ("ns_transactionline", "uniquekey")):
        for rid, memo in c.execute(f"SELECT {key}, memo FROM {tbl} WHERE memo LIKE 'Milestone story %'").fetchall():
            kt = memo.removeprefix("Milestone story ").strip()
            if kt in milestone_ids:
                c.execute(f"UPDATE {tbl} SET memo = ? WHERE {key} = ?", (f"Milestone story {milestone_ids[kt]}", rid))
    # out of Kantata: the firm no longer runs its delivery there
    for tbl in ("kt_time_entries", "kt_expenses", "kt_stories", "kt_workspace_allocations", "kt_workspace_resources",
                "kt_custom_field_values", "kt_workspaces", "kt_rate_card_roles", "kt_rate_cards", "kt_users",
                "kt_roles", "kt_custom_fields"):
        c.execute(f'DELETE FROM "{tbl}"')
    return counts


def _renamed(c, tbl: str, key: str, column: str, ids: dict[str, str]) -> None:
    rows = c.execute(f'SELECT "{key}", "{column}" FROM "{tbl}" WHERE "{column}" IS NOT NULL').fetchall()
    c.executemany(f'UPDATE "{tbl}" SET "{column}" = ? WHERE "{key}" = ?',
                  [(ids[str(v)], k) for k, v in rows if str(v) in ids])


def _timecards(c, contact, project, assignment_of, counts) -> dict[str, str]:
    """Time entries as weekly timecards and their splits; returns {Kantata entry id: Certinia time id}, the time id
    being the split's id and the day (as staging names a day of a split)."""
    entries = _rows(c, "SELECT * FROM kt_time_entries ORDER BY id")
    cards: list[dict] = []           # each: key, days {weekday: entry}, seq
    open_cards: dict[tuple, list[int]] = defaultdict(list)
    last_of_day: dict[tuple, int] = {}  # (user, date) -> newest card holding an earlier entry of that day
    placed = []
    for e in entries:
        day = dt.date.fromisoformat(e["date_performed"])
        monday = day - dt.timedelta(days=day.weekday())
        key = (e["user_id"], e["workspace_id"], e["story_id"], e["role_id"], monday, e["billable"], e["approved"],
               e["is_invoiced"], e["rate_in_cents"], e["cost_rate_in_cents"], e["currency"],
               (e["created_at"] or "")[:10], (e["updated_at"] or "")[:10])
        floor = last_of_day.get((e["user_id"], day), -1)
        chosen = next((i for i in open_cards[key] if i > floor and day.weekday() not in cards[i]["days"]), None)
        if chosen is None:
            chosen = len(cards)
            cards.append({"key": key, "days": {}, "monday": monday, "entry": e})
            open_cards[key].append(chosen)
        cards[chosen]["days"][day.weekday()] = e
        last_of_day[(e["user_id"], day)] = max(floor, chosen)
        placed.append((e["id"], chosen, day))
    headers, splits, split_of = [], [], {}
    split_n = 0
    for n, card in enumerate(cards, start=1):
        e, monday = card["entry"], card["monday"]
        hid = certinia_id("pse__Timecard_Header__c", n)
        sunday = monday + dt.timedelta(days=6)
        created = min(_sf(x["created_at"]) for x in card["days"].values())
        updated = max(_sf(x["updated_at"]) for x in card["days"].values())
        common = {"pse__Resource__c": contact.get(e["user_id"]), "pse__Project__c": project.get(e["workspace_id"]),
                  "pse__Assignment__c": assignment_of.get((e["workspace_id"], e["user_id"])),
                  "pse__Milestone__c": None, "pse__Status__c": "Approved" if e["approved"] else "Submitted",
                  "pse__Approved__c": e["approved"], "pse__Billable__c": e["billable"], "pse__Billed__c": e["is_invoiced"],
                  "pse__Bill_Rate__c": (e["rate_in_cents"] or 0) / 100.0,
                  "pse__Cost_Rate_Amount__c": (e["cost_rate_in_cents"] or 0) / 100.0, "CurrencyIsoCode": e["currency"],
                  "CreatedDate": created, "SystemModstamp": updated}

        def days(lo: dt.date, hi: dt.date) -> dict:
            out, total = {}, 0.0
            for i, name in enumerate(DAYS):
                x = card["days"].get(i) if lo <= monday + dt.timedelta(days=i) <= hi else None
                hours = (x["time_in_minutes"] or 0) / 60.0 if x else 0.0
                out[f"pse__{name}_Hours__c"] = hours
                out[f"pse__{name}_Notes__c"] = x["notes"] if x else None
                total += hours
            out["pse__Total_Hours__c"] = total
            return out

        headers.append({"Id": hid, "Name": f"TC-{n:08d}", **common, "pse__Start_Date__c": monday.isoformat(),
                        "pse__End_Date__c": sunday.isoformat(), **days(monday, sunday)})
        # one split per month the week touches (the time period here is the month)
        parts = [(monday, sunday)]
        if monday.month != sunday.month:
            month_end = dt.date(sunday.year, sunday.month, 1) - dt.timedelta(days=1)
            parts = [(monday, month_end), (month_end + dt.timedelta(days=1), sunday)]
        for lo, hi in parts:
            split_n += 1
            sid = certinia_id("pse__Timecard__c", split_n)
            splits.append({"Id": sid, "Name": f"TCS-{split_n:08d}", "pse__Timecard_Header__c": hid, **common,
                           "pse__Start_Date__c": lo.isoformat(), "pse__End_Date__c": hi.isoformat(), **days(lo, hi)})
            for i in range(7):
                d = monday + dt.timedelta(days=i)
                if lo <= d <= hi:
                    split_of[(n - 1, d)] = sid
    _insert(c, "pse__Timecard_Header__c", headers, counts)
    _insert(c, "pse__Timecard__c", splits, counts)
    return {str(kid): f"{split_of[(card, day)]}:{day.isoformat()}" for kid, card, day in placed}


# ---- the firm's days in Certinia (sandbox.simulate.tick calls `day` when the firm's delivery is placed here) --------
# What a day changes, as Kantata's day does (sandbox.simulate), on Certinia's records:
# - each working day, people assigned to an in-progress project enter the day's hours on their weekly timecard of
#   that project (pse__Timecard_Header__c, Monday to Sunday) and its split of the day's month (pse__Timecard__c): the
#   timecard still open this week (not approved) if it has that day free, else a new one, saved as Submitted;
# - timecards submitted three or more days ago are approved (pse__Status__c "Approved", pse__Approved__c), header and
#   splits; a few unapproved timecards are withdrawn: deleted, header and splits (IsDeleted, which queryAll returns,
#   with the SystemModstamp of the deletion: REST API Developer Guide, "QueryAll"; SOAP API Developer Guide, "System
#   Fields": SystemModstamp is the date and time a user or an automated process last modified the record);
# - milestones of in-progress projects are approved on their target date; customer projects past their end date
#   complete (pse__Stage__c "Completed", as the seed status_mappings names Certinia's stages).
# Every change stamps SystemModstamp and LastModifiedDate with the day's time, so that an incremental read sees it.
# The fields are those of the objects' pages in the PSA Data Dictionary (and of a real org's export of them:
# sirhcrd/sirhcrd.github.io, schema-intel/data/tables/pse_timecard_header_c.md: pse__Status__c, the day hours,
# SystemModstamp, IsDeleted); the status values "Submitted" and "Approved" are the ones the firm's records carry
# since it was placed here (unconfirmed as Certinia's exact picklist labels: kept in this one place).

def day(c, store: Store, t: dt.datetime, rng, stamp, add) -> None:
    """One simulated day of the firm's delivery in Certinia. stamp(): a time of the day in Salesforce's format;
    add(key, n): the tick's summary."""
    today = t.date()
    d = today.isoformat()
    if today.weekday() < 5:
        _time_of_day(c, store, today, rng, stamp, add)
        _approve_and_withdraw(c, t, rng, stamp, add)
    s = stamp()
    n = c.execute('UPDATE "sf_pse__Milestone__c" SET pse__Status__c = \'Approved\', pse__Approved__c = 1, '
                  'pse__Actual_Date__c = ?, SystemModstamp = ?, LastModifiedDate = ? WHERE pse__Approved__c = 0 '
                  'AND IsDeleted = 0 AND pse__Target_Date__c <= ? AND pse__Project__c IN (SELECT Id FROM '
                  '"sf_pse__Proj__c" WHERE pse__Stage__c = \'In Progress\' AND IsDeleted = 0)', (d, s, s, d)).rowcount
    add("certinia.milestones.approved", n)
    s = stamp()
    n = c.execute('UPDATE "sf_pse__Proj__c" SET pse__Stage__c = \'Completed\', SystemModstamp = ?, LastModifiedDate = ? '
                  'WHERE pse__Stage__c = \'In Progress\' AND IsDeleted = 0 AND pse__End_Date__c < ? '
                  'AND Name NOT LIKE \'Internal - %\'', (s, s, d)).rowcount
    add("certinia.projects.completed", n)


def _time_of_day(c, store: Store, today: dt.date, rng, stamp, add) -> None:
    d = today.isoformat()
    staffed = _rows(c, 'SELECT a.Id, a.pse__Project__c, a.pse__Resource__c, a.pse__Role__c, a.pse__Bill_Rate__c, '
                       'a.pse__Cost_Rate_Amount__c, p.CurrencyIsoCode, p.pse__Is_Billable__c FROM "sf_pse__Assignment__c" a '
                       'JOIN "sf_pse__Proj__c" p ON p.Id = a.pse__Project__c JOIN "sf_pse__Schedule__c" s '
                       'ON s.Id = a.pse__Schedule__c WHERE p.pse__Stage__c = \'In Progress\' AND p.pse__Is_Active__c = 1 '
                       'AND p.IsDeleted = 0 AND a.IsDeleted = 0 AND a.pse__Resource__c IS NOT NULL '
                       'AND (p.pse__Start_Date__c IS NULL OR p.pse__Start_Date__c <= ?) '
                       'AND (p.pse__End_Date__c IS NULL OR p.pse__End_Date__c >= ?) '
                       'AND (s.pse__Start_Date__c IS NULL OR s.pse__Start_Date__c <= ?) '
                       'AND (s.pse__End_Date__c IS NULL OR s.pse__End_Date__c >= ?) ORDER BY a.Id', (d, d, d, d))
    per_person: dict[str, int] = defaultdict(int)
    for a in staffed:
        per_person[a["pse__Resource__c"]] += 1
    monday = today - dt.timedelta(days=today.weekday())
    name = DAYS[today.weekday()]
    entered = 0
    for a in staffed:
        if rng.random() < 0.07:  # time off
            continue
        hours = max(0.25, int(round(rng.normal(7.3, 0.8) / per_person[a["pse__Resource__c"]] * 4)) / 4.0)
        rate = a["pse__Bill_Rate__c"]
        if rate is None and a["pse__Role__c"] is not None:
            card = c.execute('SELECT pse__Suggested_Bill_Rate__c FROM "sf_pse__Rate_Card__c" WHERE pse__Role__c = ? '
                             'AND CurrencyIsoCode = ? AND IsDeleted = 0 ORDER BY Id LIMIT 1',
                             (a["pse__Role__c"], a["CurrencyIsoCode"])).fetchone()
            rate = card[0] if card else None
        s = stamp()
        open_card = c.execute(
            f'SELECT Id FROM "sf_pse__Timecard_Header__c" WHERE pse__Assignment__c = ? AND pse__Resource__c = ? '
            f'AND pse__Start_Date__c = ? AND pse__Approved__c = 0 AND pse__Billed__c = 0 AND IsDeleted = 0 '
            f'AND coalesce(pse__{name}_Hours__c, 0) = 0 AND pse__{name}_Notes__c IS NULL '
            f'AND coalesce(pse__Bill_Rate__c, -1) = coalesce(?, -1) ORDER BY Id DESC LIMIT 1',
            (a["Id"], a["pse__Resource__c"], monday.isoformat(), rate)).fetchone()
        hid = open_card[0] if open_card else _new_timecard(c, store, a, monday, rate, s)
        for obj, where, params in (("pse__Timecard_Header__c", "Id = ?", (hid,)),
                                   ("pse__Timecard__c", "pse__Timecard_Header__c = ? AND IsDeleted = 0 AND "
                                    "pse__Start_Date__c <= ? AND pse__End_Date__c >= ?", (hid, d, d))):
            c.execute(f'UPDATE "sf_{obj}" SET pse__{name}_Hours__c = ?, pse__{name}_Notes__c = \'Delivery\', '
                      f'pse__Total_Hours__c = coalesce(pse__Total_Hours__c, 0) + ?, SystemModstamp = ?, '
                      f'LastModifiedDate = ? WHERE {where}', (hours, hours, s, s, *params))
        entered += 1
    add("certinia.time_entries.created", entered)


def _new_timecard(c, store: Store, a: dict, monday: dt.date, rate, s: str) -> str:
    """An empty weekly timecard of the assignment (Submitted, no hours yet), split at the month end it spans; its
    header's id."""
    n = store.next_ids("sf_pse__Timecard_Header__c")
    hid = certinia_id("pse__Timecard_Header__c", n)
    sunday = monday + dt.timedelta(days=6)
    empty = {**{f"pse__{x}_Hours__c": 0.0 for x in DAYS}, **{f"pse__{x}_Notes__c": None for x in DAYS},
             "pse__Total_Hours__c": 0.0}
    common = {"pse__Resource__c": a["pse__Resource__c"], "pse__Project__c": a["pse__Project__c"],
              "pse__Assignment__c": a["Id"], "pse__Milestone__c": None, "pse__Status__c": "Submitted",
              "pse__Approved__c": 0, "pse__Billable__c": a["pse__Is_Billable__c"], "pse__Billed__c": 0,
              "pse__Bill_Rate__c": rate, "pse__Cost_Rate_Amount__c": a["pse__Cost_Rate_Amount__c"],
              "CurrencyIsoCode": a["CurrencyIsoCode"], "CreatedDate": s, "SystemModstamp": s, **empty}
    counts: dict[str, int] = {}
    _insert(c, "pse__Timecard_Header__c", [{"Id": hid, "Name": f"TC-{n:08d}", **common,
                                            "pse__Start_Date__c": monday.isoformat(),
                                            "pse__End_Date__c": sunday.isoformat()}], counts)
    parts = [(monday, sunday)]
    if monday.month != sunday.month:
        month_end = dt.date(sunday.year, sunday.month, 1) - dt.timedelta(days=1)
        parts = [(monday, month_end), (month_end + dt.timedelta(days=1), sunday)]
    first = store.next_ids("sf_pse__Timecard__c", len(parts))
    _insert(c, "pse__Timecard__c", [
        {"Id": certinia_id("pse__Timecard__c", first + i), "Name": f"TCS-{first + i:08d}",
         "pse__Timecard_Header__c": hid, **common, "pse__Start_Date__c": lo.isoformat(),
         "pse__End_Date__c": hi.isoformat()} for i, (lo, hi) in enumerate(parts)], counts)
    return hid


def _approve_and_withdraw(c, t: dt.datetime, rng, stamp, add) -> None:
    cutoff = sf_datetime(t - dt.timedelta(days=3))
    due = [r[0] for r in c.execute('SELECT Id FROM "sf_pse__Timecard_Header__c" WHERE pse__Approved__c = 0 '
                                   'AND IsDeleted = 0 AND pse__Billed__c = 0 AND CreatedDate <= ? '
                                   'AND pse__Total_Hours__c > 0 ORDER BY Id', (cutoff,))]
    s = stamp()
    for ids in (due[i:i + 500] for i in range(0, len(due), 500)):
        q = ", ".join("?" * len(ids))
        for obj, key in (("pse__Timecard_Header__c", "Id"), ("pse__Timecard__c", "pse__Timecard_Header__c")):
            c.execute(f'UPDATE "sf_{obj}" SET pse__Status__c = \'Approved\', pse__Approved__c = 1, SystemModstamp = ?, '
                      f'LastModifiedDate = ? WHERE {key} IN ({q}) AND IsDeleted = 0', (s, s, *ids))
    add("certinia.timecards.approved", len(due))
    # a few unapproved timecards are withdrawn (deleted, with their splits)
    ids = [r[0] for r in c.execute('SELECT Id FROM "sf_pse__Timecard_Header__c" WHERE pse__Approved__c = 0 '
                                   'AND IsDeleted = 0 ORDER BY Id DESC LIMIT 200')]
    if ids:
        gone = [str(x) for x in rng.choice(ids, min(len(ids), int(rng.poisson(1))), replace=False)]
        if gone:
            s = stamp()
            q = ", ".join("?" * len(gone))
            for obj, key in (("pse__Timecard_Header__c", "Id"), ("pse__Timecard__c", "pse__Timecard_Header__c")):
                c.execute(f'UPDATE "sf_{obj}" SET IsDeleted = 1, SystemModstamp = ?, LastModifiedDate = ? '
                          f'WHERE {key} IN ({q})', (s, s, *gone))
            add("certinia.timecards.deleted", len(gone))
