"""One way every HTTP call to a source or destination system goes: auth, retries, limits, error mapping.

Each system's client subclasses ApiClient and says how to get a token and how to read its error bodies;
everything else (refresh on 401, backoff on 5xx/timeouts, Retry-After on 429, bounded concurrency) is here.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import logging
import random
import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
from tenacity import RetryCallState, Retrying, retry_if_exception

log = logging.getLogger("pshub.connectors")


class ConnectorError(Exception):
    """An API answered with an error, or could not be reached. `transient` errors are retried."""

    transient = False

    def __init__(self, system: str, message: str, *, status: int | None = None, code: str | None = None,
                 body: Any = None):
        super().__init__(f"{system}: {message}" + (f" (HTTP {status}, {code})" if status else ""))
        self.system, self.message, self.status, self.code, self.body = system, message, status, code, body


class AuthError(ConnectorError):
    pass


class ValidationError(ConnectorError):
    pass


class NotFoundError(ConnectorError):
    pass


class LimitExceeded(ConnectorError):
    """A quota that will not come back by waiting a little (e.g. Salesforce's daily request limit)."""


class RateLimited(ConnectorError):
    transient = True

    def __init__(self, *args, retry_after: float | None = None, **kw):
        super().__init__(*args, **kw)
        self.retry_after = retry_after


class ServerError(ConnectorError):
    transient = True


class TransportError(ConnectorError):
    transient = True


class Unreachable(TransportError):
    """No connection could be opened (refused, no route, connect timeout): a few quick attempts, then give up;
    waiting minutes for a host that is down tells the operator nothing more."""


# Connection attempts before Unreachable is raised, and how long one may take (a read may take far longer).
CONNECT_ATTEMPTS = 3
CONNECT_TIMEOUT_SECONDS = 10.0


def _wait(state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, RateLimited) and exc.retry_after is not None:
        return min(float(exc.retry_after), 60.0)
    # exponential backoff with full jitter: 0.2 s, 0.4 s, 0.8 s ... capped at 20 s
    return random.uniform(0, min(20.0, 0.2 * 2 ** (state.attempt_number - 1))) + 0.05


def _stop(max_attempts: int):
    """Stop after max_attempts, or after CONNECT_ATTEMPTS when the system cannot be reached at all."""
    def stop(state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        limit = min(max_attempts, CONNECT_ATTEMPTS) if isinstance(exc, Unreachable) else max_attempts
        return state.attempt_number >= limit
    return stop


def error_for(system: str, response: httpx.Response, message: str, *, code: str | None = None,
              body: Any = None) -> ConnectorError:
    """The one mapping of an error status to its exception, for every system: 401 refused credentials, 429 rate
    limited (with its Retry-After), 404 not found, 5xx the server's fault (retried), any other 4xx a request the
    system will not take as it is. A system's own cases (Salesforce's 403 REQUEST_LIMIT_EXCEEDED) come before it."""
    status = response.status_code
    kw = {"status": status, "code": code, "body": body}
    if status == 401:
        return AuthError(system, message, **kw)
    if status == 429:
        retry_after = response.headers.get("Retry-After")
        return RateLimited(system, message, retry_after=float(retry_after) if retry_after else None, **kw)
    if status == 404:
        return NotFoundError(system, message, **kw)
    if status >= 500:
        return ServerError(system, message, **kw)
    return ValidationError(system, message, **kw)


def json_of(response: httpx.Response) -> Any:
    """A response's JSON body, parsed by orjson (about twice as fast as json on large pages); json for what
    orjson refuses (integers past 64 bits)."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return response.json()


def date_of(response: httpx.Response) -> dt.datetime | None:
    """The source's clock when it originated `response`: its Date header (RFC 9110 section 6.6.1: "An origin server
    with a clock ... MUST generate a Date header field in all 2xx (Successful), 3xx (Redirection), and 4xx (Client
    Error) responses"; an HTTP-date, GMT, to the second, section 5.6.7). None when it sent none or an unreadable one
    (an origin without a clock MUST NOT send one)."""
    value = response.headers.get("date")
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.timezone.utc)  # HTTP-date is always GMT


class SourceClock:
    """What a client's responses say of the source's clock while it is watched (ApiClient.source_clock): `read_from`
    is a time, on the source's clock, at or before which no request answered in the meantime reached the source.

    Each response gives its Date less the request's whole round trip, as measured here: the Date is stamped while
    the response is originated, after the request arrived (and was truncated to the second, which only makes it
    earlier), so the request reached the source no earlier than that. The earliest over every response is a lower
    bound of the source's clock when the first of them reached it. One response without a usable Date and nothing
    can be said (read_from None): the first request may be the one."""

    def __init__(self):
        self._lock = threading.Lock()
        self._earliest: dt.datetime | None = None
        self.responses = 0
        self.undated = 0

    def observe(self, date: dt.datetime | None, round_trip_seconds: float) -> None:
        with self._lock:
            self.responses += 1
            if date is None:
                self.undated += 1
                return
            arrived_after = date - dt.timedelta(seconds=round_trip_seconds)
            if self._earliest is None or arrived_after < self._earliest:
                self._earliest = arrived_after

    @property
    def read_from(self) -> dt.datetime | None:
        with self._lock:
            return None if self.undated else self._earliest


class ApiClient:
    system = "api"

    def __init__(self, base_url: str, credentials: dict, *, timeout: float = 60.0, max_attempts: int = 8,
                 max_concurrency: int | None = None, verify: bool | str | ssl.SSLContext = True):
        self.base_url = base_url.rstrip("/")
        self._credentials = credentials
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._token_lock = threading.Lock()
        self.max_attempts = max_attempts
        self._slots = threading.BoundedSemaphore(max_concurrency) if max_concurrency else None
        if verify is True and self.base_url.startswith("http://"):
            # plain HTTP (the sandbox, a local proxy) uses no TLS: no CA bundle to load (httpx loads certifi's for
            # every client, 0.03 CPU-second of a fresh process); a context trusting no CA fails any https request
            verify = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.http = httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT_SECONDS)),
                                 verify=verify,
                                 limits=httpx.Limits(max_connections=max(10, max_concurrency or 0)))
        self.calls = 0        # every HTTP request sent, for benchmarks and tests
        self.write_calls = 0  # those that were not GET or queries
        self._clocks: list[SourceClock] = []  # watching the responses (source_clock)
        self._clocks_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"

    def close(self) -> None:
        self.http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- to be provided by each system -------------------------------------------------------------
    def _fetch_token(self) -> tuple[str, float]:
        """Return (access token, seconds it lives)."""
        raise NotImplementedError

    def _error_detail(self, response: httpx.Response) -> tuple[str, str | None, Any]:
        """(message, error code, parsed body) of an error response, as this system writes its error bodies."""
        return response.text[:300], None, None

    def _raise_for(self, response: httpx.Response) -> None:
        """Raise the ConnectorError of an error response (error_for)."""
        message, code, body = self._error_detail(response)
        raise error_for(self.system, response, message, code=code, body=body)

    def _is_write(self, method: str, path: str) -> bool:
        return method not in ("GET", "HEAD")

    def pages_in_cursor_order(self, resource: str) -> bool:
        """Whether a changed-records read of `resource` comes oldest change first (so that the cursor may move page
        by page); False where the API cannot sort it so."""
        return True

    @contextlib.contextmanager
    def source_clock(self) -> Iterator[SourceClock]:
        """Watch the source's clock in every response this client receives meanwhile (from any thread: a read's
        windows are read at once). Responses to other callers of the same client only make SourceClock.read_from
        earlier, never later than the first request of the watched read."""
        clock = SourceClock()
        with self._clocks_lock:
            self._clocks.append(clock)
        try:
            yield clock
        finally:
            with self._clocks_lock:
                self._clocks.remove(clock)

    # -- the one request function ------------------------------------------------------------------
    def token(self, force: bool = False) -> str:
        with self._token_lock:
            if force or self._token is None or time.monotonic() > self._token_expires_at:
                token, lifetime = self._fetch_token()
                self._token = token
                self._token_expires_at = time.monotonic() + max(lifetime - 30, lifetime / 2)
            return self._token

    def request(self, method: str, path: str, *, retry: bool = True, idempotent: bool = True,
                **kwargs) -> httpx.Response:
        """Send one API request with auth; retries transient failures (5xx, 429, timeouts, resets).

        A write that is not idempotent (`idempotent=False`: a create with no external id) is retried only when
        the answer proves that nothing was done (429, or 401 before a fresh token). After a timeout, a reset or a
        5xx the server may have committed it: the caller must look the record up before creating it again."""
        url = path if path.startswith("http") else self.base_url + path
        retryable = (lambda e: isinstance(e, ConnectorError) and e.transient) if idempotent else \
            (lambda e: isinstance(e, RateLimited))
        retryer = Retrying(
            stop=_stop(self.max_attempts if retry else 1),
            wait=_wait,
            retry=retry_if_exception(retryable),
            reraise=True,
        )
        return retryer(self._send_authenticated, method, url, **kwargs)

    def _send_authenticated(self, method: str, url: str, **kwargs) -> httpx.Response:
        response = self._send(method, url, self.token(), **kwargs)
        if response.status_code == 401:  # expired or revoked: one fresh token, then give up
            response = self._send(method, url, self.token(force=True), **kwargs)
        if response.status_code >= 400:
            self._raise_for(response)
        return response

    def _send(self, method: str, url: str, token: str | None, *, is_write: bool | None = None,
              **kwargs) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if self._slots:
            self._slots.acquire()
        try:
            self.calls += 1
            if self._is_write(method, url) if is_write is None else is_write:
                self.write_calls += 1
            sent = time.monotonic()
            response = self.http.request(method, url, headers=headers, **kwargs)
            if self._clocks:
                round_trip, date = time.monotonic() - sent, date_of(response)
                with self._clocks_lock:
                    watching = list(self._clocks)
                for clock in watching:
                    clock.observe(date, round_trip)
            return response
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise Unreachable(self.system, f"cannot connect to {httpx.URL(url).host}:{httpx.URL(url).port or ''} "
                              f"({type(exc).__name__}): is it up? check PSHUB_{self.system.upper()}_URL") from None
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise TransportError(self.system, f"{type(exc).__name__} calling {method} {httpx.URL(url).path}") from None
        finally:
            if self._slots:
                self._slots.release()

    def post_form_token(self, path: str, data: dict) -> dict:
        """Token endpoints (a path of this system, or a URL of an identity provider's): no bearer, form body,
        retried like any call; errors mapped by the subclass."""
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        retryer = Retrying(stop=_stop(self.max_attempts), wait=_wait, reraise=True,
                           retry=retry_if_exception(lambda e: isinstance(e, ConnectorError) and e.transient))

        def call():
            response = self._send("POST", url, None, data=data, is_write=False)
            if response.status_code >= 400:
                if response.status_code in (400, 401, 403):
                    try:
                        body = response.json()
                    except ValueError:
                        body = {}
                    detail = body.get("error_description") or body.get("error") if isinstance(body, dict) else None
                    raise AuthError(self.system, f"authentication failed: {detail or response.reason_phrase}; "
                                    f"check PSHUB_{self.system.upper()}_* credentials",
                                    status=response.status_code, code=(body or {}).get("error") if isinstance(body, dict) else None)
                self._raise_for(response)
            return response.json()

        return retryer(call)
