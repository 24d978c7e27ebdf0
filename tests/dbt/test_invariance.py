"""Invariance of the marts under the systems a firm runs (issues: canonical roles and a second ERP; HubSpot as the CRM
and Certinia as the PSA).

The same synthetic firm is built twice: as generated (the session's `built`: CRM in Salesforce, delivery in Kantata,
every legal entity's books in NetSuite), and re-expressed in other systems at once (rawload.re_express_firm): its CRM
in HubSpot (served by the sandbox's HubSpot over the same firm and landed by the hub's own HubSpot ingest over HTTP,
no Salesforce record landed), its delivery in Certinia PSA (sandbox.certinia_firm: pse__ objects, time as weekly
timecards and their splits) and the UK entity's books in Dynamics 365 Finance (sandbox.dynamics_firm, however old;
the routing says UK posts to its Dynamics company). One full build of the re-expressed firm, compared to the session's:

- every column of every mart, row for row, once each Salesforce record id of the first build is read as the HubSpot
  id of the same record (sandbox.hubspot.hs_id) and each Salesforce word for a CRM record's system and object as
  HubSpot's; but the columns that say where a record is, not what it is worth: its id in its PSA or ERP, which PSA or
  ERP holds it (each left out with its reason below); per-ERP marts are compared on their rows of all ERPs together;
- the rows of integration health about a CRM record compared on its where-columns too, read across to HubSpot: what
  the PSA and ERP moves make unreadable is not the CRM's part;
- what each role holds: the HubSpot build read no Salesforce record; the PSA roles hold only Certinia records, each
  naming its system; each ERP holds exactly the records of the entities routed to it, in the role models and in the
  syncs' candidates; the syncs route UK to Dynamics and the others to NetSuite; period checks use the periods of the
  ERP and company a record posts to; reconciliation and health split per ERP.
"""
from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg
import pytest

from isolated_hub import environment
from rawload import land_dynamics, land_firm, land_hubspot, re_express_firm, relation_columns as _columns

# -- what is read across, what is left out -------------------------------------------------------------------------
# a Salesforce id of the firm's CRM records (accounts 001, opportunities 006, line items 00k, users 005), 18 characters
SF_ID = re.compile(r"\b(?:001|006|00k|005)8d[0-9A-Za-z]{13}\b")
# columns naming the system and object a record is in: a CRM record's are the CRM's own words for them
CRM_WORDS = {"source_system": {"salesforce": "hubspot"},
             "source_object": {"Account": "companies", "Opportunity": "deals"}}
# columns that name a record in its PSA (a project's id), or in its ERP (its id there: NetSuite internal id, Dynamics
# natural key), or which ERP holds it: they say where a record is, not what it is worth. Every other column of every
# mart is compared, figures and dates alike (the ERP project's creation day too: Dynamics' Projects entity gives it as
# DateOfCreation)
IDENTITY_COLUMNS = {"psa_project_id",
                    "erp_customer_id", "erp_project_id", "erp_invoice_id", "erp_system", "erp_systems"}
