"""Dynamics 365 Finance landing, with legal entities routed to it (the UK from the start of the firm's history, DE from
a cut-over date): every entity lands equal to the source, keyed by its natural key; later runs read only what
changed; a deleted record is found by the id reconciliation; faults change nothing of what lands. And the routing
itself: the routed entities' books are in exactly one ERP, none lost, none in both."""
from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest

from connectors import catalog
from connectors.dynamics import DynamicsClient
from flows.objects import land_object
from sandbox.dynamics import ENTITIES, fields as d365_fields, table as d365_table
from sandbox.server import SandboxServer

SEED = 11
CUTOVER = "2026-06-01"  # DE's books are in Dynamics from this date; the UK's entirely
OBJECTS = list(catalog.DYNAMICS.values())


@pytest.fixture(scope="module")
def routed(tmp_path_factory):
    server = SandboxServer(tmp_path_factory.mktemp("dynamics-routed"), scale="demo", seed=SEED,
                           anchor=dt.datetime(2026, 11, 20), dynamics_routes=f"UK,DE@{CUTOVER}",
                           ports={"salesforce": 0, "netsuite": 0, "kantata": 0, "dynamics": 0})
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def unrouted(tmp_path_factory):
    """The same firm with every entity in NetSuite (generated only: its books are read from its file)."""
    server = SandboxServer(tmp_path_factory.mktemp("dynamics-unrouted"), scale="demo", seed=SEED,
                           anchor=dt.datetime(2026, 11, 20))
    server.start()
    server.stop()
    return server


def _client(server, **kw) -> DynamicsClient:
    return DynamicsClient(server.urls["dynamics"], server.credentials_for("dynamics"), keys=catalog.DYNAMICS_KEYS,
                          integer_keys=catalog.DYNAMICS_INTEGER_KEYS, **kw)


def _firm(server) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{Path(server.data_dir) / 'firm.sqlite'}?mode=ro", uri=True)


def _source(server, entity: str) -> dict[str, dict]:
    """landed id -> record, as the sandbox holds it (with the values as the API renders them)."""
    types = d365_fields(entity)
    with _firm(server) as c:
        cur = c.execute(f'SELECT * FROM "{d365_table(entity)}"')
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r)) for r in cur.fetchall()]
    out = {}
    for r in rows:
        rendered = {k: (v if v is not None else ("1900-01-01T12:00:00Z" if types[k] == "date" else
                                                  "" if types[k] in ("str", "enum") else None)) for k, v in r.items()}
        out["|".join(str(r[k]) for k in ENTITIES[entity][1])] = rendered
    return out


def _raw(conn, obj) -> dict[str, dict]:
    return {rid: data for rid, data in conn.execute(
        f'select id, data from raw_dynamics."{obj.table}" where not is_deleted')}


@pytest.fixture(scope="module")
def landed(routed, new_database):
    url = new_database("dynamics")
    with _client(routed, page_size=500) as client, psycopg.connect(url) as conn:
        results = [land_object(client, obj, "r-test-dyn-1", conn=conn) for obj in OBJECTS]
    return url, results


def test_every_entity_lands_equal_to_the_source_keyed_by_its_natural_key(routed, landed):
    url, results = landed
    assert [r.status for r in results] == ["completed"] * len(OBJECTS)
    with psycopg.connect(url) as conn:
        for obj in OBJECTS:
            source, raw = _source(routed, obj.name), _raw(conn, obj)
            assert raw.keys() == source.keys(), obj.name
            for rid, record in source.items():
                assert {k: raw[rid].get(k) for k in record} == record, (obj.name, rid)
    assert sum(len(_source(routed, o.name)) for o in OBJECTS if o.name == "JournalTrans") > 100


def test_only_the_routed_entities_books_are_in_dynamics(routed, landed):
    url, _ = landed
    with psycopg.connect(url) as conn:
        companies = {r[0] for r in conn.execute(
            "select distinct data ->> 'dataAreaId' from raw_dynamics.journaltrans")}
        first_de = conn.execute("select min(data ->> 'ProjectDate') from raw_dynamics.journaltrans "
                                "where data ->> 'dataAreaId' = 'nbde'").fetchone()[0]
    assert companies <= {"nbuk", "nbde"} and "nbde" in companies
    assert first_de >= CUTOVER


