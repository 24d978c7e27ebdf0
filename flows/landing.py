"""Landing: one page of source records into raw_<system>.<object>, newest version wins, nothing lost.

Each page is validated (pandera, flows/field_types.py), COPYed into a temporary table and upserted in one transaction together
with the object's cursor, so a crash between pages loses nothing and re-running converges. Records that
cannot land go to ops.quarantine with their payload and reason; they leave it when a later version lands.
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import orjson
import psycopg
from psycopg import sql

from connectors import catalog
from flows import value_forms

log = logging.getLogger("pshub.landing")


@dataclass(frozen=True)
class ObjectSpec:
    """How one source object lands: which fields carry its id, version timestamp and deleted flag."""
    system: str
    object: str                      # source name (Account, time_entries, customer)
    table: str                       # raw table name (account, time_entries, customer)
    id_field: str
    updated_field: str
    parse_updated: Callable[[str], dt.datetime]
    deleted_field: str | None = None
    extra: dict = field(default_factory=dict)
    # {field: type} of the fields staging casts (catalog): values no cast would read are quarantined
    field_types: dict = field(default_factory=dict)
    # the fields the catalog declares: expected, so never reported as new
    declared_fields: tuple[str, ...] = ()
    # the source leaves null fields out of a record (NetSuite SuiteQL): a field missing from a page is no news
    omits_nulls: bool = False
    # the date field by which each cycle confirms the object's recent records (catalog `recent`): indexed
    dated_field: str | None = None

    @property
    def schema(self) -> str:
        return f"raw_{self.system}"


@functools.cache
def _checks():
    """The page checks (flows/field_types.py, pandas and pandera), imported when a page first has records to check:
    pandas and pandera take 1.5 to 5 s to import on a busy machine, which a run that reads nothing new (every
    record it re-reads in the overlap is landed already) does without."""
    from flows import field_types

    return field_types


def parser_for(system: str) -> Callable[[str], dt.datetime]:
    """How `system` writes the version stamp of its records: its connector's parse_datetime.

    Each connector is imported here, when its system lands, not with this module: the Salesforce and NetSuite
    connectors import PyJWT and cryptography, which a Kantata-only run does not need. Measured (`python -X
    importtime`, and process time): the four other connectors cost 0.03 to 0.05 CPU-second, 0.05 to 0.25 s of
    wall time on a loaded 2-core machine, of a no-change `pshub ingest -s kantata -o time_entries` that uses about
    0.7 CPU-second in all."""
    if system in ("salesforce", "certinia"):  # Certinia PSA's objects are in the Salesforce org
        from connectors.salesforce import parse_datetime
    elif system == "kantata":
        from connectors.kantata import parse_datetime
    elif system == "netsuite":
        from connectors.netsuite import parse_datetime
    elif system == "dynamics":
        from connectors.dynamics import parse_datetime
    elif system == "hubspot":
        from connectors.hubspot import parse_datetime
    else:
        raise KeyError(f"no version stamp parser for {system!r}")
    return parse_datetime


def spec_for(obj: catalog.SourceObject) -> ObjectSpec:
    return ObjectSpec(system=obj.system, object=obj.name, table=obj.table, id_field=obj.id_field,
                      updated_field=obj.updated_field, parse_updated=parser_for(obj.system),
                      deleted_field=obj.deleted_field,
                      # the version field is read by its own parser (and staging takes it typed, source_updated_at)
                      field_types={f: t for f, t in obj.field_types.items() if f != obj.updated_field},
                      declared_fields=obj.field_names, omits_nulls=obj.omits_nulls,
                      dated_field=obj.recent[1] if obj.recent else None)


def _dated(field_name: str) -> sql.Composable:
    """A landed record's date (an ISO date's text sorts as the date does), as the index of ensure_raw_table has it."""
    return sql.SQL("left(data ->> {}, 10)").format(sql.Literal(field_name))


def raw_relations(spec: ObjectSpec, *, dated_index: bool = True) -> list[str]:
    """The relations ensure_raw_table makes in the object's schema: its raw table and its indexes."""
    return [spec.table, f"{spec.table}__load_id", *([f"{spec.table}__{spec.dated_field}"]
                                                    if dated_index and spec.dated_field else [])]


