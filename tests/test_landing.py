"""Landing: newest version wins, duplicate and out-of-order pages are harmless, bad records quarantined."""
import datetime as dt

import pytest

from flows.landing import Load, ObjectSpec, land_page, land_stream, landed_already, mark_deleted, mark_vanished

SPEC = ObjectSpec(system="testsys", object="Widget", table="widget", id_field="Id",
                  updated_field="SystemModstamp", parse_updated=dt.datetime.fromisoformat, deleted_field="IsDeleted")


def rec(id_, ts, **extra):
    return {"Id": id_, "SystemModstamp": ts, "IsDeleted": False, **extra}


@pytest.fixture
def fresh(conn):
    conn.execute("drop schema if exists raw_testsys cascade")
    conn.execute("delete from ops.quarantine where system = 'testsys'")
    conn.execute("delete from ops.cursors where system = 'testsys'")
    conn.commit()
    return conn


def land(conn, pages, run_id="r-test"):
    return land_stream(conn, SPEC, pages, run_id=run_id, cursor_from=None, cursor_field="SystemModstamp")


def rows(conn):
    return {r[0]: (r[1]["v"], r[2]) for r in conn.execute(
        "select id, data, is_deleted from raw_testsys.widget order by id")}


def test_newer_version_wins_and_older_never_overwrites(fresh):
    land(fresh, [[rec("a", "2026-01-02T00:00:00+00:00", v=2)], [rec("a", "2026-01-01T00:00:00+00:00", v=1)]])
    assert rows(fresh) == {"a": (2, False)}


def test_duplicate_and_out_of_order_pages_converge(fresh):
    page1 = [rec("a", "2026-01-01T00:00:00+00:00", v=1), rec("b", "2026-01-01T00:00:00+00:00", v=1)]
    page2 = [rec("a", "2026-01-03T00:00:00+00:00", v=3)]
    land(fresh, [page2, page1, page1])
    assert rows(fresh) == {"a": (3, False), "b": (1, False)}


def test_unchanged_records_are_not_rewritten(fresh):
    page = [rec("a", "2026-01-01T00:00:00+00:00", v=1)]
    land(fresh, [page])
    second = land(fresh, [page])
    assert second.rows_fetched == 1 and second.rows_landed == 0


def test_a_reread_in_the_overlap_skips_only_the_records_landed_as_they_are(fresh):
    """An incremental read starts a little before its cursor: what it reads again, unchanged, skips the checks;
    a record changed under the same stamp, one never landed, and one newer than the cursor land as ever."""
    land(fresh, [[rec("a", "2026-01-01T00:00:00+00:00", v=1), rec("b", "2026-01-01T00:00:00+00:00", v=1)]])
    cursor = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    page = [rec("a", "2026-01-01T00:00:00+00:00", v=1), rec("b", "2026-01-01T00:00:00+00:00", v=2),
            rec("c", "2025-12-31T23:59:00+00:00", v=1), rec("d", "2026-01-02T00:00:00+00:00", v=1)]
    assert landed_already(fresh, SPEC, page, cursor) == {0}
    fresh.rollback()
    again = land_stream(fresh, SPEC, [page], run_id="r", cursor_from=cursor, cursor_field="SystemModstamp")
    assert (again.rows_fetched, again.rows_landed) == (4, 3)
    assert rows(fresh) == {"a": (1, False), "b": (2, False), "c": (1, False), "d": (1, False)}


def test_a_quarantined_record_read_again_in_the_overlap_is_checked_again(fresh):
    typed = ObjectSpec(system="testsys", object="Widget", table="widget", id_field="Id",
                       updated_field="SystemModstamp", parse_updated=dt.datetime.fromisoformat,
                       deleted_field="IsDeleted", field_types={"amount": "numeric"})
    page = [rec("q", "2026-01-01T00:00:00+00:00", v=1, amount="twelve")]
    first = land_stream(fresh, typed, [page], run_id="r", cursor_from=None, cursor_field="SystemModstamp")
    again = land_stream(fresh, typed, [page], run_id="r", cursor_from=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
                        cursor_field="SystemModstamp")
    assert (first.rows_quarantined, again.rows_quarantined) == (1, 1)
    assert fresh.execute("select attempts from ops.quarantine where system = 'testsys' and record_id = 'q'"
                         " and resolved_at is null").fetchone()[0] == 2


