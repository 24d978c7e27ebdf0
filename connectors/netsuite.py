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
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from connectors.http import ApiClient, AuthError, ConnectorError, NotFoundError, TransportError, error_for, json_of
from connectors.paging import fetch_in_order

TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"
SUITEQL_PAGE_MAX = 1000
SUITEQL_RESULT_CAP = 100_000
# NetSuite Help, "Batch Operations" (https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/article_0127092747.html):
# "You can currently work with a maximum of 100 records in one batch request."
BATCH_MAX = 100
# NetSuite Help, "REST Web Services Request Processing"
# (https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/chapter_161251386312.html): an asynchronous request is
# answered with "Location: .../services/rest/async/v1/job/<id>"; the job, its tasks and each task's result live below it
ASYNC_JOB = "/services/rest/async/v1/job"
# How long one batch job may take before its outcome is called unknown, and the poll's backoff (seconds)
JOB_DEADLINE_SECONDS = 600.0
POLL_FIRST, POLL_MAX = 0.05, 2.0


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

    def _raise_for(self, response: httpx.Response) -> None:
        """As ApiClient's, keeping the Location header: a repeated idempotency key is refused with the Location of
        the job the key already made (NetSuite Help, "Sending an Asynchronous Request Using an Idempotency Key")."""
        message, code, body = self._error_detail(response)
        exc = error_for(self.system, response, message, code=code, body=body)
        exc.location = response.headers.get("Location")
        raise exc

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

    # -- batch writes (asynchronous jobs) ------------------------------------------------------------------
    def batch_upsert(self, record_type: str, records: list[tuple[str, dict]], *,
                     idempotency_key: str | None = None) -> list[dict]:
        """Upsert up to 100 records by external id in one asynchronous batch request and wait for its job; returns
        one result per record, in request order: {"id": internal id} or {"error_code": ..., "error": ...}.

        The request (NetSuite Help, "Batch Operations",
        https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/article_0127092747.html): PUT
        /record/v1/{type} with `Prefer: respond-async`, `Content-type: application/vnd.oracle.resource+json;
        type=collection` and the body {"items": [...]}; "PUT requests only support external ID for the upsert
        operation", each item carrying its externalId. An upsert by external id is idempotent, and the request
        carries an X-NetSuite-idempotency-key, kept across the retries of this call: a retry after a lost answer
        (timeout, reset, 5xx after the commit) is refused with the Location of the job the first attempt made, and
        that job is followed (no second write).

        The results. The documented async API gives a record's outcome only per task: GET .../job/{id}/task lists
        the tasks, GET .../task/{tid} tells whether one succeeded, GET .../task/{tid}/result gives its result
        ("Polling for the Status of a Completed Asynchronous Request", "Getting the Result of an Executed
        Request"): two or three calls per record would undo the batch. So: when the job itself reports
        progress "succeeded" the internal ids are read back with ONE SuiteQL query (`select id, externalid from
        <type> where externalid in (...)`); only a job that reports anything else has its tasks read, and only
        the failed tasks' results (the refusal of that record). The docs are silent on the job's progress values
        for a batch whose tasks partly failed and on the order of the task list: any value but "succeeded" is read
        task by task, and the task list is taken to be in item order (task i is item i)."""
        if not records:
            return []
        if len(records) > BATCH_MAX:
            raise ValueError(f"a NetSuite batch takes at most {BATCH_MAX} records, not {len(records)}")
        key = idempotency_key or str(uuid.uuid4())  # a UUID (RFC 4122), as the idempotency key is documented
        items = [{**fields, "externalId": external_id} for external_id, fields in records]
        job = self._submit_batch("PUT", f"/services/rest/record/v1/{record_type}", items, key)
        status = self._wait_for_job(job)
        ids = self._ids_by_external_id(record_type, [external_id for external_id, _ in records])
        if status.get("progress") == "succeeded":
            return [{"id": ids[e]} if e in ids else
                    {"error_code": "NOT_FOUND_AFTER_JOB", "error": f"the batch job {job} succeeded but no {record_type} "
                     f"has external id {e}", "unknown": True} for e, _ in records]
        failed = self._failed_tasks(job, len(records))
        out = []
        for index, (external_id, _) in enumerate(records):
            if index in failed:
                out.append(failed[index])
            elif external_id in ids:
                out.append({"id": ids[external_id]})
            else:
                out.append({"error_code": "NOT_FOUND_AFTER_JOB", "error": f"the batch job {job} reported no error for "
                            f"{external_id} but no {record_type} has it", "unknown": True})
        return out

    def batch_update(self, record_type: str, records: list[tuple[str, dict]], *,
                     idempotency_key: str | None = None) -> list[dict]:
        """PATCH up to 100 existing records, each by its internal id, in one asynchronous batch request and wait for
        its job; returns one result per record, in request order: {"id": internal id} or {"error_code": ...,
        "error": ...} ("unknown": True when the outcome is not known).

        The request (NetSuite Help, "Batch Operations",
        https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/article_0127092747.html): "You can update
        existing records using the PUT and PATCH operations"; PATCH /record/v1/{type}, the collection URL as the
        batch POST's, with the same headers; "PATCH and PUT requests have an internal or external ID specified in each
        item", and "You can specify both internal and external IDs in the request, but only one is used to match it to
        a record. The internal ID takes precedence over the external ID." So each item carries the record's internal
        id as `id` (the property a GET of the record answers) beside its fields. The page's own PATCH example is not
        in the text we could read: the `id` property, and the collection URL with no id in it, are our reading.

        The external id. A record made by hand takes the hub's external id with this PATCH (as the single PATCH in
        `update` sends it), so that later upserts by external id find it. An item carrying both ids is matched by
        its internal id; whether NetSuite then also writes the item's externalId to the record the docs do not say.
        The conservative reading: it may not. So the records are read back with ONE SuiteQL query by internal id
        (which the batch needs anyway: a succeeded job's tasks are not read, as in batch_upsert), and a record the
        job reports written but that does not hold its external id gets it by a single PATCH, as today.

        Retries: a PATCH of the same fields by internal id is idempotent (it sets the same values on the same
        record; it can never make a record), so a batch whose outcome is unknown may be sent again. Within this
        call the X-NetSuite-idempotency-key is kept across retries, so a retry after a lost answer follows the job
        the first attempt made. Task outcomes as in batch_upsert: the docs are silent on a partly failed job's
        progress and on the task list's order; any progress but "succeeded" is read task by task, task i is item i."""
        if not records:
            return []
        if len(records) > BATCH_MAX:
            raise ValueError(f"a NetSuite batch takes at most {BATCH_MAX} records, not {len(records)}")
        key = idempotency_key or str(uuid.uuid4())
        items = [{**fields, "id": str(record_id)} for record_id, fields in records]
        job = self._submit_batch("PATCH", f"/services/rest/record/v1/{record_type}", items, key)
        status = self._wait_for_job(job)
        failed = {} if status.get("progress") == "succeeded" else self._failed_tasks(job, len(records))
        held = self._external_ids_by_id(record_type, [str(record_id) for record_id, _ in records])
        out = []
        for index, (record_id, fields) in enumerate(records):
            record_id = str(record_id)
            if index in failed:
                out.append(failed[index])
            elif record_id not in held:
                out.append({"error_code": "NOT_FOUND_AFTER_JOB", "error": f"the batch job {job} reported no error for "
                            f"{record_type} {record_id} but there is no such record", "unknown": True})
            elif fields.get("externalId") not in (None, "") and held[record_id] != str(fields["externalId"]):
                try:  # the external id did not take (see above): set by id, one record
                    out.append({"id": self.update(record_type, record_id, {"externalId": fields["externalId"]})})
                except ConnectorError as exc:
                    out.append({"error_code": exc.code or type(exc).__name__, "error": exc.message,
                                "unknown": bool(exc.transient or exc.status is None or exc.status >= 500)})
            else:
                out.append({"id": record_id})
        return out

    def _external_ids_by_id(self, record_type: str, record_ids: list[str]) -> dict[str, str | None]:
        """One SuiteQL query: the external id each of these records holds (None if none); absent ids are absent."""
        query = (f"SELECT t.id, t.externalid FROM {record_type} t WHERE t.id IN "
                 f"{suiteql_literal([_as_id(r) for r in record_ids])}")
        return {str(r["id"]): (str(r["externalid"]) if r.get("externalid") not in (None, "") else None)
                for page in self.suiteql_pages(query) for r in page}

    def _submit_batch(self, method: str, path: str, items: list[dict], key: str) -> str:
        """Send the batch request; the job's id. A 202 Accepted with `Location: /services/rest/async/v1/job/<id>`
        ("Sending an Asynchronous Request",
        https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/subsect_161278579295.html). A key already used is
        answered "HTTP 400 Conflict", o:errorCode IDEMPOTENCY_ERROR, with the Location of the job it made ("Sending an
        Asynchronous Request Using an Idempotency Key",
        https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/subsect_164494900632.html): that job is ours."""
        headers = {"Prefer": "respond-async", "Content-Type": "application/vnd.oracle.resource+json; type=collection",
                   "X-NetSuite-Idempotency-Key": key}
        try:
            response = self.request(method, path, headers=headers, content=orjson.dumps({"items": items}))
            location = response.headers.get("Location")
        except ConnectorError as exc:
            location = getattr(exc, "location", None)
            if exc.code != "IDEMPOTENCY_ERROR" or not location:
                raise
        if not location:
            raise TransportError(self.system, f"the batch request was answered {response.status_code} without the "
                                              "Location of its job")
        return location.rstrip("/").rsplit("/", 1)[-1]

    def _wait_for_job(self, job: str, deadline: float = JOB_DEADLINE_SECONDS) -> dict:
        """Poll GET /async/v1/job/{id} until it reports "completed": true ("Sending an Asynchronous Request": the job
        has completed, id, progress and a link to its tasks). The poll sleeps between calls, 50 ms doubling up to
        2 s: a job of 100 records takes the server a while, and each poll counts against the account's limits. A
        job not completed within `deadline` is an unknown outcome (TransportError: the batch is sent again, by
        external id, which cannot make a second record)."""
        wait, give_up = POLL_FIRST, time.monotonic() + deadline
        while True:
            try:
                status = json_of(self.request("GET", f"{ASYNC_JOB}/{job}"))
            except NotFoundError:  # the job is gone: what it wrote is unknown
                raise TransportError(self.system, f"the batch job {job} is no longer known") from None
            if status.get("completed"):
                return status
            if time.monotonic() + wait > give_up:
                raise TransportError(self.system, f"the batch job {job} did not complete within {deadline:.0f} s")
            time.sleep(wait)
            wait = min(POLL_MAX, wait * 2)

    def _ids_by_external_id(self, record_type: str, external_ids: list[str]) -> dict[str, str]:
        """One SuiteQL query: the internal ids of these external ids (the record type's table has its name)."""
        query = (f"SELECT t.id, t.externalid FROM {record_type} t WHERE t.externalid IN "
                 f"{suiteql_literal(list(external_ids))}")
        return {str(r["externalid"]): str(r["id"]) for page in self.suiteql_pages(query) for r in page}

    def _failed_tasks(self, job: str, count: int) -> dict[int, dict]:
        """The failed tasks of a completed job, by item index: their results' error code and message. A failed
        task's result is taken to be an error body as a synchronous request's (o:errorDetails with detail and
        o:errorCode): the docs show only a succeeded task's result."""
        tasks = [str(t.get("id") or _link_id(t)) for page in self._collection(f"{ASYNC_JOB}/{job}/task") for t in page]
        failed: dict[int, dict] = {}
        for index, task in enumerate(tasks[:count]):
            state = json_of(self.request("GET", f"{ASYNC_JOB}/{job}/task/{task}"))
            if state.get("progress") == "succeeded":
                continue
            try:
                result = json_of(self.request("GET", f"{ASYNC_JOB}/{job}/task/{task}/result"))
            except NotFoundError:
                result = {}
            details = (result.get("o:errorDetails") or [{}]) if isinstance(result, dict) else [{}]
            failed[index] = {"error_code": details[0].get("o:errorCode") or "TASK_FAILED",
                             "error": details[0].get("detail") or (result.get("title") if isinstance(result, dict)
                                                                   else None) or
                             f"task {task} of batch job {job}: {state.get('progress')}"}
            status = result.get("status") if isinstance(result, dict) else None
            if not details[0] or (isinstance(status, int) and status >= 500):
                failed[index]["unknown"] = True  # no refusal of the record: the server's fault, sent again later
        for index in range(len(tasks), count):  # a task the job does not list: its outcome is unknown
            failed[index] = {"error_code": "NO_TASK", "error": f"batch job {job} lists no task for item {index + 1}",
                             "unknown": True}
        return failed

    def _collection(self, path: str) -> Iterator[list[dict]]:
        """The pages of a REST collection (items, hasMore, offset)."""
        offset = 0
        while True:
            body = json_of(self.request("GET", path, params={"limit": 1000, "offset": offset}))
            items = body.get("items", [])
            yield items
            if not body.get("hasMore") or not items:
                return
            offset += len(items)


def _link_id(item: dict) -> str:
    """The last segment of an item's self link (a collection item may carry only its links)."""
    for link in item.get("links") or []:
        if link.get("rel") == "self" and link.get("href"):
            return link["href"].rstrip("/").rsplit("/", 1)[-1]
    return ""