def ensure_raw_table(conn: psycopg.Connection, spec: ObjectSpec, *, dated_index: bool = True) -> None:
    """The object's raw table and its indexes; dated_index=False: without the index of its date field (a load that
    fills a new table builds it once at the end, ensure_dated_index, instead of updating it row by row).

    A look at the catalog first: when the table and its indexes are there (every landing but an object's first),
    nothing is made, and no lock is taken. The lock below is held until the landing's first commit and is the same
    for every object of a system, so each landing of a cycle waited for the others of its system to get that far;
    and `create index if not exists` takes its table's lock before it finds the index there. An index name
    PostgreSQL shortened only makes this ensure again."""
    names = raw_relations(spec, dated_index=dated_index)
    present = conn.execute("""select count(*) from pg_catalog.pg_class c
                                join pg_catalog.pg_namespace n on n.oid = c.relnamespace
                               where n.nspname = %s and c.relname = any(%s)""", (spec.schema, names)).fetchone()[0]
    if present == len(names):
        return
    # objects land at the same time: `create ... if not exists` alone races on the catalog
    conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (spec.schema,))
    conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(spec.schema)))
    conn.execute(sql.SQL("""
        create table if not exists {}.{} (
            id                 text primary key,
            data               jsonb not null,
            source_updated_at  timestamptz not null,
            is_deleted         boolean not null default false,
            _load_id           bigint not null,
            _landed_at         timestamptz not null default now()
        )""").format(sql.Identifier(spec.schema), sql.Identifier(spec.table)))
    # "landed since load N" (dbt's incremental models and restricted tests) reads a few pages, not every row. A BRIN
    # index: rows land in load-id order at the end of the table, so it stays tiny and costs landing nearly nothing.
    conn.execute(sql.SQL("create index if not exists {} on {}.{} using brin (_load_id) with (autosummarize = on)").format(
        sql.Identifier(f"{spec.table}__load_id"), sql.Identifier(spec.schema), sql.Identifier(spec.table)))
    if dated_index:
        ensure_dated_index(conn, spec)


def ensure_dated_index(conn: psycopg.Connection, spec: ObjectSpec) -> None:
    if spec.dated_field:
        # each cycle counts (and, when the count differs from the source's, reconciles) the live records of a recent
        # date window: an index on the date keeps that a look-up of the window, not a scan of every landed record
        conn.execute(sql.SQL("create index if not exists {} on {}.{} ({}) where not is_deleted").format(
            sql.Identifier(f"{spec.table}__{spec.dated_field}"), sql.Identifier(spec.schema),
            sql.Identifier(spec.table), _dated(spec.dated_field)))


@dataclass
class PageResult:
    landed: int = 0
    quarantined: int = 0
    deleted: int = 0
    max_updated: dt.datetime | None = None
    new_fields: list[str] = field(default_factory=list)
    gone_fields: list[str] = field(default_factory=list)


# a record that cannot land: (payload, record id, reason, field, value)
Refused = tuple[dict | None, str | None, str, str | None, object]


def split_valid(spec: ObjectSpec, records: list) -> tuple[list[tuple], list[Refused]]:
    """Validate a page: (rows that can land, [(payload, record id, reason, field, value)] that cannot).

    A record cannot land without its id or version timestamp, nor (unless it is a deletion) with a value that
    the staging cast of its field would refuse (spec.field_types): the rest of the page lands."""
    bad: list[Refused] = []
    readable, ids, stamps = [], [], []
    id_field, updated_field, parse, utc = spec.id_field, spec.updated_field, spec.parse_updated, dt.timezone.utc
    for rec in records:
        if type(rec) is not dict:
            bad.append(({"unreadable": repr(rec)[:2000]}, None, "unreadable record: not a JSON object", None, None))
            continue
        rid = rec.get(id_field)
        if rid is not None and type(rid) is not str:
            rid = str(rid)
        try:
            ts = parse(rec[updated_field])
            if ts.tzinfo is None:
                ts = ts.replace(tzinfo=utc)
        except (KeyError, TypeError, ValueError, AttributeError):  # missing, null, empty or unreadable
            ts = None
        readable.append(rec)
        ids.append(rid)
        stamps.append(ts)
    if not readable:
        return [], bad
    failed_rows: dict[int, tuple[str, str | None, object]] = {}  # (reason, field, value)
    unreadable = {}
    # every id a non-empty text and every stamp read: nothing for the identity check to find
    if None in stamps or not all(type(rid) is str and rid for rid in ids):
        try:
            unreadable = _checks().unreadable_identity(ids, stamps)
        except RuntimeError as exc:
            raise RuntimeError(f"landing validation of {spec.system}.{spec.object} is broken: {exc}") from exc
    for i, column in sorted(unreadable.items()):
        failed_rows[i] = ((f"missing {id_field}", id_field, None) if column == "id" else
                          (f"missing or unreadable {updated_field}: {readable[i].get(updated_field)!r}", updated_field,
                           readable[i].get(updated_field)))
    deleted_field = spec.deleted_field
    if spec.field_types:
        # a deletion lands whatever its values (staging drops deleted rows before casting)
        live = ([i for i, rec in enumerate(readable) if not rec.get(deleted_field)] if deleted_field
                else range(len(readable)))
        checked = [readable[i] for i in live] if deleted_field else readable
        # the values of a plain form are readable (flows.value_forms): only the other records need the full checks
        suspects = value_forms.unproved(spec.field_types, checked)
        refused = _checks().refused_values(spec.field_types, [checked[k] for k in suspects]) if suspects else {}
        for j, problems in refused.items():
            i = live[suspects[j]]
            if i not in failed_rows:
                name, value, _ = problems[0]
                failed_rows[i] = ("; ".join(f"{f}: {problem}" for f, _, problem in problems), name, value)
    texts = [_json(rec) for rec in readable]
    for i, text in enumerate(texts):  # orjson writes U+0000 as \u0000: the substring test is the cheap one
        if "\\u0000" in text and i not in failed_rows and _NUL.search(text):
            failed_rows[i] = _nul_refusal(readable[i])
    if not failed_rows:
        if deleted_field is None:
            return [(rid, text, ts, False) for rid, text, ts in zip(ids, texts, stamps)], bad
        return [(rid, text, ts, bool(rec.get(deleted_field)))
                for rid, text, ts, rec in zip(ids, texts, stamps, readable)], bad
    good = []
    for i, (rec, rid, ts, text) in enumerate(zip(readable, ids, stamps, texts)):
        if i in failed_rows:
            bad.append((rec, rid, *failed_rows[i]))
        else:
            good.append((rid, text, ts, bool(rec.get(deleted_field)) if deleted_field else False))
    return good, bad


