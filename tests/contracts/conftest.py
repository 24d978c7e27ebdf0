"""Vendor contracts: each documented behaviour the connectors rely on, asserted against the sandbox over HTTPS.

The sandbox here serves TLS with a self-signed certificate for 127.0.0.1, as the real services serve HTTPS: third-party
clients (simple-salesforce builds https:// URLs only) and the hub's connectors both verify it. Each test names the
vendor documentation it checks in a comment.
"""
from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest

from sandbox.http import DEFAULT_FAULTS
from sandbox.server import SandboxServer
from self_signed import certificate


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1: (cert path, key path)."""
    return certificate(tmp_path_factory.mktemp("contracts-tls"))


@pytest.fixture(scope="session")
def vendor(tmp_path_factory, tls_cert):
    """The sandbox over HTTPS on ephemeral loopback ports, each system in a process of its own (as the vendors'
    services are apart from each other and from the hub)."""
    cert, key = tls_cert
    server = SandboxServer(tmp_path_factory.mktemp("contracts-sandbox"), scale="demo", seed=11, certfile=cert,
                           keyfile=key, processes=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def ca(tls_cert) -> ssl.SSLContext:
    """Trusts the sandbox's certificate only (hostname checked)."""
    return ssl.create_default_context(cafile=str(tls_cert[0]))


@pytest.fixture
def faults(vendor, ca):
    """Set faults for one test; all are reset afterwards."""
    def set_(system: str, **changes):
        httpx.put(vendor.urls[system] + "/__sandbox/faults", json=changes, verify=ca).raise_for_status()
    yield set_
    for system in vendor.urls:
        httpx.put(vendor.urls[system] + "/__sandbox/faults", json=DEFAULT_FAULTS, verify=ca).raise_for_status()


def netsuite_credentials(vendor) -> dict:
    """As the hub's settings give them: the private key's PEM, not its path."""
    creds = dict(vendor.credentials["netsuite"])
    creds["private_key"] = Path(creds.pop("private_key_path")).read_text()
    return creds


@pytest.fixture(scope="session")
def hub_clients(vendor, ca):
    """The hub's own connectors, pointed at the sandbox over HTTPS."""
    from connectors.kantata import KantataClient
    from connectors.netsuite import NetSuiteClient
    from connectors.salesforce import SalesforceClient

    clients = {"salesforce": SalesforceClient(vendor.urls["salesforce"], vendor.credentials["salesforce"], verify=ca,
                                              max_attempts=3),
               "netsuite": NetSuiteClient(vendor.urls["netsuite"], netsuite_credentials(vendor), verify=ca,
                                          max_attempts=3),
               "kantata": KantataClient(vendor.urls["kantata"], vendor.credentials["kantata"], verify=ca,
                                        max_attempts=3)}
    yield clients
    for client in clients.values():
        client.close()


@pytest.fixture(scope="session")
def sf_http(hub_clients, vendor, ca):
    """A raw HTTPS client with a Salesforce session, for status codes and bodies as they come."""
    token = hub_clients["salesforce"].token()
    return httpx.Client(base_url=vendor.urls["salesforce"] + "/services/data/v62.0",
                        headers={"Authorization": f"Bearer {token}"}, verify=ca, timeout=30)


@pytest.fixture(scope="session")
def kt_http(hub_clients, vendor, ca):
    token = hub_clients["kantata"].token()
    return httpx.Client(base_url=vendor.urls["kantata"] + "/api/v1", headers={"Authorization": f"Bearer {token}"},
                        verify=ca, timeout=30)


@pytest.fixture(scope="session")
def ns_http(hub_clients, vendor, ca):
    token = hub_clients["netsuite"].token()
    return httpx.Client(base_url=vendor.urls["netsuite"] + "/services/rest",
                        headers={"Authorization": f"Bearer {token}", "Prefer": "transient"}, verify=ca, timeout=30)
