"""NetSuite REST: OAuth2 client credentials (JWT assertion), SuiteQL pages, records with external-id upsert."""
from __future__ import annotations

import functools
import datetime as dt
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from connectors.http import ApiClient, AuthError, json_of
from connectors.paging import fetch_in_order

TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"
SUITEQL_PAGE_MAX = 1000
SUITEQL_RESULT_CAP = 100_000


def suiteql_literal(value: Any) -> str:
    """A value as a SuiteQL literal. The one place values enter a SuiteQL string."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "'T'" if value else "'F'"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dt.datetime):
        return f"TO_TIMESTAMP('{value.strftime('%Y-%m-%d %H:%M:%S')}', 'YYYY-MM-DD HH24:MI:SS')"
    if isinstance(value, dt.date):
        return f"TO_DATE('{value.isoformat()}', 'YYYY-MM-DD')"
    if isinstance(value, (list, tuple, set)):
        return "(" + ", ".join(suiteql_literal(v) for v in value) + ")"
    return "'" + str(value).replace("'", "''") + "'"


def parse_datetime(value: str) -> dt.datetime:
    """Timestamps as the hub selects them: TO_CHAR(col, 'YYYY-MM-DD HH24:MI:SS'), in UTC."""
    return dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.timezone.utc)


_TO_CHAR = {"datetime": "YYYY-MM-DD HH24:MI:SS", "date": "YYYY-MM-DD"}


def select_list(columns: list[tuple[str, str | None]], alias: str = "t") -> str:
    """Columns of a SuiteQL SELECT; dates through TO_CHAR, since SuiteQL otherwise answers in the account's
    own date format (M/D/YYYY, no time)."""
    return ", ".join(f"TO_CHAR({alias}.{name}, {suiteql_literal(_TO_CHAR[typ])}) AS {name}" if typ in _TO_CHAR
                     else f"{alias}.{name}" for name, typ in columns)


# deletedrecord names transactions by their own type (Invoice, CustInvc, ...); the hub reads them all from
# the transaction table
_TRANSACTION_TYPES = {"transaction", "invoice", "custinvc", "customerpayment", "custpymt", "creditmemo", "custcred",
                      "salesorder", "salesord", "cashsale", "journalentry", "journal", "vendorbill"}


def deleted_record_table(record: dict) -> str | None:
    """The SuiteQL table a deletedrecord row refers to ("Time Bill" -> timebill, "CustInvc" -> transaction)."""
    kind = str(record.get("type") or record.get("recordtypeid") or "").strip().lower().replace(" ", "")
    if not kind:
        return None
    return "transaction" if kind in _TRANSACTION_TYPES else kind


def client_assertion(client_id: str, certificate_id: str, private_key_pem: str, audience: str) -> str:
    """The signed JWT NetSuite's OAuth 2.0 client-credentials flow takes (NetSuite Help, "OAuth 2.0 Client
    Credentials Setup": header kid = the certificate id, alg ES256 or PS256 (RS256 is refused since 2024.1); claims
    iss = the integration's client id, scope rest_webservices, aud = the token endpoint, iat, exp at most an hour
    later). Signed by PyJWT, a maintained JWT library, with the EC (P-256) or RSA key of the uploaded certificate."""
    try:
        key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise AuthError("netsuite", f"the NetSuite private key is not a readable PEM key ({exc}); check "
                                    "PSHUB_NETSUITE_PRIVATE_KEY") from None
    if isinstance(key, ec.EllipticCurvePrivateKey):
        algorithm = "ES256"
    elif isinstance(key, rsa.RSAPrivateKey):
        algorithm = "PS256"
    else:
        raise AuthError("netsuite", "the NetSuite private key must be an EC (P-256) or RSA key")
    now = int(time.time())
    claims = {"iss": client_id, "scope": ["rest_webservices"], "aud": audience, "iat": now, "exp": now + 3000,
              "jti": uuid.uuid4().hex}
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": certificate_id, "typ": "JWT"})


def _rows(body: dict) -> list[dict]:
    """The items of a SuiteQL page without their (always empty) `links`."""
    items = body.get("items", [])
    for item in items:
        item.pop("links", None)
    return items


def _as_id(value) -> int | str:
    """Internal ids are integers: compare them as numbers, not text, when narrowing a window."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return str(value)


