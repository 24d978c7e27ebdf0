"""`pshub demo`: the embedded warehouse, a sandbox firm, one hub cycle, and what to do next."""
from __future__ import annotations

import json
import os
import shlex

import httpx
import typer

from pshub.app import summary
from pshub.app.progress import CycleProgress, show_progress
from pshub.app.report import default_path, write_report
from pshub.clients import client_for
from pshub.exceptions import grouped, money_by_currency
from pshub.settings import ConfigurationError, get_settings, redact_url
from pshub.warehouse import connect, database_url, port_free
from reverse_etl.syncs import SYNCS
from sandbox.dynamics import COMPANIES
from sandbox.dynamics_firm import parse_routes, populate
from sandbox.server import SandboxServer

DEFAULT_PORTS = {"salesforce": 8701, "netsuite": 8702, "kantata": 8703, "hubspot": 8705}
CRMS = ("salesforce", "hubspot")


def _running_sandbox(sandbox_dir) -> bool:
    """A sandbox another process serves from this data folder, still answering."""
    endpoints = sandbox_dir / "endpoints.json"
    if not endpoints.exists():
        return False
    try:
        urls = json.loads(endpoints.read_text())["urls"]
        httpx.get(urls["salesforce"] + "/__sandbox/stats", timeout=2)
        return True
    except (OSError, ValueError, KeyError, httpx.HTTPError):
        return False


def crm_account_as_seen(result: dict, crm: str = "salesforce") -> dict | None:
    """One account's finance fields, read back from the CRM after the cycle wrote them (Salesforce field names)."""
    if crm == "hubspot":
        with client_for("hubspot") as hs:
            page = hs.search_page("companies", [{"propertyName": "erp_customer_id", "operator": "HAS_PROPERTY"}], None,
                                  ["name", "erp_customer_id", "open_ar", "overdue_ar", "dso", "credit_hold"])
        companies = [r["properties"] for r in page.get("results") or []]
        if not companies:
            return None
        top = max(companies, key=lambda p: float(p.get("open_ar") or 0))
        return {"Name": top["name"], "ERP_Customer_Id__c": top["erp_customer_id"], "Open_AR__c": top["open_ar"],
                "Overdue_AR__c": top["overdue_ar"], "DSO__c": top["dso"], "Credit_Hold__c": top["credit_hold"]}
    with client_for("salesforce") as sf:
        rows = [r for page in sf.query_pages(
            "SELECT Id, Name, ERP_Customer_Id__c, Open_AR__c, Overdue_AR__c, DSO__c, Credit_Hold__c FROM Account "
            "WHERE ERP_Customer_Id__c != null ORDER BY Open_AR__c DESC LIMIT 1") for r in page]
    return rows[0] if rows else None


def print_exception_split(split: dict, groups: int = 8) -> None:
    """Failures and holds of the cycle: counts, new ones, and the holds grouped by what to fix."""
    cur = split["currency"]
    holds, failures = split["totals"]["hold"], split["totals"]["failure"]
    typer.echo()
    typer.secho("Left out", bold=True)
    typer.echo(f"  failures: {failures['records']} open ({failures['new']} new): the destination refused them or the "
               "push failed; `pshub exceptions retry` pushes them again")
    typer.echo(f"  holds:    {holds['records']} open ({holds['new']} new): business rules keep them back until someone "
               "acts in a source system")
    for g in split["hold"][:groups]:
        amounts = money_by_currency(g["at_stake"]) if g["at_stake"] else "no amount"
        conv = f" (~{float(g['converted']):,.0f} {cur} converted)" if g["at_stake"] and g["converted"] is not None else ""
        typer.echo(f"    {g['records']:>5}  {g['who'] or '?'} in {g['where'] or '?'}: "
                   f"{g['what'] or g['reason_code'].replace('_', ' ')}  [{amounts}{conv}]")
    if len(split["hold"]) > groups:
        typer.echo(f"    ... and {sum(g['records'] for g in split['hold'][groups:])} more in "
                   f"{len(split['hold']) - groups} other groups: `pshub exceptions`")


