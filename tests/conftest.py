"""Test fixtures: a real embedded PostgreSQL and the sandbox over loopback HTTP, in a throwaway PSHUB_HOME."""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

import pytest

_PREFIX = "pshub-test-"
_HOME = Path(tempfile.mkdtemp(prefix=_PREFIX))
(_HOME / "owner.pid").write_text(str(os.getpid()))
# PSHUB_TEST_KEEP_HOME=1 keeps the run's folder (warehouse, sandbox, dbt logs) for a post-mortem
_KEEP = os.environ.get("PSHUB_TEST_KEEP_HOME", "").lower() in ("1", "true", "yes")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_home(home: Path) -> None:
    """Stop the embedded warehouse of a test run's folder and delete the folder."""
    from pshub.warehouse import EmbeddedWarehouse

    try:
        EmbeddedWarehouse(home).stop()
    except Exception:  # a failed stop must not hide the test results
        pass
    shutil.rmtree(home, ignore_errors=True)


def _sweep_abandoned_homes() -> None:
    """Folders of earlier runs that were killed before they could clean up (their pytest is gone)."""
    for home in _HOME.parent.glob(_PREFIX + "*"):
        try:
            owner = int((home / "owner.pid").read_text())
        except (OSError, ValueError):
            continue  # not ours to judge
        if home != _HOME and not _alive(owner):
            _remove_home(home)


def _settings_of_this_run() -> None:
    """Everything of this run lives in one temp folder. Set when this file is imported: pytest imports the conftest
    files of the paths on its command line (tests/ingest/conftest.py imports flows.ingest, so prefect, whose
    settings are read once at import) before any pytest_configure hook runs."""
    os.environ["PSHUB_HOME"] = str(_HOME)
    os.environ["PREFECT_HOME"] = str(_HOME / "prefect")
    (_HOME / "prefect").mkdir(exist_ok=True)
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # as generous as the CLI's start-up (pshub.prefect_api): a loaded machine takes minutes to migrate a new database
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "300")
    for system in ("SALESFORCE", "NETSUITE", "KANTATA"):  # tests never reach a real SaaS
        os.environ.pop(f"PSHUB_{system}_URL", None)


_settings_of_this_run()


def pytest_configure(config):
    # Prefect logs "stopping temporary server" at exit, after pytest has closed the captured streams
    logging.raiseExceptions = False


# Folders whose tests share costly session fixtures (a dbt build of a firm, a hub and its first cycle): under
# `pytest -n`, each runs whole in one worker, so that the fixture is built once.
_SHARED_FOLDERS = ("tests/dbt/", "tests/reliability/")


def _group(item) -> str:
    """The unit a worker runs whole: the tests sharing the operations hub (its first cycle), a folder above, or else
    a module (its module fixtures, such as a hub of its own, are built once)."""
    path = item.nodeid.replace("\\", "/")
    if "ops_env" in getattr(item, "fixturenames", ()):
        return "ops-hub"
    for folder in _SHARED_FOLDERS:
        if folder in path:
            return folder.strip("/")
    return path.split("::", 1)[0]


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    # The operations and reliability tests point PSHUB_HOME and PSHUB_DATABASE_URL at a warehouse and sandbox of
    # their own for the rest of the session: they run last, so that no other test runs against their state (under
    # `pytest -n --dist loadgroup --no-loadscope-reorder` too: the groups are handed out in this order, and each
    # worker runs what it gets in order). The other operations tests, each with a hub of its own, come just before.
    def last(item) -> int:
        path = item.nodeid.replace("\\", "/")
        # first of the dbt tests, on the session's firm and warehouse as built: the others move them on
        # (test_dbt_incremental ticks the firm and changes landed rows in place), and it compares the two
        if "tests/dbt/test_invariance.py" in path:
            return -1
        if "tests/reliability/" in path:
            return 3
        return 2 if "ops_env" in getattr(item, "fixturenames", ()) else 1 if "tests/ops/" in path else 0

    items.sort(key=last)
    # Marked always: pytest-xdist sets `option.dist` to "no" on its workers (xdist/remote.py), and it is the
    # workers that read the marks (into `nodeid@group`, under --dist loadgroup). Without xdist the mark is inert.
    for item in items:
        item.add_marker(pytest.mark.xdist_group(_group(item)))


def pytest_xdist_node_collection_finished(node, ids):
    # pytest-xdist 3.8 groups by rewriting node ids (`nodeid@group`), which pytest 9.2's structured node ids ignore
    # (pytest-dev/pytest-xdist#1386): the run would go on with every test a unit of its own and every shared hub
    # built once per worker. Stop instead of running slow.
    if node.config.getvalue("dist") == "loadgroup" and ids and "@" not in ids[0]:
        pytest.exit(
            "pytest-xdist did not apply the test groups (pytest-dev/pytest-xdist#1386): install the versions in "
            "constraints.txt (`make install`), or run on one worker (`TEST_WORKERS=1 make test`)",
            returncode=4,
        )


def pytest_sessionstart(session):
    _sweep_abandoned_homes()


def pytest_unconfigure(config):
    if _KEEP:
        print(f"\ntest home kept: {_HOME}")
        return
    _remove_home(_HOME)


@pytest.fixture(scope="session")
def home() -> Path:
    return _HOME


@pytest.fixture(scope="session")
def warehouse_url() -> str:
    """The migrated warehouse of this test run (embedded unless PSHUB_DATABASE_URL points elsewhere)."""
    from pshub.migrations import migrate
    from pshub.warehouse import database_url

    url = database_url()
    migrate(url)
    return url


@pytest.fixture
def conn(warehouse_url):
    import psycopg

    with psycopg.connect(warehouse_url) as connection:
        yield connection


@pytest.fixture(scope="session")
def hub_sandbox(home):
    """The sandbox the hub talks to, in PSHUB_HOME/sandbox, on ephemeral loopback ports."""
    from sandbox.server import SandboxServer

    server = SandboxServer(home / "sandbox", scale="demo", seed=7, ports={"salesforce": 0, "netsuite": 0, "kantata": 0})
    server.start()
    yield server
    server.stop()
