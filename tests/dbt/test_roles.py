"""The canonical roles: the marts and syncs read a system's records through the role models (int_erp_*, int_crm_*,
int_psa_*), every role row names its system, and what still reads a system's staging model directly is a known,
shrinking list (adding a reader fails here; moving one onto the roles means taking it off the list)."""
from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

MODELS = Path(__file__).resolve().parents[2] / "dbt_project" / "models"
SYSTEM_STAGING = re.compile(r"ref\('(stg_(?:salesforce|kantata|certinia|netsuite|dynamics|hubspot)__[a-z_]+)'\)")

# Readers of a system's staging model outside staging and the roles, and why they are still there.
STILL_READING_STAGING = {
    # Kantata keeps the hub's attributes in custom fields, Certinia in the project's fields and its client in the
    # account it names: this is the PSA role's projects, mapped from them
    "intermediate/core/int_psa_projects.sql": {
        "stg_kantata__workspaces", "stg_kantata__custom_fields", "stg_kantata__custom_field_values",
        "stg_certinia__projects", "stg_certinia__accounts"},
    # the incremental time models (their change sets read each input's landed rows and deletions by load id); the
    # PSA's time itself through the role (int_psa_time_entries, int_psa_deleted_time_entries)
    "intermediate/delivery/int_time_bill_matches.sql": {
        "stg_netsuite__deleted_time_bills", "stg_dynamics__deleted_hour_journal_lines"},
    "intermediate/delivery/int_time_bills.sql": {
        "stg_netsuite__deleted_time_bills", "stg_dynamics__deleted_hour_journal_lines"},
    "intermediate/delivery/int_time_changes.sql": {
        "stg_kantata__custom_field_values", "stg_kantata__workspaces", "stg_certinia__projects",
        "stg_netsuite__accounting_periods", "stg_netsuite__deleted_time_bills", "stg_netsuite__employees",
        "stg_dynamics__deleted_hour_journal_lines", "stg_dynamics__fiscal_periods",
        "stg_dynamics__ledger_fiscal_periods"},
    # people are matched to NetSuite employees (no ERP role for workers yet)
    "intermediate/delivery/int_resources_matched.sql": {
        "stg_netsuite__employees", "stg_netsuite__subsidiaries", "stg_netsuite__currencies"},
    # destination specifics of NetSuite and Kantata syncs: deleted-invoice trace, the new job's entity status, the
    # credit-hold custom field, and NetSuite's invoice-request custom record
    "intermediate/syncs/int_sync_crm_invoices.sql": {"stg_netsuite__deleted_transactions", "stg_netsuite__currencies"},
    "intermediate/syncs/int_sync_erp_projects.sql": {"stg_netsuite__entity_statuses"},
    # an invoice request NetSuite already holds stays there after its entity's cut-over
    "intermediate/syncs/int_sync_erp_record_routes.sql": {"stg_netsuite__invoice_requests"},
    "intermediate/syncs/int_sync_psa_credit_holds.sql": {"stg_kantata__custom_fields"},
    "marts/integration_health.sql": {"stg_netsuite__invoice_requests"},
}


def staging_readers() -> dict[str, set[str]]:
    readers = {}
    for layer in ("intermediate", "marts", "outbound"):
        for path in sorted((MODELS / layer).rglob("*.sql")):
            if path.parent.name == "roles":
                continue
            refs = set(SYSTEM_STAGING.findall(path.read_text()))
            if refs:
                readers[path.relative_to(MODELS).as_posix()] = refs
    return readers


def test_marts_and_syncs_read_systems_only_through_the_roles_but_for_the_known_readers():
    assert staging_readers() == STILL_READING_STAGING


def test_no_outbound_model_reads_a_systems_staging():
    assert not [m for m in staging_readers() if m.startswith("outbound/")]


@pytest.mark.parametrize("prefix, system_column, id_suffix", [
    ("int_erp_", "erp_system", "_id"), ("int_crm_", "crm_system", "_id"), ("int_psa_", "psa_system", "_id")])
def test_every_role_row_names_its_system_and_its_id_there(built, db, prefix, system_column, id_suffix):
    roles = [r[0] for r in db.execute(
        "select table_name from information_schema.views where table_schema = 'intermediate' and table_name like %s",
        (prefix.replace("_", r"\_") + "%",))]
    assert len(roles) >= 4, roles
    for role in roles:
        if role == "int_erp_routes":  # the routing seed's periods, not a system's records
            continue
        columns = [r[0] for r in db.execute(
            "select column_name from information_schema.columns where table_schema = 'intermediate' "
            "and table_name = %s order by ordinal_position", (role,))]
        assert columns[0] == system_column and columns[1].endswith(id_suffix), (role, columns[:2])
        missing = db.execute(f'select count(*) from intermediate."{role}" where "{columns[0]}" is null '
                             f'or "{columns[1]}" is null').fetchone()[0]
        assert missing == 0, role


