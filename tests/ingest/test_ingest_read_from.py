"""Where an incremental read starts (flows/objects.py read_since): at the cursor, or earlier by as much as a change
committed late could need, judged by the source's clock when the last read began (its responses' HTTP Date).

Each test stamps records of one object straight in the sandbox's own database (a change as the source commits it:
any stamp, committed whenever the test says), then lands the object over HTTP into PostgreSQL and reads ops.loads.
"""
from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from connectors import catalog
from flows.objects import OVERLAP, land_object
from ingest_support import client_of
from sandbox.store import STAMP

# (system, object): the sandbox's table, its id column, its stamp columns, a text field to change
OBJECTS = {("salesforce", "Account"): ("sf_Account", "Id", ("LastModifiedDate", "SystemModstamp"), "Name"),
           ("netsuite", "customer"): ("ns_customer", "id", ("lastmodifieddate",), "companyname"),
           ("kantata", "workspaces"): ("kt_workspaces", "id", ("updated_at",), "title")}
# records stamped a minute before the one at the cursor: inside the overlap the reads used to re-read every time
EARLIER = 5


@pytest.fixture(scope="module")
def firm(tmp_path_factory):
    """A demo firm of this module's own, served in this process: its clock and records are changed directly."""
    from sandbox.server import SandboxServer

    server = SandboxServer(tmp_path_factory.mktemp("read-from-sandbox"), scale="demo", seed=17,
                           systems=("salesforce", "netsuite", "kantata"))
    server.start()
    yield server
    server.stop()


class Source:
    """One object of the firm: its records restamped as the test says, committed when it says."""

    def __init__(self, firm, system: str, name: str):
        self.firm, self.system = firm, system
        (self.obj,) = catalog.find(system, name)
        self.table, self.id_col, self.stamp_cols, self.text_col = OBJECTS[(system, name)]

    def now(self) -> dt.datetime:
        return self.firm.store.now().replace(tzinfo=dt.timezone.utc)

    def ids(self, count: int, skip: int = 0) -> list[str]:
        rows = self.firm.store.conn().execute(
            f'SELECT "{self.id_col}" FROM "{self.table}" ORDER BY "{self.id_col}" LIMIT ? OFFSET ?', (count, skip))
        ids = [str(r[0]) for r in rows]
        assert len(ids) == count, (self.table, count, skip)
        return ids

    def change(self, ids: list[str], stamp: dt.datetime, text: str) -> None:
        value = STAMP[self.system](stamp.replace(tzinfo=None))
        sets = ", ".join([f'"{c}" = ?' for c in self.stamp_cols] + [f'"{self.text_col}" = ?'])
        with self.firm.store.write_lock:
            c = self.firm.store.conn()
            c.executemany(f'UPDATE "{self.table}" SET {sets} WHERE "{self.id_col}" = ?',
                          [(*[value] * len(self.stamp_cols), text, i) for i in ids])

    def landed_text(self, conn: psycopg.Connection, record_id: str) -> str | None:
        row = conn.execute(f'select data ->> %s from raw_{self.obj.system}."{self.obj.table}" where id = %s',
                           (self.text_col, record_id)).fetchone()
        return row[0] if row else None


def read_from_of(conn: psycopg.Connection, load_id: int) -> dt.datetime | None:
    return conn.execute("select source_read_from from ops.loads where load_id = %s", (load_id,)).fetchone()[0]


@pytest.fixture
def later(firm):
    """The firm's clock an hour on (no business in between): stamps set from now on are newer than any before."""
    firm.store.advance(1 / 24)


SYSTEMS = sorted(OBJECTS)


