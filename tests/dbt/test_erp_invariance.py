"""Invariance of the marts under the ERP an entity posts to (issue: a second ERP, routed by legal entity).

The same synthetic firm is built twice: as generated (every legal entity in NetSuite: the session's `built`), and with
the UK entity's books in Dynamics 365 Finance (sandbox.dynamics_firm moves them, however old; the routing says UK
posts to its Dynamics company). Every column of every mart must be equal, row for row, but the columns that name a record
in its ERP (its id there, which ERP holds it): those say where a record is, not what it is worth. And each ERP holds
exactly the records of the entities routed to it, in the role models and in the syncs' candidates."""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg
import pytest

from rawload import land_dynamics, land_firm, relation_columns as _columns, relation_rows as _rows

# columns that say where a record is, not what it is worth: its id in the ERP holding it (NetSuite internal id,
# Dynamics natural key), and the ERP's own words for it. Every other column of every mart is compared, figures and
# dates alike (the ERP project's creation day too: Dynamics' Projects entity gives it as DateOfCreation).
ERP_IDENTITY_COLUMNS = {"erp_customer_id", "erp_project_id", "erp_invoice_id", "erp_system", "erp_systems"}
WHERE_COLUMNS = {
    # NetSuite's transaction status letter (A, B, V); Dynamics' free text invoices have no such field. What it says is
    # compared in the ERP-neutral columns beside it (amount open, close date, days past due, aging bucket)
    "invoices": {"status_code"},
    "customer_collections": {"customer_id"},  # an ERP customer no CRM account claims is keyed 'erp:<its ERP id>'
    # an issue names the system and record it is about (its id: system and record id), in its detail too
    "integration_health": {"issue_id", "source_system", "source_object", "source_record_id", "detail"},
}
# marts with rows per ERP beside the rows of all ERPs together (erp_system 'all'): the 'all' rows are compared; the
# per-ERP rows say where, and test_the_reconciliation_and_the_health_split_per_erp checks them
ALL_ERPS_ROWS = {"system_reconciliation": "erp_system = 'all'", "open_ar_reconciliation": "erp_system = 'all'"}


@pytest.fixture(scope="module")
def uk_in_dynamics(built, firm, warehouse_url, home):
    """The session's firm with the UK's books in Dynamics 365 Finance, landed in a database of its own and built
    (full refresh) with the routing saying UK posts to Dynamics. Returns (database url, UK's Dynamics company)."""
    from flows.transform import run_build
    from pshub.migrations import migrate
    from pshub.settings import Settings, get_settings
    from sandbox.dynamics import COMPANIES
    from sandbox.dynamics_firm import populate, routes_of
    from sandbox.store import Store

    store = Store(home / "dbt-tests-firm-uk-d365")
    store.data_dir.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(firm.path) as source, sqlite3.connect(store.path) as copy:
        source.backup(copy)
    populate(store, {"UK": None})
    assert routes_of(store) == {"UK": "0001-01-01"}
    company = COMPANIES["UK"][0]
    # the ERP ids the hub wrote back to the CRM (ERP_Customer_Id__c, ERP_Project_Id__c) name the records where they
    # are: in this firm, the UK's in Dynamics (the move numbers NetSuite customer N as C00000N, job N as P00000N)
    with sqlite3.connect(store.path) as c:
        c.execute("""update sf_Account set ERP_Customer_Id__c = ? || '|C' || printf('%06d', ERP_Customer_Id__c)
                     where ERP_Customer_Id__c in (select cast(cast(substr(CustomerAccount, 2) as integer) as text)
                                                  from d365_CustomersV3 where dataAreaId = ?)""", (company, company))
        c.execute("""update sf_Opportunity set ERP_Project_Id__c = ? || '|P' || printf('%06d', ERP_Project_Id__c)
                     where ERP_Project_Id__c in (select cast(cast(substr(ProjectID, 2) as integer) as text)
                                                 from d365_Projects where dataAreaId = ?)""", (company, company))

    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("drop database if exists pshub_dbt_uk_d365 with (force)")
        conn.execute("create database pshub_dbt_uk_d365")
    url = urlunparse(urlparse(warehouse_url)._replace(path="/pshub_dbt_uk_d365"))
    migrate(url)
    settings = Settings(home=home / "dbt-tests-uk-d365", database_url=url)
    settings.home_dir.mkdir(parents=True, exist_ok=True)
    land_firm(Path(store.path), url)
    landed = land_dynamics(Path(store.path), url)
    assert landed["dynamics.journaltrans"] > 0, landed

    routing = f"UK=dynamics:{company}"  # on top of the seed (macro erp_routing), as `pshub demo --dynamics UK` sets it
    settings = Settings(home=settings.home_dir, database_url=url, erp_routing=routing)
    saved = os.environ.get("PSHUB_ERP_ROUTING")
    os.environ["PSHUB_ERP_ROUTING"] = routing
    get_settings.cache_clear()
    try:
        result = run_build(full_refresh=True, settings=settings, raise_on_failure=False)
    finally:
        if saved is None:
            os.environ.pop("PSHUB_ERP_ROUTING", None)
        else:
            os.environ["PSHUB_ERP_ROUTING"] = saved
        get_settings.cache_clear()
    assert result.success, result.failures
    return url, company