class NetSuiteClient(ApiClient):
    system = "netsuite"

    def __init__(self, base_url: str, credentials: dict, *, concurrency: int = 5, **kw):
        super().__init__(base_url, credentials, max_concurrency=concurrency, **kw)
        self._max_concurrency = concurrency
        self.concurrency = concurrency
        self.result_cap = SUITEQL_RESULT_CAP  # rows one SuiteQL query can answer; past it the window narrows

    def _fetch_token(self) -> tuple[str, float]:
        c = self._credentials
        body = self.post_form_token(TOKEN_PATH, {
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": client_assertion(c["client_id"], c["certificate_id"], c["private_key"],
                                                 self.base_url + TOKEN_PATH),
        })
        return body["access_token"], float(body.get("expires_in", 3600))

    def _error_detail(self, response: httpx.Response) -> tuple[str, str | None, object]:
        try:
            body = response.json()
        except ValueError:
            body = {}
        details = body.get("o:errorDetails") or [{}] if isinstance(body, dict) else [{}]
        code = details[0].get("o:errorCode")
        message = details[0].get("detail") or (body.get("title") if isinstance(body, dict) else None) or response.text[:300]
        return message, code, body

    def _is_write(self, method: str, path: str) -> bool:
        return method not in ("GET", "HEAD") and "/query/v1/suiteql" not in path

    # -- reads -------------------------------------------------------------------------------------
    def suiteql_pages(self, query: str, *, page_size: int = SUITEQL_PAGE_MAX) -> Iterator[list[dict]]:
        """Lazy pages of a SuiteQL query (at most 100,000 results: narrow the query's window past that)."""
        offset = 0
        while True:
            response = self.request("POST", "/services/rest/query/v1/suiteql",
                                    params={"limit": page_size, "offset": offset},
                                    headers={"Prefer": "transient"}, json={"q": query})
            body = json_of(response)
            yield body.get("items", [])
            if not body.get("hasMore"):
                return
            offset += len(body.get("items", [])) or page_size

    def _suiteql_page(self, query: str, offset: int, limit: int) -> dict:
        return json_of(self.request("POST", "/services/rest/query/v1/suiteql", params={"limit": limit, "offset": offset},
                                    headers={"Prefer": "transient"}, json={"q": query}))

    def count(self, table: str, where: list[str]) -> int:
        query = f"SELECT COUNT(*) AS n FROM {table} t" + (f" WHERE {' AND '.join(where)}" if where else "")
        return int(_rows(self._suiteql_page(query, 0, 1))[0]["n"])

    def changed_windows(self, table: str, columns: list[tuple[str, str | None]], *, id_field: str,
                        updated_field: str, since: dt.datetime | None = None,
                        window_rows: int = 3_000) -> list[Iterator[list[dict]]]:
        """The rows changed at or after `since`, as disjoint lastmodifieddate windows of at most about
        `window_rows` rows each, to be read at the same time (one window when there are fewer rows).

        Windows are planned with COUNT queries, halving a window's time span until it is small enough: a
        query over a narrow window is cheap for the server (it sorts only that window) and stays far below
        the 100,000-row cap. Rows with no lastmodifieddate get a window of their own on full reads, so that
        they reach quarantine instead of being skipped.
        """
        updated = f"t.{updated_field}"
        lower = [f"{updated} >= {suiteql_literal(since)}"] if since is not None else []
        total = self.count(table, lower)
        read = functools.partial(self.changed_pages, table, columns, id_field=id_field, updated_field=updated_field)
        if total <= window_rows:
            return [read(since=since)]
        fmt = suiteql_literal(_TO_CHAR["datetime"])
        span = _rows(self._suiteql_page(
            f"SELECT TO_CHAR(MIN({updated}), {fmt}) AS lo, TO_CHAR(MAX({updated}), {fmt}) AS hi FROM {table} t"
            + (f" WHERE {lower[0]}" if lower else ""), 0, 1))[0]
        lo, hi = parse_datetime(span["lo"]), parse_datetime(span["hi"]) + dt.timedelta(seconds=1)

        def split(start: dt.datetime, end: dt.datetime, rows: int) -> list[tuple[dt.datetime, dt.datetime]]:
            if rows <= window_rows or end - start <= dt.timedelta(seconds=1):
                return [(start, end)] if rows else []
            middle = (start + (end - start) / 2).replace(microsecond=0)
            first = self.count(table, [f"{updated} >= {suiteql_literal(start)}", f"{updated} < {suiteql_literal(middle)}"])
            return split(start, middle, first) + split(middle, end, rows - first)

        # windows are read at the same time, so each reads its own pages one by one (memory stays bounded)
        windows = [read(since=start, until=end, workers=1) for start, end in split(lo, hi, total)]
        if since is None:
            windows.append(read(null_updated=True, workers=1))
        return windows

    def changed_pages(self, table: str, columns: list[tuple[str, str | None]], *, id_field: str,
                      updated_field: str, since: dt.datetime | None = None, until: dt.datetime | None = None,
                      null_updated: bool = False, page_size: int = SUITEQL_PAGE_MAX,
                      workers: int | None = None) -> Iterator[list[dict]]:
        """Lazy pages of the rows of `table` changed at or after `since` (and before `until`), oldest change
        first; with null_updated, the rows that have no `updated_field` at all.

        One query answers at most 100,000 rows. Past that, the window is narrowed: the next query starts
        right after the last row read, by (updated_field, id_field), so no row is skipped or read twice even
        when many share a timestamp. Within a window, the pages after the first are fetched `workers` at a
        time (bounded also by the client's concurrency limit) and yielded in order.
        """
        workers = workers or self._max_concurrency or 1
        after: tuple[dt.datetime, int | str] | None = None
        while True:
            # the table is aliased and every column qualified: `transaction` is a reserved word elsewhere
            updated, rid = f"t.{updated_field}", f"t.{id_field}"
            where = []
            if since is not None:
                where.append(f"{updated} >= {suiteql_literal(since)}")
            if until is not None:
                where.append(f"{updated} < {suiteql_literal(until)}")
            if null_updated:
                where.append(f"{updated} IS NULL")
            if after is not None:
                ts, last_id = suiteql_literal(after[0]), suiteql_literal(after[1])
                where.append(f"({updated} > {ts} OR ({updated} = {ts} AND {rid} > {last_id}))")
            query = (f"SELECT {select_list(columns)} FROM {table} t"
                     + (f" WHERE {' AND '.join(where)}" if where else "")
                     + f" ORDER BY {updated} ASC, {rid} ASC")
            first = self._suiteql_page(query, 0, page_size)
            items = _rows(first)
            yield items
            last = items[-1] if items else None
            total = int(first.get("totalResults") or len(items))
            if not first.get("hasMore"):
                return
            window = min(total, self.result_cap)
            offsets = range(page_size, window, page_size)
            for body in fetch_in_order(lambda off: self._suiteql_page(query, off, page_size), offsets,
                                       workers=workers):
                items = _rows(body)
                if items:
                    last = items[-1]
                    yield items
            if total <= self.result_cap or last is None:
                return
            after = (parse_datetime(last[updated_field]), _as_id(last[id_field]))

    # -- writes ------------------------------------------------------------------------------------
    def upsert(self, record_type: str, external_id: str, fields: dict) -> str:
        """Create or update a record by external id; returns its internal id."""
        response = self.request("PUT", f"/services/rest/record/v1/{record_type}/eid:{external_id}", json=fields)
        return self._id_from(response, record_type, external_id)

    def _id_from(self, response: httpx.Response, record_type: str, external_id: str) -> str:
        location = response.headers.get("Location")
        if location:
            return location.rstrip("/").rsplit("/", 1)[-1]
        found = self.request("GET", f"/services/rest/record/v1/{record_type}/eid:{external_id}").json()
        return str(found["id"])

    def get(self, record_type: str, record_id: str) -> dict:
        return self.request("GET", f"/services/rest/record/v1/{record_type}/{record_id}").json()

    def update(self, record_type: str, record_id: str, fields: dict) -> str:
        """PATCH a record by internal id (e.g. to stamp an external id on one made by hand)."""
        self.request("PATCH", f"/services/rest/record/v1/{record_type}/{record_id}", json=fields)
        return str(record_id)