@pytest.mark.parametrize(("system", "name"), SYSTEMS)
def test_a_change_committed_after_the_last_read_with_a_stamp_before_the_cursor_still_lands(
        system, name, firm, later, new_database):
    """A change stamped inside [the last read's start - OVERLAP, cursor], committed after that read began (a late
    commit): the next read starts early enough to land it, though the cursor is past its stamp."""
    src = Source(firm, system, name)
    newest, late = src.ids(2, skip=10)
    src.change([newest], src.now(), "the newest change")  # the cursor will be here, just before the read begins
    url = new_database(f"late_{system}")
    with client_of(firm, system) as client, psycopg.connect(url) as conn:
        first = land_object(client, src.obj, "r-first", conn=conn, reconcile=False)
        cursor = conn.execute("select cursor_value::timestamptz from ops.cursors where system = %s and object = %s",
                              (system, name)).fetchone()[0]
        began = read_from_of(conn, first.load_id)
        assert first.status == "completed" and began is not None and cursor > began - OVERLAP
        # committed now, after the read began, stamped a minute before the cursor: within OVERLAP of that read
        stamp = cursor - dt.timedelta(minutes=1)
        assert began - OVERLAP <= stamp < cursor
        src.change([late], stamp, "committed late")
        second = land_object(client, src.obj, "r-second", conn=conn, reconcile=False)
        assert second.status == "completed" and second.rows_landed >= 1
        assert src.landed_text(conn, late) == "committed late"


def _restamped_and_landed(src: Source, conn: psycopg.Connection, client) -> tuple[dt.datetime, list]:
    """The EARLIER records stamped a minute before a newest one, ten minutes ago (more than OVERLAP before the
    source's clock), landed by a first and a second load: the second read begins past the cursor + OVERLAP."""
    at = src.now() - dt.timedelta(minutes=10)
    ids = src.ids(EARLIER + 1, skip=12)
    src.change(ids[:EARLIER], at - dt.timedelta(minutes=1), "a minute before the newest")
    src.change(ids[EARLIER:], at, "the newest")
    loads = [land_object(client, src.obj, f"r-{n}", conn=conn, reconcile=False) for n in ("full", "changes")]
    assert [r.status for r in loads] == ["completed"] * 2
    assert loads[1].rows_landed == 0  # the full read landed them already
    return at, loads


@pytest.mark.parametrize(("system", "name"), SYSTEMS)
def test_a_read_begun_past_the_overlap_is_not_read_again_by_the_next(system, name, firm, later, new_database):
    """After a load whose read began more than OVERLAP after the cursor, the next load reads from the cursor: not
    the records stamped in the OVERLAP before it again (the echoes of the hub's own writes, cycle after cycle);
    and a load that lands nothing keeps its time all the same."""
    src = Source(firm, system, name)
    with client_of(firm, system) as client, psycopg.connect(new_database(f"reread_{system}")) as conn:
        at, loads = _restamped_and_landed(src, conn, client)
        assert read_from_of(conn, loads[1].load_id) - at > OVERLAP
        for n in range(2):
            again = land_object(client, src.obj, f"r-again-{n}", conn=conn, reconcile=False)
            assert again.status == "completed" and again.rows_landed == 0
            assert again.rows_fetched == 1, again  # the record at the cursor only, not the EARLIER ones before it
            assert read_from_of(conn, again.load_id) - at > OVERLAP  # kept though nothing landed


@pytest.mark.parametrize(("system", "name"), SYSTEMS)
def test_with_no_date_header_the_read_starts_at_the_cursor_less_the_overlap(system, name, firm, later,
                                                                            new_database):
    """A source that sends no Date (an origin without a clock: the sandbox's `clockless` fault): nothing is known of
    when the read began, and every read starts OVERLAP before the cursor, as before."""
    src = Source(firm, system, name)
    firm.set_faults(system, {"clockless": True})
    try:
        with client_of(firm, system) as client, psycopg.connect(new_database(f"nodate_{system}")) as conn:
            _, loads = _restamped_and_landed(src, conn, client)
            assert [read_from_of(conn, r.load_id) for r in loads] == [None, None]
            again = land_object(client, src.obj, "r-again", conn=conn, reconcile=False)
            assert again.status == "completed" and again.rows_landed == 0
            assert again.rows_fetched == EARLIER + 1, again  # the overlap before the cursor read again
    finally:
        firm.set_faults(system, {"clockless": False})
