"""Reliability tests: a bad-input corpus planted in a sandbox firm of their own, then one hub cycle over it.

The firm runs a first cycle and a day before the corpus is planted, so that the corpus cycle is an ordinary
incremental one, and a field the hub landed before can go missing in it.

Like the operations tests, they point PSHUB_HOME and PSHUB_DATABASE_URL at a warehouse and sandbox of their own
for the rest of the session, so they run last (tests/conftest.py orders them)."""
from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from isolated_hub import isolated_hub
from reliability_corpus import EDITED_NOTE, NUL_NOTE, NULL_ID_NAME, ONE_MB_NOTE, SOQL_NAME, UNICODE_NOTE
from sandbox.store import kt_datetime


@pytest.fixture(scope="session")
def reliability_env(warehouse_url, home):
    with isolated_hub(warehouse_url, home / "reliability", "pshub_reliability_test") as env:
        yield env


@pytest.fixture
def db(reliability_env):
    with psycopg.connect(reliability_env["database_url"]) as connection:
        yield connection


class Firm:
    """Plants records in the sandbox firm's own tables, as a user of each system would have entered them."""

    def __init__(self, server):
        self.store = server.store
        self.sql = self.store.conn()

    def today(self) -> dt.date:
        return self.store.now().date()

    def clone(self, system: str, table: str, where: str, changes: dict, params: tuple = ()) -> str:
        """A copy of the first row of `table` matching `where`, with a new id, stamped now, and `changes`."""
        prefix = {"salesforce": "sf", "kantata": "kt", "netsuite": "ns"}[system]
        cur = self.sql.execute(f"SELECT * FROM {prefix}_{table} WHERE {where} LIMIT 1", params)
        row = dict(zip([c[0] for c in cur.description], cur.fetchone()))
        stamp = self.store.stamp(system)
        if system == "salesforce":
            row.update(Id=self.store.new_sf_id(table), SystemModstamp=stamp, LastModifiedDate=stamp, CreatedDate=stamp)
        else:
            row.update(id=self.store.new_kt_id(table), updated_at=stamp, created_at=stamp)
        row.update(changes)
        with self.store.write_lock:
            self.sql.execute(f"INSERT INTO {prefix}_{table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                             list(row.values()))
        return str(row["Id"] if system == "salesforce" else row["id"])




@pytest.fixture(scope="session")
def baseline(reliability_env) -> dict:
    """The firm's first hub cycle, then a day of business: what the corpus cycle starts from."""
    from flows.hub import hub

    first = hub()
    assert first["status"] in ("succeeded", "partial") and first["totals"]["dbt_failures"] == 0
    reliability_env["sandbox"].tick(1)
    return first


RESAVED = 450  # non-billable entries saved again before the corpus cycle: its read of time entries spans pages


@pytest.fixture(scope="session")
def corpus(reliability_env, baseline) -> dict[str, str]:
    """{case: record id} of the bad inputs, planted after the first cycle. Time entries are copies of an approved
    billable entry of this month (an engagement in every system, an open period)."""
    server = reliability_env["sandbox"]
    firm = Firm(server)
    recent = (firm.today() - dt.timedelta(days=3)).isoformat()
    entry = ("approved = 1 AND billable = 1 AND is_invoiced = 0 AND date_performed >= ? AND time_in_minutes > 0"
             " AND rate_in_cents > 0",
             # from the first of the month the copies are dated in (on a month's first days, the month before)
             ((firm.today() - dt.timedelta(days=4)).replace(day=1).isoformat(),))
    expense = ("approved = 1 AND is_billable = 1 AND amount_in_cents > 0", ())
    won = ("IsWon = 1 AND Amount > 0", ())

    def time_entry(**changes) -> str:
        return firm.clone("kantata", "time_entries", entry[0], {"date_performed": recent, **changes}, entry[1])

    # a user saves a batch of non-billable entries again (no sync's business): the corpus cycle reads time entries
    # over several pages
    with firm.store.write_lock:
        firm.sql.execute("UPDATE kt_time_entries SET updated_at = ? WHERE id IN (SELECT id FROM kt_time_entries"
                         " WHERE billable = 0 ORDER BY id LIMIT ?)", (firm.store.stamp("kantata"), RESAVED))
    # served on the read's first pages (older than the batch), edited while the hub reads on: the same id comes
    # again, newer, on a later page of the same read
    # (a day of its own: the other copies share theirs, which they take over 24 hours)
    paged_twice = time_entry(notes="as first served", date_performed=(firm.today() - dt.timedelta(days=4)).isoformat(),
                             updated_at=kt_datetime(firm.store.now() - dt.timedelta(hours=1)))
    server.edit_while_paging("kantata", "time_entries", int(paged_twice), {"notes": EDITED_NOTE})
    # Probability goes from every opportunity the hub reads from now on (removed, or hidden from its user)
    server.hide_field("salesforce", "Opportunity", "Probability")
    changed_deal = firm.clone("salesforce", "Opportunity", won[0], {
        "Name": "Reliability: a deal changed after Probability went", "External_Id__c": None,
        "ERP_Project_Id__c": None, "PSA_Project_Id__c": None, "Sync_Status__c": None, "IsWon": 0, "IsClosed": 0,
        "StageName": "Prospecting"}, won[1])

    return {
        "bad_date": time_entry(date_performed="2026-02-30"),
        "non_numeric": time_entry(time_in_minutes="twelve thousand"),
        "no_date": time_entry(date_performed=None),
        "no_hours": time_entry(time_in_minutes=None),
        "unicode": time_entry(notes=UNICODE_NOTE),
        "nul_character": time_entry(notes=NUL_NOTE),
        "one_mb_string": time_entry(notes=ONE_MB_NOTE),
        "no_person": time_entry(user_id=None),
        "no_project": time_entry(workspace_id=None, story_id=None),
        "paged_twice": paged_twice,
        "negative_expense": firm.clone("kantata", "expenses", expense[0], {"amount_in_cents": -12345}, expense[1]),
        "negative_opportunity": firm.clone("salesforce", "Opportunity", won[0], {
            "Amount": -50000.0, "Name": "Reliability: negative deal", "External_Id__c": None,
            "ERP_Project_Id__c": None, "PSA_Project_Id__c": None, "Sync_Status__c": None}, won[1]),
        "changed_deal": changed_deal,
        "soql_looking_text": firm.clone("salesforce", "Account", "1 = 1", {"Name": SOQL_NAME, "External_Id__c": None,
                                                                          "ERP_Customer_Id__c": None}),
        # no vendor serves a record without its id: a defect planted to show that the landing keeps it anyway
        "no_id": firm.clone("salesforce", "Account", "1 = 1", {"Id": None, "Name": NULL_ID_NAME,
                                                               "External_Id__c": None, "ERP_Customer_Id__c": None}),
    }


@pytest.fixture(scope="session")
def cycle(corpus):
    """One hub cycle over the firm with the corpus planted."""
    from flows.hub import hub

    return hub()
