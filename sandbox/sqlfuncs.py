"""SQL functions registered on every SQLite connection: the SuiteQL date functions."""
from __future__ import annotations

import datetime as dt
import re
import sqlite3

_ORA = re.compile(r'YYYY|YY|MONTH|MON|MM|DDD|DD|DY|HH24|HH12|HH|MI|SS|AM|PM|"[^"]*"')
_ORA_MAP = {"YYYY": "%Y", "YY": "%y", "MONTH": "%B", "MON": "%b", "MM": "%m", "DD": "%d", "DDD": "%j", "DY": "%a",
            "HH24": "%H", "HH12": "%I", "HH": "%I", "MI": "%M", "SS": "%S", "AM": "%p", "PM": "%p"}


def oracle_to_strftime(fmt: str) -> str:
    return _ORA.sub(lambda m: m.group(0)[1:-1] if m.group(0).startswith('"') else _ORA_MAP[m.group(0)], fmt)


def _as_datetime(value) -> dt.datetime | None:
    if value is None:
        return None
    s = str(value)
    try:
        if len(s) == 10:
            return dt.datetime.strptime(s, "%Y-%m-%d")
        return dt.datetime.strptime(s[:19], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


def to_char(value, fmt):
    t = _as_datetime(value)
    if t is None:
        return None if value is None else str(value)
    return t.strftime(oracle_to_strftime(str(fmt)))


def str_to_time(text, pyfmt):
    if text is None:
        return None
    return dt.datetime.strptime(str(text), str(pyfmt)).strftime("%Y-%m-%d %H:%M:%S")


def str_to_date(text, pyfmt):
    if text is None:
        return None
    return dt.datetime.strptime(str(text), str(pyfmt)).strftime("%Y-%m-%d")


def account_date(value):
    """NetSuite returns dates in the account's date format (here M/D/YYYY) unless TO_CHAR is used."""
    if value is None:
        return None
    s = str(value)
    if len(s) >= 10 and s[4] == "-" and s[7] == "-":
        return f"{int(s[5:7])}/{int(s[8:10])}/{s[0:4]}"
    return s


def register(conn: sqlite3.Connection) -> None:
    conn.create_function("ns_to_char", 2, to_char, deterministic=True)
    conn.create_function("ns_str_to_time", 2, str_to_time, deterministic=True)
    conn.create_function("ns_str_to_date", 2, str_to_date, deterministic=True)
    conn.create_function("ns_account_date", 1, account_date, deterministic=True)
