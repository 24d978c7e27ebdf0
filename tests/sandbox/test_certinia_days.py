"""The firm's clock with its delivery in Certinia (sandbox.certinia_firm.day): a tick enters the working days' hours on
weekly timecards and their splits, approves and withdraws timecards, approves milestones and completes projects, each
change stamped with the day's SystemModstamp, so that the hub's incremental read (connectors.salesforce.changed_pages,
queryAll since the cursor) sees every one of them, deletions included."""
from __future__ import annotations

import datetime as dt

import pytest

from connectors.salesforce import SalesforceClient
from sandbox.server import SandboxServer
from sandbox.store import sf_datetime

ANCHOR = dt.datetime(2025, 6, 13, 12, 0, 0)  # a Friday: the tick's days start on a Saturday
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TIMECARD = ("Id", "IsDeleted", "SystemModstamp", "CreatedDate", "pse__Timecard_Header__c", "pse__Start_Date__c",
            "pse__End_Date__c", "pse__Status__c", "pse__Approved__c", "pse__Total_Hours__c", "pse__Assignment__c",
            "pse__Resource__c", "pse__Project__c", *(f"pse__{d}_Hours__c" for d in DAYS))


@pytest.fixture(scope="module")
def ticked(tmp_path_factory):
    """A demo firm placed in Certinia, ticked nine days; (server, the tick's answer, the clock before it)."""
    with SandboxServer(tmp_path_factory.mktemp("certinia-days"), scale="demo", seed=5, anchor=ANCHOR, psa="certinia",
                       systems=("salesforce", "kantata")) as server:
        before = server.store.now()
        result = server.tick(9)
        with SalesforceClient(server.urls["salesforce"], server.credentials["salesforce"], max_attempts=3) as client:
            yield server, result, before, client


def _changed(client, obj: str, fields, since: dt.datetime) -> list[dict]:
    return [r for page in client.changed_pages(obj, tuple(fields), since=since) for r in page]


def test_a_tick_lives_the_days_in_certinia_and_leaves_kantata_empty(ticked):
    server, result, _before, _client = ticked
    changes = result["changes"]
    assert changes["certinia.time_entries.created"] > 0 and changes["certinia.timecards.approved"] > 0
    assert changes["certinia.timecards.deleted"] > 0
    assert not [k for k in changes if k.startswith("kantata.")], changes
    c = server.store.conn()
    assert c.execute("SELECT count(*) FROM kt_time_entries").fetchone()[0] == 0


def test_the_days_hours_are_on_weekly_timecards_whose_splits_hold_them(ticked):
    server, _result, before, client = ticked
    headers = {r["Id"]: r for r in _changed(client, "pse__Timecard_Header__c", TIMECARD[:4] + TIMECARD[5:], before)}
    splits = _changed(client, "pse__Timecard__c", TIMECARD, before)
    made = {i: h for i, h in headers.items() if h["CreatedDate"] > sf_datetime(before)}
    assert made, "new timecards this tick"
    worked = {(before + dt.timedelta(days=k)).date() for k in range(1, 10)}
    for h in made.values():
        monday = dt.date.fromisoformat(h["pse__Start_Date__c"])
        assert monday.weekday() == 0 and h["pse__Assignment__c"] and h["pse__Resource__c"] and h["pse__Project__c"]
        for i, d in enumerate(DAYS):  # hours only on the tick's working days
            if h[f"pse__{d}_Hours__c"]:
                day = monday + dt.timedelta(days=i)
                assert day in worked and day.weekday() < 5, (h["Id"], day)
        assert sum(h[f"pse__{d}_Hours__c"] for d in DAYS) == pytest.approx(h["pse__Total_Hours__c"])
        if not h["IsDeleted"]:
            assert h["pse__Total_Hours__c"] > 0
    for d in DAYS:  # each day's hours are in exactly one split of its timecard, and the splits changed with it
        per_header: dict[str, float] = {}
        for s in splits:
            if s["pse__Timecard_Header__c"] in made:
                per_header[s["pse__Timecard_Header__c"]] = per_header.get(s["pse__Timecard_Header__c"], 0) + \
                    s[f"pse__{d}_Hours__c"]
        assert per_header == pytest.approx({i: h[f"pse__{d}_Hours__c"] for i, h in made.items()})


