"""SOQL -> SQLite: the subset a data hub uses, with Salesforce's own errors for the rest.

Supported: SELECT field list (or COUNT()) FROM one object, WHERE with AND/OR/NOT, parentheses,
= != <> < <= > >=, IN / NOT IN, LIKE, null, true/false, unquoted date and datetime literals,
ORDER BY (ASC/DESC, NULLS FIRST/LAST), LIMIT, OFFSET.
"""
from __future__ import annotations

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
_DATE_LITERALS = re.compile(r"\b(YESTERDAY|TODAY|TOMORROW|LAST_WEEK|THIS_WEEK|NEXT_WEEK|LAST_MONTH|THIS_MONTH|"
                            r"NEXT_MONTH|LAST_N_DAYS|NEXT_N_DAYS|THIS_QUARTER|THIS_YEAR|LAST_YEAR)\b", re.I)


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
    s = _DT.sub(lambda m: "'" + sf_datetime(parse_datetime(m.group(1))) + "'", s)
    return _DATE.sub(lambda m: "'" + m.group(1) + "'", s)


def parse(soql: str) -> Query:
    if not soql or not soql.strip():
        raise SoqlError("MALFORMED_QUERY", "unexpected token: <EOF>")
    if _DATE_LITERALS.search(_STR.sub("''", soql)):
        raise SoqlError("MALFORMED_QUERY", "date literals such as TODAY or LAST_N_DAYS:n are not supported by the sandbox")
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
