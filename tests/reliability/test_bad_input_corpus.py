"""Nothing lost, nothing hidden: each bad input planted in the sandbox ends up somewhere a person can see it
(landed, quarantined with its field and reason, held with a reason code and its money at stake, or pushed), and
the rest of its object and every sync go through in the same cycle."""
from __future__ import annotations

import pytest

from conftest import RESAVED
from pshub.app.summary import print_loads
from reliability_corpus import EDITED_NOTE, NUL_NOTE, NULL_ID_NAME, ONE_MB_NOTE, SOQL_NAME, UNICODE_NOTE


def quarantined(db, object_: str, record_id: str):
    return db.execute("""select field, value, reason from ops.quarantine
                          where object = %s and record_id = %s and resolved_at is null""", (object_, record_id)).fetchall()


def landed(db, table: str, record_id: str):
    row = db.execute(f"select data from {table} where id = %s and not is_deleted", (record_id,)).fetchone()
    return row[0] if row else None


def held(db, model: str, record_id: str):
    return db.execute(f"select block_reason_code, _amount_at_stake from outbound.{model} where external_id = %s",
                      (record_id,)).fetchone()


def exception(db, sync: str, record_id: str):
    return db.execute("""select stage, reason_code, amount_at_stake from ops.sync_exceptions
                          where sync_name = %s and record_key = %s and resolved_at is null""", (sync, record_id)).fetchone()


def outcome(db, sync: str, record_id: str) -> str | None:
    """Where a record of a sync went: pushed (ledger), or held / failed with a reason (exceptions)."""
    if db.execute("select 1 from ops.sync_ledger where sync_name = %s and record_key = %s", (sync, record_id)).fetchone():
        return "pushed"
    found = exception(db, sync, record_id)
    return f"{found[0]}: {found[1]}" if found else None


def test_the_cycle_went_through_with_every_sync(cycle):
    assert cycle["status"] in ("succeeded", "partial")
    assert cycle["totals"]["dbt_failures"] == 0, cycle["transform"].get("failures")
    assert [s["sync"] for s in cycle["syncs"] if s["status"] in ("blocked", "failed")] == []
    assert [f"{l['system']}.{l['object']}" for l in cycle["loads"] if l["status"] != "completed"] == []


@pytest.mark.parametrize("case, field, value, reason", [
    ("bad_date", "date_performed", "2026-02-30", "date_performed: not a valid date"),
    ("non_numeric", "time_in_minutes", "twelve thousand", "time_in_minutes: not a number (or out of range)"),
    # PostgreSQL stores no NUL character: quarantine shows it as U+FFFD (flows.landing._nul_refusal)
    ("nul_character", "notes", NUL_NOTE.replace("\x00", "\ufffd"),
     "notes: holds a NUL character (U+0000), which PostgreSQL cannot store: remove it at the source"),
])
def test_a_value_no_cast_can_read_is_quarantined_with_its_field_and_the_rest_lands(cycle, corpus, db, case, field,
                                                                                     value, reason):
    assert quarantined(db, "time_entries", corpus[case]) == [(field, value, reason)]
    assert landed(db, "raw_kantata.time_entries", corpus[case]) is None
    # the rest of the object landed in the same cycle: every other planted entry, and the firm's day of entries
    others = [corpus[c] for c in ("no_date", "no_hours", "unicode", "one_mb_string", "no_person", "no_project",
                                  "paged_twice")]
    assert all(landed(db, "raw_kantata.time_entries", rid) is not None for rid in others)
    load = next(l for l in cycle["loads"] if l["object"] == "time_entries")
    assert load["status"] == "completed"
    assert load["rows_quarantined"] == 3 and load["rows_fetched"] - load["rows_quarantined"] > RESAVED


@pytest.mark.parametrize("case, reason", [("no_date", "time_without_date"), ("no_hours", "time_without_hours")])
def test_approved_billable_time_without_date_or_hours_is_held_with_its_reason(cycle, corpus, db, case, reason):
    assert landed(db, "raw_kantata.time_entries", corpus[case]) is not None
    code, at_stake = held(db, "erp_time_bills_blocked", corpus[case])
    assert code == reason
    assert exception(db, "erp_time_bills", corpus[case])[:2] == ("blocked", reason)
    if case == "no_date":  # hours and rate known: the money at stake is
        assert at_stake is not None and at_stake > 0


def test_a_negative_expense_is_held_not_pushed(cycle, corpus, db):
    code, at_stake = held(db, "erp_expenses_blocked", corpus["negative_expense"])
    assert (code, float(at_stake)) == ("negative_amount", -123.45)
    assert outcome(db, "erp_expenses", corpus["negative_expense"]) == "blocked: negative_amount"


