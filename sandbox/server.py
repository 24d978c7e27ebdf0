"""SandboxServer: the simulated systems over one synthetic firm, each on its own port.

With processes=True each system is served by a process of its own (`python -m sandbox.worker`), so that
readers of different systems, and the hub, do not share one interpreter's lock: the firm is one SQLite file
(WAL: readers in every process, writes serialised by a lock on the file), and what spans the systems (tick,
latency, faults keyed by system, token expiry) is forwarded between the processes over their admin endpoints.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import ssl
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx

import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from sandbox.dynamics import Dynamics
from sandbox import certinia_firm
from sandbox.dynamics_firm import parse_routes, populate, routes_of
from sandbox.hubspot import HubSpot
from sandbox.http import DEFAULT_FAULTS, ApiError, App, Request, Response, serve
from sandbox.kantata import Kantata
from sandbox.netsuite import NetSuite
from sandbox.salesforce import Salesforce
from sandbox.store import Store

log = logging.getLogger("sandbox")
# The systems: name -> App class. A new system is one line here (and its default port below).
APPS: dict[str, type[App]] = {"salesforce": Salesforce, "netsuite": NetSuite, "kantata": Kantata,
                              "dynamics": Dynamics, "hubspot": HubSpot}
SYSTEMS = tuple(APPS)
DEFAULT_PORTS = {"salesforce": 8701, "netsuite": 8702, "kantata": 8703, "dynamics": 8704, "hubspot": 8705}
ENDPOINTS_FILE = "endpoints.json"


class Tokens:
    """Bearer tokens per system with a time to live; expired tokens get the vendor's 401."""

    def __init__(self, ttl: int):
        self.ttl = int(ttl)
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def issue(self, system: str, token: str) -> None:
        with self._lock:
            now = time.monotonic()
            if len(self._tokens) > 10000:
                self._tokens = {k: v for k, v in self._tokens.items() if v[1] > now}
            self._tokens[token] = (system, now + self.ttl)

    def valid(self, system: str, token: str) -> bool:
        with self._lock:
            hit = self._tokens.get(token)
        return hit is not None and hit[0] == system and hit[1] > time.monotonic()

    def expire_all(self) -> None:
        with self._lock:
            self._tokens.clear()


