"""Sync definitions over test-owned outbound tables (shared by the tests and the apply runner)."""
from __future__ import annotations

import dataclasses

from reverse_etl.syncs import KANTATA_UPSERT, NETSUITE_UPSERT, SALESFORCE_UPDATE, SYNCS, Sync, fields


def make_sync(name: str, kind: str) -> Sync:
    """A test sync: `kind` names one of the hub's syncs, optionally with a batch size (`psa_projects/6`): its
    fields, operation and guards over a test-owned outbound table; or one of the small shapes below."""
    sync_name, _, batch = kind.partition("/")
    if sync_name in SYNCS:
        hub_sync = SYNCS[sync_name]
        return dataclasses.replace(hub_sync, name=name, batch_size=int(batch) if batch else hub_sync.batch_size)
    if kind == "timebills":
        return Sync(name, "netsuite", "timebill", "external_id",
                    fields("employee:ref!", "customer:ref!", "hours:number!", "rate:number", "tranDate:date!", "memo"),
                    NETSUITE_UPSERT, batch_size=50)
    if kind == "stories":
        return Sync(name, "kantata", "stories", "external_id",
                    fields("workspace_id!", "title!", "story_type", "due_date:date"),
                    KANTATA_UPSERT, batch_size=20, match_on=("workspace_id", "title"))
    if kind == "opportunities":
        return Sync(name, "salesforce", "Opportunity", "Id", fields("Sync_Status__c", "Last_Sync_Error__c"),
                    SALESFORCE_UPDATE)
    raise ValueError(kind)


# the columns of an erp_time_bills outbound table (NetSuite time bills)
TIME_BILL_COLUMNS = ("external_id text, employee text, customer text, hours numeric, rate numeric, \"tranDate\" date,"
                     " memo text, _customer text, _engagement text, _amount_at_stake numeric, _currency text")


def ledger_of(conn, sync_name: str) -> tuple[dict[str, str], int]:
    """The sync's ledger: {record key: destination id}, and how many of its records the hub created."""
    rows = conn.execute("select record_key, destination_id, created_by_hub from ops.sync_ledger where sync_name = %s",
                        (sync_name,)).fetchall()
    return {key: destination for key, destination, _ in rows}, sum(bool(created) for *_, created in rows)


def apply_again(apply, conn, sync, sandbox_admin, system: str = "netsuite") -> tuple[int, int, int, int]:
    """The sync applied once more: (planned, pushed, write calls, writes the sandbox's `system` saw)."""
    writes_before = sandbox_admin.writes(system)
    again = apply(conn, sync)
    return again.planned, again.pushed, again.write_calls, sandbox_admin.writes(system) - writes_before