WHERE_COLUMNS = {
    # a digest of a record id (which record, hashed): it differs as the ids do, and cannot be read across
    # (md5 of the kind, system and record id); and an issue names the system and record it is about, in its
    # detail too: a PSA record's are Certinia's, a UK ERP record's Dynamics' (its CRM records' are read across below)
    "integration_health": {"issue_id", "source_system", "source_object", "source_record_id", "detail"},
    # a leak of one record (a rate off the card) is keyed by its system and id: a PSA record's are Certinia's
    "revenue_leakage": {"leakage_id", "source_system", "source_object", "source_record_id"},
    "resource_utilization_weekly": {"resource_week_id", "resource_id"},  # the person's PSA id (and the week)
    # NetSuite's transaction status letter (A, B, V); Dynamics' free text invoices have no such field. What it says is
    # compared in the ERP-neutral columns beside it (amount open, close date, days past due, aging bucket)
    "invoices": {"status_code"},
    "customer_collections": {"customer_id"},  # an ERP customer no CRM account claims is keyed 'erp:<its ERP id>'
}
# marts with rows per ERP beside the rows of all ERPs together (erp_system 'all'): the 'all' rows are compared; the
# per-ERP rows say where, and test_the_reconciliation_and_the_health_split_per_erp checks them
ALL_ERPS_ROWS = {"system_reconciliation": "erp_system = 'all'", "open_ar_reconciliation": "erp_system = 'all'"}
# marts whose where-columns are left out above, but whose rows about a CRM record (a closed-won deal of no ERP or PSA
# project, an invoice not on its CRM account) are compared on them too, read across to HubSpot: the rows of
# source_system 'salesforce' in the first build, 'hubspot' in the other. Only the hashed id stays out (md5 of the
# issue's kind, system and record id)
CRM_ROWS = {"integration_health": {"issue_id"}}
EMPTY_MARTS = {"open_ar_differences"}  # no difference between the ERPs' open AR and the hub's in this firm

UK_COMPANY_ENTITY = "UK"


def _as_hubspot(value: str | None) -> str | None:
    """A value of the first build with every Salesforce record id in it read as the record's HubSpot id."""
    from sandbox.hubspot import hs_id

    return SF_ID.sub(lambda m: hs_id(m.group(0)), value) if value else value


def _rows(conn, mart: str, columns: list[str], where: str, translate: bool) -> Counter:
    """The mart's rows (the columns as text) as a multiset; translate: read across to HubSpot (the first build's)."""
    # a number as its value (Salesforce sends 1018.0 where HubSpot sends "1018": the same figure)
    numeric = {r[0] for r in conn.execute(
        "select column_name from information_schema.columns where table_schema = 'marts' and table_name = %s "
        "and data_type = 'numeric'", (mart,))}
    select = ", ".join(f'trim_scale("{c}")::text' if c in numeric else f'"{c}"::text' for c in columns)
    rows = conn.execute(f'select {select} from marts."{mart}" where {where}').fetchall()
    if not translate:
        return Counter(rows)
    words = [CRM_WORDS.get(c, {}) for c in columns]
    return Counter(tuple(w.get(v, _as_hubspot(v)) for w, v in zip(words, r)) for r in rows)


def _differences(db, other, mart: str, columns: list[str], where: str, where_other: str) -> dict:
    """Which columns differ: each column's values (as a multiset) in one build and in the other."""
    return {column: (sorted(map(str, (a - b).elements()))[:3], sorted(map(str, (b - a).elements()))[:3])
            for column in columns
            for a, b in [(_rows(db, mart, [column], where, True), _rows(other, mart, [column], where_other, False))]
            if a != b}


