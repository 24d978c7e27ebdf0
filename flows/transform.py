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


def build_args(select: list[str] | None = None, full_refresh: bool = False) -> list[str]:
    """`dbt build` arguments. A full refresh runs every node. An incremental build (each cycle) leaves out what
    only a code change or a full reload can change: the unit tests (fixed input rows) and the tests on the raw
    tables' `id` (unique and not null by their primary key); the full refresh and `make test` run them."""
    args = ["build"]
    if select:
        args += ["--select", *select]
    if full_refresh:
        args.append("--full-refresh")
    else:
        args += ["--exclude-resource-type", "unit_test", "--exclude", "source:*"]
    return args


@task(name="dbt build", retries=1, retry_delay_seconds=5)
def dbt_build(select: list[str] | None = None, full_refresh: bool = False) -> dict:
    return asdict(run_dbt(build_args(select, full_refresh)))


@flow(name="transform")
def transform(select: list[str] | None = None, full_refresh: bool = False) -> dict:
    ensure_sources()
    return dbt_build(select, full_refresh)
