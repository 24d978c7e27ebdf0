"""A small threaded HTTP/1.1 server shared by the three simulated systems.

Standard library only, so that faults can act at the socket level (a dropped connection is a
closed socket with no response). Each system is an `App` with routes, its own auth and error
bodies; this module adds what they share: admin endpoints, faults, latency, stats and TLS.
"""
from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import random
import re
import socket
import ssl
import threading
import time
import traceback
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson

log = logging.getLogger("sandbox")

DEFAULT_FAULTS = {
    "error_rate": 0.0,          # share of API requests answered with the vendor's 500
    "rate_limit_rate": 0.0,     # share of API requests refused by the rate limit (429; Salesforce: 403 concurrent)
    "retry_after_seconds": 1,   # Retry-After on 429 where the vendor sends one
    "drop_rate": 0.0,           # share of API requests whose connection is closed without a response
    "lost_response_rate": 0.0,  # share of successful writes committed, then answered by a closed connection
    "latency_ms": 0,            # extra delay on every API request
    "daily_request_limit": None,  # Salesforce: 403 REQUEST_LIMIT_EXCEEDED once spent
    "concurrency_limit": None,  # NetSuite: 429, Salesforce: 403 concurrent limit, beyond this many at once
    "lose_next_responses": 0,   # the next N successful writes lose their answers (then counted down): a sure fault
    "search_result_cap": None,  # HubSpot: results one search query can page through (None: 10,000, as documented)
    "search_requests_per_second": None,  # HubSpot: search calls a second (None: 5)
    "requests_per_ten_seconds": None,    # HubSpot: calls per rolling 10 s (None: 190, Professional)
    "seed": None,               # set to draw the faults above from a seeded generator: the same requests, the same faults
    "batch_patch_by_id_keeps_external_id": False,  # NetSuite: a batch PATCH item matched by its internal id does
                                # not write its externalId (a reading the docs leave open: connectors/netsuite.py)
    "clockless": False,         # answer as an origin server without a clock: no Date header (RFC 9110 section 6.6.1)
}


class ApiError(Exception):
    def __init__(self, status: int, body, headers: dict | None = None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    base_url: str
    params: dict = field(default_factory=dict)

    def arg(self, name: str, default=None):
        v = self.query.get(name)
        return v[-1] if v else default

    def json(self):
        if not self.body:
            return None
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"invalid JSON: {exc}") from exc

    def form(self) -> dict[str, str]:
        ctype = self.headers.get("content-type", "")
        if "json" in ctype:
            data = self.json() or {}
            return {k: str(v) for k, v in data.items()}
        return {k: v[-1] for k, v in urllib.parse.parse_qs(self.body.decode("utf-8", "replace")).items()}

    def bearer(self) -> str | None:
        auth = self.headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            return auth[7:].strip()
        if auth[:6].lower() == "oauth ":
            return auth[6:].strip()
        return None


@dataclass
class Response:
    status: int = 200
    body: object = None
    headers: dict = field(default_factory=dict)
    raw: bytes | None = None


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with getattr(self, "lock", threading.Lock()):
            self.requests = 0
            self.writes = 0
            self.by_route: dict[str, int] = {}
            self.by_status: dict[str, int] = {}
            self.records_written = 0
            self.lost_responses = 0

    def count(self, route: str, write: bool, status: int, records: int = 0):
        with self.lock:
            self.requests += 1
            self.writes += int(write)
            self.records_written += records
            self.by_route[route] = self.by_route.get(route, 0) + 1
            self.by_status[str(status)] = self.by_status.get(str(status), 0) + 1

    def add_records(self, n: int):
        """Records written after the request that asked for them was answered (an asynchronous job's)."""
        with self.lock:
            self.records_written += n

    def lose_response(self):
        with self.lock:
            self.lost_responses += 1

    def snapshot(self) -> dict:
        with self.lock:
            return {"requests": self.requests, "write_calls": self.writes, "records_written": self.records_written,
                    "lost_responses": self.lost_responses,
                    "by_route": dict(self.by_route), "by_status": dict(self.by_status)}


class Route:
    def __init__(self, method: str, pattern: str, handler, name: str, auth: bool = True, write: bool | None = None):
        self.method = method
        self.regex = re.compile("^" + pattern + "$")
        self.handler, self.name, self.auth = handler, name, auth
        self.write = method in ("POST", "PUT", "PATCH", "DELETE") if write is None else write


