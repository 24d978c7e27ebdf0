"""The common forms of typed values, proved readable in plain Python, before (and instead of) the full checks.

flows/field_types.py decides which values the staging casts read (pandas and pandera, vectorised over a page, every
form each cast reads). Most values of a page come in a few plain forms: a JSON integer, `true`, an ISO date. These
are recognised here, column by column, with no DataFrame: a record whose every typed value has such a form lands
without the full checks; any other record (an unusual form, a blank, an error) goes through them, so what is
refused, and with which reason, is decided by flows/field_types.py alone.

Only what the full checks accept is accepted here (tests/test_typed_landing.py compares both on every value of its
corpus). Measured on medium Kantata time entries (5,000 a batch): split_valid with the full checks on every record,
41 ms of CPU a batch; with these first (no record needing the full checks), 21 ms.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from operator import itemgetter

# Amounts, rates, hours and counts above this are not real (a quadrillion): refusing them keeps every cast and
# the arithmetic after it (cents in bigint, numeric(20, 2)) from overflowing. The full checks (flows.field_types)
# refuse at the same limit, imported from here.
MAGNITUDE_LIMIT = 1e15

# at most 14 digits before the point: every such number is below the limit, even when its decimals round up
_PLAIN_NUMBER = re.compile(r"-?[0-9]{1,14}(?:\.[0-9]{1,12})?")
_PLAIN_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PLAIN_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?"
                              r"(?:Z|[+-](?:0[0-9]|1[0-5]):?[0-5][0-9])?")
_NONE = type(None)


def _number_ok(value) -> bool:
    kind = type(value)
    if kind is int:
        return -MAGNITUDE_LIMIT < value < MAGNITUDE_LIMIT
    if kind is float:
        return math.isfinite(value) and abs(value) < MAGNITUDE_LIMIT
    return kind is str and _PLAIN_NUMBER.fullmatch(value) is not None


def _boolean_ok(value) -> bool:
    kind = type(value)
    return kind is bool or (kind is str and value in ("true", "false"))


def _iso_ok(value, pattern, parse) -> bool:
    """`value` is a string of `pattern`'s ISO form (the pattern proves the form and each part's range) that `parse`
    (date or datetime's fromisoformat) accepts: a day of the calendar, year 1 at least."""
    if type(value) is not str or pattern.fullmatch(value) is None:
        return False
    try:
        parse(value)
    except ValueError:
        return False
    return True


def _date_ok(value) -> bool:
    """An ISO date."""
    return _iso_ok(value, _PLAIN_DATE, dt.date.fromisoformat)


def _datetime_ok(value) -> bool:
    """An ISO date and time of day, with or without an offset."""
    return _iso_ok(value, _PLAIN_TIMESTAMP, dt.datetime.fromisoformat)


_FORM_OK = {"numeric": _number_ok, "integer": _number_ok, "boolean": _boolean_ok, "date": _date_ok,
            "datetime": _datetime_ok}
# a column whose values are all of these types (or null) and each in range needs no look at each value
_NUMBER_TYPES = {int}
_BOOLEAN_TYPES = {bool}


def unproved(field_types: dict[str, str], records: list[dict]) -> list[int]:
    """The indexes (in order) of the records with a non-null typed value whose form is not proved readable here:
    only these need the full checks (flows.field_types.refused_values). Unknown types prove nothing."""
    suspects: set[int] = set()
    for (name, typ), values in zip(field_types.items(), _columns(list(field_types), records)):
        types = set(map(type, values))
        types.discard(_NONE)
        if not types:
            continue
        if typ in ("numeric", "integer") and types <= _NUMBER_TYPES:
            present = [v for v in values if v is not None]
            if -MAGNITUDE_LIMIT < min(present) and max(present) < MAGNITUDE_LIMIT:
                continue
        elif typ == "boolean" and types <= _BOOLEAN_TYPES:
            continue
        form_ok = _FORM_OK.get(typ)
        if form_ok is None:
            return list(range(len(records)))
        if types == {str}:  # a page holds few distinct dates, flags, codes: each checked once
            distinct = set(values)
            distinct.discard(None)
            refused = {v for v in distinct if not form_ok(v)}
            if refused:
                suspects.update(i for i, v in enumerate(values) if v in refused)
            continue
        # mixed types: by value and type (True and 1 are equal keys, but not the same to a cast)
        suspects.update(i for i, v in enumerate(values) if v is not None and not form_ok(v))
    return sorted(suspects)


def _columns(names: list[str], records: list[dict]) -> list[tuple] | list[list]:
    """The values of each named field, record by record (None where a record lacks the field). When every record
    has every field (the common page), itemgetter and zip take them in C: measured on 5,000 medium Kantata time
    entries, unproved takes about half the CPU it took with a `rec.get` per record and field."""
    if not names or not records:
        return [[] for _ in names]
    try:
        rows = list(map(itemgetter(*names), records))
    except KeyError:
        return [[rec.get(name) for rec in records] for name in names]
    return [rows] if len(names) == 1 else list(zip(*rows))
