"""What the CLI prints after a run: short tables a person reads at a glance."""
from __future__ import annotations

import json

import psycopg
import typer

from pshub import exceptions
from pshub.exceptions import converted_label, money_by_currency


def _numeric(cell: str) -> bool:
    return cell.replace(",", "").replace(".", "").lstrip("-").isdigit()


def _table(headers: list[str], rows: list[list]) -> None:
    cells = [headers] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, r in enumerate(cells):
        typer.echo("  " + "  ".join(c.rjust(w) if i and _numeric(c) else c.ljust(w)
                                    for i, (c, w) in enumerate(zip(r, widths))).rstrip())
        if n == 0:
            typer.echo("  " + "  ".join("-" * w for w in widths))


def print_loads(loads: list[dict]) -> None:
    typer.secho("Landed", bold=True)
    echoes = any("hub_echoes" in l for l in loads)
    _table(["object", "fetched", "new or changed", *(["of them the hub's own writes"] if echoes else []), "deleted",
            "quarantined", "status"],
           [[f"{l['system']}.{l['object']}", l["rows_fetched"], l["rows_landed"],
             *([l.get("hub_echoes", 0)] if echoes else []), l.get("rows_deleted", 0), l["rows_quarantined"],
             l["status"] + (f" ({l['error']})" if l.get("error") else "")
             + (f"; new fields: {', '.join(l['new_fields'])}" if l.get("new_fields") else "")
             + (f"; fields gone from the source: {', '.join(l['gone_fields'])}" if l.get("gone_fields") else "")]
            for l in sorted(loads, key=lambda l: (l["system"], l["object"]))])


def print_transform(result: dict) -> None:
    typer.secho("Transformed", bold=True)
    typer.echo(f"  dbt build: {len(result['built'])} models/seeds built, {result['tests_passed']} tests passed"
               + (f", {len(result['warnings'])} warnings" if result["warnings"] else ""))
    if result.get("scope"):
        typer.echo(f"  built: {result['scope']}")
    for w in result["warnings"][:10]:
        typer.echo(f"  warn: {w}")


def print_syncs(results: list[dict]) -> None:
    typer.secho("Pushed", bold=True)
    _table(["sync", "planned", "pushed", "failed", "invalid", "held back", "write calls", "status"],
           [[r["sync"], r["planned_inserts"] + r["planned_updates"], r["pushed"], r["failed"], r["invalid"],
             r.get("blocked", 0), r["write_calls"], r["status"] + (f": {r.get('message') or r.get('reason')}" if (r.get("message") or r.get("reason")) else "")]
            for r in results])


def print_cycle(summary: dict) -> None:
    status = summary.get("status", "succeeded")
    typer.secho(f"Cycle {summary['run_id']}: {status}", bold=True,
                fg=None if status == "succeeded" else typer.colors.YELLOW)
    print_loads(summary["loads"])
    echoed = sum(l.get("hub_echoes", 0) for l in summary["loads"])
    if echoed:
        landed = sum(max(l.get("rows_landed", 0), 0) for l in summary["loads"])
        typer.echo(f"  {echoed:,} of the {landed:,} changes landed are the hub's own writes coming back "
                   "(records its syncs created or updated since the last landing)")
    if summary.get("transform"):
        print_transform(summary["transform"])
    print_syncs(summary["syncs"])
    for problem in summary.get("problems") or summary.get("errors") or []:
        typer.secho(f"  ! {problem}", fg=typer.colors.YELLOW)


def print_plan(sync, counts: dict, sample: list[dict]) -> None:
    typer.secho(f"{sync.name}: {sync.description}", bold=True)
    typer.echo(f"  -> {sync.destination} {sync.object} ({sync.operation} by {sync.key}): "
               f"{counts['inserts']} never pushed, {counts['updates']} changed since pushed, {counts['unchanged']} unchanged, "
               f"{counts['blocked']} held back")
    if sample:
        cols = [sync.key, *sync.pushed_columns]
        _table(["action", *cols], [[r["_action"], *[("" if r.get(c) is None else r.get(c)) for c in cols]]
                                   for r in sample])
        if counts["inserts"] + counts["updates"] > len(sample):
            typer.echo(f"  ... and {counts['inserts'] + counts['updates'] - len(sample)} more")


