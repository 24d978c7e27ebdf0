"""Rows of an outbound model as the destination's request bodies."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from reverse_etl.syncs import Sync


def json_value(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _typed(type_: str, value):
    value = json_value(value)
    if value is None:
        return None
    if type_ == "number":
        return float(value)
    if type_ == "integer":
        return int(value)
    if type_ == "boolean":
        return bool(value)
    if type_ == "date":
        return str(value)[:10]
    if type_ == "ref":
        return {"id": str(value)}
    return value if isinstance(value, str) else str(value)


def body(sync: Sync, row: dict, *, send_nulls: bool) -> dict:
    """The pushed fields of a row, typed for the destination. Nulls clear a field where the API allows it."""
    out = {}
    for f in sync.fields:
        value = _typed(f.type, row.get(f.name))
        if value is not None or send_nulls:
            out[f.name] = value
    return out