def test_bad_records_are_quarantined_and_the_rest_of_the_page_lands(fresh):
    page = [rec("a", "2026-01-01T00:00:00+00:00", v=1), {"SystemModstamp": "2026-01-01T00:00:00+00:00", "v": 9},
            rec("c", "not a time", v=1), "garbage"]
    result = land(fresh, [page])
    assert rows(fresh) == {"a": (1, False)}
    assert result.rows_quarantined == 3
    reasons = sorted(r[0] for r in fresh.execute(
        "select reason from ops.quarantine where system = 'testsys' and resolved_at is null"))
    assert reasons == ["missing Id", "missing or unreadable SystemModstamp: 'not a time'",
                       "unreadable record: not a JSON object"]


def test_quarantined_record_leaves_quarantine_when_a_good_version_lands(fresh):
    land(fresh, [[rec("c", "bad", v=1)]])
    land(fresh, [[rec("c", "2026-01-05T00:00:00+00:00", v=2)]])
    open_rows = fresh.execute("select count(*) from ops.quarantine where system = 'testsys' and resolved_at is null")
    assert open_rows.fetchone()[0] == 0
    assert rows(fresh) == {"c": (2, False)}


def test_a_load_into_a_new_table_copies_new_ids_directly_and_upserts_a_page_that_repeats_one(fresh):
    """A load that creates its table COPYs each page straight into it (flows.landing._copy_new); a page naming an id
    landed already goes through the upsert instead, so the newest version still wins, and a record that lands
    leaves quarantine either way."""
    result = land(fresh, [[rec("a", "2026-01-02T00:00:00+00:00", v=2), rec("c", "bad", v=0)],
                          [rec("b", "2026-01-01T00:00:00+00:00", v=1), rec("c", "2026-01-03T00:00:00+00:00", v=1)],
                          [rec("a", "2026-01-01T00:00:00+00:00", v=1), rec("b", "2026-01-04T00:00:00+00:00", v=4)]])
    assert rows(fresh) == {"a": (2, False), "b": (4, False), "c": (1, False)}
    assert (result.rows_fetched, result.rows_landed, result.rows_quarantined) == (6, 4, 1)
    assert fresh.execute("select count(*) from ops.quarantine where system = 'testsys' and resolved_at is null"
                         ).fetchone()[0] == 0
    assert {r[0] for r in fresh.execute("select distinct _load_id from raw_testsys.widget")} == {result.load_id}


def test_ids_and_values_with_tabs_newlines_and_backslashes_land_intact(fresh):
    """COPY's text format escapes them (flows.landing.copy_text): a page with such an id, and pages without, land
    the same texts, by the direct COPY of a new table and by the upsert."""
    odd = "x\t1\\2\n3\r"
    value = 'a "quoted" \\ back\\slash,\ttab and\nnewline'
    land(fresh, [[rec(odd, "2026-01-01T00:00:00+00:00", v=value), rec("plain", "2026-01-01T00:00:00+00:00", v=value)],
                 [rec("plain2", "2026-01-01T00:00:00+00:00", v=value)]])
    land(fresh, [[rec(odd, "2026-01-02T00:00:00+00:00", v=value + "!")]])
    assert rows(fresh) == {odd: (value + "!", False), "plain": (value, False), "plain2": (value, False)}


def test_cursor_advances_with_the_data_and_a_load_is_completed_last(fresh):
    result = land(fresh, [[rec("a", "2026-01-01T00:00:00+00:00", v=1)], [rec("b", "2026-02-01T00:00:00+00:00", v=1)]])
    cursor = fresh.execute("select cursor_value::timestamptz from ops.cursors where system = 'testsys'").fetchone()[0]
    assert cursor == dt.datetime(2026, 2, 1, tzinfo=dt.timezone.utc)
    status, completed = fresh.execute("select status, completed_at from ops.loads where load_id = %s",
                                      (result.load_id,)).fetchone()
    assert status == "completed" and completed is not None


def test_a_failure_mid_stream_keeps_the_pages_already_landed(fresh):
    def pages():
        yield [rec("a", "2026-01-01T00:00:00+00:00", v=1)]
        raise ConnectionError("source went away")

    with pytest.raises(ConnectionError):
        land(fresh, pages())
    assert rows(fresh) == {"a": (1, False)}
    assert fresh.execute("select status from ops.loads where system = 'testsys' order by load_id desc"
                         " limit 1").fetchone()[0] == "failed"


def test_deleted_flag_lands(fresh):
    land(fresh, [[rec("a", "2026-01-01T00:00:00+00:00", v=1)]])
    land(fresh, [[{**rec("a", "2026-01-02T00:00:00+00:00", v=1), "IsDeleted": True}]])
    assert rows(fresh) == {"a": (1, True)}


