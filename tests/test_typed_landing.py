"""Typed landing: what staging casts is declared in the catalog, landing refuses exactly what the casts cannot read,
and a record with such a value is quarantined with its field, value and reason while the rest of the page lands."""
import datetime as dt
import math
import re
from pathlib import Path

import jinja2
import orjson
import psycopg
import pytest

from connectors import catalog
from flows.field_types import MAGNITUDE_LIMIT, refused_values
from flows.landing import ObjectSpec, land_stream
from flows.value_forms import unproved

ROOT = Path(__file__).resolve().parents[1]
STAGING = ROOT / "dbt_project" / "models" / "staging"
MACROS = ROOT / "dbt_project" / "macros" / "casts.sql"

# each staging cast and the catalog type that must declare its field
CAST_TYPES = {"json_numeric": "numeric", "cents": "numeric", "json_integer": "integer", "json_bool": "boolean",
              "json_date": "date", "json_timestamp": "datetime"}
MACRO_OF_TYPE = {"numeric": "json_numeric", "integer": "json_integer", "boolean": "json_bool", "date": "json_date",
                 "datetime": "json_timestamp"}


def staging_casts() -> dict[tuple[str, str], dict[str, str]]:
    """{(source, table): {field: type}} of every cast in the staging models."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    for path in sorted(STAGING.rglob("stg_*.sql")):
        text = path.read_text()
        source = re.search(r"source\('(\w+)', '(\w+)'\)", text)
        if source is None:
            continue
        casts = out.setdefault(source.groups(), {})
        for macro, name in re.findall(r"\{\{\s*(\w+)\('(\w+)'", text):
            if macro in CAST_TYPES:
                casts[name] = CAST_TYPES[macro]
    return out


def test_no_staging_model_casts_raw_json_outside_the_typed_macros():
    raw_casts = [f"{p.name}: {m}" for p in sorted(STAGING.rglob("stg_*.sql"))
                 for m in re.findall(r"data ->> '\w+'\)?::\w+", p.read_text())]
    assert raw_casts == []


def test_every_field_staging_casts_is_declared_in_the_catalog_with_that_type():
    declared = {(o.system, o.table): o.field_types for o in catalog.select(list(catalog.SOURCES))}
    mismatches = [f"{system}.{table}.{name}: staging casts {typ}, catalog says {declared.get((system, table), {}).get(name)}"
                  for (system, table), casts in staging_casts().items() if system in catalog.SOURCES
                  for name, typ in casts.items() if declared.get((system, table), {}).get(name) != typ]
    assert mismatches == []


# values each type may meet, valid or not; the landing check and the dbt macro must agree on every one
CORPUS = {
    "numeric": [12, 12.5, -3, 0, "12", " 12.50 ", "-0.5", ".5", "5.", "1e3", "1E-2", "", "   ", None, 1e15, 1e14,
                "1e15", "twelve thousand", "12,000", "1.2.3", "NaN", "Infinity", "0x10", True, "\t7\n", "+4",
                "1_000", "١٢", {"a": 1}, [1]],
    "integer": [60, 60.0, "60", "7.5", "", None, "sixty", 10**16, -480, False],
    "boolean": [True, False, "true", "FALSE", "T", "f", "yes", "No", "on", "OFF", "1", "0", 1, 0, "", " t ", None,
                "maybe", "2", 2, 1.0, "tru", {"x": True}],
    "date": ["2026-02-28", "2026-02-30", "2024-02-29", "2025-02-29", "2026-13-01", "2026-00-10", "0000-01-01",
             "2026-04-31", "2026-01-01T10:00:00Z", "1/5/2026", "02/29/2024", "2/30/2026", "13/01/2026", "", None,
             "tomorrow", "26-01-01", "2026/01/01", " 2026-01-05 ", "\t2026-01-05", "2026-1-5", "1/5/2026 10:00",
             20260101, "１２/０１/２０２６"],
    "datetime": ["2026-01-01T10:00:00Z", "2026-01-01T10:00:00.000+0000", "2026-01-01T10:00:00+01:00",
                 "2026-01-01 10:00:00", "2026-01-01", "2026-01-01T10:00", "2026-02-30T10:00:00Z",
                 "2026-01-01T25:00:00Z", "2026-01-01T10:61:00Z", "2026-01-01T10:00:00+99:00", "2026-01-01Z",
                 "1/5/2026", "1/5/2026 13:45", "1/5/2026 13:45:10", "2/30/2026 10:00:00", "", None, "now",
                 "2026-01-01T10:00:00 UTC", "1700000000", 1700000000],
}


# PostgreSQL 16+ reads hexadecimal and digit separators as numbers, 14 and 15 do not: landing refuses them, so
# that what lands does not depend on the warehouse's version
NOT_PORTABLE = {"0x10", "1_000"}


def refused_on_purpose(value) -> bool:
    """Numbers the cast reads but landing refuses on purpose: no amount, rate or count is that large, or not a
    number (NaN) or infinite."""
    if value in NOT_PORTABLE:
        return True
    try:
        number = float(str(value).strip())
    except ValueError:
        return False
    return not math.isfinite(number) or abs(number) >= MAGNITUDE_LIMIT


@pytest.fixture(scope="module")
def macros():
    return jinja2.Environment().from_string(MACROS.read_text()).module


@pytest.mark.parametrize("typ", sorted(CORPUS))
def test_landing_accepts_exactly_what_the_staging_cast_reads(conn, macros, typ):
    """Accepted: the macro reads the value (null only for null or blank). Refused: the macro fails, or it would
    have turned a value into null."""
    values = CORPUS[typ]
    refused = refused_values({"v": typ}, [{"v": v} for v in values])
    expression = str(getattr(macros, MACRO_OF_TYPE[typ])("v"))
    disagreements = []
    for i, value in enumerate(values):
        try:
            with conn.transaction():
                (cast,) = conn.execute(f"select {expression} from (select %s::jsonb as data) s",
                                       (orjson.dumps({"v": value}).decode(),)).fetchone()
            reads = cast is not None or value is None or (isinstance(value, str) and value.strip(" ") == "")
        except psycopg.Error:
            reads = False
        if reads == (i in refused) and not (i in refused and typ in ("numeric", "integer") and refused_on_purpose(value)):
            disagreements.append(f"{value!r}: landing {'refuses' if i in refused else 'accepts'}, "
                                 f"the cast {'reads' if reads else 'does not read'} it")
    assert disagreements == []


@pytest.mark.parametrize("typ", sorted(CORPUS))
def test_the_plain_forms_landing_proves_without_the_full_checks_are_values_the_full_checks_accept(typ):
    """flows.value_forms lets a record skip the full checks: it may prove only what they accept (alone on a page,
    or among every other value of the corpus)."""
    values = CORPUS[typ]
    refused = refused_values({"v": typ}, [{"v": v} for v in values])
    alone = {i for i, v in enumerate(values) if unproved({"v": typ}, [{"v": v}]) == []}
    together = set(range(len(values))) - set(unproved({"v": typ}, [{"v": v} for v in values]))
    assert [values[i] for i in sorted(alone | together) if i in refused] == []
    plain = {"numeric": 12, "integer": 60, "boolean": True, "date": "2026-02-28", "datetime": "2026-01-01T10:00:00Z"}
    assert values.index(plain[typ]) in alone


SPEC = ObjectSpec(system="testsys", object="TimeEntry", table="time_entry", id_field="id", updated_field="updated_at",
                  parse_updated=dt.datetime.fromisoformat, deleted_field="deleted",
                  field_types={"date_performed": "date", "time_in_minutes": "integer", "approved": "boolean"})


@pytest.fixture
def fresh(conn):
    conn.execute("drop schema if exists raw_testsys cascade")
    conn.execute("delete from ops.quarantine where system = 'testsys'")
    conn.execute("delete from ops.cursors where system = 'testsys'")
    conn.commit()
    return conn


def entry(id_, **values):
    return {"id": id_, "updated_at": "2026-03-01T00:00:00+00:00", "date_performed": "2026-02-27",
            "time_in_minutes": 60, "approved": True, **values}


def test_a_value_no_cast_can_read_is_quarantined_with_field_value_and_reason_and_the_rest_lands(fresh):
    page = [entry("1"), entry("2", date_performed="2026-02-30"), entry("3", time_in_minutes="twelve thousand"),
            entry("4", approved="maybe", date_performed="2026-13-01"), entry("5", time_in_minutes=" 90 "),
            entry("6", deleted=True, date_performed="2026-02-30")]
    result = land_stream(fresh, SPEC, [page], run_id="r-typed", cursor_from=None, cursor_field="updated_at")
    landed = sorted(r[0] for r in fresh.execute("select id from raw_testsys.time_entry"))
    assert landed == ["1", "5", "6"]  # a deletion lands whatever its values
    assert result.rows_quarantined == 3
    quarantined = fresh.execute("""select record_id, field, value, reason from ops.quarantine
                                    where system = 'testsys' and resolved_at is null order by record_id""").fetchall()
    assert quarantined == [
        ("2", "date_performed", "2026-02-30", "date_performed: not a valid date"),
        ("3", "time_in_minutes", "twelve thousand", "time_in_minutes: not a number (or out of range)"),
        ("4", "date_performed", "2026-13-01", "date_performed: not a valid date; approved: not true or false"),
    ]


def test_a_corrected_version_lands_and_leaves_quarantine(fresh):
    land_stream(fresh, SPEC, [[entry("2", date_performed="2026-02-30")]], run_id="r-typed", cursor_from=None,
                cursor_field="updated_at")
    land_stream(fresh, SPEC, [[entry("2", date_performed="2026-02-28", updated_at="2026-03-02T00:00:00+00:00")]],
                run_id="r-typed", cursor_from=None, cursor_field="updated_at")
    assert fresh.execute("select data ->> 'date_performed' from raw_testsys.time_entry").fetchall() == [("2026-02-28",)]
    assert fresh.execute("select count(*) from ops.quarantine where system = 'testsys' and resolved_at is null"
                         ).fetchone()[0] == 0