class KantataTokens:
    """Kantata's access tokens: they do not expire, they are revoked. Kept in the sandbox folder, so that a token
    the hub stores (PSHUB_KANTATA_TOKEN) keeps working across sandbox restarts, as it would with Kantata."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._tokens: set[str] = set(json.loads(path.read_text())) if path.exists() else set()

    def _save(self) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(sorted(self._tokens), f)

    def grant(self, token: str) -> None:
        with self._lock:
            self._tokens.add(token)
            self._save()

    def valid(self, token: str) -> bool:
        with self._lock:
            return token in self._tokens

    def revoke(self, token: str | None = None) -> int:
        """Revoke one token, or every one (None); returns how many."""
        with self._lock:
            gone = {token} & self._tokens if token else set(self._tokens)
            self._tokens -= gone
            self._save()
            return len(gone)


def normalise_faults(faults: dict | None) -> dict[str, dict]:
    """Accept {"salesforce": {...}, ...} or one flat dict for every system; reject unknown keys."""
    out = {s: dict(DEFAULT_FAULTS) for s in SYSTEMS}
    if not faults:
        return out
    per_system = any(k in SYSTEMS for k in faults)
    for system in SYSTEMS:
        part = faults.get(system, {}) if per_system else faults
        for k, v in (part or {}).items():
            if k not in DEFAULT_FAULTS:
                raise ValueError(f"unknown fault {k!r}; known: {', '.join(DEFAULT_FAULTS)}")
            out[system][k] = v
    return out


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


LOCAL_HEADER = "x-sandbox-local"  # an admin call forwarded from another system's process: not forwarded again


class SandboxServer:
    def __init__(self, data_dir: Path, scale: str = "demo", seed: int = 42, faults: dict | None = None,
                 host: str = "127.0.0.1", ports: dict | None = None, token_ttl_seconds: int = 3600,
                 latency_ms: int = 0, certfile=None, keyfile=None, defect_rate: float = 0.02, anchor=None,
                 progress=None, processes: bool = False, systems: tuple[str, ...] | None = None,
                 dynamics_routes: str | dict | None = None, psa: str = "kantata"):
        """progress: called with the generation's progress when the firm is generated (sandbox.generate).
        processes: serve each system from a process of its own (see the module's docstring).
        systems: the systems this object serves (default all; a worker process serves one).
        dynamics_routes: legal entities whose books are in Dynamics 365 Finance (sandbox.dynamics_firm).
        psa: kantata, or certinia: the firm's delivery is in Certinia PSA instead (sandbox.certinia_firm)."""
        if psa not in ("kantata", "certinia"):
            raise ValueError(f"unknown PSA {psa!r}: kantata or certinia")
        self.psa = psa
        self.data_dir = Path(data_dir)
        self.progress = progress
        self.scale, self.seed, self.host = scale, seed, host
        self.ports = {s: 0 for s in SYSTEMS} | (ports or {})
        self.processes = processes
        self.systems = tuple(systems or SYSTEMS)
        self.siblings: dict[str, str] = {}   # worker: the other systems' base URLs
        self._workers: dict[str, subprocess.Popen] = {}
        self._worker_urls: dict[str, str] = {}
        self._latency_ms = latency_ms
        self._token_ttl = token_ttl_seconds
        self.certfile, self.keyfile = certfile, keyfile
        self.defect_rate, self.anchor = defect_rate, anchor
        # legal entities whose books are in Dynamics 365 Finance, from a cut-over date ("UK@2026-06-01"); none by default
        self.dynamics_routes = parse_routes(dynamics_routes) if isinstance(dynamics_routes, str) or dynamics_routes \
            is None else dict(dynamics_routes)
        self.tokens = Tokens(token_ttl_seconds)
        self.store = Store(self.data_dir)
        self._faults = normalise_faults(faults)
        self.apps: dict[str, App] = {}
        self._servers = {}
        self.credentials: dict[str, dict] = {}
        self.generation: dict | None = None
        self._public_key = None

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self, worker: bool = False) -> "SandboxServer":
        """Generate the firm if there is none, then serve. worker=True: a worker process's start (the parent
        generated the firm, migrated it and granted the tokens)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if worker:
            self.credentials = self._load_credentials()
            self.kantata_tokens = KantataTokens(self.data_dir / "kantata_tokens.json")
            self._serve_apps()
            return self
        if not self.store.exists():
            from sandbox.generate import generate
            if self.store.path.exists():  # a half-written firm from an interrupted start
                self.store.close()
                for suffix in ("", "-wal", "-shm"):
                    Path(str(self.store.path) + suffix).unlink(missing_ok=True)
            self.generation = generate(self.store, self.scale, self.seed, self.defect_rate, self.anchor,
                                       progress=self.progress)
            log.info("sandbox: generated %s firm in %.1fs", self.scale, self.generation["seconds"])
        else:
            self.store.init_schema()
            self.scale = self.store.meta("scale", self.scale)
        if self.psa == "certinia":
            certinia_firm.populate(self.store)
        populate(self.store, self.dynamics_routes)
        self.credentials = self._load_credentials()
        self.kantata_tokens = KantataTokens(self.data_dir / "kantata_tokens.json")
        if self.credentials["kantata"]["token"] not in self._revoked_app_tokens():
            self.kantata_tokens.grant(self.credentials["kantata"]["token"])
        if self.processes:
            self._start_workers()
        else:
            self._serve_apps()
        self._write_endpoints()
        return self

    def _serve_apps(self) -> None:
        ctx = None
        if self.certfile:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(self.certfile, self.keyfile)
        for system in self.systems:
            app = APPS[system](self)
            app.faults = self._faults[system]
            self.apps[system] = app
            self._servers[system] = serve(app, self.host, int(self.ports.get(system) or 0), ctx)

    def _start_workers(self) -> None:
        """One `python -m sandbox.worker` per system: each gets its settings on stdin, answers its URL on stdout,
        then the others' URLs on stdin; it stops when its stdin closes (this process stopped or died)."""
        root = str(Path(__file__).resolve().parents[1])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        try:
            for system in self.systems:
                proc = subprocess.Popen([sys.executable, "-m", "sandbox.worker"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, env=env, text=True, bufsize=1)
                self._workers[system] = proc
                proc.stdin.write(json.dumps({
                    "data_dir": str(self.data_dir), "system": system, "host": self.host,
                    "port": int(self.ports.get(system) or 0), "scale": self.scale, "faults": self._faults[system],
                    "token_ttl_seconds": self._token_ttl, "latency_ms": self._latency_ms,
                    "certfile": str(self.certfile) if self.certfile else None,
                    "keyfile": str(self.keyfile) if self.keyfile else None}) + "\n")
            for system, proc in self._workers.items():
                line = proc.stdout.readline()
                if not line:
                    raise RuntimeError(f"the sandbox's {system} process did not start (exit code {proc.wait()})")
                self._worker_urls[system] = json.loads(line)["url"]
            for proc in self._workers.values():
                proc.stdin.write(json.dumps(self._worker_urls) + "\n")
        except BaseException:
            self._stop_workers()
            raise

    def _stop_workers(self) -> None:
        for proc in self._workers.values():
            try:
                proc.stdin.close()
            except OSError:
                pass
        for proc in self._workers.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._workers.clear()
        self._worker_urls.clear()

    def stop(self) -> None:
        for srv in self._servers.values():
            srv.shutdown()
            srv.server_close()
        self._servers.clear()
        self._stop_workers()
        ep = self.data_dir / ENDPOINTS_FILE
        try:
            data = json.loads(ep.read_text())
            if data.get("pid") == os.getpid():
                ep.unlink()
        except (OSError, ValueError):
            pass
        self.store.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def serve_forever(self) -> None:
        if not self._servers and not self._workers:
            self.start()
        if threading.current_thread() is threading.main_thread():  # a SIGTERM stops as Ctrl-C does: cleanly
            signal.signal(signal.SIGTERM, _interrupt)
        try:
            while True:
                time.sleep(1)
                dead = [s for s, proc in self._workers.items() if proc.poll() is not None]
                if dead:
                    log.error("sandbox: the %s process stopped (exit code %s); stopping the others", dead[0],
                              self._workers[dead[0]].returncode)
                    return
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    @property
    def urls(self) -> dict[str, str]:
        if self._worker_urls:
            return dict(self._worker_urls)
        return {**self.siblings, **{s: a.base_url for s, a in self.apps.items()}}

    def _admin_call(self, system: str, method: str, path: str, body=None):
        """An admin call to another system's process, marked as forwarded (it is not forwarded again)."""
        r = httpx.request(method, self.urls[system] + path, json=body, headers={LOCAL_HEADER: "1"}, timeout=600,
                          verify=False)
        r.raise_for_status()
        return r.json()

    def _others(self) -> list[str]:
        """The systems served by other processes."""
        return [s for s in self.urls if s not in self.apps]

    @property
    def latency_ms(self) -> int:
        return self._latency_ms

    @latency_ms.setter
    def latency_ms(self, ms: int) -> None:
        """Delay added to every API request of every system (forwarded to the systems' processes)."""
        self._latency_ms = int(ms or 0)
        for s in self._others():
            self._admin_call(s, "PUT", "/__sandbox/latency", {"latency_ms": self._latency_ms})

    # -- credentials and keys -------------------------------------------------------------------------
    def _load_credentials(self) -> dict:
        path = self.data_dir / "credentials.json"
        key_path = self.data_dir / "netsuite_private_key.pem"
        if not key_path.exists():
            key = ec.generate_private_key(ec.SECP256R1())
            pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
            fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
        os.chmod(key_path, 0o600)
        if path.exists():
            creds = json.loads(path.read_text())
        else:
            creds = {
                "salesforce": {"client_id": "3MVG9sandbox" + secrets.token_hex(12), "client_secret": secrets.token_hex(32)},
                "netsuite": {"client_id": secrets.token_hex(32), "certificate_id": "sbx-" + secrets.token_hex(10),
                             "account_id": "1234567_SB1"},
                "kantata": {"client_id": secrets.token_hex(16), "client_secret": secrets.token_hex(32)},
            }
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(creds, f, indent=2)
        # Kantata: an application registered with a redirect URI, and the application's own access token that an
        # account administrator copies from the registration page (credentials of earlier sandboxes get them too)
        kt = creds["kantata"]
        if "redirect_uri" not in kt or "token" not in kt:
            kt.setdefault("redirect_uri", "http://localhost:8765/pshub/kantata/callback")
            kt.setdefault("token", secrets.token_hex(32))
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(creds, f, indent=2)
        # Dynamics 365 Finance: an app registration in the tenant, with a client secret (Microsoft identity platform)
        if "dynamics" not in creds:
            creds["dynamics"] = {"tenant_id": str(uuid.uuid4()), "client_id": str(uuid.uuid4()),
                                 "client_secret": secrets.token_urlsafe(30)}
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(creds, f, indent=2)
        # HubSpot: a private app's access token (Bearer; it does not expire, an administrator rotates it)
        if "hubspot" not in creds:
            creds["hubspot"] = {"access_token": f"pat-na1-{uuid.uuid4()}"}
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(creds, f, indent=2)
        creds["netsuite"]["private_key_path"] = str(key_path.resolve())
        # Salesforce's JWT bearer flow: a connected app with an uploaded certificate (the sandbox keeps its RSA key
        # here, as the integration would) and the user it is pre-approved for
        sf_key = self.data_dir / "salesforce_private_key.pem"
        if not sf_key.exists():
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            fd = os.open(sf_key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
        creds["salesforce"]["jwt_private_key_path"] = str(sf_key.resolve())
        creds["salesforce"].setdefault("username", "integration@pshub-sandbox.example.com")
        return creds

    def credentials_for(self, system: str) -> dict:
        """What a client of `system` is given: its credentials, and for Dynamics the token endpoint, which the sandbox
        serves on the Dynamics port at the identity platform's path (it moves with the port)."""
        creds = dict(self.credentials[system])
        if system == "dynamics" and system in self.urls:
            creds["token_url"] = f"{self.urls['dynamics']}/{creds['tenant_id']}/oauth2/v2.0/token"
        return creds

    def salesforce_public_key(self):
        if getattr(self, "_sf_public_key", None) is None:
            pem = Path(self.credentials["salesforce"]["jwt_private_key_path"]).read_bytes()
            self._sf_public_key = serialization.load_pem_private_key(pem, password=None).public_key()
        return self._sf_public_key

    def _revoked_app_tokens(self) -> set[str]:
        path = self.data_dir / "kantata_revoked.json"
        return set(json.loads(path.read_text())) if path.exists() else set()

    def revoke_kantata_token(self, token: str | None) -> int:
        """Revoke a Kantata token (all when None); the application's own token stays revoked across restarts."""
        app_token = self.credentials["kantata"]["token"]
        if token is None or token == app_token:
            revoked = self._revoked_app_tokens() | {app_token}
            (self.data_dir / "kantata_revoked.json").write_text(json.dumps(sorted(revoked)))
        return self.kantata_tokens.revoke(token)

    def netsuite_public_key(self):
        if self._public_key is None:
            pem = Path(self.credentials["netsuite"]["private_key_path"]).read_bytes()
            self._public_key = serialization.load_pem_private_key(pem, password=None).public_key()
        return self._public_key

    def _write_endpoints(self) -> None:
        path = self.data_dir / ENDPOINTS_FILE
        creds = {s: self.credentials_for(s) for s in self.credentials}
        data = {"pid": os.getpid(), "running": True, "urls": self.urls, "credentials": creds,
                "scale": self.scale, "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)

    # -- faults (also changed live through the admin endpoint) ---------------------------------------
    @property
    def faults(self) -> dict[str, dict]:
        if not self.apps and not self._worker_urls:
            return self._faults
        return {s: dict(self.apps[s].faults) if s in self.apps else self._admin_call(s, "GET", "/__sandbox/faults")
                for s in self.urls}

    def set_faults(self, system: str, changes: dict) -> dict:
        for k in changes:
            if k not in DEFAULT_FAULTS:
                raise ValueError(f"unknown fault {k!r}; known: {', '.join(DEFAULT_FAULTS)}")
        if system not in self.apps:
            if system not in self.urls:
                raise ValueError(f"unknown system {system!r}; known: {', '.join(self.urls)}")
            return self._admin_call(system, "PUT", "/__sandbox/faults", changes)
        app = self.apps[system]
        app.faults.update(changes)
        if "daily_request_limit" in changes:
            app.day_requests = 0
        if changes.get("seed") is not None:
            app.rng.seed(changes["seed"])  # a test that needs a fault to fire gets the same draws every run
        return dict(app.faults)

    # -- schema drift and records that change while a client pages (tests plant them) ------------------------
    def hide_field(self, system: str, obj: str, field: str, hidden: bool = True) -> dict:
        """Salesforce: a field removed from `obj` (or hidden from the integration user); hidden=False brings it back.
        Returns the hidden fields ({object: [field]})."""
        if system != "salesforce":
            raise ValueError("only Salesforce fields can be hidden")
        body = {"object": obj, "field": field, "hidden": hidden}
        if system not in self.apps:
            return self._admin_call(system, "PUT", "/__sandbox/hidden_fields", body)
        app = self.apps[system]
        app.hide_field(obj, field, hidden)
        out: dict[str, list[str]] = {}
        for o, f in sorted(app.hidden_fields):
            out.setdefault(o, []).append(f)
        return out

    def edit_while_paging(self, system: str, resource: str, record_id: int, changes: dict) -> list:
        """Kantata: `changes` saved to a record between two page requests of a read that served it. Returns the
        edits made so far ([[resource, id]]): `edited_while_paging`."""
        if system != "kantata":
            raise ValueError("only Kantata pages by page number")
        if system not in self.apps:
            return self._admin_call(system, "POST", "/__sandbox/edit_while_paging",
                                    {"resource": resource, "id": int(record_id), "changes": changes})
        self.apps[system].edit_while_paging(resource, record_id, changes)
        return self.edited_while_paging(system)

    def edited_while_paging(self, system: str = "kantata") -> list:
        """The records edited between two page requests so far: [[resource, id]]."""
        if system not in self.apps:
            return self._admin_call(system, "GET", "/__sandbox/edit_while_paging")
        return [list(e) for e in getattr(self.apps[system], "edited_while_paging", [])]

    def tick(self, days: int) -> dict:
        from sandbox.simulate import tick
        result = tick(self.store, days)
        return result

    # -- admin endpoints --------------------------------------------------------------------------------
    def admin(self, app: App, req: Request) -> Response:
        p, m = req.path, req.method
        forwarded = LOCAL_HEADER in req.headers
        try:
            if p == "/__sandbox/tick" and m == "POST":
                days = int(req.arg("days", "1"))
                if not 1 <= days <= 366:
                    raise ValueError("days must be between 1 and 366")
                return Response(200, self.tick(days))
            if p == "/__sandbox/faults" and m == "GET":
                return Response(200, dict(app.faults))
            if p == "/__sandbox/faults" and m == "PUT":
                body = req.json() or {}
                if any(k in SYSTEMS for k in body):
                    return Response(200, {s: self.set_faults(s, v) for s, v in body.items()})
                return Response(200, self.set_faults(app.name, body))
            if p == "/__sandbox/latency" and m == "PUT":
                body = req.json() or {}
                ms = int(body.get("latency_ms", req.arg("ms")) or 0)
                if forwarded:
                    self._latency_ms = ms
                else:
                    self.latency_ms = ms
                return Response(200, {"latency_ms": self.latency_ms})
            if p == "/__sandbox/hidden_fields" and m == "PUT":
                body = req.json() or {}
                return Response(200, self.hide_field(app.name, body.get("object", ""), body.get("field", ""),
                                                     bool(body.get("hidden", True))))
            if p == "/__sandbox/edit_while_paging" and m == "POST":
                body = req.json() or {}
                return Response(200, self.edit_while_paging(app.name, body.get("resource", ""), int(body.get("id", 0)),
                                                            dict(body.get("changes") or {})))
            if p == "/__sandbox/edit_while_paging" and m == "GET":
                return Response(200, self.edited_while_paging(app.name))
            if p == "/__sandbox/stats" and m == "GET":
                return Response(200, app.stats.snapshot())
            if p == "/__sandbox/stats/reset" and m == "POST":
                app.stats.reset()
                return Response(200, app.stats.snapshot())
            if p == "/__sandbox/manifest" and m == "GET":
                defects = self.store.defects()
                for key in ("system", "kind", "object"):
                    if req.arg(key):
                        defects = [d for d in defects if d[key] == req.arg(key)]
                by_kind: dict[str, int] = {}
                for d in defects:
                    by_kind[d["kind"]] = by_kind.get(d["kind"], 0) + 1
                return Response(200, {"count": len(defects), "by_kind": by_kind, "defects": defects})
            if p == "/__sandbox/clock" and m == "GET":
                return Response(200, self.clock())
            if p == "/__sandbox/tokens/revoke" and m == "POST" and app.name == "kantata":
                token = (req.json() or {}).get("token")
                return Response(200, {"revoked": self.revoke_kantata_token(token)})
            if p == "/__sandbox/tokens/expire" and m == "POST":
                self.tokens.expire_all()
                for s in ([] if forwarded else self._others()):
                    self._admin_call(s, "POST", "/__sandbox/tokens/expire")
                return Response(200, {"expired": True})
            if p == "/__sandbox/info" and m == "GET":
                return Response(200, {"urls": self.urls, "scale": self.scale, "clock": self.clock(), "pid": os.getpid(),
                                      "latency_ms": self.latency_ms, "faults": self.faults})
        except ValueError as e:
            return Response(400, {"error": str(e)})
        return Response(404, {"error": f"no admin endpoint {m} {p}"})

    def clock(self) -> dict:
        s = self.store
        return {"dynamics_routes": routes_of(s), "now": s.now().isoformat() + "Z", "offset_days": round(s.offset_seconds() / 86400, 4),
                "anchor": s.meta("anchor"), "hub_cutover": s.meta("hub_cutover"),
                "history_start": s.meta("history_start")}