# PostgreSQL stores no NUL character (U+0000) in text, and jsonb refuses its escape ("unsupported Unicode escape
# sequence": PostgreSQL's JSON types documentation, section 8.14): a record holding one in a key or a value cannot
# land. In orjson's text it is a \u0000 not itself escaped (an odd number of backslashes before the u).
_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def _nul_refusal(rec: dict) -> tuple[str, str | None, object]:
    """(reason, field, value) of a record that holds a NUL character: the first top-level field that does."""
    for key, value in rec.items():
        if "\x00" in key or _NUL.search(orjson.dumps(value).decode()):
            name = _storable(key)
            return (f"{name}: holds a NUL character (U+0000), which PostgreSQL cannot store: remove it at the source",
                    name, value)
    return ("holds a NUL character (U+0000), which PostgreSQL cannot store: remove it at the source", None, None)


def _storable(text: str | None) -> str | None:
    """A text as the warehouse can keep it: a NUL character shown as U+FFFD (quarantine keeps what cannot land)."""
    return text.replace("\x00", "\ufffd") if text and "\x00" in text else text


def _storable_json(text: str) -> str:
    """JSON text as jsonb takes it: an escaped NUL character shown as U+FFFD."""
    return _NUL.sub(r"\1\\ufffd", text) if "\\u0000" in text else text


def _json(rec: dict) -> str:
    """A record's JSON text, as a str: the rows of a batch are kept until it lands, and thousands of orjson's bytes
    kept alive cost far more CPU than the same texts as str (glibc's malloc with the heap settings of
    flows.objects.cap_malloc_arenas). Measured on 5,000 medium Kantata time entries: dumped and written for COPY,
    78 ms as bytes against 15 ms as str; split_valid and copy_rows together, 72 to 75 ms against 57 to 65 ms."""
    return orjson.dumps(rec).decode()


def _shown(value: object, limit: int = 500) -> str | None:
    """A refused value as quarantine shows it (the payload keeps it whole; a NUL character as U+FFFD)."""
    if value is None:
        return None
    text = _storable(value) if isinstance(value, str) else orjson.dumps(value, default=repr).decode()
    return text if len(text) <= limit else text[:limit] + f"... ({len(text):,} characters)"