def test_routed_books_are_in_exactly_one_erp(routed, unrouted):
    """Time, expenses, invoices and payments of the routed entities: those dated before DE's cut-over stay in NetSuite,
    the others are in Dynamics; together exactly the unrouted firm's, none twice, none lost."""
    with _firm(unrouted) as before, _firm(routed) as after:
        def ns(c, sql):
            return {r[0]: r[1:] for r in c.execute(sql)}
        hours_before = ns(before, "SELECT b.id, b.hours, b.trandate FROM ns_timebill b JOIN ns_job j ON j.id = b.customer "
                                  "WHERE j.subsidiary IN (2, 3)")
        hours_ns = ns(after, "SELECT b.id, b.hours, b.trandate, j.subsidiary FROM ns_timebill b JOIN ns_job j "
                             "ON j.id = b.customer WHERE j.subsidiary IN (2, 3)")
        hours_d365 = {r[0]: r[1:] for r in after.execute(
            "SELECT LineNumber, Hours, substr(ProjectDate, 1, 10), dataAreaId FROM d365_JournalTrans")}
        assert hours_ns.keys().isdisjoint(hours_d365.keys())
        assert {i: v[:2] for i, v in {**hours_ns, **hours_d365}.items()} == hours_before
        assert all(day < CUTOVER and sub == 3 for _h, day, sub in hours_ns.values())  # DE before its cut-over
        assert all(day >= CUTOVER for _h, day, company in hours_d365.values() if company == "nbde")
        assert {company for *_, company in hours_d365.values()} == {"nbuk", "nbde"}
        money_before = before.execute("SELECT round(sum(foreigntotal), 2) FROM ns_transaction WHERE subsidiary IN (2, 3) "
                                      "AND type = 'CustInvc'").fetchone()[0]
        money_ns = after.execute("SELECT coalesce(round(sum(foreigntotal), 2), 0) FROM ns_transaction WHERE "
                                 "subsidiary IN (2, 3) AND type = 'CustInvc'").fetchone()[0]
        money_d365 = after.execute("SELECT round(sum(LineAmount), 2) FROM d365_FreeTextInvoiceLines").fetchone()[0]
        assert money_ns + money_d365 == pytest.approx(money_before)
        paid_before = before.execute("SELECT count(*), round(sum(foreigntotal), 2) FROM ns_transaction WHERE "
                                     "subsidiary IN (2, 3) AND type = 'CustPymt'").fetchone()
        paid_ns = after.execute("SELECT count(*), coalesce(round(sum(foreigntotal), 2), 0) FROM ns_transaction WHERE "
                                "subsidiary IN (2, 3) AND type = 'CustPymt'").fetchone()
        paid_d365 = after.execute("SELECT count(*), round(sum(CreditAmount), 2) FROM "
                                  "d365_CustomerPaymentJournalLines").fetchone()
        assert paid_ns[0] + paid_d365[0] == paid_before[0]
        assert paid_ns[1] + paid_d365[1] == pytest.approx(paid_before[1])
        # the UK is in Dynamics entirely: NetSuite keeps no project or transaction of it
        assert after.execute("SELECT count(*) FROM ns_job WHERE subsidiary = 2").fetchone()[0] == 0
        assert after.execute("SELECT count(*) FROM ns_transaction WHERE subsidiary = 2").fetchone()[0] == 0