# -- the re-expressed firm -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def re_expressed(built, firm, warehouse_url, home):
    """The session's firm in HubSpot + Certinia + NetSuite with the UK's books in Dynamics 365 Finance, landed in a
    database of its own (nothing landed from Salesforce's CRM objects nor from Kantata) and built once (full refresh)
    with the CRM, the PSA and the routing set so. Returns (database url, UK's Dynamics company)."""
    from flows.transform import run_build
    from pshub.migrations import migrate
    from pshub.settings import Settings
    from sandbox.dynamics import COMPANIES
    from sandbox.store import Store

    company = COMPANIES[UK_COMPANY_ENTITY][0]
    data_dir = home / "dbt-tests-firm-re-expressed"
    shutil.rmtree(data_dir, ignore_errors=True)
    store = Store(data_dir)
    done = re_express_firm(Path(firm.path), store, company)
    assert done["certinia"]["pse__Timecard__c"] > done["certinia"]["pse__Timecard_Header__c"] > 0, done
    assert done["dynamics"]["CustomersV3"] > 0, done
    store.close()

    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("drop database if exists pshub_dbt_re_expressed with (force)")
        conn.execute("create database pshub_dbt_re_expressed")
    url = urlunparse(urlparse(warehouse_url)._replace(path="/pshub_dbt_re_expressed"))
    migrate(url)
    routing = f"{UK_COMPANY_ENTITY}=dynamics:{company}"  # on top of the seed (macro erp_routing), as the demo sets it
    settings = Settings(home=home / "dbt-tests-re-expressed", database_url=url, crm="hubspot", psa="certinia",
                        erp_routing=routing)
    settings.home_dir.mkdir(parents=True, exist_ok=True)
    # Certinia's objects and the org's accounts Certinia names (land_firm lands them as system certinia); Kantata's
    # tables, empty now; NetSuite without the UK's books; Dynamics; and the CRM as HubSpot serves it
    landed = land_firm(Path(store.path), url, systems=("certinia", "kantata", "netsuite"))
    assert landed["certinia.pse__timecard__c"] > 0 and landed["kantata.time_entries"] == 0, landed
    landed = land_dynamics(Path(store.path), url)
    assert landed["dynamics.journaltrans"] > 0, landed
    hubspot = land_hubspot(data_dir, url)
    assert all(r.status == "completed" and not r.rows_quarantined for r in hubspot.values()), hubspot

    # what dbt reads (macros installed_psa, erp_routing)
    with environment(PSHUB_PSA="certinia", PSHUB_ERP_ROUTING=routing):
        result = run_build(full_refresh=True, settings=settings, raise_on_failure=False)
    assert result.success, result.failures
    return url, company


# -- every mart ------------------------------------------------------------------------------------------------------
def test_every_mart_is_the_same_in_salesforce_kantata_netsuite_or_hubspot_certinia_and_dynamics(re_expressed, db):
    url, _company = re_expressed
    marts = [r[0] for r in db.execute(
        "select table_name from information_schema.tables where table_schema = 'marts' order by 1")]
    assert len(marts) >= 10, marts
    differences, compared_values, crm_rows = {}, 0, {}
    with psycopg.connect(url, autocommit=True) as other:
        for mart in marts:
            columns = _columns(db, "marts", mart)
            assert _columns(other, "marts", mart) == columns, mart
            # a column starting with _ is the hub's bookkeeping (when the row was written), not what the row says
            compared = [c for c in columns
                        if c not in IDENTITY_COLUMNS | WHERE_COLUMNS.get(mart, set()) and not c.startswith("_")]
            where = ALL_ERPS_ROWS.get(mart, "true")
            first, second = _rows(db, mart, compared, where, True), _rows(other, mart, compared, where, False)
            assert sum(first.values()) > 0 or mart in EMPTY_MARTS, f"{mart} is empty: nothing compared"
            compared_values += sum(first.values()) * len(compared)
            if first != second:
                differences[mart] = _differences(db, other, mart, compared, where, where) or {
                    "rows differ, no single column": sum((first - second).values())}
            if mart in CRM_ROWS:  # its rows about a CRM record, on every column but a hashed id
                compared = [c for c in columns if c not in IDENTITY_COLUMNS | CRM_ROWS[mart] and not c.startswith("_")]
                where, where_other = "source_system = 'salesforce'", "source_system = 'hubspot'"
                first, second = _rows(db, mart, compared, where, True), _rows(other, mart, compared, where_other, False)
                crm_rows[mart] = sum(first.values())
                compared_values += crm_rows[mart] * len(compared)
                if first != second:
                    differences[f"{mart} (CRM rows)"] = _differences(db, other, mart, compared, where, where_other) \
                        or {"rows differ, no single column": sum((first - second).values())}
    assert not differences, "\n".join(f"{mart}: {cols}" for mart, cols in differences.items())
    assert compared_values > 50_000, compared_values  # every value of every mart row, not a sample
    assert crm_rows["integration_health"] > 0, crm_rows  # closed-won deals of no ERP or PSA project yet, at least
    print(f"invariance: {len(marts)} marts, {compared_values} mart values compared, all equal "
          f"(CRM rows compared on their where-columns too: {crm_rows})")