def _copy_field(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def copy_text(rows: list[tuple[str, str, dt.datetime, bool]], load_id: int | None = None) -> bytes:
    """(id, JSON text, version, deleted) rows in COPY's text format, one buffer: JSON from orjson holds no raw tab or
    newline, so only its backslashes need doubling. With `load_id`, each line ends with it (the raw table's _load_id
    column: the same text COPYs into the raw table itself or into the temporary table of an upsert)."""
    end = "\n" if load_id is None else f"\t{int(load_id)}\n"
    ids = "".join(row[0] for row in rows)
    if "\\" in ids or "\t" in ids or "\n" in ids or "\r" in ids:
        return "".join(
            "%s\t%s\t%s\t%s%s" % (_copy_field(rid), data.replace("\\", "\\\\"), ts.isoformat(), "t" if deleted else "f", end)
            for rid, data, ts, deleted in rows).encode()
    # as most ids are: nothing to escape in them, so the JSON's backslashes are doubled in one pass over the page
    return "".join([f"{rid}\t{data}\t{ts.isoformat()}\t{'t' if deleted else 'f'}{end}"
                    for rid, data, ts, deleted in rows]).replace("\\", "\\\\").encode()


def copy_rows(copy, rows: list[tuple[str, str, dt.datetime, bool]]) -> None:
    """Write (id, JSON text, version, deleted) rows to a COPY, one buffer per call (copy_text)."""
    copy.write(copy_text(rows))


@dataclass
class CheckedPage:
    """A page validated and written out for COPY ahead of its landing (check_page): work without the warehouse,
    done while the previous page lands."""
    good: list[tuple]       # (id, JSON text, version, deleted)
    bad: list[Refused]
    copy_data: bytes        # the good rows in COPY's text format, each with the load id (copy_text)
    twice: bool             # an id is in the page more than once (pages overlap)


def check_page(spec: ObjectSpec, records: list, load_id: int) -> CheckedPage:
    """split_valid and the COPY text of a page: what land_page does before it writes, for a page none of whose
    records it would skip as landed already (land_page(reread_until=None))."""
    good, bad = split_valid(spec, records)
    return CheckedPage(good, bad, copy_text(good, load_id), len({row[0] for row in good}) < len(good))


class FieldTracker:
    """The fields seen so far of one object (raw_<system>._fields), so that schema drift is reported once.

    A field is new when the source sends it for the first time and the catalog does not declare it (a field the
    catalog declares is expected, even the first time it carries a value: SuiteQL leaves null columns out, so a
    declared field first appears when someone fills it). A field is gone when a source that sends every field it
    has (not NetSuite) sends a page in which no record has a field it sent before: removed or renamed at the
    source, its values no longer land. Each is reported once; a gone field that comes back is new again.
    """

    def __init__(self, conn: psycopg.Connection, spec: ObjectSpec):
        self.spec = spec
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (spec.schema,))
        conn.execute(sql.SQL("""
            create table if not exists {}._fields (
                object         text not null,
                field          text not null,
                first_seen_at  timestamptz not null default now(),
                first_load_id  bigint,
                gone_at        timestamptz,
                primary key (object, field)
            )""").format(sql.Identifier(spec.schema)))
        conn.execute(sql.SQL("alter table {}._fields add column if not exists gone_at timestamptz").format(
            sql.Identifier(spec.schema)))
        rows = conn.execute(
            sql.SQL("select field, gone_at is null from {}._fields where object = %s").format(sql.Identifier(spec.schema)),
            (spec.object,)).fetchall()
        self.known = {name for name, _ in rows}                 # recorded, present or gone
        self.present = {name for name, present in rows if present}
        self.declared = set(spec.declared_fields)
        self.first_landing = not self.known

    def drift(self, records: list) -> tuple[list[str], list[str], list[str]]:
        """(fields to record, fields to report as new, fields to report as gone) of a page."""
        dicts = [rec for rec in records if type(rec) is dict]
        seen = set().union(*dicts)  # the keys of every record
        unseen = sorted(f for f in seen - self.present if "\x00" not in f)  # its record is quarantined
        new = [] if self.first_landing else [f for f in unseen if f not in self.declared or f in self.known]
        gone = sorted(self.present - seen) if dicts and not self.spec.omits_nulls else []
        return unseen, new, gone

    def remember(self, conn: psycopg.Connection, fields: list[str], load_id: int, gone: list[str] = ()) -> None:
        """Record fields now present and fields gone (in the page's transaction); the caller reports them."""
        fields_table = sql.Identifier(self.spec.schema)
        with conn.cursor() as cur:
            if fields:
                cur.executemany(sql.SQL("insert into {}._fields (object, field, first_load_id) values (%s, %s, %s)"
                                        " on conflict (object, field) do update set gone_at = null").format(fields_table),
                                [(self.spec.object, f, load_id) for f in fields])
            if gone:
                cur.execute(sql.SQL("update {}._fields set gone_at = now() where object = %s and field = any(%s)"
                                    ).format(fields_table), (self.spec.object, list(gone)))
        self.known.update(fields)
        self.present.update(fields)
        self.present.difference_update(gone)


@dataclass
class OpenQuarantine:
    """Whether the object has records in quarantine, so that landings skip the resolve step when it has none."""
    open: bool

    @classmethod
    def of(cls, conn: psycopg.Connection, spec: ObjectSpec) -> "OpenQuarantine":
        return cls(conn.execute("select exists (select 1 from ops.quarantine where system = %s and object = %s"
                                " and resolved_at is null)", (spec.system, spec.object)).fetchone()[0])


SEEN_TABLE = "_seen"  # the ids a load has read (Load(track_seen=True)): a temporary table of its connection