def test_every_mart_is_the_same_with_the_uk_in_netsuite_or_in_dynamics(uk_in_dynamics, db):
    url, _company = uk_in_dynamics
    marts = [r[0] for r in db.execute(
        "select table_name from information_schema.tables where table_schema = 'marts' order by 1")]
    assert len(marts) >= 10, marts
    differences = {}
    with psycopg.connect(url, autocommit=True) as other:
        for mart in marts:
            columns = _columns(db, "marts", mart)
            assert _columns(other, "marts", mart) == columns, mart
            skipped = ERP_IDENTITY_COLUMNS | WHERE_COLUMNS.get(mart, set())
            compared = [c for c in columns if c not in skipped]
            where = ALL_ERPS_ROWS.get(mart, "true")
            netsuite = _rows(db, f'marts."{mart}"', compared, where)
            dynamics = _rows(other, f'marts."{mart}"', compared, where)
            assert sum(netsuite.values()) > 0 or mart in ("open_ar_differences",), f"{mart} is empty: nothing compared"
            if netsuite != dynamics:
                # which columns differ: each column's values (as a multiset) in one build and in the other
                differences[mart] = {
                    column: (sorted(map(str, (a - b).elements()))[:3], sorted(map(str, (b - a).elements()))[:3])
                    for column in compared
                    for a, b in [(_rows(db, f'marts."{mart}"', [column], where),
                                  _rows(other, f'marts."{mart}"', [column], where))]
                    if a != b} or {"rows differ, no single column": sum((netsuite - dynamics).values())}
    assert not differences, "\n".join(f"{mart}: {cols}" for mart, cols in differences.items())


ROLE_TABLES = {  # ERP role model -> how its rows name the company holding them
    "int_erp_customers": "erp_company", "int_erp_projects": "erp_company", "int_erp_invoices": "erp_company",
    "int_erp_time_transactions": "erp_company", "int_erp_expense_transactions": "erp_company",
}


def test_each_erp_holds_exactly_the_records_of_the_entities_routed_to_it(uk_in_dynamics, db):
    """UK's books are all in Dynamics' company and none in NetSuite's UK subsidiary; the other entities' stay in
    NetSuite. With every entity in NetSuite, Dynamics holds nothing."""
    url, company = uk_in_dynamics
    uk_subsidiary = db.execute("select erp_subsidiary_id::text from mappings.legal_entities "
                               "where legal_entity = 'UK'").fetchone()[0]
    with psycopg.connect(url, autocommit=True) as other:
        for role, column in ROLE_TABLES.items():
            before = dict(db.execute(f"select erp_system, count(*) from intermediate.{role} group by 1").fetchall())
            assert set(before) == {"netsuite"}, (role, before)
            held = dict(other.execute(
                f"select erp_system || ':' || coalesce({column}, '?'), count(*) from intermediate.{role} group by 1"
            ).fetchall())
            dynamics = {k: v for k, v in held.items() if k.startswith("dynamics:")}
            assert set(dynamics) == {f"dynamics:{company}"}, (role, held)
            if role == "int_erp_time_transactions":
                # but a UK time bill without a project: a Dynamics project hour journal line needs a project, so the
                # firm keeps it in NetSuite, in both builds (the marts count it alike)
                assert other.execute(f"select count(*) from intermediate.{role} where erp_system = 'netsuite' "
                                     "and erp_company = %s and erp_project_id is not null", (uk_subsidiary,)
                                     ).fetchone()[0] == 0
            else:
                assert f"netsuite:{uk_subsidiary}" not in held, (role, held)
            # nothing lost on the way: NetSuite held before what the two ERPs hold now
            assert sum(held.values()) == before["netsuite"], (role, before, held)