class App:
    """One simulated system. Subclasses set `name`, add routes and implement the vendor bodies."""

    name = "system"

    def __init__(self, sandbox):
        self.sandbox = sandbox  # the SandboxServer: store, clock, tokens, faults, manifest
        self.routes: list[Route] = []
        self.stats = Stats()
        self.faults = dict(DEFAULT_FAULTS)
        self.inflight = 0
        self.inflight_lock = threading.Lock()
        self.day_requests = 0
        self.day_key = None
        self.rng = random.Random()
        self.base_url = ""

    def _lose_this_answer(self, f: dict) -> bool:
        with self.inflight_lock:
            if f.get("lose_next_responses"):
                f["lose_next_responses"] -= 1
                return True
        return bool(f.get("lost_response_rate")) and self.rng.random() < f["lost_response_rate"]

    def route(self, method, pattern, name, auth=True, write=None):
        def deco(fn):
            self.routes.append(Route(method, pattern, fn, name, auth, write))
            return fn
        return deco

    # vendor-specific bodies -------------------------------------------------------------------------
    def unauthorized(self) -> ApiError: raise NotImplementedError
    def server_error(self) -> ApiError: raise NotImplementedError
    def too_many(self) -> ApiError: raise NotImplementedError
    def not_found(self, path: str) -> ApiError: raise NotImplementedError
    def bad_request(self, message: str) -> ApiError: raise NotImplementedError
    def limit_headers(self) -> dict: return {}

    def token_valid(self, token: str) -> bool:
        return self.sandbox.tokens.valid(self.name, token)

    def over_daily_limit(self) -> ApiError | None:
        return None

    def check_concurrency(self) -> ApiError | None:
        return None

    def http_date(self) -> str | None:
        """The Date of a response: the firm's clock, which `tick` moves on by days and which stamps its records, not
        this machine's (RFC 9110 section 6.6.1: an origin server with a clock MUST send the time the message was
        originated; an IMF-fixdate, section 5.6.7). None as an origin without a clock (the `clockless` fault), which
        MUST NOT send one."""
        if self.faults.get("clockless"):
            return None
        return email.utils.format_datetime(self.sandbox.store.now().replace(tzinfo=dt.timezone.utc), usegmt=True)

    # dispatch -----------------------------------------------------------------------------------------
    def match(self, method: str, path: str):
        allowed = False
        for r in self.routes:
            m = r.regex.match(path)
            if m:
                if r.method == method:
                    return r, m.groupdict()
                allowed = True
        return None, allowed

    def handle(self, req: Request) -> Response | None:
        """Returns the response, or None to drop the connection."""
        if req.path.startswith("/__sandbox/"):
            return self.sandbox.admin(self, req)
        route, params = self.match(req.method, req.path)
        if route is None:
            err = self.not_found(req.path) if not params else self.bad_request(f"Method {req.method} not allowed")
            if params:
                err.status = 405
            self.stats.count(f"{req.method} (unmatched)", False, err.status)
            return Response(err.status, err.body, err.headers)
        req.params = params
        f = self.faults
        delay = (self.sandbox.latency_ms + (f.get("latency_ms") or 0)) / 1000.0
        counted = False
        try:
            if route.auth:
                err = self.check_concurrency()
                if err is not None:
                    raise err
                counted = True
                with self.inflight_lock:
                    self.inflight += 1
                if delay:
                    time.sleep(delay)
                if f.get("drop_rate") and self.rng.random() < f["drop_rate"]:
                    self.stats.count(route.name, False, 0)
                    return None
                err = self.over_daily_limit()
                if err is not None:
                    raise err
                if f.get("error_rate") and self.rng.random() < f["error_rate"]:
                    raise self.server_error()
                if f.get("rate_limit_rate") and self.rng.random() < f["rate_limit_rate"]:
                    raise self.too_many()
                token = req.bearer()
                if not token or not self.token_valid(token):
                    raise self.unauthorized()
            resp = route.handler(req, **params)
            n = getattr(resp, "records_written", 0)
            self.stats.count(route.name, route.write and resp.status < 400, resp.status, n)
            if route.write and resp.status < 400 and self._lose_this_answer(f):
                # the write is committed; its answer never arrives (a timeout or a reset after the commit):
                # the classic cause of double posting when a client sends a non-idempotent write again
                self.stats.lose_response()
                return None
        except ApiError as e:
            resp = Response(e.status, e.body, e.headers)
            self.stats.count(route.name, False, e.status)
        except ValueError as e:
            err = self.bad_request(str(e))
            resp = Response(err.status, err.body, err.headers)
            self.stats.count(route.name, False, err.status)
        except Exception:  # never let a bug become a hang or a bare socket error
            log.error("sandbox %s: unhandled error on %s %s\n%s", self.name, req.method, req.path, traceback.format_exc())
            err = self.server_error()
            resp = Response(err.status, err.body, err.headers)
            self.stats.count(route.name, False, err.status)
        finally:
            if counted:
                with self.inflight_lock:
                    self.inflight -= 1
        if route.auth:
            resp.headers.update(self.limit_headers())
        return resp


def _make_handler(app: App):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "pshub-sandbox"

        def log_message(self, fmt, *args):
            log.debug("%s %s", app.name, fmt % args)

        def send_response(self, code, message=None):
            # BaseHTTPRequestHandler's, but with the Date of the firm's clock (App.http_date), not of this machine
            self.log_request(code)
            self.send_response_only(code, message)
            self.send_header("Server", self.version_string())
            date = app.http_date()
            if date is not None:
                self.send_header("Date", date)

        def _serve(self):
            parsed = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            req = Request(self.command, urllib.parse.unquote(parsed.path),
                          urllib.parse.parse_qs(parsed.query, keep_blank_values=True),
                          {k.lower(): v for k, v in self.headers.items()}, body, app.base_url)
            resp = app.handle(req)
            if resp is None:  # dropped connection fault
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            if resp.raw is not None:
                payload = resp.raw
            elif resp.body is None:
                payload = b""
            else:
                payload = orjson.dumps(resp.body)
            self.send_response(resp.status)
            if payload and "Content-Type" not in resp.headers:
                self.send_header("Content-Type", "application/json;charset=UTF-8")
            for k, v in resp.headers.items():
                self.send_header(k, str(v))
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if payload and self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def serve(app: App, host: str, port: int, ssl_context: ssl.SSLContext | None = None) -> Server:
    srv = Server((host, port), _make_handler(app))
    if ssl_context is not None:
        srv.socket = ssl_context.wrap_socket(srv.socket, server_side=True)
    scheme = "https" if ssl_context else "http"
    app.base_url = f"{scheme}://{host}:{srv.server_address[1]}"
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2}, name=f"sandbox-{app.name}", daemon=True)
    t.start()
    srv.thread = t
    return srv


def dumps(obj) -> str:
    return json.dumps(obj, indent=2, default=str)
