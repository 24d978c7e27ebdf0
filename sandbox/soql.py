"""SOQL -> SQLite: the subset a data hub uses, with Salesforce's own errors for the rest.

Supported: SELECT field list (or COUNT()) FROM one object, WHERE with AND/OR/NOT, parentheses,
= != <> < <= > >=, IN / NOT IN, LIKE, null, true/false, unquoted date and datetime literals, relative date
literals (TODAY, LAST_N_DAYS:n, THIS_MONTH, ...), ORDER BY (ASC/DESC, NULLS FIRST/LAST), LIMIT, OFFSET.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from sandbox import schema
from sandbox.store import parse_datetime, sf_datetime


class SoqlError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


_DT = re.compile(r"(?<![\w'])(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))")
_DATE = re.compile(r"(?<![\w'\-:])(\d{4}-\d{2}-\d{2})(?![\w\-:])")
_STR = re.compile(r"'(?:\\.|[^'\\])*'")
# Relative date literals (Salesforce SOQL and SOSL Reference, "Date Formats and Date Literals in WHERE"): each is a
# range of whole days from 00:00:00, relative to today (the sandbox firm's clock, UTC; weeks start on Sunday as in
# the en_US locale). `=` matches inside the range, `<` before its start, `>` after its end.
_DATE_LITERAL = re.compile(r"\b(YESTERDAY|TODAY|TOMORROW|(?:LAST|THIS|NEXT)_(?:WEEK|MONTH|QUARTER|YEAR)|"
                           r"(?:LAST|NEXT)_90_DAYS|(?:LAST|NEXT)_N_(?:DAYS|WEEKS|MONTHS|QUARTERS|YEARS):\d+|"
                           r"N_(?:DAYS|WEEKS|MONTHS|QUARTERS|YEARS)_AGO:\d+|"
                           r"[A-Z_]*FISCAL[A-Z_]*(?::\d+)?)(?![\w:])", re.I)
_LITERAL_MARK = "__soql_date_literal__:"


def _month_start(year: int, month: int) -> dt.date:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return dt.date(year, month, 1)


def date_literal_range(literal: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """[start, end) of a relative date literal."""
    name, _, n_text = literal.upper().partition(":")
    n = int(n_text) if n_text else None
    day = dt.timedelta(days=1)
    week0 = today - dt.timedelta(days=(today.weekday() + 1) % 7)  # Sunday
    month0 = today.replace(day=1)
    quarter0 = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    year0 = dt.date(today.year, 1, 1)

    def months(start: dt.date, k: int) -> dt.date:
        return _month_start(start.year, start.month + k)

    fixed = {
        "YESTERDAY": (today - day, today), "TODAY": (today, today + day), "TOMORROW": (today + day, today + 2 * day),
        "LAST_WEEK": (week0 - 7 * day, week0), "THIS_WEEK": (week0, week0 + 7 * day),
        "NEXT_WEEK": (week0 + 7 * day, week0 + 14 * day),
        "LAST_MONTH": (months(month0, -1), month0), "THIS_MONTH": (month0, months(month0, 1)),
        "NEXT_MONTH": (months(month0, 1), months(month0, 2)),
        "LAST_QUARTER": (months(quarter0, -3), quarter0), "THIS_QUARTER": (quarter0, months(quarter0, 3)),
        "NEXT_QUARTER": (months(quarter0, 3), months(quarter0, 6)),
        "LAST_YEAR": (months(year0, -12), year0), "THIS_YEAR": (year0, months(year0, 12)),
        "NEXT_YEAR": (months(year0, 12), months(year0, 24)),
        # "LAST_90_DAYS ... includes the current day", like LAST_N_DAYS:90; NEXT_ ranges start tomorrow
        "LAST_90_DAYS": (today - 90 * day, today + day), "NEXT_90_DAYS": (today + day, today + 91 * day),
    }
    if name in fixed:
        return fixed[name]
    if n is None:
        raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{literal}'")
    ranges = {
        "LAST_N_DAYS": (today - n * day, today + day), "NEXT_N_DAYS": (today + day, today + (n + 1) * day),
        "N_DAYS_AGO": (today - n * day, today - (n - 1) * day),
        "LAST_N_WEEKS": (week0 - 7 * n * day, week0), "NEXT_N_WEEKS": (week0 + 7 * day, week0 + 7 * (n + 1) * day),
        "N_WEEKS_AGO": (week0 - 7 * n * day, week0 - 7 * (n - 1) * day),
        "LAST_N_MONTHS": (months(month0, -n), month0), "NEXT_N_MONTHS": (months(month0, 1), months(month0, n + 1)),
        "N_MONTHS_AGO": (months(month0, -n), months(month0, 1 - n)),
        "LAST_N_QUARTERS": (months(quarter0, -3 * n), quarter0),
        "NEXT_N_QUARTERS": (months(quarter0, 3), months(quarter0, 3 * (n + 1))),
        "N_QUARTERS_AGO": (months(quarter0, -3 * n), months(quarter0, 3 - 3 * n)),
        "LAST_N_YEARS": (months(year0, -12 * n), year0), "NEXT_N_YEARS": (months(year0, 12), months(year0, 12 * (n + 1))),
        "N_YEARS_AGO": (months(year0, -12 * n), months(year0, 12 - 12 * n)),
    }
    if name in ranges:
        return ranges[name]
    raise SoqlError("MALFORMED_QUERY", f"fiscal date literals ({literal}) are not supported by the sandbox "
                                       "(it defines no fiscal year)")


@dataclass
class Query:
    obj: str
    fields: list[str]          # canonical field names, in the order asked
    where: str                 # SQL, with ? params
    params: list
    order: list[tuple[str, bool, bool | None]]  # field, desc, nulls_first
    limit: int | None
    offset: int
    count_only: bool


def _quote_literals(q: str) -> str:
    """Turn SOQL's unquoted date/datetime literals into quoted canonical strings, leaving strings alone."""
    out, pos = [], 0
    for m in _STR.finditer(q):
        out.append(_sub_literals(q[pos:m.start()]))
        out.append(m.group(0).replace("\\'", "''"))
        pos = m.end()
    out.append(_sub_literals(q[pos:]))
    return "".join(out)