def test_a_second_run_reads_only_what_changed_and_finds_deletes(routed, landed):
    url, _ = landed
    projects = catalog.DYNAMICS["Projects"]
    with _client(routed, page_size=500) as client, psycopg.connect(url) as conn:
        again = land_object(client, projects, "r-test-dyn-2", conn=conn, reconcile=False)
        assert again.rows_landed == 0
        changed, gone = [r for p in client.pages("Projects", orderby="ProjectID asc") for r in p][:2]
        client.update("Projects", {"dataAreaId": changed["dataAreaId"], "ProjectID": changed["ProjectID"]},
                      {"ProjectName": "Renamed in Dynamics"})
        client.request("DELETE", f"/data/Projects(dataAreaId='{gone['dataAreaId']}',ProjectID='{gone['ProjectID']}')")
        third = land_object(client, projects, "r-test-dyn-3", conn=conn, reconcile=True)
        assert third.rows_deleted == 1 and third.rows_landed == 2  # the changed row and the deleted one
        assert conn.execute("select data ->> 'ProjectName' from raw_dynamics.projects where id = %s",
                            (changed["_key"],)).fetchone()[0] == "Renamed in Dynamics"
        assert conn.execute("select is_deleted from raw_dynamics.projects where id = %s",
                            (gone["_key"],)).fetchone()[0] is True


def test_with_faults_on_the_landed_state_is_the_clean_runs(routed, landed, new_database):
    clean_url, _ = landed
    url = new_database("dynamics_faults")
    admin = routed.urls["dynamics"] + "/__sandbox/faults"
    httpx.put(admin, json={"error_rate": 0.2, "rate_limit_rate": 0.1, "retry_after_seconds": 1,
                           "drop_rate": 0.05}).raise_for_status()
    try:
        objects = [catalog.DYNAMICS[n] for n in ("CustomersV3", "Projects", "FreeTextInvoiceHeaders",
                                                 "CustomerPaymentJournalLines")]
        with _client(routed, page_size=20, max_attempts=30) as client, psycopg.connect(url) as conn:
            for obj in objects:
                assert land_object(client, obj, f"r-test-{uuid.uuid4().hex[:6]}", conn=conn,
                                   reconcile=False).status == "completed"
    finally:
        httpx.put(admin, json={"error_rate": 0, "rate_limit_rate": 0, "drop_rate": 0}).raise_for_status()
    with psycopg.connect(url) as faulted, psycopg.connect(clean_url) as clean:
        for obj in objects:
            assert _raw(faulted, obj) == _raw(clean, obj), obj.name


def test_the_ingest_flow_lands_dynamics_only_when_enabled(hub_sandbox, warehouse_url, monkeypatch):
    from flows.ingest import ingest
    from pshub.runs import new_run_id
    from pshub.settings import get_settings

    with pytest.raises(KeyError, match="unknown object"):  # off by default: the hub reads NetSuite only
        ingest(new_run_id(), objects=["LegalEntities"])
    monkeypatch.setenv("PSHUB_DYNAMICS_ENABLED", "true")
    get_settings.cache_clear()
    try:
        results = ingest(new_run_id(), objects=["LegalEntities", "Currencies"])
    finally:
        monkeypatch.delenv("PSHUB_DYNAMICS_ENABLED")
        get_settings.cache_clear()
    assert sorted((r["system"], r["object"], r["status"]) for r in results) == [
        ("dynamics", "Currencies", "completed"), ("dynamics", "LegalEntities", "completed")]
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute("select count(*) from raw_dynamics.legalentities").fetchone()[0] == 3


