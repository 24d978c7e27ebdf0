"""Fixtures: a demo-scale sandbox on ephemeral loopback ports, and token helpers for each system."""
from __future__ import annotations

import base64
import datetime as dt
import json
import time
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from sandbox.server import SandboxServer
from self_signed import certificate

ANCHOR = dt.datetime(2025, 6, 15, 12, 0, 0)


@pytest.fixture(scope="session")
def sandbox_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("sandbox")


@pytest.fixture(scope="session")
def sandbox(sandbox_dir):
    with SandboxServer(sandbox_dir, scale="demo", seed=42, anchor=ANCHOR) as sb:
        yield sb


@pytest.fixture()
def faults(sandbox):
    """Set faults for one test; every system is reset to no faults afterwards."""
    def set_(system: str, **changes):
        r = httpx.put(sandbox.urls[system] + "/__sandbox/faults", json=changes)
        r.raise_for_status()
        return r.json()
    yield set_
    from sandbox.http import DEFAULT_FAULTS
    for s in sandbox.urls:
        httpx.put(sandbox.urls[s] + "/__sandbox/faults", json=DEFAULT_FAULTS).raise_for_status()
    sandbox.latency_ms = 0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def netsuite_assertion(sb, key_path=None, kid=None, lifetime=3000, iat=None, aud=None) -> str:
    creds = sb.credentials["netsuite"]
    key = serialization.load_pem_private_key(Path(key_path or creds["private_key_path"]).read_bytes(), None)
    now = int(time.time()) if iat is None else iat
    header = _b64(json.dumps({"alg": "ES256", "typ": "JWT", "kid": kid or creds["certificate_id"]}).encode())
    claims = _b64(json.dumps({"iss": creds["client_id"], "scope": ["rest_webservices"],
                              "aud": aud or sb.urls["netsuite"] + "/services/rest/auth/oauth2/v1/token",
                              "iat": now, "exp": now + lifetime}).encode())
    r, s = decode_dss_signature(key.sign(f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256())))
    return f"{header}.{claims}." + _b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def netsuite_token_request(sb, assertion: str) -> httpx.Response:
    return httpx.post(sb.urls["netsuite"] + "/services/rest/auth/oauth2/v1/token", data={
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion})


@pytest.fixture(scope="session")
def sf(sandbox):
    tok = httpx.post(sandbox.urls["salesforce"] + "/services/oauth2/token",
                     data={"grant_type": "client_credentials", **sandbox.credentials["salesforce"]}).json()["access_token"]
    return httpx.Client(base_url=sandbox.urls["salesforce"], headers={"Authorization": f"Bearer {tok}"}, timeout=30)


@pytest.fixture(scope="session")
def ns(sandbox):
    tok = netsuite_token_request(sandbox, netsuite_assertion(sandbox)).json()["access_token"]
    return httpx.Client(base_url=sandbox.urls["netsuite"], headers={"Authorization": f"Bearer {tok}", "Prefer": "transient"},
                        timeout=30)


@pytest.fixture(scope="session")
def kt(sandbox):
    tok = sandbox.credentials["kantata"]["token"]  # the application's own token, as an administrator copies it
    return httpx.Client(base_url=sandbox.urls["kantata"], headers={"Authorization": f"Bearer {tok}"}, timeout=30)


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1: (cert path, key path)."""
    return certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def anchor():
    return ANCHOR


@pytest.fixture(scope="session")
def ns_auth():
    """(make_assertion, token_request) helpers for NetSuite's JWT client credentials."""
    return netsuite_assertion, netsuite_token_request
