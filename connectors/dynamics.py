"""Dynamics 365 Finance (finance and operations apps): Microsoft identity platform token, OData v4 data entities.

- Token: client credentials against https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token with
  scope=https://<environment>/.default (Microsoft identity platform, "OAuth 2.0 client credentials flow"); the access
  token lives `expires_in` seconds and there is no refresh token: a new one is asked for.
- Reads: GET /data/<EntitySet>?cross-company=true&$select=..&$filter=ModifiedDateTime ge <ts>&$orderby=... with
  `Prefer: odata.maxpagesize=N`; the next page is the answer's `@odata.nextLink`, followed as given (OData v4
  part 1, 11.2.5.7 "server-driven paging": the link is opaque). `cross-company=true` reads every legal entity
  (finance and operations, "Cross-company behavior of data entities"); `dataAreaId` is the legal entity.
- Limits: 429 with Retry-After in seconds ("Service protection API limits"), honoured by connectors/http.py.
- Writes by natural key: POST /data/<EntitySet> creates (a second POST of the same key is refused, so a lost answer
  is never a double), PATCH /data/<EntitySet>(dataAreaId='x',Key='y') updates; `$batch` change sets for volume
  (OData v4 part 1, 11.7), each change set all or nothing.
Entity and field names: sandbox/dynamics.py (and shared/API_CONTRACTS.md), with what is confirmed and what is not.
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import orjson

from connectors.http import (ApiClient, AuthError, ConnectorError, NotFoundError, RateLimited, ServerError,
                             ValidationError, json_of)

TOKEN_URL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
PAGE_SIZE = 5000  # asked for with Prefer: odata.maxpagesize (the service's own cap is 10,000)
BATCH_MAX = 200   # changes per $batch change set (the hub's choice: a failed change set is retried whole)
KEY_SEPARATOR = "|"  # between the values of a composite natural key in the landed id
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z")  # a DateTimeOffset as the service sends it


def odata_literal(value: Any) -> str:
    """A value as an OData $filter or key literal. The one place values enter an OData query."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return f"{value.isoformat()}T00:00:00Z"
    return "'" + str(value).replace("'", "''") + "'"


def key_segment(key: dict) -> str:
    """(dataAreaId='nbuk',CustomerAccount='C1'): the key of one entity in a URL."""
    return "(" + ",".join(f"{k}={odata_literal(v)}" for k, v in key.items()) + ")"


def parse_datetime(value: str) -> dt.datetime:
    """DateTimeOffset values as the service sends them: 2026-01-02T03:04:05Z (fractions and offsets allowed)."""
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.timezone.utc)


class BatchFailed(ValidationError):
    """A $batch change set was refused as a whole (nothing of it was written)."""