def test_netsuite_fills_the_erp_role_alone_when_no_entity_posts_to_dynamics(built, db):
    """The default routing (every entity in NetSuite): the ERP role holds NetSuite's records only, and the marts'
    ERP figures come from it: every invoice of the mart is one of the role's."""
    systems = {r[0] for r in db.execute(
        "select erp_system from intermediate.int_erp_invoices union select erp_system from intermediate.int_erp_projects")}
    assert systems == {"netsuite"}
    assert db.execute("select count(*) from marts.invoices where erp_invoice_id not in "
                      "(select erp_invoice_id from intermediate.int_erp_invoices)").fetchone()[0] == 0
    assert db.execute("select count(*) from marts.invoices").fetchone()[0] > 0


# -- HubSpot as the CRM: the same firm's CRM through HubSpot fills the CRM role as Salesforce does ------------------
@pytest.fixture(scope="module")
def hubspot_roles(warehouse_url, home, firm, tmp_path_factory):
    """A database of its own with the firm landed (rawload) and its CRM landed a second time from the sandbox's
    HubSpot (the hub's connector over HTTP), and the CRM role models built over both."""
    import psycopg as pg

    from connectors import catalog
    from connectors.hubspot import HubSpotClient
    from flows.objects import land_object
    from pshub.dbt import run_dbt
    from pshub.migrations import migrate
    from pshub.settings import Settings
    from rawload import land_firm
    from sandbox.server import SandboxServer

    with pg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("drop database if exists pshub_dbt_hubspot with (force)")
        conn.execute("create database pshub_dbt_hubspot")
    url = warehouse_url.rsplit("/", 1)[0] + "/pshub_dbt_hubspot"
    migrate(url)
    copy = tmp_path_factory.mktemp("hubspot-firm")
    # the same firm (its committed state, WAL included), served by a sandbox of its own
    with sqlite3.connect(firm.path) as src, sqlite3.connect(copy / Path(firm.path).name) as dst:
        src.backup(dst)
    land_firm(copy / Path(firm.path).name, url)
    with SandboxServer(copy) as server, HubSpotClient(server.urls["hubspot"], server.credentials["hubspot"]) as client, \
            pg.connect(url) as conn:
        for obj in catalog.HUBSPOT.values():
            assert land_object(client, obj, "r-dbt-hubspot", conn=conn).status == "completed"
    settings = Settings(home=home / "dbt-hubspot", database_url=url)
    settings.home_dir.mkdir(parents=True, exist_ok=True)
    # the CRM roles and their staging with their tests (but those that read models this build leaves out)
    result = run_dbt(["build", "--select", *(f"+{m}" for m in ("int_crm_accounts", "int_crm_opportunities",
                                                                "int_crm_opportunity_lines", "int_crm_users")),
                      "--exclude", "test_name:relationships", "test_type:singular"], settings=settings, raise_on_failure=False)
    assert result.success, result.failures
    return url


def _by_system(url: str, sql: str) -> tuple[dict, dict]:
    """{id in the CRM: row} of the Salesforce rows (their ids as HubSpot ids) and of the HubSpot rows."""
    import psycopg as pg

    from sandbox.hubspot import hs_id

    with pg.connect(url) as conn:
        rows = conn.execute(sql).fetchall()
    sf = {hs_id(r[1]): tuple(hs_id(v) if isinstance(v, str) and len(v) == 18 and v[:3].isalnum() and v[3:5] == "8d"
                             else v for v in r[2:]) for r in rows if r[0] == "salesforce"}
    hs = {r[1]: tuple(r[2:]) for r in rows if r[0] == "hubspot"}
    return sf, hs


def test_hubspot_deals_fill_the_crm_role_as_salesforce_opportunities_do(hubspot_roles):
    """Stage, probability, closed and won (from the pipeline's stage metadata), amount, currency, dates and account
    of every deal equal the same opportunity's through Salesforce."""
    sf, hs = _by_system(hubspot_roles, """
        select crm_system, crm_opportunity_id, crm_account_id, stage_name, is_closed, is_won, probability::numeric(5,1),
               amount, currency_code, close_date, start_date, end_date, billing_model, legal_entity, service_line
        from intermediate.int_crm_opportunities""")
    assert len(sf) > 100 and hs == sf
    assert sum(1 for r in hs.values() if r[3]) > 10  # won deals, decided by the stage metadata


def test_hubspot_companies_line_items_and_owners_fill_the_crm_role_as_salesforce_does(hubspot_roles):
    sf, hs = _by_system(hubspot_roles, """
        select crm_system, crm_account_id, account_name, currency_code, legal_entity, billing_country, external_id,
               erp_customer_id, crm_owner_user_id from intermediate.int_crm_accounts""")
    assert sf and hs == sf
    sf, hs = _by_system(hubspot_roles, """
        select crm_system, crm_opportunity_line_item_id, crm_opportunity_id, role_name, quantity_hours, unit_price,
               total_price, currency_code from intermediate.int_crm_opportunity_lines""")
    assert sf and hs == sf
    sf, hs = _by_system(hubspot_roles, """
        select crm_system, crm_user_id, first_name, last_name, email, is_active from intermediate.int_crm_users""")
    assert sf and hs == sf