def test_a_negative_deal_creates_no_erp_or_psa_project(cycle, corpus, db):
    opportunity = corpus["negative_opportunity"]
    for sync in ("erp_projects", "psa_projects"):
        code, at_stake = held(db, f"{sync}_blocked", opportunity)
        assert (code, float(at_stake)) == ("negative_amount", -50000.0)
        assert outcome(db, sync, opportunity) == "blocked: negative_amount"


@pytest.mark.parametrize("case, text", [("unicode", UNICODE_NOTE), ("one_mb_string", ONE_MB_NOTE)])
def test_unusual_text_lands_unchanged_and_its_time_bill_goes_somewhere(cycle, corpus, db, case, text):
    assert landed(db, "raw_kantata.time_entries", corpus[case])["notes"] == text
    assert outcome(db, "erp_time_bills", corpus[case]) is not None


def test_soql_looking_text_lands_unchanged(cycle, corpus, db):
    """An account with no deal is no sync's business: it lands, and staging reads it as it is."""
    assert landed(db, "raw_salesforce.account", corpus["soql_looking_text"])["Name"] == SOQL_NAME
    assert db.execute("select account_name from staging.stg_salesforce__accounts where crm_account_id = %s",
                      (corpus["soql_looking_text"],)).fetchone() == (SOQL_NAME,)


@pytest.mark.parametrize("case, reason", [("no_person", "employee_not_in_erp"), ("no_project", "time_without_engagement")])
def test_approved_billable_time_without_its_person_or_project_is_held_with_its_reason(cycle, corpus, db, case, reason):
    assert landed(db, "raw_kantata.time_entries", corpus[case]) is not None
    code, at_stake = held(db, "erp_time_bills_blocked", corpus[case])
    assert code == reason and at_stake is not None and at_stake > 0
    assert exception(db, "erp_time_bills", corpus[case]) == ("blocked", reason, at_stake)


def test_a_record_without_its_id_is_quarantined_with_its_payload_and_the_rest_of_its_object_lands(cycle, corpus, db):
    rows = db.execute("""select field, value, reason from ops.quarantine
                          where system = 'salesforce' and object = 'Account' and record_id is null
                            and payload ->> 'Name' = %s and resolved_at is null""", (NULL_ID_NAME,)).fetchall()
    assert rows == [("Id", None, "missing Id")]
    assert landed(db, "raw_salesforce.account", corpus["soql_looking_text"]) is not None
    load = next(l for l in cycle["loads"] if l["object"] == "Account")
    assert (load["status"], load["rows_quarantined"]) == ("completed", 1) and load["rows_landed"] >= 1


def test_a_record_served_on_two_pages_of_one_read_lands_once_as_its_newer_version(cycle, corpus, reliability_env, db):
    """Kantata pages by number: a time entry edited while the hub pages through the changes comes again on a later
    page of the same read. It lands once, as the newer version, and becomes one time bill in the ERP."""
    entry = corpus["paged_twice"]
    assert reliability_env["sandbox"].edited_while_paging() == [["time_entries", int(entry)]]
    assert landed(db, "raw_kantata.time_entries", entry)["notes"] == EDITED_NOTE
    assert db.execute("select count(*), min(notes) from intermediate.int_time_entries where psa_time_entry_id = %s",
                      (entry,)).fetchone() == (1, EDITED_NOTE)
    assert outcome(db, "erp_time_bills", entry) == "pushed"
    erp = reliability_env["sandbox"].store.conn()
    assert erp.execute("SELECT COUNT(*), MIN(memo) FROM ns_timebill WHERE externalid = ?", (entry,)).fetchone() == (
        1, EDITED_NOTE)


def test_a_field_gone_from_the_source_is_reported_like_a_new_one_and_nothing_else_is_lost(cycle, corpus, db, capsys):
    """Probability removed from opportunities (or hidden from the hub's user): the cycle says so, the opportunities
    changed since land without it, and the values landed before stay in the warehouse."""
    load = next(l for l in cycle["loads"] if l["object"] == "Opportunity")
    assert (load["status"], load["gone_fields"], load["new_fields"]) == ("completed", ["Probability"], [])
    assert db.execute("""select gone_at is not null from raw_salesforce._fields
                          where object = 'Opportunity' and field = 'Probability'""").fetchone() == (True,)
    for case in ("changed_deal", "negative_opportunity"):
        assert "Probability" not in landed(db, "raw_salesforce.opportunity", corpus[case])
    # only the versions landed since lack it: every opportunity not changed since keeps the value it had
    without, landed_now, kept = db.execute("""
        select count(*) filter (where not data ? 'Probability'), count(*) filter (where _load_id = %s),
               count(*) filter (where data ? 'Probability') from raw_salesforce.opportunity""",
        (load["load_id"],)).fetchone()
    assert without == landed_now and kept > 0
    print_loads(cycle["loads"])  # what `pshub run` prints after the cycle
    assert "Opportunity" in capsys.readouterr().out.split("fields gone from the source: Probability")[0].splitlines()[-1]
