"""A mid-year cut-over: the UK legal entity moves from NetSuite to Dynamics 365 Finance on a date, by a change of the
erp_routing seed (planned with `pshub sync plan` before it is applied). Through the hub's own cycles: UK time dated
before the date is posted to NetSuite, UK time dated on or after it lands in Dynamics (company nbuk); nothing is
posted twice or to neither, and the engagement totals do not move when the hub lands the Dynamics records back.

A hub of its own (the seed change must not reach the other tests): a copy of the dbt project with the changed seed,
its own warehouse database and sandbox firm (small, seed 7)."""
from __future__ import annotations

import datetime as dt
import os
import shutil

import httpx
import psycopg
import pytest

from isolated_hub import isolated_hub
from pshub.clients import client_for
from pshub.settings import get_settings

REPO = __import__("pathlib").Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cutover_hub(warehouse_url, home, tmp_path_factory):
    import flows.transform
    import pshub.dbt
    import pshub.status

    project = tmp_path_factory.mktemp("cutover_project")
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(REPO / name, project / name)
    shutil.copytree(REPO / "dbt_project", project / "dbt_project",
                    ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    saved = (pshub.dbt.PROJECT_DIR, pshub.dbt.PROFILES_DIR, flows.transform.PROJECT_DIR,
             os.environ.get("PSHUB_DYNAMICS_ENABLED"))
    pshub.dbt.PROJECT_DIR = pshub.dbt.PROFILES_DIR = flows.transform.PROJECT_DIR = project
    os.environ["PSHUB_DYNAMICS_ENABLED"] = "true"
    try:
        with isolated_hub(warehouse_url, home / "cutover", "pshub_cutover_test") as env:
            clock = httpx.get(env["sandbox"].urls["salesforce"] + "/__sandbox/clock").json()
            start = dt.date.fromisoformat(clock["hub_cutover"][:10])
            now = dt.date.fromisoformat(clock["now"][:10])
            day = start + (now - start) / 2  # the UK moves half way through the time the hub posts
            seed = project / "dbt_project" / "seeds" / "erp_routing.csv"
            seed.write_text(seed.read_text().rstrip("\n") + f"\nUK,dynamics,nbuk,{day.isoformat()}\n")
            get_settings.cache_clear()
            yield env | {"day": day, "project": project}
    finally:
        pshub.dbt.PROJECT_DIR, pshub.dbt.PROFILES_DIR, flows.transform.PROJECT_DIR = saved[:3]
        if saved[3] is None:
            os.environ.pop("PSHUB_DYNAMICS_ENABLED", None)
        else:
            os.environ["PSHUB_DYNAMICS_ENABLED"] = saved[3]
        get_settings.cache_clear()


def engagement_totals(conn) -> dict:
    return {r[0]: r[1:] for r in conn.execute(
        "select engagement_id, sold_amount, sold_hours, approved_hours, approved_billable_hours, recognized_revenue"
        " from marts.engagements")}


def shown_erp_ids(conn) -> dict:
    """The ERP project and customer ids the next push would write to the CRM's opportunities and accounts."""
    return {("Opportunity", r[0]): r[1] for r in conn.execute(
        'select "Id", "ERP_Project_Id__c" from outbound.crm_opportunity_links')} | {
        ("Account", r[0]): r[1] for r in conn.execute('select "Id", "ERP_Customer_Id__c" from outbound.crm_account_finance')}


def test_mid_year_cut_over_moves_uk_time_after_the_date_to_dynamics(cutover_hub):
    from flows.hub import run_cycle
    from pshub.app import erp_plan

    day = cutover_hub["day"]
    first = run_cycle()
    with psycopg.connect(cutover_hub["database_url"]) as conn:
        planned = {(r["kind"], r["erp_system"], r["erp_company"]): r for r in erp_plan.by_erp(conn)}
        totals_first = engagement_totals(conn)
        shown_first = shown_erp_ids(conn)
        ledger_first = {(r[0], r[1]) for r in conn.execute(
            "select sync_name, record_key from ops.sync_ledger"
            " where sync_name in ('d365_customers', 'd365_projects', 'erp_customers', 'erp_projects')")}
    second = run_cycle()  # lands the Dynamics records back; nothing changed in the firm, so it pushes nothing
    assert second["status"] in ("succeeded", "completed_with_exceptions"), second.get("failures")
    # no record of any sync is written again or late (a project, a CRM link, invoices, credit holds): landing back what
    # the first cycle made keeps every engagement keyed to the projects it had in each ERP (int_engagement_key_candidates
    # matches a hand-made project by the account's customer in the project's own ERP). And the ERP ids the CRM shows
    # stay as they were: those of the ERP the entity posts to now, whether created in this cycle or landed back since.
    with psycopg.connect(cutover_hub["database_url"]) as conn:
        pushed_second = conn.execute("select sync_name, record_key from ops.sync_ledger where run_id = %s",
                                     (second["run_id"],)).fetchall()
    assert not pushed_second, sorted(pushed_second)
    assert ledger_first, "the first cycle made no ERP customer or project"
    with psycopg.connect(cutover_hub["database_url"]) as conn:
        shown_second = shown_erp_ids(conn)
    changed = {k: (v, shown_second[k]) for k, v in shown_first.items() if k in shown_second and shown_second[k] != v}
    assert not changed, changed
    assert any(v and v.startswith("nbuk|") for v in shown_first.values()), "no CRM record shows a Dynamics id"

    with psycopg.connect(cutover_hub["database_url"]) as conn:
        uk = conn.execute("""
            select external_id, "tranDate", erp_system, erp_company, block_reason_code
              from intermediate.int_sync_erp_time_bills as t
              join intermediate.int_engagement_facts as f on f.engagement_id = t._engagement
             where f.legal_entity = 'UK'""").fetchall()
        ledger = {(r[0], r[1]) for r in conn.execute(
            "select sync_name, record_key from ops.sync_ledger"
            " where sync_name in ('erp_time_bills', 'd365_hour_journal_lines')")}
        d365_held = dict(conn.execute(
            "select external_id, block_reason_code from outbound.d365_hour_journal_lines_blocked").fetchall())
        d365_failed = {r[0] for r in conn.execute(
            "select record_key from ops.sync_exceptions where sync_name = 'd365_hour_journal_lines'"
            " and resolved_at is null")}
        totals_second = engagement_totals(conn)
        # an engagement whose project is now in Dynamics keeps its NetSuite project for its NetSuite rows: a NetSuite
        # job is updated by a NetSuite id only, and no project sync failed
        foreign_ids = conn.execute(
            "select count(*) from outbound.erp_projects where _erp_project_id is not null and _erp_project_id not in"
            " (select erp_project_id from intermediate.int_erp_projects where erp_system = 'netsuite')").fetchone()[0]
        project_failures = conn.execute(
            "select sync_name, record_key, reason_code, left(reason, 300)"
            " from ops.sync_exceptions e where sync_name in ('erp_projects', 'd365_projects') and resolved_at is null"
            " and not exists (select 1 from outbound.erp_projects_blocked b"  # held back: not a failure
            "                 where e.sync_name = 'erp_projects' and b.external_id = e.record_key)"
            " and not exists (select 1 from outbound.d365_projects_blocked b"
            "                 where e.sync_name = 'd365_projects' and b.external_id = e.record_key)").fetchall()
        left_over = conn.execute(
            "select count(*) from outbound.d365_hour_journal_lines h where not exists (select 1 from ops.sync_ledger l"
            " where l.sync_name = 'd365_hour_journal_lines' and l.record_key = h.external_id)").fetchone()[0]

    # routing: by date, UK records before the day go to NetSuite (subsidiary 2), on or after it to Dynamics nbuk,
    # but for those NetSuite already held (they stay there)
    assert uk, "no UK time in the firm"
    with client_for("netsuite") as ns:
        ns_all = {r["externalid"]: str(r["trandate"])[:10] for p in ns.suiteql_pages(
            "SELECT t.externalid, t.trandate FROM timebill t JOIN job j ON j.id = t.customer "
            "WHERE j.subsidiary = 2 AND t.externalid IS NOT NULL") for r in p}
    with client_for("dynamics") as d365:
        d365_lines = [r for p in d365.pages("JournalTrans", filter="dataAreaId eq 'nbuk'") for r in p]
    d365_ids = [r["PshExternalId"] for r in d365_lines if r.get("PshExternalId")]
    for ext, tran, erp, company, _reason in uk:
        if tran is not None and ext not in ns_all:
            assert (erp, company) == (("netsuite", "2") if tran < day else ("dynamics", "nbuk")), (ext, tran, erp)

    pushed_ns = {k for s, k in ledger if s == "erp_time_bills"}
    pushed_d365 = {k for s, k in ledger if s == "d365_hour_journal_lines"}
    by_id = {r[0]: r for r in uk}
    uk_ns = pushed_ns & set(by_id)
    # the hub posted UK time to both ERPs, split by the date
    assert uk_ns and pushed_d365, (len(uk_ns), len(pushed_d365))
    assert all(by_id[k][1] < day for k in uk_ns), "UK time after the cut-over was posted to NetSuite"
    assert all(by_id[k][1] >= day for k in pushed_d365), "time before the cut-over was posted to Dynamics"
    # nothing twice: no entry in both ERPs, no line twice in Dynamics
    assert len(d365_ids) == len(set(d365_ids)), "a line was posted twice to Dynamics"
    assert not (set(d365_ids) & set(ns_all)), "an entry is in both ERPs"
    assert pushed_d365 == set(d365_ids) & set(by_id)
    # nothing to neither: every UK entry routed to Dynamics is there, or held with a reason (who acts: hold_reasons)
    routed_d365 = {r[0] for r in uk if r[2] == "dynamics" and r[0] not in ns_all}
    nowhere = routed_d365 - set(d365_ids) - set(d365_held) - d365_failed
    assert not nowhere, f"{len(nowhere)} entries in neither ERP nor held, e.g. {sorted(nowhere)[:5]}"
    # and every UK entry NetSuite may take is in NetSuite
    ns_pushable = {r[0] for r in uk if r[2] == "netsuite" and r[4] is None}
    assert ns_pushable <= set(ns_all), sorted(ns_pushable - set(ns_all))[:5]
    assert left_over == 0
    assert foreign_ids == 0 and not project_failures, (foreign_ids, project_failures)
    print(f"cut-over {day}: UK time posted by the hub to NetSuite {len(uk_ns)}, to Dynamics {len(pushed_d365)}; "
          f"held for Dynamics {len(set(d365_held) & routed_d365)} "
          f"({sorted(set(d365_held[k] for k in set(d365_held) & routed_d365))})")
    # engagement totals unchanged by landing the Dynamics records back
    assert totals_second == totals_first
    # the plan said, before the pushes of the second cycle, where the records were going
    assert planned[("approved time", "dynamics", "nbuk")]["records"] > 0
