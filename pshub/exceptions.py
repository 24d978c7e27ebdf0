"""`pshub exceptions`: what a sync could not push, why, and how much money is at stake."""
from __future__ import annotations

import json

import psycopg
import typer

from pshub.summary import _table


def print_list(conn: psycopg.Connection, *, sync: str | None, reason: str | None, include_resolved: bool,
               limit: int) -> None:
    where = "(%(all)s or resolved_at is null) and (%(sync)s::text is null or sync_name = %(sync)s)" \
            " and (%(reason)s::text is null or reason_code = %(reason)s)"
    params = {"all": include_resolved, "sync": sync, "reason": reason}
    groups = conn.execute(f"""
        select sync_name, stage, reason_code, count(*), coalesce(sum(amount_at_stake), 0), min(first_seen_at)::date
          from ops.sync_exceptions where {where}
         group by 1, 2, 3 order by 5 desc, 4 desc""", params).fetchall()
    if not groups:
        typer.echo("no exceptions" + ("" if include_resolved else " open"))
        return
    typer.secho("By sync and reason", bold=True)
    _table(["sync", "stage", "reason", "records", "amount at stake", "oldest"],
           [[g[0], g[1], g[2], g[3], f"{g[4]:,.2f}", g[5]] for g in groups])
    rows = conn.execute(f"""
        select exception_id, sync_name, record_key, reason_code, left(reason, 60), coalesce(customer, ''),
               coalesce(amount_at_stake::text, ''), attempts, last_seen_at::timestamp(0),
               case when resolved_at is null then 'open' else 'resolved' end
          from ops.sync_exceptions where {where}
         order by last_seen_at desc, exception_id desc limit %(limit)s""", {**params, "limit": limit}).fetchall()
    typer.echo()
    typer.secho(f"Newest {len(rows)}", bold=True)
    _table(["id", "sync", "record", "reason", "detail", "customer", "at stake", "attempts", "last seen", "state"],
           [list(r) for r in rows])
    typer.echo("\n  `pshub exceptions show ID` for one whole; `pshub exceptions retry` to push failed rows again.")


def print_one(conn: psycopg.Connection, exception_id: int) -> bool:
    row = conn.execute("""
        select exception_id, sync_name, record_key, stage, reason_code, reason, customer, engagement,
               amount_at_stake, currency, attempts, first_seen_at, last_seen_at, resolved_at, run_id, payload
          from ops.sync_exceptions where exception_id = %s""", (exception_id,)).fetchone()
    if row is None:
        return False
    labels = ["id", "sync", "record", "stage", "reason code", "reason", "customer", "engagement", "amount at stake",
              "currency", "attempts", "first seen", "last seen", "resolved", "last run"]
    for label, value in zip(labels, row[:-1]):
        typer.echo(f"  {label:<16} {'' if value is None else value}")
    typer.echo("  row:")
    typer.echo("    " + json.dumps(row[-1], indent=2, default=str).replace("\n", "\n    "))
    return True