def landed_already(conn: psycopg.Connection, spec: ObjectSpec, records: list, until: dt.datetime) -> set[int]:
    """The indexes of the records versioned at or before `until` (the cursor the read started from: records read
    again in the overlap) that are landed already exactly as they are: same version, same data, same deleted flag.
    Landing them again would change nothing, so they skip the checks; a no-change run then never needs pandas."""
    id_field, parse, deleted_field, utc = spec.id_field, spec.parse_updated, spec.deleted_field, dt.timezone.utc
    index, ids, stamps, data, deleted = [], [], [], [], []
    for i, rec in enumerate(records):
        if type(rec) is not dict or rec.get(id_field) in (None, ""):
            continue
        try:
            ts = parse(rec[spec.updated_field])
            ts = ts if ts.tzinfo else ts.replace(tzinfo=utc)
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
        if ts <= until:
            text = orjson.dumps(rec).decode()
            if "\\u0000" in text:  # may hold a NUL character: the checks quarantine it (_nul_refusal)
                continue
            index.append(i)
            ids.append(str(rec[id_field]))
            stamps.append(ts)
            data.append(text)
            deleted.append(bool(rec.get(deleted_field)) if deleted_field else False)
    if not index:
        return set()
    rows = conn.execute(sql.SQL("""
        select c.i from unnest(%s::int[], %s::text[], %s::timestamptz[], %s::text[], %s::boolean[])
                        as c(i, id, ts, data, deleted)
          join {}.{} t on t.id = c.id
         where t.source_updated_at = c.ts and t.is_deleted = c.deleted and t.data = c.data::jsonb
    """).format(sql.Identifier(spec.schema), sql.Identifier(spec.table)), (index, ids, stamps, data, deleted))
    return {i for (i,) in rows}


def _copy_new(conn: psycopg.Connection, target: sql.Composable, checked: CheckedPage) -> bool:
    """COPY a checked page straight into the raw table, in a savepoint: True when it went in; False (nothing written)
    when one of its ids is in the table already, for the upsert to decide which version wins.

    For a table the load created, a page's ids are new but for a record changed during the read and read again in
    a later window. A record new to the table needs no version comparison, so its row is written once, by the COPY,
    instead of into a temporary table and then again by the upsert: measured on the 200,000 medium Kantata time
    entries of bench/ingest.py --landing-only, the warehouse backend's CPU time of the landing fell from 2.0 to
    1.3-1.5 s (the bare COPY + upsert it is compared with: 1.7-1.9 s)."""
    try:
        with conn.transaction(), conn.cursor().copy(sql.SQL(
                "copy {} (id, data, source_updated_at, is_deleted, _load_id) from stdin").format(target)) as copy:
            copy.write(checked.copy_data)
    except psycopg.errors.UniqueViolation:
        return False
    return True


def land_page(conn: psycopg.Connection, spec: ObjectSpec, records: list, *, load_id: int, run_id: str,
              cursor_field: str | None = None, fields: FieldTracker | None = None,
              on_landed: Callable[[psycopg.Connection, list[tuple]], int] | None = None,
              quarantine: "OpenQuarantine | None" = None, track_seen: bool = False,
              reread_until: dt.datetime | None = None, checked: CheckedPage | None = None,
              new_table: bool = False) -> PageResult:
    """Land one page in one transaction: upsert (newer wins), quarantine, resolve, advance the cursor.

    `on_landed(conn, rows)` runs in the same transaction with the valid rows (id, json, updated, deleted):
    NetSuite's deletedrecord uses it to apply its deletes to the objects they name. `track_seen`: the ids of the
    page (quarantined ones too) are added to SEEN_TABLE in the same transaction. `reread_until`: the cursor the
    read started from; the records of the page versioned at or before it that are landed already as they are
    (re-read in the overlap) are left out before the checks (see landed_already). `checked`: the page's
    check_page, done ahead (only without reread_until: then no record is left out before the checks). `new_table`:
    the raw table is one this load created (Load.fills_new_table), so its rows are the load's own and a page's ids
    are mostly new: the page is COPYed into it directly (see _copy_new).
    """
    if checked is not None and reread_until is not None:
        raise ValueError("a page checked ahead lands without reread_until: landed_already would skip its records")
    result = PageResult()
    target = sql.SQL("{}.{}").format(sql.Identifier(spec.schema), sql.Identifier(spec.table))
    with conn.transaction():
        if fields is not None:
            unseen, new, gone = fields.drift(records)
            if unseen or gone:
                fields.remember(conn, unseen, load_id, gone)
                result.new_fields, result.gone_fields = new, gone
        if checked is None:
            to_check = records
            if reread_until is not None and on_landed is None and not track_seen:
                same = landed_already(conn, spec, records, reread_until)
                if same:
                    to_check = [rec for i, rec in enumerate(records) if i not in same]
            checked = check_page(spec, to_check, load_id)
        good, bad = checked.good, checked.bad
        if good and new_table and not track_seen and not checked.twice and _copy_new(conn, target, checked):
            result.landed = len(good)
            if quarantine is None or quarantine.open:  # a record that lands leaves quarantine
                conn.execute("""
                    update ops.quarantine set resolved_at = now()
                     where system = %s and object = %s and record_id = any(%s) and resolved_at is null
                """, (spec.system, spec.object, [row[0] for row in good]))
        elif good:
            conn.execute("create temp table if not exists _landing (id text, data jsonb, source_updated_at timestamptz,"
                         " is_deleted boolean, _load_id bigint) on commit delete rows")
            with conn.cursor().copy("copy _landing (id, data, source_updated_at, is_deleted, _load_id) from stdin") as copy:
                copy.write(checked.copy_data)
            # a page may hold a record twice (pages overlap): then only its newest version goes in
            twice = checked.twice
            cur = conn.execute(sql.SQL("""
                insert into {target} as t (id, data, source_updated_at, is_deleted, _load_id, _landed_at)
                select {distinct} id, data, source_updated_at, is_deleted, %(load_id)s, now()
                from _landing {order}
                on conflict (id) do update
                   set data = excluded.data, source_updated_at = excluded.source_updated_at,
                       is_deleted = excluded.is_deleted, _load_id = excluded._load_id, _landed_at = excluded._landed_at
                 where excluded.source_updated_at >= t.source_updated_at
                   and (excluded.data is distinct from t.data or excluded.is_deleted <> t.is_deleted)
            """).format(target=target, distinct=sql.SQL("distinct on (id)" if twice else ""),
                        order=sql.SQL("order by id, source_updated_at desc" if twice else "")), {"load_id": load_id})
            result.landed = cur.rowcount
            # a record that lands leaves quarantine
            if quarantine is None or quarantine.open:
                conn.execute("""
                    update ops.quarantine q set resolved_at = now()
                      from _landing l
                     where q.system = %s and q.object = %s and q.record_id = l.id and q.resolved_at is null
                """, (spec.system, spec.object))
        if good:
            result.max_updated = max(row[2] for row in good)
            if track_seen:
                conn.execute(f"insert into {SEEN_TABLE} (id) select id from _landing")
            if on_landed is not None:
                result.deleted = on_landed(conn, good)
        for payload, rid, reason, field_name, value in bad:
            conn.execute("""
                insert into ops.quarantine (system, object, record_id, reason, payload, run_id, load_id, field, value)
                values (%s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s)
                on conflict (system, object, coalesce(record_id, ''), reason) where resolved_at is null
                do update set attempts = ops.quarantine.attempts + 1, last_seen_at = now(),
                              payload = excluded.payload, run_id = excluded.run_id, load_id = excluded.load_id,
                              field = excluded.field, value = excluded.value
            """, (spec.system, spec.object, _storable(rid), reason, _storable_json(orjson.dumps(payload).decode()),
                  run_id, load_id, field_name, _shown(value)))
        result.quarantined = len(bad)
        if track_seen and any(rid is not None for _, rid, *_ in bad):
            with conn.cursor() as cur:
                cur.executemany(f"insert into {SEEN_TABLE} (id) values (%s)", [(_storable(rid),) for _, rid, *_ in bad
                                                                              if rid is not None])
        if bad and quarantine is not None:
            quarantine.open = True
        if cursor_field and result.max_updated is not None:
            advance_cursor(conn, spec, cursor_field, result.max_updated, load_id)
        conn.execute("""update ops.loads set rows_fetched = rows_fetched + %s, rows_landed = rows_landed + %s,
                               rows_quarantined = rows_quarantined + %s, cursor_to = coalesce(%s, cursor_to)
                         where load_id = %s""",
                     (len(records), result.landed + result.deleted, result.quarantined,
                      result.max_updated.isoformat() if result.max_updated else None, load_id))
    return result


