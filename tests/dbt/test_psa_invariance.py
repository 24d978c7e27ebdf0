"""Invariance of the marts under the PSA the firm delivers in (issue: HubSpot as the CRM and Certinia as the PSA).

The same synthetic firm is built twice: as generated (its delivery in Kantata: the session's `built`), and with its
delivery in Certinia PSA (sandbox.certinia_firm re-expresses the projects, people, staffing, time as weekly timecards
and their splits, expenses, milestones and rate cards as Certinia's pse__ objects, and the other systems' records that
named a Kantata record name its Certinia record). Every column of every mart must be equal, row for row, but the
columns that name a record in its PSA (its id there, which PSA holds it): those say where a record is, not what it
is worth. And the PSA role models hold the Certinia records only, each naming its system."""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg
import pytest

from rawload import land_firm, relation_columns as _columns, relation_rows as _rows

# columns that name a record in its PSA: a project's, a person's id (and keys made of them)
PSA_IDENTITY_COLUMNS = {"psa_project_id"}
WHERE_COLUMNS = {
    "resource_utilization_weekly": {"resource_week_id", "resource_id"},  # the person's PSA id (and the week)
    # an issue names the system and record it is about (its id: system and record id), in its detail too
    "integration_health": {"issue_id", "source_system", "source_object", "source_record_id", "detail"},
    # a leak of one record (a rate off the card) is keyed by its system and id
    "revenue_leakage": {"leakage_id", "source_system", "source_object", "source_record_id"},
}


@pytest.fixture(scope="module")
def delivery_in_certinia(built, firm, warehouse_url, home):
    """The session's firm with its delivery in Certinia, landed in a database of its own and built (full refresh) with
    PSHUB_PSA=certinia. Returns the database url."""
    from flows.transform import run_build
    from pshub.migrations import migrate
    from pshub.settings import Settings, get_settings
    from sandbox.certinia_firm import placed, populate
    from sandbox.store import Store

    store = Store(home / "dbt-tests-firm-certinia")
    store.data_dir.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(firm.path) as source, sqlite3.connect(store.path) as copy:
        source.backup(copy)
    counts = populate(store)
    assert placed(store) and counts["pse__Timecard__c"] > counts["pse__Timecard_Header__c"] > 0, counts

    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("drop database if exists pshub_dbt_certinia with (force)")
        conn.execute("create database pshub_dbt_certinia")
    url = urlunparse(urlparse(warehouse_url)._replace(path="/pshub_dbt_certinia"))
    migrate(url)
    settings = Settings(home=home / "dbt-tests-certinia", database_url=url, psa="certinia")
    settings.home_dir.mkdir(parents=True, exist_ok=True)
    landed = land_firm(Path(store.path), url)
    assert landed["certinia.pse__timecard__c"] > 0 and landed["kantata.time_entries"] == 0, landed

    saved = os.environ.get("PSHUB_PSA")
    os.environ["PSHUB_PSA"] = "certinia"
    get_settings.cache_clear()
    try:
        result = run_build(full_refresh=True, settings=settings, raise_on_failure=False)
    finally:
        if saved is None:
            os.environ.pop("PSHUB_PSA", None)
        else:
            os.environ["PSHUB_PSA"] = saved
        get_settings.cache_clear()
    assert result.success, result.failures
    return url


def test_every_mart_is_the_same_with_the_delivery_in_kantata_or_in_certinia(delivery_in_certinia, db):
    url = delivery_in_certinia
    marts = [r[0] for r in db.execute(
        "select table_name from information_schema.tables where table_schema = 'marts' order by 1")]
    assert len(marts) >= 10, marts
    differences, compared_values = {}, 0
    with psycopg.connect(url, autocommit=True) as other:
        for mart in marts:
            columns = _columns(db, "marts", mart)
            assert _columns(other, "marts", mart) == columns, mart
            skipped = PSA_IDENTITY_COLUMNS | WHERE_COLUMNS.get(mart, set())
            compared = [c for c in columns if c not in skipped]
            kantata, certinia = _rows(db, f'marts."{mart}"', compared), _rows(other, f'marts."{mart}"', compared)
            assert sum(kantata.values()) > 0 or mart in ("open_ar_differences",), f"{mart} is empty: nothing compared"
            compared_values += sum(kantata.values()) * len(compared)
            if kantata != certinia:
                differences[mart] = {
                    column: (sorted(map(str, (a - b).elements()))[:3], sorted(map(str, (b - a).elements()))[:3])
                    for column in compared
                    for a, b in [(_rows(db, f'marts."{mart}"', [column]), _rows(other, f'marts."{mart}"', [column]))]
                    if a != b} or {"rows differ, no single column": sum((kantata - certinia).values())}
    assert not differences, "\n".join(f"{mart}: {cols}" for mart, cols in differences.items())
    assert compared_values > 50_000, compared_values  # every value of every mart row, not a sample
    print(f"PSA invariance: {compared_values} mart values compared, all equal")


def test_the_psa_roles_hold_the_certinia_records_each_naming_its_system(delivery_in_certinia, db):
    """With the delivery in Certinia, every PSA role model row is Certinia's, as many as Kantata's were; a time entry
    is a day of a timecard split."""
    url = delivery_in_certinia
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
