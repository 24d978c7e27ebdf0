"""Typed landing: which values of a page the staging casts would refuse (or silently read as null).

The catalog declares the type of every field staging casts (connectors/catalog.py); the casts are the macros
of dbt_project/macros/casts.sql. A value is accepted here exactly when its macro reads it: JSON null, an empty
string and blanks are null; anything else must be a value of the type. A record with a value refused here is
quarantined, so that a staging cast never fails on landed data and no value turns into null unnoticed.

Checks are vectorised over a page (one pandera schema per object, each check a pandas expression over the
column), not run record by record. The record's id and version stamp are checked here too (unreadable_identity).
"""
from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandas.api.types import infer_dtype

from flows.value_forms import MAGNITUDE_LIMIT  # noqa: F401 - said once, where the checks without pandas read it too

# What each macro's cast reads, after its nullif(btrim(value), ''): PostgreSQL's numeric and boolean input skip
# ASCII blanks around the value; the date and timestamp macros match the text as it is.
_ASCII_BLANKS = " \t\n\r\x0b\x0c"
_NUMBER = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
# boolin accepts true/false/yes/no and any prefix of them, on/off (and "of"), 1/0, in any case
_BOOLEAN_WORDS = ["t", "tr", "tru", "true", "f", "fa", "fal", "fals", "false", "y", "ye", "yes", "n", "no",
                  "on", "of", "off", "1", "0"]
# text_to_date: an ISO date at the start (the rest is ignored), or M/D/YYYY as the first word
_ISO_DATE = r"^([0-9]{4})-([0-9]{2})-([0-9]{2})"
_US_DATE = r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})(?: |$)"
# text_to_timestamp: ISO date, optionally a time, optionally an offset (only after a time); or M/D/YYYY [H:MI[:SS]]
_ISO_TIMESTAMP = (r"^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?(?:\.[0-9]+)?"
                  r"(?:Z|[+-]([0-9]{2}):?([0-9]{2}))?)?$")