def test_a_new_source_field_lands_and_is_reported_once(fresh):
    land(fresh, [[rec("a", "2026-01-01T00:00:00+00:00", v=1)]])
    first = land(fresh, [[rec("b", "2026-01-02T00:00:00+00:00", v=1, Region__c="EMEA")]])
    again = land(fresh, [[rec("c", "2026-01-03T00:00:00+00:00", v=1, Region__c="APAC")]])
    assert first.new_fields == ["Region__c"] and again.new_fields == []
    assert fresh.execute("select data ->> 'Region__c' from raw_testsys.widget where id = 'b'").fetchone()[0] == "EMEA"


def test_a_removed_source_field_does_not_break_landing(fresh):
    land(fresh, [[rec("a", "2026-01-01T00:00:00+00:00", v=1, Region__c="EMEA")]])
    result = land(fresh, [[{"Id": "a", "SystemModstamp": "2026-01-02T00:00:00+00:00", "IsDeleted": False, "v": 2}]])
    assert result.status == "completed" and rows(fresh) == {"a": (2, False)}


def test_reconciliation_marks_only_ids_the_source_no_longer_lists_and_confirms_them(fresh):
    land(fresh, [[rec(i, "2026-01-01T00:00:00+00:00", v=1) for i in ("a", "b", "c", "d")]])
    load = Load(fresh, SPEC, run_id="r-test", cursor_from=None, cursor_field=None)
    # b and c are missing from the listing; c shows up when asked for by id (it slipped between pages)
    deleted = mark_vanished(fresh, SPEC, iter([["a"], ["d"]]), confirm=lambda ids: {"c"} & set(ids),
                            load_id=load.load_id)
    load.finish()
    assert deleted == 1
    assert rows(fresh) == {"a": (1, False), "b": (1, True), "c": (1, False), "d": (1, False)}


def test_a_deletion_is_a_version_an_older_copy_cannot_undo(fresh):
    land(fresh, [[rec("a", "2026-01-01T00:00:00+00:00", v=1)]])
    load = Load(fresh, SPEC, run_id="r-test", cursor_from=None, cursor_field=None)
    with fresh.transaction():
        mark_deleted(fresh, "raw_testsys", "widget", ["a"], load_id=load.load_id,
                     deleted_at=dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc))
    load.finish()
    land(fresh, [[rec("a", "2026-01-01T00:00:00+00:00", v=1)]])  # a page read before the delete lands late
    assert rows(fresh) == {"a": (1, True)}


DECLARED = ObjectSpec(system="testsys", object="Widget", table="widget", id_field="Id", updated_field="SystemModstamp",
                      parse_updated=dt.datetime.fromisoformat, deleted_field="IsDeleted",
                      declared_fields=("Id", "SystemModstamp", "IsDeleted", "v", "externalid"), omits_nulls=True)


def test_a_declared_field_first_filled_later_is_not_drift_when_the_source_omits_nulls(fresh):
    """SuiteQL leaves null columns out: a declared field (externalid, written by the hub) shows up late, and a
    page without it says nothing."""
    results = [land_stream(fresh, DECLARED, [page], run_id="r", cursor_from=None, cursor_field="SystemModstamp")
               for page in ([rec("a", "2026-01-01T00:00:00+00:00", v=1)],
                            [rec("a", "2026-01-02T00:00:00+00:00", v=1, externalid="opp-1")],
                            [rec("b", "2026-01-03T00:00:00+00:00", v=1)],
                            [rec("b", "2026-01-04T00:00:00+00:00", v=1, externalid="opp-2")],
                            [rec("c", "2026-01-05T00:00:00+00:00", v=1, Region__c="EMEA")])]
    assert [(r.new_fields, r.gone_fields) for r in results] == [([], [])] * 4 + [(["Region__c"], [])]


def test_a_field_removed_or_renamed_at_the_source_is_reported_once(fresh):
    land(fresh, [[rec("a", "2026-01-01T00:00:00+00:00", v=1, Probability=50)]])
    renamed = land(fresh, [[rec("a", "2026-01-02T00:00:00+00:00", v=1, Win_Chance__c=50)]])
    again = land(fresh, [[rec("b", "2026-01-03T00:00:00+00:00", v=1, Win_Chance__c=10)]])
    back = land(fresh, [[rec("c", "2026-01-04T00:00:00+00:00", v=1, Win_Chance__c=10, Probability=10)]])
    assert (renamed.new_fields, renamed.gone_fields) == (["Win_Chance__c"], ["Probability"])
    assert (again.new_fields, again.gone_fields) == ([], [])
    assert (back.new_fields, back.gone_fields) == (["Probability"], [])