def print_erp_plan(routes: list[dict], rows: list[dict]) -> None:
    """`pshub sync plan`: which ERP (and company) each legal entity posts to, and what would go where."""
    from pshub.app.erp_plan import ERP_NAMES

    typer.secho("Where the ERP records go (seed erp_routing and PSHUB_ERP_ROUTING, as of the last `pshub transform`)", bold=True)
    for r in routes:
        since = (f"from {r['posts_from']}" if r["posts_from"] else "from the start") + \
            (f" until {r['posts_until']}" if r.get("posts_until") else "")
        typer.echo(f"  {r['legal_entity']}: {ERP_NAMES.get(r['erp_system'], r['erp_system'])} "
                   f"(company {r['erp_company']}) {since}")
    if rows:
        _table(["records", "ERP", "company", "sync", "routed", "new (would be pushed)", "already pushed",
                "held back", "held by the other ERP (stay)"],
               [[r["kind"], ERP_NAMES.get(r["erp_system"], r["erp_system"]), r["erp_company"], r["sync"] or "(none yet)",
                 r["records"], r["new"], r["pushed"], r["held_back"], r["in_other_erp"]] for r in rows])


def print_exceptions(conn: psycopg.Connection, *, sync: str | None, reason: str | None, include_resolved: bool,
                     limit: int, kind: str | None = None) -> None:
    """`pshub exceptions list`: the headline, holds by what to fix, failures by sync, then the newest records."""
    split = exceptions.grouped(conn, sync=sync, reason=reason, include_resolved=include_resolved, kind=kind)
    cur = split["currency"]
    if not split["hold"] and not split["failure"]:
        typer.echo("no exceptions" + ("" if include_resolved else " open"))
        return
    for line in exceptions.headline(split):
        typer.echo(line)
    converted_header = f"converted to {cur}" if split["converted"] else "converted (no rates yet)"
    if split["hold"]:
        typer.echo()
        typer.secho("Holds, by what to fix (they go when the source changes; retry does not apply)", bold=True)
        _table(["what to fix", "who", "where", "reason", "records", "new", "at stake", converted_header, "syncs"],
               [[g["what"] or "see the reason of each record (`pshub exceptions show ID`)", g["who"] or "?",
                 g["where"] or "?", g["reason_code"], g["records"], g["new"], money_by_currency(g["at_stake"]),
                 converted_label(g["converted"] if g["at_stake"] else None, cur), ", ".join(g["syncs"])]
                for g in split["hold"]])
    if split["failure"]:
        typer.echo()
        typer.secho("Failures (`pshub exceptions retry` pushes them again; so does every cycle)", bold=True)
        _table(["sync", "stage", "reason", "records", "new", "at stake", converted_header, "attempts", "oldest"],
               [[g["sync"], g["stage"], g["reason_code"], g["records"], g["new"], money_by_currency(g["at_stake"]),
                 converted_label(g["converted"] if g["at_stake"] else None, cur), g["attempts"], g["oldest"].date()]
                for g in split["failure"]])
    rows = exceptions.newest(conn, sync=sync, reason=reason, include_resolved=include_resolved, limit=limit, kind=kind)
    typer.echo()
    typer.secho(f"Newest {len(rows)} (failures first)", bold=True)
    _table(["id", "kind", "sync", "record", "reason", "detail", "customer", "at stake", "attempts", "last seen",
            "state"], [list(r) for r in rows])
    typer.echo("\n  `pshub exceptions show ID` for one whole; `pshub exceptions list --kind failure` for failures only.")


def print_exception(conn: psycopg.Connection, exception_id: int) -> bool:
    """`pshub exceptions show ID`: False when there is no such exception."""
    found = exceptions.one(conn, exception_id)
    if found is None:
        return False
    fields, guide, row = found
    for label, value in fields:
        typer.echo(f"  {label:<16} {'' if value is None else value}")
    if guide:
        typer.echo(f"  {'to release it':<16} {guide[0]}, in {guide[1]}: {guide[2]}")
    typer.echo("  row:")
    typer.echo("    " + json.dumps(row, indent=2, default=str).replace("\n", "\n    "))
    return True