def advance_cursor(conn: psycopg.Connection, spec: ObjectSpec, cursor_field: str, value: dt.datetime,
                   load_id: int) -> None:
    """Move the object's cursor forward to `value` (never back), in the caller's transaction."""
    conn.execute("""
        insert into ops.cursors (system, object, cursor_field, cursor_value, load_id)
        values (%s, %s, %s, %s, %s)
        on conflict (system, object) do update
           set cursor_value = greatest(ops.cursors.cursor_value::timestamptz, excluded.cursor_value::timestamptz)::text,
               cursor_field = excluded.cursor_field, load_id = excluded.load_id, updated_at = now()
    """, (spec.system, spec.object, cursor_field, value.isoformat(), load_id))


def mark_deleted(conn: psycopg.Connection, schema: str, table: str, ids: list[str], *, load_id: int,
                 deleted_at: dt.datetime | None = None, parent_field: str | None = None) -> int:
    """Mark rows deleted (their data stays). With `deleted_at`, the deletion counts as a version of that time,
    so that an older copy of the record landing later cannot bring it back. With `parent_field`, the rows
    whose data names one of `ids` in that field are marked instead (lines of a deleted transaction)."""
    if not ids:
        return 0
    exists = conn.execute("select to_regclass(%s)", (f"{schema}.{table}",)).fetchone()[0]
    if exists is None:
        return 0
    match = (sql.SQL("data ->> {} = any(%(ids)s)").format(sql.Literal(parent_field)) if parent_field
             else sql.SQL("id = any(%(ids)s)"))
    cur = conn.execute(sql.SQL("""
        update {}.{} set is_deleted = true, _load_id = %(load_id)s, _landed_at = now(),
               source_updated_at = greatest(source_updated_at, coalesce(%(deleted_at)s, source_updated_at))
         where {} and not is_deleted""").format(sql.Identifier(schema), sql.Identifier(table), match),
        {"ids": list(ids), "load_id": load_id, "deleted_at": deleted_at})
    return cur.rowcount