_US_TIMESTAMP = r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})(?: ([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?)?$"
# The common forms, with no group to extract: the pattern proves the form (each part in its range), pandas' parser
# the calendar (no 30 February); whatever else goes through the patterns above, part by part.
_PLAIN_ISO_DATE = r"(?!0000)[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
_PLAIN_ISO_TIMESTAMP = (_PLAIN_ISO_DATE + r"[T ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]+)?)?"
                        r"(?:Z|[+-](?:0[0-9]|1[0-5]):?[0-5][0-9])?")

PROBLEMS = {
    "numeric": "not a number (or out of range)", "integer": "not a number (or out of range)",
    "boolean": "not true or false",
    "date": "not a valid date", "datetime": "not a valid date and time",
}
TYPES = tuple(PROBLEMS)


def _texts(values: pd.Series) -> pd.Series:
    """The values as the text `data ->> field` gives PostgreSQL, after the macro's btrim (spaces only)."""
    kind = infer_dtype(values, skipna=False)
    text = values if kind == "string" else values.map(_json_text)
    return text.str.strip(" ")


def _json_text(value) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return repr(value)
    return "{...}"  # an object or an array: no cast reads it


def _in_range(numbers: pd.Series) -> pd.Series:
    return pd.Series(np.isfinite(numbers.to_numpy(dtype=float)), index=numbers.index) & (numbers.abs() < MAGNITUDE_LIMIT)


def _numeric_ok(values: pd.Series) -> pd.Series:
    kind = infer_dtype(values, skipna=False)
    if kind in ("integer", "floating", "mixed-integer-float"):
        numbers = pd.to_numeric(values, errors="coerce")
        return _in_range(numbers.astype(float))
    text = _texts(values)
    blank = text.eq("")
    number = text.str.strip(_ASCII_BLANKS)
    well_formed = number.str.fullmatch(_NUMBER).fillna(False).astype(bool)
    numbers = pd.to_numeric(number.where(well_formed), errors="coerce")
    return blank | (well_formed & _in_range(numbers.astype(float)))


def _boolean_ok(values: pd.Series) -> pd.Series:
    if infer_dtype(values, skipna=False) == "boolean":
        return pd.Series(True, index=values.index)
    text = _texts(values)
    return text.eq("") | text.str.strip(_ASCII_BLANKS).str.lower().isin(_BOOLEAN_WORDS)


def _valid_dates(year: pd.Series, month: pd.Series, day: pd.Series) -> pd.Series:
    y, m, d = (s.to_numpy(dtype=float) for s in (year, month, day))
    leap = (np.fmod(y, 4) == 0) & ((np.fmod(y, 100) != 0) | (np.fmod(y, 400) == 0))
    days_in_month = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=float)
    month_index = np.clip(np.nan_to_num(m, nan=1), 1, 12).astype(int) - 1
    last_day = days_in_month[month_index] + ((m == 2) & leap)
    return pd.Series((y >= 1) & (m >= 1) & (m <= 12) & (d >= 1) & (d <= last_day), index=year.index)


def _parts(text: pd.Series, pattern: str) -> pd.DataFrame:
    return text.str.extract(pattern).apply(pd.to_numeric, errors="coerce")


def _date_ok(values: pd.Series) -> pd.Series:
    text = _texts(values)
    # most values: an ISO date whose form the pattern proves and whose calendar pandas' parser checks
    ok = _calendar_checked(text, _PLAIN_ISO_DATE, "%Y-%m-%d")
    if not ok.all():  # the others (other forms, years beyond pandas' range, errors) part by part
        rest = text[~ok]
        iso, us = _parts(rest, _ISO_DATE), _parts(rest, _US_DATE)
        ok[~ok] = (rest.eq("") | _valid_dates(iso[0], iso[1], iso[2]) | _valid_dates(us[2], us[0], us[1])).to_numpy()
    return pd.Series(ok, index=values.index)


def _time_ok(hour: pd.Series, minute: pd.Series, second: pd.Series) -> pd.Series:
    """A time of day (none at all is midnight)."""
    return ((hour.isna() | hour.between(0, 23)) & (minute.isna() | minute.between(0, 59))
            & (second.isna() | second.between(0, 59)))


def _datetime_ok(values: pd.Series) -> pd.Series:
    text = _texts(values)
    ok = _calendar_checked(text, _PLAIN_ISO_TIMESTAMP, "ISO8601")
    if not ok.all():
        rest = text[~ok]
        iso, us = _parts(rest, _ISO_TIMESTAMP), _parts(rest, _US_TIMESTAMP)
        iso_ok = (_valid_dates(iso[0], iso[1], iso[2]) & _time_ok(iso[3], iso[4], iso[5])
                  & (iso[6].isna() | iso[6].between(0, 15)) & (iso[7].isna() | iso[7].between(0, 59)))
        us_ok = _valid_dates(us[2], us[0], us[1]) & _time_ok(us[3], us[4], us[5])
        ok[~ok] = (rest.eq("") | iso_ok | us_ok).to_numpy()
    return pd.Series(ok, index=values.index)


def _calendar_checked(text: pd.Series, pattern: str, fmt: str) -> np.ndarray:
    """Whether each text has the pattern's form and is a day (and time) of the calendar."""
    ok = np.array(text.str.fullmatch(pattern).to_numpy(dtype=bool, na_value=False))  # a copy: written below
    if ok.any():
        ok[ok] = ~pd.to_datetime(text.to_numpy()[ok], format=fmt, utc=True, errors="coerce").isna()
    return ok


def _distinct(check):
    """The check run once per distinct value when every value is a string (a page holds few distinct dates, flags
    and amounts); other values as they are (True and 1 are equal as keys, but not to a cast)."""
    def run(values: pd.Series) -> pd.Series:
        if infer_dtype(values, skipna=False) != "string":
            return check(values)
        codes, uniques = pd.factorize(values)
        if len(uniques) > len(values) // 2:
            return check(values)
        ok = check(pd.Series(uniques, dtype=object)).to_numpy(dtype=bool)
        return pd.Series(ok[codes], index=values.index)
    run.__name__ = check.__name__
    return run


_CHECKS = {"numeric": _distinct(_numeric_ok), "integer": _distinct(_numeric_ok), "boolean": _distinct(_boolean_ok),
           "date": _distinct(_date_ok), "datetime": _distinct(_datetime_ok)}


def _typed_cells(field_types: tuple[tuple[str, str], ...]):
    """A check of a whole page: a frame of booleans, one column per typed field (null passes)."""
    def check(frame: pd.DataFrame) -> pd.DataFrame:
        cells = {}
        for name, typ in field_types:
            column = frame[name]
            present = column.notna().to_numpy()
            ok = np.ones(len(column), dtype=bool)
            if present.any():
                ok[present] = _CHECKS[typ](column[present]).to_numpy(dtype=bool)
            cells[name] = ok
        return pd.DataFrame(cells, index=frame.index)
    return check


@functools.lru_cache(maxsize=256)
def schema_for(field_types: tuple[tuple[str, str], ...]) -> pa.DataFrameSchema:
    """One pandera schema per object: one check over the page, each typed field by its type's check (one check
    for all fields: pandera's cost per check is paid once per page, not once per field)."""
    unknown = {typ for _, typ in field_types} - set(_CHECKS)
    if unknown:
        raise ValueError(f"unknown field type(s) {', '.join(sorted(unknown))}; known: {', '.join(TYPES)}")
    return pa.DataFrameSchema(checks=[pa.Check(_typed_cells(field_types), name="typed")], strict=False)


_identity_schema = pa.DataFrameSchema(
    {
        "id": pa.Column(str, nullable=False, checks=pa.Check.str_length(min_value=1), coerce=False),
        "source_updated_at": pa.Column(pd.DatetimeTZDtype(unit="us", tz="UTC"), nullable=False),
    },
    strict=False,
)


def unreadable_identity(ids: list[str | None], stamps: list) -> dict[int, str]:
    """{index: "id" or "source_updated_at"} of the records without an id or a version stamp (the first failing
    column of each); RuntimeError when the check fails on the page as a whole (a broken check, not a record)."""
    frame = pd.DataFrame({"id": pd.Series(ids, dtype=object),
                          "source_updated_at": pd.Series(stamps, dtype="datetime64[us, UTC]")})
    try:
        _identity_schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        failed: dict[int, str] = {}
        for case in err.failure_cases.itertuples():
            if case.index is None or pd.isna(case.index):  # a failure of the frame itself, not of a record
                raise RuntimeError(f"{case.check} failed on {case.column}") from err
            failed.setdefault(int(case.index), case.column)
        return failed
    return {}


def refused_values(field_types: dict[str, str], records: list[dict]) -> dict[int, list[tuple[str, object, str]]]:
    """{index in `records`: [(field, value, problem), ...]} of the records holding a value no cast would read,
    fields in the catalog's order."""
    if not field_types or not records:
        return {}
    frame = pd.DataFrame({name: pd.Series([rec.get(name) for rec in records], dtype=object) for name in field_types})
    try:
        schema_for(tuple(field_types.items())).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        failed: dict[int, set[str]] = {}
        for case in err.failure_cases.itertuples():
            if case.index is None or pd.isna(case.index) or not isinstance(case.failure_case, dict):
                raise RuntimeError(f"typed landing check {case.check} is broken: {case.failure_case!r}") from err
            failed.setdefault(int(case.index), set()).update(case.failure_case)
        return {i: [(name, records[i].get(name), PROBLEMS[typ]) for name, typ in field_types.items() if name in names]
                for i, names in failed.items()}
    return {}