class DynamicsClient(ApiClient):
    system = "dynamics"

    def __init__(self, base_url: str, credentials: dict, *, page_size: int = PAGE_SIZE,
                 keys: dict[str, tuple[str, ...]] | None = None, integer_keys: set[str] | None = None, **kw):
        super().__init__(base_url, credentials, max_concurrency=kw.pop("max_concurrency", 4), **kw)
        self.page_size = page_size
        self.keys = keys or {}  # entity set -> natural key fields (the catalog's), for the landed id
        self.integer_keys = integer_keys or set()  # "Entity.Field" of the integer key fields

    # -- auth ------------------------------------------------------------------------------------------------
    def _fetch_token(self) -> tuple[str, float]:
        creds = self._credentials
        missing = [k for k in ("tenant_id", "client_id", "client_secret") if not creds.get(k)]
        if missing:
            raise AuthError(self.system, "missing " + ", ".join(f"PSHUB_DYNAMICS_{k.upper()}" for k in missing))
        url = creds.get("token_url") or TOKEN_URL.format(tenant=creds["tenant_id"])
        # the resource's application ID URI is the environment's URL; /.default asks for the app's granted roles
        body = self.post_form_token(url, {"grant_type": "client_credentials", "client_id": creds["client_id"],
                                          "client_secret": creds["client_secret"],
                                          "scope": f"{self.base_url}/.default"})
        return body["access_token"], float(body.get("expires_in") or 3599)

    def _raise_for(self, response: httpx.Response) -> None:
        status = response.status_code
        try:
            body = json_of(response) if response.content else {}
        except ValueError:
            body = {}
        err = body.get("error") if isinstance(body, dict) else None
        message = (err.get("message") if isinstance(err, dict) else None) or response.reason_phrase or str(status)
        inner = err.get("innererror") if isinstance(err, dict) else None
        if isinstance(inner, dict) and inner.get("message") and inner["message"] not in message:
            message = f"{message} ({inner['message']})"
        kw = {"status": status, "code": (err or {}).get("code") if isinstance(err, dict) else None, "body": body}
        if status == 401:
            raise AuthError(self.system, "the access token was refused; check PSHUB_DYNAMICS_* (the app registration "
                                         "must be added in Finance under System administration > Microsoft Entra "
                                         "applications)", **kw)
        if status == 429:
            retry_after = response.headers.get("Retry-After")
            raise RateLimited(self.system, message, retry_after=float(retry_after) if retry_after else None, **kw)
        if status == 404:
            raise NotFoundError(self.system, message, **kw)
        if status >= 500:
            raise ServerError(self.system, message, **kw)
        raise ValidationError(self.system, message, **kw)

    def _is_write(self, method: str, path: str) -> bool:
        return method not in ("GET", "HEAD")

    # -- reads -----------------------------------------------------------------------------------------------
    def pages(self, entity: str, *, select: tuple[str, ...] | None = None, filter: str | None = None,
              orderby: str | None = None, cross_company: bool = True) -> Iterator[list[dict]]:
        """Lazy pages of an entity set, following @odata.nextLink (each link is fetched as given)."""
        params: dict[str, str] = {}
        if cross_company:
            params["cross-company"] = "true"
        if select:
            params["$select"] = ",".join(select)
        if filter:
            params["$filter"] = filter
        if orderby:
            params["$orderby"] = orderby
        url: str | None = f"/data/{entity}"
        headers = {"Prefer": f"odata.maxpagesize={self.page_size}", "Accept": "application/json"}
        first = True
        while url:
            response = self.request("GET", url, params=params if first else None, headers=headers)
            body = json_of(response)
            first = False
            yield [self._keyed(entity, r) for r in body.get("value", [])]
            url = body.get("@odata.nextLink")

    def _keyed(self, entity: str, record: dict) -> dict:
        """The record with its natural key joined into `_key` (the landed id), OData annotations dropped."""
        out = {k: v for k, v in record.items() if not k.startswith("@odata.")}
        key = self.keys.get(entity)
        if key:
            out["_key"] = KEY_SEPARATOR.join(str(out.get(k, "")) for k in key)
        return out

    def changed_pages(self, entity: str, fields: tuple[str, ...], *, since: dt.datetime | None,
                      updated_field: str = "ModifiedDateTime") -> Iterator[list[dict]]:
        """Records modified at or after `since` (all when None), oldest change first (then by key, so that equal
        stamps page stably)."""
        key = self.keys.get(entity, ())
        select = tuple(dict.fromkeys([*key, *fields, updated_field]))
        flt = f"{updated_field} ge {odata_literal(since)}" if since is not None else None
        order = ",".join([f"{updated_field} asc", *(f"{k} asc" for k in key)])
        return self.pages(entity, select=select, filter=flt, orderby=order)

    def list_ids(self, entity: str, params: dict | None = None) -> Iterator[list[str]]:
        """Every record's landed id (its natural key), page by page: the service reports no deletes."""
        key = self.keys[entity]
        for page in self.pages(entity, select=key, orderby=",".join(f"{k} asc" for k in key)):
            yield [r["_key"] for r in page]

    def _key_value(self, entity: str, field: str, landed: str) -> Any:
        """A key field's value from its landed text: integers unquoted, dates (FiscalPeriods' StartDate and EndDate)
        as DateTimeOffset literals, the rest as strings."""
        if f"{entity}.{field}" in self.integer_keys:
            return int(landed)
        if _DATETIME.fullmatch(landed):
            return parse_datetime(landed)
        return landed

    def get_by_ids(self, entity: str, ids: list[str], params: dict | None = None) -> list[dict]:
        """The records of the given landed ids that still exist."""
        key = self.keys[entity]
        found: list[dict] = []
        for start in range(0, len(ids), 50):  # 50 keys a request keep the URL short
            clauses = []
            for landed in ids[start:start + 50]:
                values = landed.split(KEY_SEPARATOR)
                clauses.append("(" + " and ".join(f"{k} eq {odata_literal(self._key_value(entity, k, v))}"
                                                  for k, v in zip(key, values)) + ")")
            for page in self.pages(entity, select=key, filter=" or ".join(clauses)):
                found.extend(page)
        return found

    # -- writes ----------------------------------------------------------------------------------------------
    def create(self, entity: str, record: dict) -> dict:
        """POST one record. Not retried after a lost answer (the caller looks the key up first): a repeat of the
        same key is refused by the service, never a second record."""
        response = self.request("POST", f"/data/{entity}", json=record, idempotent=False)
        return json_of(response)

    def update(self, entity: str, key: dict, fields: dict) -> None:
        """PATCH by natural key: the same PATCH twice leaves the same record, so it is retried like a read."""
        self.request("PATCH", f"/data/{entity}{key_segment(key)}", json=fields)

    def get(self, entity: str, key: dict) -> dict | None:
        try:
            return json_of(self.request("GET", f"/data/{entity}{key_segment(key)}", params={"cross-company": "true"}))
        except NotFoundError:
            return None

    def upsert(self, entity: str, key: dict, fields: dict) -> str:
        """Create or update by natural key: PATCH, and POST when the key does not exist yet. Returns created or
        updated. A POST whose answer was lost and that is sent again meets its own record (refused as a duplicate)
        and ends as an update, so a retry never makes a second record."""
        try:
            self.update(entity, key, fields)
            return "updated"
        except NotFoundError:
            pass
        try:
            self.create(entity, {**key, **fields})
            return "created"
        except ConnectorError as exc:
            if exc.transient or isinstance(exc, ValidationError):
                if self.get(entity, key) is not None:  # it got there after all
                    self.update(entity, key, fields)
                    return "created"
            raise

    def batch(self, changes: list[tuple[str, str, dict | None, dict]]) -> list[int]:
        """One $batch request with one change set of (method, entity, key or None for POST, body); all or
        nothing. Returns the status of each change in order; BatchFailed when the change set was refused."""
        if len(changes) > BATCH_MAX:
            raise ValueError(f"at most {BATCH_MAX} changes per change set")
        batch_id, changeset = f"batch_{uuid.uuid4().hex}", f"changeset_{uuid.uuid4().hex}"
        parts = []
        for n, (method, entity, key, body) in enumerate(changes, start=1):
            target = f"{self.base_url}/data/{entity}{key_segment(key) if key else ''}"
            parts.append(f"--{changeset}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
                         f"Content-ID: {n}\r\n\r\n{method} {target} HTTP/1.1\r\n"
                         f"Content-Type: application/json; type=entry\r\n\r\n{orjson.dumps(body).decode()}\r\n")
        payload = (f"--{batch_id}\r\nContent-Type: multipart/mixed; boundary={changeset}\r\n\r\n" + "".join(parts)
                   + f"--{changeset}--\r\n--{batch_id}--\r\n")
        # a change set that committed and whose answer was lost would be applied twice by a blind retry only for
        # POSTs, which the service refuses as duplicates (the whole change set then fails and the caller re-plans)
        response = self.request("POST", "/data/$batch", content=payload.encode(),
                                headers={"Content-Type": f"multipart/mixed; boundary={batch_id}",
                                         "Accept": "application/json"},
                                idempotent=all(m == "PATCH" for m, *_ in changes))
        statuses = [int(s) for s in re.findall(rb"HTTP/1\.1 (\d{3})", response.content)]
        if len(statuses) == 1 and (len(changes) != 1 or statuses[0] >= 400):  # the change set's one error
            message = re.search(rb'"message":\s*"([^"]*)"', response.content)
            raise BatchFailed(self.system, "the change set was refused: "
                              + (message.group(1).decode() if message else f"HTTP {statuses[0]}"),
                              status=statuses[0])
        return statuses