def mark_vanished(conn: psycopg.Connection, spec: ObjectSpec, listed_ids: Iterable[list[str]] | None,
                  *, confirm: Callable[[list[str]], set[str]] | None = None, load_id: int,
                  dated: tuple[str, dt.date, dt.date] | None = None, listed_table: str = "_listed") -> int:
    """Reconcile a source that reports no deletes: every landed, live id missing from the complete listing
    `listed_ids` is marked deleted. `confirm(candidates)` returns those that still exist after all (a record
    can slip between listing pages while the source changes); they are left alone. With `dated` (field, start,
    end), the listing holds only the records whose date field is in [start, end], and only those are compared
    (landed dates are checked ISO dates: their text sorts as the dates do). listed_ids=None: the complete
    listing is already in the temporary table `listed_table` (the ids a full read landed: SEEN_TABLE)."""
    target = sql.SQL("{}.{}").format(sql.Identifier(spec.schema), sql.Identifier(spec.table))
    if listed_ids is not None:
        conn.execute(f"create temp table if not exists {listed_table} (id text) on commit drop")
        with conn.cursor().copy(f"copy {listed_table} (id) from stdin") as copy:
            for page in listed_ids:  # the whole listing first: a failure half-way marks nothing
                for rid in page:
                    copy.write_row((rid,))
    conn.execute(f"analyze {listed_table}")  # its size, for the anti-join's plan
    scope = sql.SQL("")
    if dated is not None:
        scope = sql.SQL(" and {} between %(start)s and %(end)s").format(_dated(dated[0]))
    candidates = [r[0] for r in conn.execute(sql.SQL(
        "select t.id from {} t where not t.is_deleted and not exists (select 1 from {} l where l.id = t.id){}"
    ).format(target, sql.Identifier(listed_table), scope), {"start": dated[1].isoformat(), "end": dated[2].isoformat()} if dated else {})]
    if candidates and confirm is not None:
        still_there = confirm(candidates)
        candidates = [c for c in candidates if c not in still_there]
    deleted = mark_deleted(conn, spec.schema, spec.table, candidates, load_id=load_id)
    conn.execute("update ops.loads set rows_landed = rows_landed + %s where load_id = %s", (deleted, load_id))
    conn.commit()
    return deleted


def count_live(conn: psycopg.Connection, spec: ObjectSpec, dated: tuple[str, dt.date, dt.date]) -> int:
    """The landed records not marked deleted whose date field (an indexed spec.dated_field) is in [start, end]."""
    field_name, start, end = dated
    return conn.execute(sql.SQL("select count(*) from {}.{} where not is_deleted and {} between %s and %s").format(
        sql.Identifier(spec.schema), sql.Identifier(spec.table), _dated(field_name)),
        (start.isoformat(), end.isoformat())).fetchone()[0]


def read_cursor(conn: psycopg.Connection, system: str, object_: str) -> dt.datetime | None:
    row = conn.execute("select cursor_value::timestamptz from ops.cursors where system = %s and object = %s",
                       (system, object_)).fetchone()
    return row[0] if row else None


@dataclass
class LoadResult:
    system: str
    object: str
    load_id: int
    status: str
    rows_fetched: int = 0
    rows_landed: int = 0      # new or changed versions written, plus rows marked deleted
    rows_quarantined: int = 0
    rows_deleted: int = 0
    new_fields: list[str] = field(default_factory=list)
    gone_fields: list[str] = field(default_factory=list)   # sent before, in no record of a page since
    seconds: float = 0.0
    error: str | None = None