def test_approvals_and_withdrawals_reach_the_incremental_read_with_their_systemmodstamp(ticked):
    server, _result, before, client = ticked
    headers = _changed(client, "pse__Timecard_Header__c", TIMECARD[:4] + TIMECARD[5:], before)
    splits = _changed(client, "pse__Timecard__c", TIMECARD, before)
    end = sf_datetime(server.store.now())
    assert all(sf_datetime(before) < r["SystemModstamp"] <= end for r in headers + splits)
    approved = {r["Id"] for r in headers if r["pse__Approved__c"] and not r["IsDeleted"]}
    assert approved and all(r["pse__Status__c"] == "Approved" for r in headers if r["Id"] in approved)
    # approved a timecard submitted before the tick (Submitted in the firm as generated)
    assert any(r["CreatedDate"] <= sf_datetime(before) for r in headers if r["Id"] in approved)
    deleted = {r["Id"] for r in headers if r["IsDeleted"]}
    assert deleted and not any(r["pse__Approved__c"] for r in headers if r["Id"] in deleted)
    # a withdrawn timecard's splits are deleted with it, and the plain query no longer returns them
    assert {s["pse__Timecard_Header__c"] for s in splits if s["IsDeleted"]} == deleted
    live = {r["Id"] for page in client.query_pages("SELECT Id FROM pse__Timecard_Header__c") for r in page}
    assert not deleted & live
    # the split approvals carry their header's
    for s in splits:
        if s["pse__Timecard_Header__c"] in approved:
            assert s["pse__Approved__c"] and s["pse__Status__c"] == "Approved"


def test_milestones_due_are_approved_and_projects_past_their_end_complete(ticked):
    # runs last in this module (it ticks the firm again): a project's end and its milestone's target made due
    server, _result, _before, client = ticked
    c = server.store.conn()
    project, milestone = c.execute(
        'SELECT p.Id, min(m.Id) FROM "sf_pse__Proj__c" p JOIN "sf_pse__Milestone__c" m ON m.pse__Project__c = p.Id '
        'WHERE p.pse__Stage__c = \'In Progress\' AND p.Name NOT LIKE \'Internal - %\' AND m.pse__Approved__c = 0 '
        'AND m.IsDeleted = 0 GROUP BY p.Id ORDER BY p.Id LIMIT 1').fetchone()
    today = server.store.now().date()
    due = (today + dt.timedelta(days=1)).isoformat()
    with server.store.write_lock:
        c.execute('UPDATE "sf_pse__Proj__c" SET pse__End_Date__c = ? WHERE Id = ?', (today.isoformat(), project))
        c.execute('UPDATE "sf_pse__Milestone__c" SET pse__Target_Date__c = ? WHERE Id = ?', (due, milestone))
    before = server.store.now()
    changes = server.tick(2)["changes"]
    projects = {r["Id"]: r for r in _changed(client, "pse__Proj__c", ("Id", "pse__Stage__c", "SystemModstamp"), before)}
    milestones = {r["Id"]: r for r in _changed(client, "pse__Milestone__c", (
        "Id", "pse__Status__c", "pse__Approved__c", "pse__Actual_Date__c"), before)}
    assert projects[project]["pse__Stage__c"] == "Completed" and changes["certinia.projects.completed"] >= 1
    m = milestones[milestone]
    assert (m["pse__Status__c"], m["pse__Approved__c"], m["pse__Actual_Date__c"]) == ("Approved", True, due)
    assert changes["certinia.milestones.approved"] >= 1