TYPED = ObjectSpec(system="testsys", object="Entry", table="entry", id_field="Id", updated_field="SystemModstamp",
                   parse_updated=dt.datetime.fromisoformat, field_types={"minutes": "integer", "day": "date"},
                   dated_field="day")


def test_a_full_read_checked_ahead_lands_what_it_read_before_a_failure_and_quarantines_with_reasons(fresh):
    """A read from no cursor checks each batch while the one before lands (flows.objects.land_batches): a bad
    value is still quarantined with its reason, the batches read before the read fails still land, and the date
    index a new table gets at the end of such a load is built."""
    from flows.objects import land_batches

    def batches():
        yield [{"Id": "a", "SystemModstamp": "2026-01-01T00:00:00+00:00", "minutes": 60, "day": "2026-01-01"},
               {"Id": "b", "SystemModstamp": "2026-01-01T00:00:00+00:00", "minutes": "lots", "day": "2026-01-01"}]
        yield [{"Id": "c", "SystemModstamp": "2026-01-02T00:00:00+00:00", "minutes": " 30 ", "day": "2026-02-30"}]
        raise ConnectionError("the source went away")

    load = Load(fresh, TYPED, run_id="r-ahead", cursor_from=None, cursor_field="SystemModstamp", track_seen=True)
    # a new table holds only what this load reads: no ids kept for a reconciliation that could find nothing
    assert load.checks_ahead and load.fills_new_table and not load.track_seen
    with pytest.raises(ConnectionError):
        for _ in land_batches(load, batches()):
            pass
    load.finish("stopped", "the source went away")
    assert [r[0] for r in fresh.execute("select id from raw_testsys.entry order by id")] == ["a"]
    assert fresh.execute("select record_id, reason from ops.quarantine where system = 'testsys' and resolved_at is null"
                         " order by record_id").fetchall() == [("b", "minutes: not a number (or out of range)"),
                                                               ("c", "day: not a valid date")]
    assert fresh.execute("select to_regclass('raw_testsys.entry__day')").fetchone()[0] is not None


def test_a_nul_character_in_a_value_quarantines_its_record_and_the_rest_of_the_page_lands(fresh):
    """PostgreSQL cannot store the NUL character (U+0000) in text or jsonb ("unsupported Unicode escape sequence"):
    a record holding one, in a value or a field name, is quarantined with the field named, its payload kept with the
    character shown as U+FFFD; a backslash-u text that is not a NUL lands as it is."""
    not_nul = "a literal \\u0000 typed as text"
    land(fresh, [[rec("a", "2026-01-01T00:00:00+00:00", v=1, note="bad\x00note"),
                  rec("b", "2026-01-01T00:00:00+00:00", v=2, note=not_nul),
                  rec("c", "2026-01-01T00:00:00+00:00", v=3, nested={"deep": ["x\x00"]}),
                  rec("d", "2026-01-01T00:00:00+00:00", v=4, **{"k\x00": 1})]])
    land(fresh, [[rec("e", "2026-01-02T00:00:00+00:00", v=5, note="n\x00")]])  # by the upsert, into the table
    assert rows(fresh) == {"b": (2, False)}
    quarantined = {r[0]: r[1:] for r in fresh.execute(
        "select record_id, field, reason, payload from ops.quarantine where system = 'testsys' and resolved_at is null")}
    assert set(quarantined) == {"a", "c", "d", "e"}
    assert quarantined["a"][0] == "note" and "NUL" in quarantined["a"][1]
    assert quarantined["a"][2]["note"] == "bad\ufffdnote"
    assert quarantined["c"][0] == "nested" and quarantined["d"][0] == "k\ufffd"
    assert fresh.execute("select data ->> 'note' from raw_testsys.widget where id = 'b'").fetchone()[0] == not_nul


def test_a_landing_into_a_table_in_place_makes_nothing_and_a_missing_index_is_made_again(fresh):
    """ensure_raw_table looks at the catalog first: with the table and its indexes there it runs no DDL and takes no
    lock (each landing of a cycle took its system's lock until its first commit); a missing index is made again."""
    from flows.landing import ensure_raw_table

    land(fresh, [[rec("a", "2024-01-01T00:00:00+00:00")]])
    fresh.commit()
    ensure_raw_table(fresh, SPEC)
    locks = fresh.execute("select count(*) from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()")
    assert locks.fetchone()[0] == 0  # the transaction holds no lock of ensure_raw_table's
    fresh.rollback()
    fresh.execute("drop index raw_testsys.widget__load_id")
    fresh.commit()
    ensure_raw_table(fresh, SPEC)
    fresh.commit()
    assert fresh.execute("select to_regclass('raw_testsys.widget__load_id') is not null").fetchone()[0]
