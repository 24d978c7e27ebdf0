"""Reliability tests: a bad-input corpus planted in a sandbox firm of their own, then one hub cycle over it.

Like the operations tests, they point PSHUB_HOME and PSHUB_DATABASE_URL at a warehouse and sandbox of their own
for the rest of the session, so they run last (tests/conftest.py orders them)."""
from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from isolated_hub import isolated_hub
from reliability_corpus import ONE_MB_NOTE, SOQL_NAME, UNICODE_NOTE


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
def corpus(reliability_env) -> dict[str, str]:
    """{case: record id} of the bad inputs, planted before the first cycle. Time entries are copies of an
    approved billable entry of this month (an engagement in every system, an open period)."""
    firm = Firm(reliability_env["sandbox"])
    recent = (firm.today() - dt.timedelta(days=3)).isoformat()
    entry = ("approved = 1 AND billable = 1 AND is_invoiced = 0 AND date_performed >= ? AND time_in_minutes > 0"
             " AND rate_in_cents > 0",
             ((firm.today().replace(day=1)).isoformat(),))
    expense = ("approved = 1 AND is_billable = 1 AND amount_in_cents > 0", ())
    won = ("IsWon = 1 AND Amount > 0", ())

    def time_entry(**changes) -> str:
        return firm.clone("kantata", "time_entries", entry[0], {"date_performed": recent, **changes}, entry[1])

    return {
        "bad_date": time_entry(date_performed="2026-02-30"),
        "non_numeric": time_entry(time_in_minutes="twelve thousand"),
        "no_date": time_entry(date_performed=None),
        "no_hours": time_entry(time_in_minutes=None),
        "unicode": time_entry(notes=UNICODE_NOTE),
        "one_mb_string": time_entry(notes=ONE_MB_NOTE),
        "negative_expense": firm.clone("kantata", "expenses", expense[0], {"amount_in_cents": -12345}, expense[1]),
        "negative_opportunity": firm.clone("salesforce", "Opportunity", won[0], {
            "Amount": -50000.0, "Name": "Reliability: negative deal", "External_Id__c": None,
            "ERP_Project_Id__c": None, "PSA_Project_Id__c": None, "Sync_Status__c": None}, won[1]),
        "soql_looking_text": firm.clone("salesforce", "Account", "1 = 1", {"Name": SOQL_NAME, "External_Id__c": None,
                                                                          "ERP_Customer_Id__c": None}),
    }


@pytest.fixture(scope="session")
def cycle(corpus):
    """One hub cycle over the firm with the corpus planted."""
    from flows.hub import hub

    return hub()