def _sub_literals(s: str) -> str:
    s = _DATE_LITERAL.sub(lambda m: f"'{_LITERAL_MARK}{m.group(1).upper()}'", s)
    s = _DT.sub(lambda m: "'" + sf_datetime(parse_datetime(m.group(1))) + "'", s)
    return _DATE.sub(lambda m: "'" + m.group(1) + "'", s)


def parse(soql: str, today: dt.date | None = None) -> Query:
    """`today`: the day relative date literals count from (the firm's clock); UTC today when None."""
    if not soql or not soql.strip():
        raise SoqlError("MALFORMED_QUERY", "unexpected token: <EOF>")
    today = today or dt.datetime.now(dt.timezone.utc).date()
    try:
        tree = sqlglot.parse_one(_quote_literals(soql.strip()))
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError, ValueError) as e:
        raise SoqlError("MALFORMED_QUERY", f"\n{soql}\n^\nERROR at Row:1:Column:1\n{str(e).splitlines()[0]}") from None
    if not isinstance(tree, exp.Select):
        raise SoqlError("MALFORMED_QUERY", "unexpected token: expecting SELECT")
    if tree.args.get("joins") or tree.args.get("group") or tree.args.get("having") or tree.args.get("with_"):
        raise SoqlError("MALFORMED_QUERY", "only SELECT ... FROM one object [WHERE] [ORDER BY] [LIMIT] [OFFSET] is supported")
    frm = tree.args.get("from_") or tree.args.get("from")
    if frm is None or not isinstance(frm.this, exp.Table):
        raise SoqlError("MALFORMED_QUERY", "unexpected token: expecting FROM")
    obj_name = frm.this.name
    obj = next((o for o in schema.SALESFORCE if o.lower() == obj_name.lower()), None)
    if obj is None:
        raise SoqlError("INVALID_TYPE", f"\n{soql}\n^\nsObject type '{obj_name}' is not supported. If you are attempting "
                                        "to use a custom object, be sure to append the '__c' after the entity name. "
                                        "Please reference your WSDL or the describe call for the appropriate names.")
    fmap = {f.lower(): f for f in schema.fields("salesforce", obj)}

    def field(col: exp.Expression) -> str:
        if not isinstance(col, exp.Column):
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{col.sql()}'")
        name = col.name
        if col.table and col.table.lower() != obj.lower():
            raise SoqlError("INVALID_FIELD", f"relationship queries are not supported by the sandbox: {col.sql()}")
        f = fmap.get(name.lower())
        if f is None:
            raise SoqlError("INVALID_FIELD", f"\n{soql}\n^\nERROR at Row:1:Column:1\nNo such column '{name}' on entity "
                                             f"'{obj}'. If you are attempting to use a custom field, be sure to append "
                                             "the '__c' after the custom field name. Please reference your WSDL or the "
                                             "describe call for the appropriate names.")
        return f

    count_only = False
    fields: list[str] = []
    for e in tree.expressions:
        if isinstance(e, exp.Count) and (e.this is None or isinstance(e.this, exp.Star)) and len(tree.expressions) == 1:
            count_only = True
        elif isinstance(e, exp.Star):
            raise SoqlError("MALFORMED_QUERY", "unexpected token: '*'")
        else:
            fields.append(field(e))
    types = schema.fields("salesforce", obj)
    params: list = []

    def value(v: exp.Expression, f: str):
        typ = types[f]
        if isinstance(v, exp.Null):
            return None
        if isinstance(v, exp.Boolean):
            if typ != "bool":
                raise SoqlError("INVALID_FIELD", f"value of filter criterion for field '{f}' must be of type {typ}")
            return 1 if v.this else 0
        if isinstance(v, exp.Neg) and isinstance(v.this, exp.Literal):
            return -float(v.this.this)
        if not isinstance(v, exp.Literal):
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{v.sql()}'")
        if v.is_string:
            s = v.this
            if typ == "datetime":
                try:
                    return sf_datetime(parse_datetime(s)) if "T" in s else s
                except ValueError:
                    raise SoqlError("INVALID_FIELD", f"value of filter criterion for field '{f}' must be of type "
                                                     "dateTime and should not be enclosed in quotes") from None
            if typ in ("float", "int", "bool"):
                raise SoqlError("INVALID_FIELD", f"value of filter criterion for field '{f}' must be of type "
                                                 f"{'boolean' if typ == 'bool' else 'double'} and should not be enclosed in quotes")
            return s
        if typ not in ("float", "int"):
            raise SoqlError("INVALID_FIELD", f"value of filter criterion for field '{f}' must be of type "
                                             f"{typ} and should be enclosed in quotes")
        return float(v.this)

    ops = {exp.EQ: "=", exp.NEQ: "!=", exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<="}

    def cond(node: exp.Expression) -> str:
        if isinstance(node, exp.And):
            return f"({cond(node.this)} AND {cond(node.expression)})"
        if isinstance(node, exp.Or):
            return f"({cond(node.this)} OR {cond(node.expression)})"
        if isinstance(node, exp.Not):
            return f"(NOT {cond(node.this)})"
        if isinstance(node, exp.Paren):
            return cond(node.this)
        for cls, op in ops.items():
            if isinstance(node, cls):
                f = field(node.this)
                literal = _date_literal(node.expression)
                if literal is not None:
                    return date_range_condition(f, op, literal)
                v = value(node.expression, f)
                if v is None:
                    if op in ("=", "!="):
                        return f'"{f}" IS {"NOT " if op == "!=" else ""}NULL'
                    raise SoqlError("MALFORMED_QUERY", "null can only be compared with = or !=")
                params.append(v)
                return f'"{f}" {op} ?'
        if isinstance(node, exp.In):
            f = field(node.this)
            vals = [value(x, f) for x in node.expressions]
            if not vals:
                raise SoqlError("MALFORMED_QUERY", "unexpected token: ')'")
            params.extend(vals)
            return f'"{f}" IN ({", ".join("?" * len(vals))})'
        if isinstance(node, exp.Like):
            f = field(node.this)
            params.append(value(node.expression, f))
            return f'"{f}" LIKE ?'
        raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{node.sql()}'")

    def _date_literal(v: exp.Expression) -> str | None:
        if isinstance(v, exp.Literal) and v.is_string and v.this.startswith(_LITERAL_MARK):
            return v.this[len(_LITERAL_MARK):]
        return None

    def date_range_condition(f: str, op: str, literal: str) -> str:
        if types[f] not in ("date", "datetime"):
            raise SoqlError("INVALID_FIELD", f"value of filter criterion for field '{f}' must be of type "
                                             f"{types[f]}, not a date literal")
        start, end = date_literal_range(literal, today)
        if types[f] == "datetime":
            start, end = (sf_datetime(dt.datetime(d.year, d.month, d.day)) for d in (start, end))
        else:
            start, end = start.isoformat(), end.isoformat()
        inside = f'("{f}" >= ? AND "{f}" < ?)'
        shapes = {"=": (inside, [start, end]), "!=": (f"(NOT {inside})", [start, end]),
                  "<": (f'"{f}" < ?', [start]), "<=": (f'"{f}" < ?', [end]),
                  ">": (f'"{f}" >= ?', [end]), ">=": (f'"{f}" >= ?', [start])}
        sql_text, values = shapes[op]
        params.extend(values)
        return f'("{f}" IS NOT NULL AND {sql_text})' if op == "!=" else sql_text

    where_node = tree.args.get("where")
    where = cond(where_node.this) if where_node is not None else "1=1"
    order = []
    o = tree.args.get("order")
    if o is not None:
        for ordered in o.expressions:
            f = field(ordered.this)
            nf = ordered.args.get("nulls_first")
            order.append((f, bool(ordered.args.get("desc")), nf))
    limit = offset = None
    if tree.args.get("limit") is not None:
        limit = _int(tree.args["limit"].expression, "LIMIT")
    if tree.args.get("offset") is not None:
        offset = _int(tree.args["offset"].expression, "OFFSET")
        if offset > 2000:
            raise SoqlError("NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset allowed is 2000")
    return Query(obj, fields, where, params, order, limit, offset or 0, count_only)


def _int(node, what: str) -> int:
    if not isinstance(node, exp.Literal) or node.is_string:
        raise SoqlError("MALFORMED_QUERY", f"unexpected token in {what}")
    return int(node.this)
