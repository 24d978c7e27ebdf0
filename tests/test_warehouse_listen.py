"""PSHUB_WAREHOUSE_LISTEN: the embedded warehouse on another interface, TLS only, analysts' logins only."""
from __future__ import annotations

import os
import socket
import stat
import time

import psycopg
import pytest

from pshub import analysts
from pshub.warehouse import EmbeddedWarehouse


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        return s.getsockname()[1]


def _this_machines_address() -> str:
    """A non-loopback address of this machine (the route to a documentation network), else loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("198.51.100.1", 9))  # UDP connect sends nothing: it only picks the outgoing interface
            return s.getsockname()[0]
        except OSError:
            return "127.0.0.1"


@pytest.fixture(scope="module")
def listening(home, warehouse_url):
    port = _free_port()
    warehouse = EmbeddedWarehouse(home, listen=f"0.0.0.0:{port}")
    warehouse.ensure_running()
    name, password = "pshub_test_remote", analysts.generate_password()
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        analysts.add(conn, name, password)
    try:
        yield {"warehouse": warehouse, "port": port, "host": _this_machines_address(), "name": name,
               "password": password, "cert": home / "tls" / "server.crt"}
    finally:
        EmbeddedWarehouse(home).ensure_running()  # the setting gone: the listener stops
        with psycopg.connect(warehouse_url, autocommit=True) as conn:
            analysts.remove(conn, name)


def _connect(listening, user=None, password=None, **params):
    return psycopg.connect(host=listening["host"], port=listening["port"], dbname="pshub",
                           user=user or listening["name"], password=password or listening["password"],
                           connect_timeout=10, autocommit=True, **params)


def test_analyst_login_connects_from_another_interface_over_tls(listening):
    with _connect(listening, sslmode="verify-full", sslrootcert=str(listening["cert"])) as conn:
        assert conn.pgconn.ssl_in_use
        assert conn.execute("select current_user").fetchone()[0] == listening["name"]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select 1 from ops.loads")


def test_certificate_names_this_machine_and_its_key_is_private(listening):
    with psycopg.connect(host="localhost", port=listening["port"], dbname="pshub", user=listening["name"],
                         password=listening["password"], sslmode="verify-full",
                         sslrootcert=str(listening["cert"]), connect_timeout=10) as conn:
        assert conn.pgconn.ssl_in_use
    key = listening["cert"].with_name("server.key")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_plaintext_connections_are_refused(listening):
    with pytest.raises(psycopg.OperationalError, match="TLS connections only"):
        _connect(listening, sslmode="disable")


def test_the_hub_superuser_is_refused_there(listening):
    with pytest.raises(psycopg.OperationalError, match="rejects connection"):
        _connect(listening, user="postgres", password="anything", sslmode="require")


def test_a_wrong_password_is_refused_there(listening):
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _connect(listening, password="not-" + listening["password"], sslmode="require")


def test_listening_stops_when_the_setting_is_gone(listening, home):
    port = _free_port()
    EmbeddedWarehouse(home, listen=f"127.0.0.1:{port}").ensure_running()  # replaces the module's listener
    socket.create_connection(("127.0.0.1", port), timeout=5).close()
    EmbeddedWarehouse(home).ensure_running()
    assert EmbeddedWarehouse(home).listener() is None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # SIGTERM sent: the port closes as the process exits
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"port {port} still accepts connections")
    listening["warehouse"].ensure_running()  # the module's listener again, for any test after this one
