"""Salesforce REST: OAuth2 client credentials or JWT bearer, SOQL query/queryAll as lazy pages, sObject Collections upsert."""
from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization

from connectors.http import ApiClient, AuthError, LimitExceeded, RateLimited, error_for, json_of

COLLECTION_MAX = 200


def soql_literal(value: Any) -> str:
    """A value as a SOQL literal. The one place values enter a SOQL string."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")  # datetimes are unquoted
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set)):
        return "(" + ", ".join(soql_literal(v) for v in value) + ")"
    escaped = re.sub(r"([\\'\"])", r"\\\1", str(value)).replace("\n", "\\n").replace("\r", "\\r")
    return f"'{escaped}'"


def parse_datetime(value: str) -> dt.datetime:
    """Salesforce datetimes: 2013-05-20T20:49:32.000+0000."""
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
LOGIN_URL = "https://login.salesforce.com"


def jwt_assertion(client_id: str, username: str, private_key_pem: str, audience: str = LOGIN_URL) -> str:
    """The JWT of Salesforce's OAuth 2.0 JWT bearer flow (Salesforce Help, "OAuth 2.0 JWT Bearer Flow for
    Server-to-Server Integration"): RS256 with the private key of the certificate uploaded to the connected app;
    iss = its consumer key, sub = the pre-approved user's username, aud = https://login.salesforce.com
    (https://test.salesforce.com for sandboxes), exp within a few minutes. Signed by PyJWT."""
    try:
        key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise AuthError("salesforce", f"the connected app's private key is not a readable PEM key ({exc}); check "
                                      "PSHUB_SALESFORCE_PRIVATE_KEY") from None
    now = int(time.time())
    return jwt.encode({"iss": client_id, "sub": username, "aud": audience, "exp": now + 180}, key, algorithm="RS256")


def is_daily_limit(message: str) -> bool:
    """REQUEST_LIMIT_EXCEEDED for the daily allocation, not the concurrency limit (told apart by the message)."""
    return "TotalRequests" in (message or "")


class SalesforceClient(ApiClient):
    system = "salesforce"

    def __init__(self, base_url: str, credentials: dict, api_version: str = "v62.0", **kw):
        super().__init__(base_url, credentials, **kw)
        self.api_version = api_version
        self.instance_url = self.base_url

    def _fetch_token(self) -> tuple[str, float]:
        """The JWT bearer flow when a username and a private key are given (a connected app with a certificate),
        else the client-credentials flow."""
        c = self._credentials
        if c.get("private_key") and c.get("username"):
            form = {"grant_type": JWT_BEARER, "assertion": jwt_assertion(
                c["client_id"], c["username"], c["private_key"], c.get("login_url") or LOGIN_URL)}
        else:
            form = {"grant_type": "client_credentials", "client_id": c["client_id"],
                    "client_secret": c["client_secret"]}
        body = self.post_form_token("/services/oauth2/token", form)
        self.instance_url = body.get("instance_url", self.base_url).rstrip("/")
        return body["access_token"], 3600.0  # no expires_in in the response; a 401 triggers a refresh

    def _error_detail(self, response: httpx.Response) -> tuple[str, str | None, object]:
        try:
            body = response.json()
        except ValueError:
            body = None
        first = body[0] if isinstance(body, list) and body and isinstance(body[0], dict) else (
            body if isinstance(body, dict) else {})
        code = first.get("errorCode") or first.get("error")
        message = first.get("message") or first.get("error_description") or response.text[:300]
        return message, code, body

    def _raise_for(self, response: httpx.Response) -> None:
        message, code, body = self._error_detail(response)
        status = response.status_code
        kw = {"status": status, "code": code, "body": body}
        if status == 403 and code == "REQUEST_LIMIT_EXCEEDED":
            # One code, two limits (Salesforce REST API Developer Guide, "Status Codes and Error Responses"; "API
            # Request Limits and Allocations"): the daily allocation ("TotalRequests Limit exceeded.") does not
            # come back by waiting, so the object stops until a later run; the concurrent long-running request
            # limit ("ConcurrentRequests ..." / "ConcurrentPerOrgLongTxn ...") frees up within seconds: back off.
            if is_daily_limit(message):
                raise LimitExceeded(self.system, f"daily API request limit of the org spent ({message}); "
                                    "the next run resumes from the last landed batch", **kw)
            raise RateLimited(self.system, f"concurrent long-running request limit ({message}); backing off", **kw)
        if code == "SERVER_UNAVAILABLE":  # Salesforce's own "come back later", whatever the status
            retry_after = response.headers.get("Retry-After")
            raise RateLimited(self.system, message, retry_after=float(retry_after) if retry_after else None, **kw)
        raise error_for(self.system, response, message, code=code, body=body)

    def _is_write(self, method: str, path: str) -> bool:
        return method not in ("GET", "HEAD")

    def _api(self, path: str) -> str:
        return f"{self.instance_url}/services/data/{self.api_version}{path}"

    # -- reads -------------------------------------------------------------------------------------
    def query_pages(self, soql: str, *, include_deleted: bool = False,
                    batch_size: int | None = None) -> Iterator[list[dict]]:
        """Lazy pages of records for a SOQL query, following nextRecordsUrl to the last page."""
        self.token()
        headers = {"Sforce-Query-Options": f"batchSize={batch_size}"} if batch_size else {}
        endpoint = "/queryAll" if include_deleted else "/query"
        response = self.request("GET", self._api(endpoint), params={"q": soql}, headers=headers)
        while True:
            body = json_of(response)
            del response  # its raw body is no longer needed while the page is landed
            yield body["records"]
            if body.get("done", True) or not body.get("nextRecordsUrl"):
                return
            response = self.request("GET", self.instance_url + body["nextRecordsUrl"], headers=headers)

    def describe_fields(self, sobject: str) -> list[str]:
        """The queryable field names of an sObject (compound address/location fields left out: their parts are
        fields of their own)."""
        self.token()
        body = self.request("GET", self._api(f"/sobjects/{sobject}/describe")).json()
        return [f["name"] for f in body.get("fields", []) if f.get("type") not in ("address", "location")]

    def changed_pages(self, sobject: str, fields: tuple[str, ...], *, since: dt.datetime | None = None,
                      updated_field: str = "SystemModstamp", include_deleted: bool = True) -> Iterator[list[dict]]:
        """Records of `sobject` changed at or after `since` (deleted ones too, with IsDeleted = true), oldest
        change first; the `attributes` of each record (type and url) are dropped."""
        where = f" WHERE {updated_field} >= {soql_literal(since)}" if since is not None else ""
        soql = f"SELECT {', '.join(fields)} FROM {sobject}{where} ORDER BY {updated_field} ASC, Id ASC"
        for page in self.query_pages(soql, include_deleted=include_deleted):
            for record in page:
                record.pop("attributes", None)
            yield page

    # -- writes ------------------------------------------------------------------------------------
    def upsert_collection(self, sobject: str, external_id_field: str, records: list[dict]) -> list[dict]:
        """Upsert up to 200 records by external id; per-record results in request order (allOrNone false)."""
        if len(records) > COLLECTION_MAX:
            raise ValueError(f"at most {COLLECTION_MAX} records per collection call")
        self.token()
        payload = {"allOrNone": False,
                   "records": [{"attributes": {"type": sobject}, **r} for r in records]}
        response = self.request("PATCH", self._api(f"/composite/sobjects/{sobject}/{external_id_field}"),
                                json=payload)
        return response.json()

    def update_collection(self, sobject: str, records: list[dict]) -> list[dict]:
        """Update up to 200 records by Id; per-record results in request order."""
        if len(records) > COLLECTION_MAX:
            raise ValueError(f"at most {COLLECTION_MAX} records per collection call")
        self.token()
        payload = {"allOrNone": False,
                   "records": [{"attributes": {"type": sobject}, **r} for r in records]}
        return self.request("PATCH", self._api("/composite/sobjects"), json=payload).json()