SYNC_ENGAGEMENT = {  # ERP sync candidates -> the engagement of a row
    "int_sync_erp_projects": "external_id", "int_sync_erp_time_bills": "_engagement",
    "int_sync_erp_expenses": "_engagement", "int_sync_erp_invoice_requests": "_engagement",
}


def test_the_syncs_route_the_uk_records_to_dynamics_and_the_others_to_netsuite(uk_in_dynamics, db):
    url, company = uk_in_dynamics
    with psycopg.connect(url, autocommit=True) as other:
        routed = 0
        for model, engagement in SYNC_ENGAGEMENT.items():
            assert db.execute(f"select count(*) from intermediate.{model} where erp_system <> 'netsuite'"
                              ).fetchone()[0] == 0, model
            rows = other.execute(f"""
                select facts.legal_entity = 'UK', candidates.erp_system, candidates.erp_company, count(*)
                from intermediate.{model} as candidates
                join intermediate.int_engagement_facts as facts on facts.engagement_id = candidates.{engagement}
                group by 1, 2, 3""").fetchall()
            for is_uk, system, erp_company, _count in rows:
                assert (system, erp_company if system == "dynamics" else None) == (
                    ("dynamics", company) if is_uk else ("netsuite", None)), (model, rows)
            routed += sum(n for is_uk, *_, n in rows if is_uk)
        assert routed > 0
        customers = other.execute("""select _legal_entity = 'UK', erp_system, count(*)
                                     from intermediate.int_sync_erp_customers group by 1, 2""").fetchall()
        # a UK account's customer is in Dynamics only (another entity's account may be there too, for a UK deal)
        assert (True, "netsuite") not in {(is_uk, system) for is_uk, system, _ in customers}, customers
        assert (True, "dynamics") in {(is_uk, system) for is_uk, system, _ in customers}, customers
        # the NetSuite syncs push no UK record, the Dynamics ones only UK's
        assert other.execute("select count(*) from outbound.erp_customers where _legal_entity = 'UK'").fetchone()[0] == 0
        assert other.execute("""select count(*) from outbound.d365_hour_journal_lines
                                where "dataAreaId" <> %s""", (company,)).fetchone()[0] == 0


def test_period_checks_use_the_periods_of_the_erp_and_company_a_record_posts_to(uk_in_dynamics, db):
    """A time entry or expense is judged open or closed by the periods of the ERP and company it is posted to (a UK
    time bill of no project stays in NetSuite, and with it NetSuite's calendar), and one not posted yet by those of the
    ERP its entity posts to on its date: a UK record by the UK company's Dynamics periods, any other by NetSuite's.
    With every entity in NetSuite, all are NetSuite's."""
    url, company = uk_in_dynamics
    for model in ("int_time_entries", "int_expenses"):
        query = f"""
            select coalesce(facts.legal_entity = 'UK', false), records.erp_posting_system,
                   case when records.erp_posting_system = 'dynamics' then records.erp_posting_company end,
                   periods.erp_system, periods.erp_company, count(*)
            from intermediate.{model} as records
            join intermediate.int_accounting_periods as periods
                on periods.erp_accounting_period_id = records.erp_accounting_period_id
            left join intermediate.int_engagement_facts as facts on facts.engagement_id = records.engagement_id
            group by 1, 2, 3, 4, 5"""
        assert {row[3:5] for row in db.execute(query)} == {("netsuite", None)}
        with psycopg.connect(url, autocommit=True) as other:
            judged = other.execute(query).fetchall()
        for uk, posted_system, posted_company, system, erp_company, _n in judged:
            expected = ((posted_system, posted_company) if posted_system
                        else ("dynamics", company) if uk else ("netsuite", None))
            assert (system, erp_company) == expected, (model, judged)
        # both kinds met: posted in Dynamics, and UK records not posted yet routed to the UK company's periods
        assert any(posted == "dynamics" for _uk, posted, *_ in judged), (model, judged)
        if model == "int_time_entries":
            assert any(uk and posted is None and system == "dynamics" for uk, posted, _c, system, *_ in judged), judged


