"""The thin slice end to end: Salesforce -> raw -> dbt marts -> NetSuite customers, and a quiet second run.

On the operations hub's first cycle (tests/ops/conftest.py: first_cycle), and the cycle run right after it with no
source change in between (`first_cycle["quiet_second"]`, with what the CRM, the ERP and the marts held before it)."""
import psycopg
import pytest


@pytest.fixture
def cycles(first_cycle):
    """The first cycle and the quiet second one, and the NetSuite sandbox's write calls after each."""
    quiet = first_cycle["quiet_second"]
    return (first_cycle, quiet["summary"], *quiet["netsuite_writes"])


@pytest.fixture
def conn(ops_env):
    with psycopg.connect(ops_env["database_url"]) as connection:
        yield connection


def test_every_closed_won_opportunity_is_an_engagement_with_its_sold_value(first_cycle):
    won, marts = first_cycle["quiet_second"]["crm_won"], first_cycle["quiet_second"]["marts_engagements"]
    assert len(won) > 0
    assert marts.keys() == won.keys()
    assert all(float(marts[k]) == pytest.approx(float(won[k] or 0)) for k in won)


def test_accounts_with_a_won_deal_exist_as_netsuite_customers_and_in_the_ledger(first_cycle):
    observed = first_cycle["quiet_second"]
    expected, ledger, found = observed["outbound_customers"], observed["ledger_customers"], observed["erp_customers"]
    assert expected and set(expected) <= set(ledger)
    for account_id, name in expected.items():
        assert found[account_id] == (ledger[account_id], name)


def test_second_run_with_no_source_change_lands_and_pushes_nothing(cycles):
    first, second, writes_after_first, writes_after_second = cycles
    pushed = {s["sync"]: s["pushed"] for s in first["syncs"]}
    assert pushed["erp_customers"] > 0 and pushed["erp_projects"] > 0
    changed = {f"{l['system']}.{l['object']}": l["rows_landed"] for l in second["loads"] if l["rows_landed"]}
    # what the second run lands is what the first one wrote: records the hub created or updated
    written_by_the_hub = {"netsuite.customer", "netsuite.customersubsidiaryrelationship", "netsuite.job",
                          "netsuite.timebill", "netsuite.expensereport", "netsuite.customrecord_pshub_invoice_request",
                          "kantata.workspaces", "kantata.workspace_resources", "kantata.stories",
                          "kantata.custom_field_values", "salesforce.Account", "salesforce.Opportunity"}
    assert set(changed) <= written_by_the_hub, changed
    assert changed["netsuite.customer"] >= pushed["erp_customers"]
    assert all(s["pushed"] == 0 and s["write_calls"] == 0 for s in second["syncs"]), \
        [(s["sync"], s["pushed"]) for s in second["syncs"] if s["pushed"]]
    assert writes_after_second == writes_after_first


def test_a_second_cycle_counts_nothing_new_and_names_the_hubs_own_writes_coming_back(cycles):
    first, second = cycles[:2]
    assert first["totals"]["new_holds"] == first["totals"]["open_holds"] > 0
    totals = second["totals"]
    assert (totals["new_holds"], totals["new_failures"], totals["open_failures"]) == (0, 0, 0)
    pushed = {s["sync"]: s["pushed"] for s in first["syncs"]}
    landed = {(l["system"], l["object"]): l for l in second["loads"]}
    assert landed[("netsuite", "timebill")]["hub_echoes"] == pushed["erp_time_bills"] > 0
    assert landed[("netsuite", "customer")]["hub_echoes"] == pushed["erp_customers"] > 0
    assert 0 < totals["rows_echoed"] <= totals["rows_landed"]


def test_every_landed_row_traces_back_to_its_run(cycles, conn):
    first = cycles[0]
    loads = conn.execute("select count(*) from ops.loads where run_id = %s and status = 'completed'",
                         (first["run_id"],)).fetchone()[0]
    assert loads == len(first["loads"])
    untraced = conn.execute("""select count(*) from raw_salesforce.opportunity o
                                left join ops.loads l on l.load_id = o._load_id
                               where l.run_id is null""").fetchone()[0]
    assert untraced == 0
    assert conn.execute("select status from ops.runs where run_id = %s", (first["run_id"],)).fetchone()[0] == "succeeded"
