"""The warehouse: embedded server reused across processes, migrations idempotent, URL usable by psql."""
import shutil
import subprocess
import sys

import psycopg
import pytest

from pshub import migrations
from pshub.migrations import RENAMED, available, migrate


def test_ops_schema_is_migrated_once(warehouse_url):
    assert migrate(warehouse_url) == []  # already applied by the fixture
    with psycopg.connect(warehouse_url) as conn:
        versions = [r[0] for r in conn.execute("select version from ops.schema_migrations order by 1")]
        tables = {r[0] for r in conn.execute(
            "select table_name from information_schema.tables where table_schema = 'ops'")}
    assert versions == [name for name, _ in available()]
    assert {"loads", "cursors", "quarantine", "sync_ledger", "sync_runs", "sync_exceptions"} <= tables


def test_each_migration_has_a_number_of_its_own():
    numbers = [name.split("_", 1)[0] for name, _ in available()]
    assert len(numbers) == len(set(numbers)), numbers


def test_a_warehouse_migrated_under_earlier_names_applies_nothing_again(warehouse_url):
    """Migrations renamed to make their numbers unique are recognised by their earlier names."""
    url = warehouse_url.rsplit("/", 1)[0] + "/pshub_migrations_test"
    with psycopg.connect(warehouse_url, autocommit=True) as admin:
        admin.execute("drop database if exists pshub_migrations_test with (force)")
        admin.execute("create database pshub_migrations_test")
    try:
        assert migrate(url) == [name for name, _ in available()]
        with psycopg.connect(url) as conn:
            for before, now in RENAMED.items():
                conn.execute("update ops.schema_migrations set version = %s where version = %s", (before, now))
        migrations._migrated.discard(url)
        assert migrate(url) == []
        with psycopg.connect(url) as conn:
            versions = [r[0] for r in conn.execute("select version from ops.schema_migrations order by 1")]
        assert versions == [name for name, _ in available()]
    finally:
        migrations._migrated.discard(url)
        with psycopg.connect(warehouse_url, autocommit=True) as admin:
            admin.execute("drop database if exists pshub_migrations_test with (force)")


def test_migrations_apply_again_in_a_new_process_without_error(warehouse_url):
    out = subprocess.run([sys.executable, "-m", "pshub.app.cli", "db", "migrate"], capture_output=True, text=True,
                         check=True)
    assert "up to date" in out.stdout


def test_db_url_from_another_process_points_at_the_same_running_server(warehouse_url):
    out = subprocess.run([sys.executable, "-m", "pshub.app.cli", "db", "url"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == warehouse_url


@pytest.mark.skipif(shutil.which("psql") is None, reason="no psql client on this machine")
def test_psql_accepts_the_url(warehouse_url):
    out = subprocess.run(["psql", warehouse_url, "-Atc", "select count(*) from ops.schema_migrations"],
                         capture_output=True, text=True, check=True)
    assert int(out.stdout) >= 1


def test_external_database_url_is_used_as_is_and_never_started(monkeypatch, warehouse_url):
    from pshub.settings import Settings
    from pshub.warehouse import database_url

    external = warehouse_url.replace("/pshub", "/postgres")
    monkeypatch.setenv("PSHUB_DATABASE_URL", external)
    assert database_url(Settings()) == external


def test_settings_never_show_secrets(monkeypatch):
    from pshub.settings import Settings

    monkeypatch.setenv("PSHUB_DATABASE_URL", "postgresql://u:topsecret@db/x")
    monkeypatch.setenv("PSHUB_SALESFORCE_CLIENT_SECRET", "sf-secret-value")
    settings = Settings()
    assert "topsecret" not in repr(settings) and "sf-secret-value" not in repr(settings)


def test_a_process_makes_sure_of_the_running_server_once(monkeypatch, warehouse_url):
    """Once the server, its database and listener are seen in place, later connections of the process neither take
    the lock shared with other processes nor open a second connection to look for the database; a server that is
    no longer the same process (restarted) is made sure of again."""
    from pshub import warehouse
    from pshub.settings import get_settings

    if get_settings().database_url is not None:
        pytest.skip("an external warehouse: nothing to start")
    home = get_settings().home_dir
    assert warehouse.database_url() == warehouse_url
    looked = []
    monkeypatch.setattr(warehouse.EmbeddedWarehouse, "_ensure_database", lambda self, port: looked.append(port))
    assert warehouse.database_url() == warehouse_url
    assert looked == []
    pid, port, listen = warehouse._ENSURED[home / "pgdata"]
    monkeypatch.setitem(warehouse._ENSURED, home / "pgdata", (pid + 1, port, listen))  # as after a restart
    assert warehouse.database_url() == warehouse_url
    assert looked == [port]
    assert warehouse._ENSURED[home / "pgdata"] == (pid, port, listen)