def dynamics_routing(text: str, hub_start: str | None = None) -> dict | None:
    """`--dynamics UK@2026-06-01,DE` -> the sandbox's routes and the hub's (PSHUB_ERP_ROUTING, on top of the seed):
    the entity's books are in Dynamics 365 Finance (company = its dataAreaId) from the date; with no date, from
    `hub_start` (the day the hub starts posting in the sandbox firm: what was posted before stays in NetSuite)."""
    routes = {entity: day or hub_start for entity, day in parse_routes(text).items()}
    if not routes:
        return None
    hub = ",".join(f"{entity}=dynamics:{COMPANIES[entity][0]}" + (f"@{day}" if day else "")
                   for entity, day in routes.items())
    return {"sandbox": routes, "hub": hub, "text": text}


def other_crm_landed(crm: str) -> str | None:
    """Another CRM than `crm` whose records this warehouse has landed (the CRM role reads every CRM landed)."""
    with connect() as conn:
        if conn.execute("select to_regclass('ops.loads')").fetchone()[0] is None:
            return None  # a new warehouse
        row = conn.execute("select system from ops.loads where system = any(%s) and status = 'completed' limit 1",
                           ([c for c in CRMS if c != crm],)).fetchone()
    return row[0] if row else None


def rerun_command(settings) -> str:
    """The `make demo` that runs this demo again: its data folder (when not the default), CRM and PSA."""
    home = os.environ.get("PSHUB_HOME")
    return ((f"PSHUB_HOME={home} " if home else "") + "make demo"
            + ("" if settings.crm == "salesforce" else f" CRM={settings.crm}")
            + ("" if settings.psa == "kantata" else f" PSA={settings.psa}"))