def test_staging_types_the_landed_entities(landed, home):
    """stg_dynamics__*: one row per live landed record, amounts and hours as numbers, dates read from the service's
    noon-UTC DateTimeOffsets, and its 1900-01-01 'no date' as null."""
    from pshub.dbt import run_dbt
    from pshub.settings import Settings

    url, _ = landed
    settings = Settings(home=home / "dbt-dynamics", database_url=url)
    settings.home_dir.mkdir(parents=True, exist_ok=True)
    result = run_dbt(["build", "--select", "staging.dynamics"], settings=settings, raise_on_failure=False)
    assert result.success, result.failures
    # a staging model per landed entity, each with its key test (primary_key: unique and not null), and one over the
    # deletions the hour journal lines' reconciliation records
    staged = [node for node in result.built if "__deleted_" not in node]
    assert len(staged) == len(catalog.DYNAMICS) and result.tests_passed >= len(catalog.DYNAMICS)
    assert "model.stg_dynamics__deleted_hour_journal_lines" in result.built
    with psycopg.connect(url) as conn:
        raw = conn.execute("select count(*), sum((data ->> 'Hours')::numeric) from raw_dynamics.journaltrans "
                           "where not is_deleted").fetchone()
        staged = conn.execute("select count(*), sum(hours), min(work_date), bool_and(legal_entity_code in ('nbuk', "
                              "'nbde')) from staging.stg_dynamics__hour_journal_lines").fetchone()
        assert staged[:2] == raw and staged[2] > dt.date(2000, 1, 1) and staged[3] is True
        open_ended = conn.execute("select count(*) filter (where valid_to is null), count(*) filter (where valid_to "
                                  "< date '1901-01-01') from staging.stg_dynamics__exchange_rates").fetchone()
        assert open_ended[0] > 0 and open_ended[1] == 0
        invoiced = conn.execute("select sum(l.line_amount) from staging.stg_dynamics__invoice_lines l join "
                                "staging.stg_dynamics__invoices i using (legal_entity_code, invoice_identifier)"
                                ).fetchone()[0]
        assert invoiced == conn.execute("select sum((data ->> 'LineAmount')::numeric(20, 2)) from "
                                        "raw_dynamics.freetextinvoicelines where not is_deleted").fetchone()[0]



def test_the_erp_role_holds_both_erps_and_together_the_unrouted_firms_books(routed, unrouted, landed, home):
    """int_erp_*: NetSuite's and Dynamics 365 Finance's records side by side, each with its system and id; the routed
    firm's time and invoices, summed over both ERPs, are the unrouted firm's (per currency, never across)."""
    from ingest_support import client_of
    from pshub.dbt import run_dbt
    from pshub.settings import Settings

    url, _ = landed
    with psycopg.connect(url) as conn, client_of(routed, "netsuite") as client:
        for obj in catalog.NETSUITE.values():
            assert land_object(client, obj, "r-test-ns", conn=conn).status == "completed"
    settings = Settings(home=home / "dbt-dynamics", database_url=url)
    settings.home_dir.mkdir(parents=True, exist_ok=True)
    result = run_dbt(["build", "--select", "+intermediate.roles", "--indirect-selection", "cautious"], settings=settings,
                     raise_on_failure=False)
    assert result.success, result.failures
    with _firm(unrouted) as before, psycopg.connect(url) as conn:
        hours = dict(conn.execute("select erp_system, sum(hours) from intermediate.int_erp_time_transactions "
                                  "group by 1").fetchall())
        assert set(hours) == {"netsuite", "dynamics"}
        assert float(sum(hours.values())) == pytest.approx(before.execute(
            "SELECT sum(hours) FROM ns_timebill").fetchone()[0])
        billed = dict(conn.execute("select currency_code, sum(total_amount) from intermediate.int_erp_invoices "
                                   "where document_type = 'invoice' group by 1").fetchall())
        open_ = dict(conn.execute("select currency_code, sum(amount_open) from intermediate.int_erp_invoices "
                                  "group by 1").fetchall())
        codes = {1: "USD", 2: "GBP", 3: "CAD", 4: "EUR"}
        expected_billed = {codes[c]: v for c, v in before.execute(
            "SELECT currency, sum(foreigntotal) FROM ns_transaction WHERE type = 'CustInvc' GROUP BY 1")}
        expected_open = {codes[c]: v for c, v in before.execute(
            "SELECT currency, sum(foreignamountunpaid) FROM ns_transaction WHERE type IN ('CustInvc', 'CustCred') "
            "GROUP BY 1")}
        assert {k: float(v) for k, v in billed.items()} == pytest.approx(expected_billed)
        assert {k: float(v) for k, v in open_.items()} == pytest.approx(expected_open)
        systems = dict(conn.execute("select erp_system, count(*) from intermediate.int_erp_customers group by 1"))
        assert systems["dynamics"] > 0 and systems["netsuite"] > 0
