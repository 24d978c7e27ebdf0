"""SuiteQL -> SQLite through sqlglot (Oracle dialect in, SQLite out).

Tables are the NetSuite ones of `schema.NETSUITE`; TO_CHAR, TO_TIMESTAMP and TO_DATE become
registered SQLite functions; bare date columns in the select list come back in the account's date
format (M/D/YYYY) as NetSuite returns them unless TO_CHAR is used.
"""
from __future__ import annotations

import threading

import sqlglot
from sqlglot import exp

from sandbox import schema

ALLOWED = (exp.Select, exp.Column, exp.Identifier, exp.Table, exp.TableAlias, exp.From, exp.Join, exp.Where,
           exp.Order, exp.Ordered, exp.Limit, exp.Offset, exp.Alias, exp.Literal, exp.Boolean, exp.Null, exp.Star,
           exp.And, exp.Or, exp.Not, exp.Paren, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.In,
           exp.Like, exp.ILike, exp.Is, exp.Between, exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Neg, exp.Case, exp.If,
           exp.Coalesce, exp.Count, exp.Sum, exp.Max, exp.Min, exp.Avg, exp.Group, exp.Having, exp.Distinct,
           exp.Upper, exp.Lower, exp.Cast, exp.DataType, exp.ToChar, exp.StrToTime, exp.StrToDate,
           exp.Anonymous, exp.Subquery, exp.Nvl2 if hasattr(exp, "Nvl2") else exp.Coalesce, exp.Fetch,
           exp.Concat, exp.DPipe, exp.Var)
FUNCS_OK = {"ns_to_char", "ns_str_to_time", "ns_str_to_date", "ns_account_date", "nvl", "substr", "length",
            "round", "trunc", "abs"}


class SuiteQLError(Exception):
    pass


def _types(table: str) -> dict[str, str]:
    return schema.fields("netsuite", table)


# sqlglot's Oracle dialect finishes setting itself up on its first parses: several parsed at once in a fresh server
# (the hub's landings start together) read TO_TIMESTAMP as an unknown function. One parse at a time.
_PARSE = threading.Lock()


def translate(q: str) -> tuple[str, list[str]]:
    """Return (SQLite SQL, output column names)."""
    if not q or not q.strip():
        raise SuiteQLError("Invalid search query. The query is empty.")
    try:
        with _PARSE:
            tree = sqlglot.parse_one(q, read="oracle")
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError) as e:
        raise SuiteQLError(f"Invalid search query. Detailed unprocessed description follows. Search error occurred: "
                           f"Invalid or unsupported search. {str(e).splitlines()[0]}") from None
    if not isinstance(tree, exp.Select):
        raise SuiteQLError("Invalid search query. Only SELECT statements are supported.")
    for node in tree.walk():
        if not isinstance(node, ALLOWED):
            raise SuiteQLError(f"Invalid search query. Detailed unprocessed description follows. Search error "
                               f"occurred: Unsupported syntax: {type(node).__name__.upper()}.")
        if isinstance(node, exp.Anonymous) and node.name.lower() not in FUNCS_OK:
            raise SuiteQLError(f"Invalid search query. Detailed unprocessed description follows. Search error "
                               f"occurred: Unknown function {node.name.upper()}.")
    aliases: dict[str, str] = {}
    for t in list(tree.find_all(exp.Table)):
        name = t.name.lower()
        if name not in schema.NETSUITE:
            raise SuiteQLError(f"Invalid search query. Detailed unprocessed description follows. Search error "
                               f"occurred: Record '{t.name}' was not found.")
        alias = t.alias or t.name
        aliases[alias.lower()] = name
        t.set("this", exp.to_identifier(schema.table("netsuite", name), quoted=True))
        # quoted: a query without an alias (`SELECT id FROM transaction`, which NetSuite accepts) takes the table's
        # name as its alias, and `transaction` is a keyword in SQLite
        t.set("alias", exp.TableAlias(this=exp.to_identifier(alias.lower(), quoted=True)))
        t.set("db", None)

    def column_table(col: exp.Column) -> str | None:
        if col.table:
            tbl = aliases.get(col.table.lower())
            if tbl is None:
                raise SuiteQLError(f"Invalid search query. Detailed unprocessed description follows. Search error "
                                   f"occurred: Unknown identifier '{col.table}'.")
            return tbl
        hits = [t for t in dict.fromkeys(aliases.values()) if col.name.lower() in _types(t)]
        return hits[0] if hits else None

    output_aliases = {e.alias.lower() for e in tree.expressions if isinstance(e, exp.Alias)}
    for col in list(tree.find_all(exp.Column)):
        if isinstance(col.this, exp.Star):
            continue
        name = col.name.lower()
        tbl = column_table(col)
        if tbl is None or name not in _types(tbl):
            if not col.table and name in output_aliases:
                continue
            raise SuiteQLError(f"Invalid search query. Detailed unprocessed description follows. Search error "
                               f"occurred: Field '{col.name}' for record '{tbl or next(iter(aliases.values()), '?')}' was not found. "
                               f"Reason: NOT_EXPOSED - Not available for channel SEARCH")
        col.set("this", exp.to_identifier(name, quoted=True))  # quoted: `transaction` is a keyword in SQLite
        # qualify every column, so that ORDER BY never binds to a formatted output alias
        col.set("table", exp.to_identifier(col.table.lower() if col.table else
                                           next(a for a, t in aliases.items() if t == tbl), quoted=True))
    # functions
    for node in list(tree.find_all(exp.ToChar)):
        node.replace(exp.Anonymous(this="ns_to_char", expressions=[node.this, node.args.get("format") or exp.Literal.string("YYYY-MM-DD")]))
    for cls, fn in ((exp.StrToTime, "ns_str_to_time"), (exp.StrToDate, "ns_str_to_date")):
        for node in list(tree.find_all(cls)):
            node.replace(exp.Anonymous(this=fn, expressions=[node.this, node.args.get("format") or exp.Literal.string("%Y-%m-%d")]))
    # SELECT * over one table: expand, so that dates can be formatted and names are known
    new_exprs = []
    for e in tree.expressions:
        if isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star)):
            tables = [aliases[e.table.lower()]] if isinstance(e, exp.Column) and e.table else list(dict.fromkeys(aliases.values()))
            alias_of = {v: k for k, v in aliases.items()}
            for t in tables:
                for f in _types(t):
                    new_exprs.append(exp.column(f, table=alias_of[t], quoted=True))
        else:
            new_exprs.append(e)
    names = []
    final = []
    for e in new_exprs:
        if isinstance(e, exp.Alias):
            names.append(e.alias.lower())
            final.append(e)
            continue
        if isinstance(e, exp.Column):
            name = e.name.lower()
            tbl = column_table(e)
            typ = _types(tbl).get(name) if tbl else None
            names.append(name)
            if typ in ("date", "datetime"):
                final.append(exp.alias_(exp.Anonymous(this="ns_account_date", expressions=[e]), name))
            else:
                final.append(e)
            continue
        name = e.sql(dialect="oracle").lower()
        names.append("expr" + str(len(names) + 1) if not name.isidentifier() else name)
        final.append(exp.alias_(e, names[-1]))
    tree.set("expressions", final)
    try:
        return tree.sql(dialect="sqlite"), names
    except sqlglot.errors.UnsupportedError as e:
        raise SuiteQLError(f"Invalid search query. Unsupported syntax: {e}") from None