def run_demo(scale: str = "demo", prefect=None, dynamics: dict | None = None) -> int:
    """prefect: the command's Prefect API start-up (pshub.prefect_api.start), waited for before the cycle.
    dynamics: dynamics_routing(...): entities in Dynamics 365 Finance, in the sandbox firm and the hub's routing."""
    settings = get_settings()
    typer.secho("pshub demo", bold=True)
    url = database_url(settings)
    typer.echo(f"  warehouse: {redact_url(url)}")
    server = None
    if _running_sandbox(settings.sandbox_dir):
        typer.echo(f"  sandbox:   already running from {settings.sandbox_dir}")
        if dynamics:  # its firm keeps the routes it was served with: the hub routes as it did
            urls = json.loads((settings.sandbox_dir / "endpoints.json").read_text())["urls"]
            clock = httpx.get(urls["salesforce"] + "/__sandbox/clock", timeout=5).json()
            routes = clock.get("dynamics_routes") or {}
            dynamics = dynamics_routing(",".join(f"{e}@{d}" if d else e for e, d in routes.items()),
                                        (clock.get("hub_cutover") or "")[:10] or None)
            if not routes:
                typer.echo("             (that sandbox has every entity in NetSuite: --dynamics ignored; stop it "
                           "to start one with it)")
    else:
        ports = {k: (p if port_free(p) else 0) for k, p in DEFAULT_PORTS.items()}
        fresh = not (settings.sandbox_dir / "endpoints.json").exists() and not any(settings.sandbox_dir.glob("*"))
        typer.echo(f"  sandbox:   {'generating a ' + scale + ' firm and ' if fresh else ''}starting in {settings.sandbox_dir}")
        settings.sandbox_dir.mkdir(parents=True, exist_ok=True)
        server = SandboxServer(settings.sandbox_dir, scale=scale, ports=ports, progress=CycleProgress().sandbox,
                               psa=settings.psa)
        server.start()
        if dynamics:  # the entities' books move to Dynamics from their date (once per firm: a rerun changes nothing)
            dynamics = dynamics_routing(dynamics["text"], (server.store.meta("hub_cutover") or "")[:10] or None)
            populate(server.store, dynamics["sandbox"])
        for system, base in server.urls.items():
            typer.echo(f"             {system:<10} {base}")
    if dynamics:  # this process's settings: the hub lands Dynamics and routes the entities there
        os.environ["PSHUB_ERP_ROUTING"] = dynamics["hub"]
        os.environ["PSHUB_DYNAMICS_ENABLED"] = "true"
        get_settings.cache_clear()
        typer.echo(f"  Dynamics 365 Finance: {dynamics['hub']} (PSHUB_ERP_ROUTING, on top of the erp_routing seed)")
    other = other_crm_landed(settings.crm)
    if other:
        if server is not None:
            server.stop()
        raise ConfigurationError(
            f"this warehouse holds records landed from {other}, and the hub is set to {settings.crm} (one CRM per "
            f"warehouse): run the {settings.crm} demo in a data folder of its own, e.g. "
            f"PSHUB_HOME=.pshub-{settings.crm} make demo CRM={settings.crm}")
    typer.echo(f"  CRM:       {settings.crm} (PSHUB_CRM)")
    typer.echo(f"  PSA:       {settings.psa} (PSHUB_PSA)")
    account = None
    try:
        if prefect is not None:
            prefect.wait()
        # imports Prefect: only once the command's own API is up (pshub.prefect_api), never at the module's import
        from flows.hub import run_cycle
        typer.echo()
        typer.echo("  one hub cycle: land every object, build the dbt project, push the syncs")
        with show_progress():
            result = run_cycle()

        report_path = write_report(default_path())
        account = crm_account_as_seen(result, settings.crm)
    finally:
        if server is not None:
            server.stop()
    typer.echo()
    summary.print_cycle(result)
    with connect() as conn:
        sold = conn.execute("""select contract_currency, count(*), sum(sold_amount) from marts.engagements
                                group by 1 order by 3 desc nulls last""").fetchall()
        started, = conn.execute("select started_at from ops.runs where run_id = %s", (result["run_id"],)).fetchone()
        split = grouped(conn, since=started)
        # the routes as built (the seed, and PSHUB_ERP_ROUTING on top of it)
        routing = conn.execute("""select legal_entity, erp_system, erp_company, posts_from from intermediate.int_erp_routes
                                   order by legal_entity, posts_from nulls first""").fetchall() \
            if conn.execute("select to_regclass('intermediate.int_erp_routes')").fetchone()[0] else []
        posted = conn.execute("""select s.destination, count(*) from ops.sync_ledger l
                                  join unnest(%s::text[], %s::text[]) as s (sync_name, destination) using (sync_name)
                                 where l.run_id = %s and s.destination in ('netsuite', 'dynamics')
                                 group by 1 order by 1 desc""",
                              ([n for n in SYNCS], [SYNCS[n].destination for n in SYNCS], result["run_id"])).fetchall()
    print_exception_split(split)
    typer.echo()
    typer.secho("Next", bold=True)
    # never added across currencies: one figure per contract currency
    per_currency = ", ".join(f"{amount or 0:,.2f} {currency or '(no currency)'}" for currency, _, amount in sold)
    typer.echo(f"  {sum(n for _, n, _ in sold)} engagements in marts.engagements"
               + (f" (sold {per_currency})." if sold else "."))
    if routing:  # which ERP each legal entity posts to (seed erp_routing), and since when
        names = {"netsuite": "NetSuite", "dynamics": "Dynamics 365 Finance"}
        typer.echo("  ERP per legal entity: " + ", ".join(
            f"{entity} -> {names.get(erp, erp)} ({company})" + (f" from {since}" if since else "")
            for entity, erp, company, since in routing))
        if posted:
            typer.echo("  Posted this cycle: " + ", ".join(f"{names.get(erp, erp)} {n} records" for erp, n in posted)
                       + "  (per ERP and company: .venv/bin/pshub sync plan)")
        if dynamics:
            typer.echo(f"  Later commands route as this demo did with:  export PSHUB_ERP_ROUTING={shlex.quote(dynamics['hub'])} "
                       "PSHUB_DYNAMICS_ENABLED=true")
    typer.echo("  What is held back, by whom, and what fails:  .venv/bin/pshub exceptions")
    typer.echo(f"  Report (one offline HTML page):  file://{report_path}    Health:  .venv/bin/pshub status")
    if account:
        typer.echo(f"  {account['Name']} as the account team sees it in the CRM: open AR {account['Open_AR__c']}, "
                   f"overdue {account['Overdue_AR__c']}, DSO {account['DSO__c']} days, credit hold "
                   f"{account['Credit_Hold__c']}, ERP customer {account['ERP_Customer_Id__c']}")
    typer.echo("  Query the marts:   psql \"$(.venv/bin/pshub db url)\" -c 'select * from marts.engagements limit 10'")
    typer.echo("  Give an analyst a read-only login of their own (marts only):  .venv/bin/pshub analysts add alice")
    typer.echo("  See what a sync would push:  .venv/bin/pshub sync plan")
    typer.echo(f"  Run again (lands only what changed, pushes nothing new):  {rerun_command(settings)}")
    typer.echo("  Stop the warehouse:  .venv/bin/pshub db stop")
    return 0