# -- the CRM ---------------------------------------------------------------------------------------------------------
def test_the_hubspot_build_read_no_salesforce_record(re_expressed):
    url, _company = re_expressed
    with psycopg.connect(url, autocommit=True) as other:
        systems = {r[0] for r in other.execute("select distinct crm_system from intermediate.int_crm_opportunities")}
        salesforce = other.execute("select count(*) from raw_salesforce.opportunity").fetchone()[0]
    assert systems == {"hubspot"} and salesforce == 0


# -- the PSA ---------------------------------------------------------------------------------------------------------
def test_the_psa_roles_hold_the_certinia_records_each_naming_its_system(re_expressed, db):
    """With the delivery in Certinia, every PSA role model row is Certinia's, as many as Kantata's were; a time entry
    is a day of a timecard split."""
    url, _company = re_expressed
    with psycopg.connect(url, autocommit=True) as other:
        for role in ("int_psa_users", "int_psa_project_resources", "int_psa_allocations", "int_psa_expenses",
                     "int_psa_tasks", "int_psa_rate_card_roles", "int_psa_time_entries", "int_psa_projects"):
            before = dict(db.execute(f"select psa_system, count(*) from intermediate.{role} group by 1").fetchall())
            after = dict(other.execute(f"select psa_system, count(*) from intermediate.{role} group by 1").fetchall())
            assert set(before) == {"kantata"} and after == {"certinia": before["kantata"]}, (role, before, after)
        days = other.execute("""select count(*), count(distinct split_part(psa_time_entry_id, ':', 1)),
                                       bool_and(psa_time_entry_id ~ '^a2S\\w{15}:\\d{4}-\\d{2}-\\d{2}$')
                                from intermediate.int_psa_time_entries""").fetchone()
        assert days[2] and days[0] > days[1] > 0, days  # several days per split


# -- the ERPs --------------------------------------------------------------------------------------------------------
ROLE_TABLES = {  # ERP role model -> how its rows name the company holding them
    "int_erp_customers": "erp_company", "int_erp_projects": "erp_company", "int_erp_invoices": "erp_company",
    "int_erp_time_transactions": "erp_company", "int_erp_expense_transactions": "erp_company",
}


def test_each_erp_holds_exactly_the_records_of_the_entities_routed_to_it(re_expressed, db):
    """UK's books are all in Dynamics' company and none in NetSuite's UK subsidiary; the other entities' stay in
    NetSuite. With every entity in NetSuite, Dynamics holds nothing."""
    url, company = re_expressed
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


def test_the_syncs_route_the_uk_records_to_dynamics_and_the_others_to_netsuite(re_expressed, db):
    url, company = re_expressed
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


def test_period_checks_use_the_periods_of_the_erp_and_company_a_record_posts_to(re_expressed, db):
    """A time entry or expense is judged open or closed by the periods of the ERP and company it is posted to (a UK
    time bill of no project stays in NetSuite, and with it NetSuite's calendar), and one not posted yet by those of the
    ERP its entity posts to on its date: a UK record by the UK company's Dynamics periods, any other by NetSuite's.
    With every entity in NetSuite, all are NetSuite's."""
    url, company = re_expressed
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


def test_the_reconciliation_and_the_health_split_per_erp(re_expressed, db):
    """Per ERP and in total: the UK's open AR, customers, projects and hours are Dynamics' rows once the UK is there, and
    the same figures as NetSuite's UK part before; each ERP's rows add up to the 'all' rows (a count or hours; money only
    within one currency); the CRM's invoices carry both ERPs' (each row says its ERP); integration health names the ERP
    a stuck record of a UK engagement waits for."""
    url, _company = re_expressed
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