def test_the_reconciliation_and_the_health_split_per_erp(uk_in_dynamics, db):
    """Per ERP and in total: the UK's open AR, customers, projects and hours are Dynamics' rows once the UK is there, and
    the same figures as NetSuite's UK part before; each ERP's rows add up to the 'all' rows (a count or hours; money only
    within one currency); the CRM's invoices carry both ERPs' (each row says its ERP); integration health names the ERP
    a stuck record of a UK engagement waits for."""
    url, _company = uk_in_dynamics
    gbp = db.execute("select currency_code from mappings.legal_entities where legal_entity = 'UK'").fetchone()[0]
    with psycopg.connect(url, autocommit=True) as other:
        ar = {name: dict(((system, currency), amount) for system, currency, amount in conn.execute(
                  "select erp_system, currency_code, erp_open_ar from marts.open_ar_reconciliation").fetchall())
              for name, conn in (("netsuite", db), ("dynamics", other))}
        assert not [key for key in ar["netsuite"] if key[0] == "dynamics"], ar["netsuite"]
        # the UK's open AR (its currency) moved whole to Dynamics: the figure NetSuite held is Dynamics' now
        assert ar["dynamics"][("dynamics", gbp)] == ar["netsuite"][("netsuite", gbp)] != 0, ar
        assert ("netsuite", gbp) not in ar["dynamics"], ar["dynamics"]
        for conn in (db, other):
            split = conn.execute("""
                select measure_order, sum(erp_value) filter (where erp_system <> 'all'),
                       sum(erp_value) filter (where erp_system = 'all'), count(distinct erp_system)
                from marts.system_reconciliation where measure_order in (1, 3, 4) group by 1""").fetchall()
            assert split and all(per_erp == total for _m, per_erp, total, _n in split), split
        assert {n for *_, n in other.execute("""
            select measure_order, count(distinct erp_system) from marts.system_reconciliation
            where measure_order in (1, 3, 4) group by 1""").fetchall()} == {3}  # all, netsuite, dynamics
        invoices = {name: dict(conn.execute("""
                select invoices.legal_entity = 'UK', string_agg(distinct candidates._erp_system, ',')
                from intermediate.int_sync_crm_invoices as candidates
                join intermediate.int_invoices_aged as invoices on invoices.erp_invoice_id = candidates."ERP_Invoice_Id__c"
                group by 1""").fetchall()) for name, conn in (("netsuite", db), ("dynamics", other))}
        assert invoices["netsuite"] == {True: "netsuite", False: "netsuite"}, invoices
        assert invoices["dynamics"][True] == "dynamics", invoices
        counts = [conn.execute("select count(*) from intermediate.int_sync_crm_invoices").fetchone()[0]
                  for conn in (db, other)]
        assert counts[0] == counts[1] > 0, counts
        for conn, uk_erp in ((db, "netsuite"), (other, "dynamics")):
            health = set(conn.execute("""
                select facts.legal_entity = 'UK', health.erp_system from marts.integration_health as health
                join intermediate.int_engagement_facts as facts using (engagement_id)
                where health.erp_system is not null""").fetchall())
            assert health and health <= {(True, uk_erp), (False, "netsuite")}, health
