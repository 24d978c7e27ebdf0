"""The canonical roles: the marts and syncs read a system's records through the role models (int_erp_*, int_crm_*,
int_psa_*), every role row names its system, and what still reads a system's staging model directly is a known,
shrinking list (adding a reader fails here; moving one onto the roles means taking it off the list)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

MODELS = Path(__file__).resolve().parents[2] / "dbt_project" / "models"
SYSTEM_STAGING = re.compile(r"ref\('(stg_(?:salesforce|kantata|netsuite|dynamics)__[a-z_]+)'\)")

# Readers of a system's staging model outside staging and the roles, and why they are still there.
STILL_READING_STAGING = {
    # Kantata keeps the hub's attributes in custom fields: this is the PSA role's projects, mapped from them
    "intermediate/core/int_psa_projects.sql": {
        "stg_kantata__workspaces", "stg_kantata__custom_fields", "stg_kantata__custom_field_values"},
    # the incremental time models (their change sets read each input's landed rows and deletions by load id)
    "intermediate/core/int_time_entry_first_day.sql": {"stg_kantata__time_entries"},
    "intermediate/delivery/int_time_bill_matches.sql": {"stg_kantata__time_entries", "stg_netsuite__deleted_time_bills"},
    "intermediate/delivery/int_time_bills.sql": {"stg_netsuite__time_bills", "stg_netsuite__deleted_time_bills"},
    "intermediate/delivery/int_time_changes.sql": {
        "stg_kantata__custom_field_values", "stg_kantata__deleted_time_entries", "stg_kantata__rate_card_roles",
        "stg_kantata__time_entries", "stg_kantata__users", "stg_kantata__workspace_resources",
        "stg_kantata__workspaces", "stg_netsuite__accounting_periods", "stg_netsuite__deleted_time_bills",
        "stg_netsuite__employees"},
    "intermediate/delivery/int_time_entries.sql": {
        "stg_kantata__deleted_time_entries", "stg_kantata__rate_card_roles", "stg_kantata__roles",
        "stg_kantata__time_entries", "stg_kantata__workspace_resources"},
    # people are matched to NetSuite employees (no ERP role for workers yet); periods are NetSuite's one calendar
    "intermediate/delivery/int_resources_matched.sql": {
        "stg_netsuite__employees", "stg_netsuite__subsidiaries", "stg_netsuite__currencies"},
    "intermediate/finance/int_accounting_periods.sql": {"stg_netsuite__accounting_periods"},
    # destination specifics of NetSuite and Kantata syncs: deleted-invoice trace, the new job's entity status, the
    # credit-hold custom field, and NetSuite's invoice-request custom record
    "intermediate/syncs/int_sync_crm_invoices.sql": {"stg_netsuite__deleted_transactions", "stg_netsuite__currencies"},
    "intermediate/syncs/int_sync_erp_projects.sql": {"stg_netsuite__entity_statuses"},
    # an invoice request NetSuite already holds stays there after its entity's cut-over
    "intermediate/syncs/int_sync_erp_invoice_requests.sql": {"stg_netsuite__invoice_requests"},
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
