"""Analysts' own logins (`pshub analysts`), on the dbt-built warehouse: they read every mart and nothing else,
change nothing, leave nothing behind when removed, and reach the marts from psql and SQLAlchemy alike."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg import errors

REQUIRED_MARTS = {"engagements", "engagement_monthly", "resource_utilization_weekly", "invoices",
                  "customer_collections", "revenue_leakage", "integration_health"}
REFUSED_SCHEMAS = ("raw_salesforce", "raw_kantata", "raw_netsuite", "ops", "outbound", "staging", "intermediate",
                   "mappings", "snapshots")
PSHUB = Path(sys.executable).parent / "pshub"


def run_pshub(settings, *args, stdin: str | None = None, database_url: str | None = None):
    env = dict(os.environ, PSHUB_HOME=str(settings.home_dir),
               PSHUB_DATABASE_URL=database_url or settings.database_url.get_secret_value())
    return subprocess.run([str(PSHUB), *args], input=stdin, env=env, capture_output=True, text=True, timeout=120)


def added(result) -> dict:
    assert result.returncode == 0, result.stderr
    fields = dict(line.split(":", 1) for line in result.stdout.splitlines() if line[:1].isalpha() and ":" in line)
    return {k.strip(): v.strip() for k, v in fields.items()}


def connect_as(url: str, password: str):
    return psycopg.connect(url, password=password, autocommit=True)


@pytest.fixture(scope="module")
def alice(built, dbt_settings):
    """An analyst login made by the CLI: (name, password, url)."""
    out = added(run_pshub(dbt_settings, "analysts", "add", "pshub_test_alice"))
    yield "pshub_test_alice", out["password"], out["url"]
    run_pshub(dbt_settings, "analysts", "remove", "pshub_test_alice")


def relations(db, schema: str) -> list[str]:
    return [r[0] for r in db.execute(
        """select format('%%I.%%I', n.nspname, c.relname) from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = %s and c.relkind in ('r', 'v', 'm', 'p', 'f') order by 1""", (schema,))]


def test_analyst_login_reads_every_mart(alice, db):
    name, password, url = alice
    marts = relations(db, "marts")
    assert REQUIRED_MARTS <= {m.split(".", 1)[1] for m in marts}
    with connect_as(url, password) as analyst:
        assert analyst.execute("select current_user").fetchone()[0] == name
        for mart in marts:
            analyst.execute(f"select count(*) from {mart}").fetchone()
        # search_path is marts: a BI tool or `select * from engagements` opens on them
        assert analyst.execute("select count(*) from engagements").fetchone()[0] > 0


def test_analyst_login_reads_a_mart_created_after_it(alice, db):
    name, password, url = alice
    db.execute("create table marts.pshub_test_later_mart as select 1 as x")  # as dbt's user, like a new model
    try:
        with connect_as(url, password) as analyst:
            assert analyst.execute("select x from marts.pshub_test_later_mart").fetchone() == (1,)
    finally:
        db.execute("drop table marts.pshub_test_later_mart")


def test_analyst_login_is_refused_everywhere_but_marts(alice, db):
    name, password, url = alice
    with connect_as(url, password) as analyst:
        for schema in REFUSED_SCHEMAS:
            found = relations(db, schema)
            assert found, f"nothing in {schema} to try"
            for relation in found:
                with pytest.raises(errors.InsufficientPrivilege):
                    analyst.execute(f"select 1 from {relation} limit 1")


@pytest.mark.parametrize("statement", [
    "create table public.analyst_table (id int)",
    "create table marts.analyst_table (id int)",
    "create view marts.analyst_view as select 1 as x",
    "create table ops.analyst_table (id int)",
    "create schema analyst_schema",
    "create function public.analyst_fn() returns int language sql as 'select 1'",
    "create database analyst_db",
    "create role analyst_role",
    "insert into marts.engagements (engagement_id) values ('x')",
    "update marts.engagements set engagement_id = engagement_id",
    "delete from marts.engagements",
    "truncate marts.engagements",
    "alter table marts.engagements add column analyst_note text",
    "create index on marts.engagements (engagement_id)",
    "comment on table marts.engagements is 'changed'",
    "drop table marts.engagements",
    "drop schema marts cascade",
    "insert into ops.sync_ledger default values",
    "delete from ops.loads",
    "alter role pshub_analyst login",
    "grant usage on schema ops to pshub_analyst",
    "grant pshub_analyst to postgres",
    "create table intermediate.analyst_table (id int)",
])
def test_analyst_login_cannot_create_or_change_anything(alice, statement):
    name, password, url = alice
    with connect_as(url, password) as analyst:
        with pytest.raises(errors.InsufficientPrivilege):
            analyst.execute(statement)


def test_analyst_login_cannot_pass_its_read_access_on(alice, db):
    name, password, url = alice
    before = db.execute("select relacl::text from pg_class where oid = 'marts.engagements'::regclass").fetchone()
    with connect_as(url, password) as analyst:
        analyst.execute("grant select on marts.engagements to public")  # PostgreSQL: a warning, nothing granted
    assert db.execute("select relacl::text from pg_class where oid = 'marts.engagements'::regclass").fetchone() == before


def test_analyst_login_needs_its_password(alice):
    name, password, url = alice
    for wrong in ("", "not-" + password):
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(url, password=wrong, connect_timeout=10).close()


def test_password_is_printed_once_and_stored_nowhere(alice, db, dbt_settings, home):
    name, password, url = alice
    stored = db.execute("select rolpassword from pg_authid where rolname = %s", (name,)).fetchone()[0]
    assert stored.startswith("SCRAM-SHA-256$") and password not in stored
    for folder in (home, dbt_settings.home_dir):  # the run's home holds the server's log and data files
        for path in folder.rglob("*"):
            if path.is_file() and path.stat().st_size < 256 * 1024 * 1024:
                assert password.encode() not in path.read_bytes(), path
    listed = run_pshub(dbt_settings, "analysts", "list")
    assert name in listed.stdout and password not in listed.stdout


def test_db_url_as_analyst_and_psql_and_sqlalchemy_agree_on_engagements(alice, dbt_settings, db):
    import pandas as pd
    import sqlalchemy

    from pshub import marts
    from pshub.warehouse import _bin

    name, password, _ = alice
    url = run_pshub(dbt_settings, "db", "url", "--as", name).stdout.strip()
    assert url.startswith(f"postgresql://{name}@") and password not in url
    env = dict(os.environ, PGPASSWORD=password)
    psql = subprocess.run([str(_bin("psql")), url, "-Atc", "select count(*) from marts.engagements"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert psql.returncode == 0, psql.stderr
    psql_count = int(psql.stdout.strip())

    saved = os.environ.get("PGPASSWORD")
    os.environ["PGPASSWORD"] = password  # where libpq, under SQLAlchemy and psycopg, takes it from
    try:
        # the README's three lines: plain SQLAlchemy on `pshub db url --as`
        engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        frame = pd.read_sql("select * from marts.engagements", engine)
        with engine.connect() as connection:
            assert connection.execute(sqlalchemy.text("select current_user")).scalar() == name
        engine.dispose()
        # the helper goes through the same login
        helper = marts.engine(name, settings=dbt_settings)
        helper_frame = pd.read_sql_table("engagements", helper, schema="marts")
        with helper.connect() as connection:
            assert connection.execute(sqlalchemy.text("select current_user")).scalar() == name
        helper.dispose()
    finally:
        if saved is None:
            os.environ.pop("PGPASSWORD", None)
        else:
            os.environ["PGPASSWORD"] = saved
    assert psql_count > 0
    assert len(frame) == len(helper_frame) == psql_count


def test_removing_a_login_leaves_nothing_behind(built, dbt_settings, db):
    name = "pshub_test_bob"
    out = added(run_pshub(dbt_settings, "analysts", "add", name, "--password-stdin", stdin="bob's own secret\n"))
    assert "password" not in out  # given on stdin: not echoed
    oid = db.execute("select oid from pg_roles where rolname = %s", (name,)).fetchone()[0]
    session = connect_as(out["url"], "bob's own secret")
    # what PostgreSQL lets every login create: a temporary table (gone at disconnect) and a large object
    session.execute("create temp table scratch as select * from marts.engagements limit 5")
    large_object = session.execute("select lo_from_bytea(0, 'notes')").fetchone()[0]
    session.execute("alter default privileges grant select on tables to public")  # its own future tables

    removed = run_pshub(dbt_settings, "analysts", "remove", name)
    assert removed.returncode == 0, removed.stderr
    with pytest.raises(psycopg.OperationalError):  # its open session was ended
        session.execute("select 1")
    session.close()
    assert db.execute("select count(*) from pg_roles where rolname = %s", (name,)).fetchone()[0] == 0
    assert db.execute("select count(*) from pg_auth_members where member = %s or roleid = %s",
                      (oid, oid)).fetchone()[0] == 0
    # every grant to a role and everything it owns, in any database, is recorded in pg_shdepend
    assert db.execute("select count(*) from pg_shdepend where refobjid = %s", (oid,)).fetchone()[0] == 0
    assert db.execute("select count(*) from pg_largeobject_metadata where oid = %s", (large_object,)).fetchone()[0] == 0
    for catalog, column in (("pg_class", "relacl"), ("pg_namespace", "nspacl"), ("pg_database", "datacl"),
                            ("pg_proc", "proacl"), ("pg_default_acl", "defaclacl")):
        left = db.execute(f"select count(*) from {catalog}, aclexplode({column}) a "
                          "where a.grantee = %s or a.grantor = %s", (oid, oid)).fetchone()[0]
        assert left == 0, catalog
    listed = run_pshub(dbt_settings, "analysts", "list")
    assert name not in listed.stdout


def test_cli_refuses_bad_names_and_roles_it_did_not_make(built, dbt_settings):
    for args, says in ((("analysts", "add", "Robert'); drop table x; --"), "not a usable login name"),
                       (("analysts", "add", "postgres"), "the hub's own login"),
                       (("analysts", "add", "pshub_analyst"), "not a usable login name"),
                       (("analysts", "remove", "postgres"), "not an analyst login"),
                       (("analysts", "remove", "pshub_test_nobody"), "no login named"),
                       (("db", "url", "--as", "postgres"), "not an analyst login")):
        result = run_pshub(dbt_settings, *args)
        assert result.returncode == 1
        assert says in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_hub_login_without_role_privileges_gets_what_to_ask_a_dba(built, dbt_settings, db, dbt_url):
    hub = "pshub_test_hub"
    db.execute(f"create role {hub} login password 'hub-secret'")
    hub_url = dbt_url.replace("://postgres@", f"://{hub}:hub-secret@", 1)
    try:
        refused = run_pshub(dbt_settings, "analysts", "add", "pshub_test_carol", database_url=hub_url)
        assert refused.returncode == 1
        assert refused.stderr.strip().splitlines() == [
            f"error: {hub} may not create roles on this server: ask a DBA to run `CREATE ROLE pshub_test_carol LOGIN "
            f"PASSWORD '...' IN ROLE pshub_analyst;` (or to give {hub} CREATEROLE and pshub_analyst WITH ADMIN OPTION)"]

        db.execute(f"alter role {hub} createrole")  # may create roles, but not hand out pshub_analyst
        refused = run_pshub(dbt_settings, "analysts", "add", "pshub_test_carol", database_url=hub_url)
        assert refused.returncode == 1
        assert refused.stderr.strip() == (f"error: {hub} may not grant pshub_analyst: ask a DBA to run "
                                          f"`GRANT pshub_analyst TO {hub} WITH ADMIN OPTION;`")
        assert db.execute("select count(*) from pg_roles where rolname = 'pshub_test_carol'").fetchone()[0] == 0

        db.execute(f"grant pshub_analyst to {hub} with admin option")  # what the DBA was asked for
        carol = added(run_pshub(dbt_settings, "analysts", "add", "pshub_test_carol", database_url=hub_url))
        with connect_as(carol["url"], carol["password"]) as analyst:
            assert analyst.execute("select count(*) from marts.engagements").fetchone()[0] > 0
            with pytest.raises(errors.InsufficientPrivilege):
                analyst.execute("select 1 from ops.loads")
        removed = run_pshub(dbt_settings, "analysts", "remove", "pshub_test_carol", database_url=hub_url)
        assert removed.returncode == 0, removed.stderr
        assert db.execute("select count(*) from pg_roles where rolname = 'pshub_test_carol'").fetchone()[0] == 0
    finally:
        db.execute("drop role if exists pshub_test_carol")
        db.execute(f"drop owned by {hub}")
        db.execute(f"drop role {hub}")
