"""Prefect flow `transform`: dbt build over the landed data (seeds, models, snapshots, tests)."""
from __future__ import annotations

from dataclasses import asdict

from prefect import flow, task

from connectors import catalog
from flows.ingest import spec_for
from flows.landing import ensure_raw_table
from pshub.dbt import run_dbt
from pshub.warehouse import connect


def ensure_sources() -> None:
    """Every raw table dbt reads exists, even before its first landing, so a build never trips on a gap."""
    with connect() as conn:
        for obj in catalog.select():
            ensure_raw_table(conn, spec_for(obj))
        conn.commit()


@task(name="dbt build", retries=1, retry_delay_seconds=5)
def dbt_build(select: list[str] | None = None, full_refresh: bool = False) -> dict:
    args = ["build"]
    if select:
        args += ["--select", *select]
    if full_refresh:
        args.append("--full-refresh")
    return asdict(run_dbt(args))


@flow(name="transform")
def transform(select: list[str] | None = None, full_refresh: bool = False) -> dict:
    ensure_sources()
    return dbt_build(select, full_refresh)