class Load:
    """One ops.loads row: pages land under it one transaction each; it is marked completed last."""

    def __init__(self, conn: psycopg.Connection, spec: ObjectSpec, *, run_id: str,
                 cursor_from: dt.datetime | None, cursor_field: str | None,
                 on_landed: Callable[[psycopg.Connection, list[tuple]], int] | None = None,
                 pages_in_order: bool = True, track_seen: bool = False):
        """pages_in_order=False: pages arrive in any order (windows read at once), so the cursor cannot move
        with each page; it moves once, when the load completes. track_seen: every id read is kept in the
        connection's temporary table SEEN_TABLE (emptied here), so that a complete read can reconcile deletes
        from what it read instead of listing every id again."""
        self.conn, self.spec, self.run_id, self.cursor_field, self.on_landed = conn, spec, run_id, cursor_field, on_landed
        self.pages_in_order = pages_in_order
        self.cursor_from = cursor_from
        # a read from no cursor into a table that does not exist yet (a first load, or a full ingest into a dropped
        # table): every record the table will hold is one this load reads
        self.fills_new_table = cursor_from is None and conn.execute(
            "select to_regclass(%s) is null", (f"{spec.schema}.{spec.table}",)).fetchone()[0]
        # ... so nothing can be missing from its read: no ids to keep for a reconciliation
        self.track_seen = track_seen and not self.fills_new_table
        if self.track_seen:
            conn.execute(f"create temp table if not exists {SEEN_TABLE} (id text)")
            conn.execute(f"truncate {SEEN_TABLE}")
            conn.commit()
        self._max_updated: dt.datetime | None = None
        # the source's clock when the read began, at the latest (connectors.http.SourceClock.read_from), kept with
        # the load when it finishes
        self.source_read_from: dt.datetime | None = None
        self._started = time.perf_counter()
        # a new table gets the index of its date field when the load ends, built in one pass, not updated row by row
        self._dated_index_at_end = bool(spec.dated_field and self.fills_new_table)
        ensure_raw_table(conn, spec, dated_index=not self._dated_index_at_end)
        self.fields = FieldTracker(conn, spec)
        self.quarantine = OpenQuarantine.of(conn, spec)
        conn.commit()
        load_id = conn.execute(
            "insert into ops.loads (run_id, system, object, cursor_from) values (%s, %s, %s, %s) returning load_id",
            (run_id, spec.system, spec.object, cursor_from.isoformat() if cursor_from else None)).fetchone()[0]
        conn.commit()
        self.result = LoadResult(spec.system, spec.object, load_id, "running")

    @property
    def load_id(self) -> int:
        return self.result.load_id

    @property
    def checks_ahead(self) -> bool:
        """Whether its pages may be checked ahead of landing (check_page, then land(page, checked)): a read from no
        cursor (full refresh, first load), none of whose records is skipped as landed already."""
        return self.cursor_from is None

    def land(self, page: list, checked: CheckedPage | None = None) -> PageResult:
        page_result = land_page(self.conn, self.spec, page, load_id=self.load_id, run_id=self.run_id,
                                cursor_field=self.cursor_field if self.pages_in_order else None,
                                fields=self.fields, on_landed=self.on_landed, quarantine=self.quarantine,
                                track_seen=self.track_seen, reread_until=self.cursor_from, checked=checked,
                                new_table=self.fills_new_table)
        if page_result.max_updated is not None:
            self._max_updated = max(self._max_updated or page_result.max_updated, page_result.max_updated)
        r = self.result
        r.rows_fetched += len(page)
        r.rows_landed += page_result.landed + page_result.deleted
        r.rows_deleted += page_result.deleted
        r.rows_quarantined += page_result.quarantined
        if page_result.new_fields:
            log.warning("%s.%s: new field(s) in the source: %s", self.spec.system, self.spec.object,
                        ", ".join(page_result.new_fields))
            r.new_fields.extend(page_result.new_fields)
        if page_result.gone_fields:
            log.warning("%s.%s: field(s) gone from the source (removed or renamed; their values no longer land): %s",
                        self.spec.system, self.spec.object, ", ".join(page_result.gone_fields))
            r.gone_fields.extend(page_result.gone_fields)
        return page_result

    def add_deleted(self, count: int) -> None:
        self.result.rows_deleted += count
        self.result.rows_landed += count

    def finish(self, status: str = "completed", error: str | None = None) -> LoadResult:
        """Mark the load done; after a failure the open transaction is rolled back first."""
        if status != "completed":
            self.conn.rollback()
        elif not self.pages_in_order and self.cursor_field and self._max_updated is not None:
            advance_cursor(self.conn, self.spec, self.cursor_field, self._max_updated, self.load_id)
        self.result.status, self.result.error = status, (error or None) and error[:2000]
        self.result.seconds = round(time.perf_counter() - self._started, 3)
        self.conn.execute("""update ops.loads set status = %s, error = %s, completed_at = now(), source_read_from = %s
                             where load_id = %s""", (status, self.result.error, self.source_read_from, self.load_id))
        self.conn.commit()
        if self._dated_index_at_end and status != "failed":
            self._dated_index_at_end = False
            try:
                ensure_dated_index(self.conn, self.spec)
                self.conn.commit()
            except psycopg.Error as exc:  # what landed is committed; the next load's ensure_raw_table builds it
                self.conn.rollback()
                log.warning("%s.%s: the index of %s is not built yet (%s): the next load builds it",
                            self.spec.system, self.spec.object, self.spec.dated_field, exc)
        return self.result


def land_stream(conn: psycopg.Connection, spec: ObjectSpec, pages: Iterable[list], *, run_id: str,
                cursor_from: dt.datetime | None, cursor_field: str | None,
                on_page: Callable[[PageResult], None] | None = None,
                on_landed: Callable[[psycopg.Connection, list[tuple]], int] | None = None) -> LoadResult:
    """Land every page of a stream under one ops.loads row, marked completed after the last page commits."""
    load = Load(conn, spec, run_id=run_id, cursor_from=cursor_from, cursor_field=cursor_field, on_landed=on_landed)
    try:
        for page in pages:
            page_result = load.land(page)
            if on_page:
                on_page(page_result)
    except Exception as exc:
        load.finish("failed", str(exc))
        raise
    return load.finish()
