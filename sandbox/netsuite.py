"""NetSuite REST web services: OAuth 2.0 client credentials (JWT bearer assertion, ES256), SuiteQL,
and the record service (GET, POST, PATCH, PUT eid: upsert, DELETE) for the record types the hub uses."""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from sandbox import schema
from sandbox.http import ApiError, App, Request, Response
from sandbox.store import parse_datetime, ns_datetime
from sandbox.suiteql import SuiteQLError, translate
import sqlite3

log = logging.getLogger("sandbox")
REC = "/services/rest/record/v1"
ASYNC = "/services/rest/async/v1/job"
MAX_RESULTS = 100_000
# NetSuite Help, "Batch Operations" (https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/article_0127092747.html)
BATCH_MAX = 100
COLLECTION_TYPE = "application/vnd.oracle.resource+json; type=collection"
JOBS_KEPT = 5000  # jobs (and their idempotency keys) the sandbox remembers
TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
          429: "Too Many Requests", 500: "Internal Server Error"}
TYPES = {400: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1",
         401: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2",
         404: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.5",
         405: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.6",
         429: "https://www.rfc-editor.org/rfc/rfc6585.html#section-4",
         500: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.1"}
# REST reference fields -> the record type they point to
REFS = {"subsidiary": "subsidiary", "currency": "currency", "terms": "term", "parent": None, "customer": None,
        "employee": "employee", "item": "item", "entitystatus": "entitystatus", "entity": None, "invoice": "transaction",
        "custrecord_pshub_ir_project": "job", "custrecord_pshub_ir_currency": "currency",
        "custrecord_pshub_ir_invoice": "transaction", "postingperiod": "accountingperiod"}


def ns_error(status: int, detail: str, code: str, path: str | None = None) -> ApiError:
    d = {"detail": detail, "o:errorCode": code}
    if path:
        d["o:errorPath"] = path
    return ApiError(status, {"type": TYPES.get(status, TYPES[400]), "title": TITLES.get(status, "Error"),
                             "status": status, "o:errorDetails": [d]})


def _b64url_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class NetSuite(App):
    name = "netsuite"

    def __init__(self, sandbox):
        super().__init__(sandbox)
        self.counts: OrderedDict[str, int] = OrderedDict()
        self.count_lock = threading.Lock()
        self.used_jti: set = set()
        # asynchronous jobs: id -> job; idempotency key -> job id; processed by "REST Async Processors" (NetSuite
        # Help, "REST Web Services Request Processing": as many as the account's SuiteCloud Plus licenses; two here)
        self.jobs: OrderedDict[int, dict] = OrderedDict()
        self.job_keys: dict[str, int] = {}
        self.jobs_lock = threading.Lock()
        self.next_job = 0
        self.processors = ThreadPoolExecutor(max_workers=2, thread_name_prefix="netsuite-async")
        r = self.route
        r("POST", "/services/rest/auth/oauth2/v1/token", "POST token", auth=False, write=False)(self.token)
        r("POST", "/services/rest/query/v1/suiteql", "POST suiteql", write=False)(self.suiteql)
        r("GET", REC + "/(?P<rtype>\\w+)", "GET record list")(self.list_records)
        r("GET", REC + "/(?P<rtype>\\w+)/(?P<rid>[^/]+)", "GET record")(self.get_record)
        r("POST", REC + "/(?P<rtype>\\w+)", "POST record")(self.create)
        r("PUT", REC + "/(?P<rtype>\\w+)", "PUT record batch")(self.batch)
        r("PATCH", REC + "/(?P<rtype>\\w+)", "PATCH record batch")(self.batch)
        r("GET", ASYNC + "/(?P<job>\\d+)", "GET async job")(self.job_status)
        r("GET", ASYNC + "/(?P<job>\\d+)/task/?", "GET async job tasks")(self.job_tasks)
        r("GET", ASYNC + "/(?P<job>\\d+)/task/(?P<task>\\d+)", "GET async job task")(self.job_task)
        r("GET", ASYNC + "/(?P<job>\\d+)/task/(?P<task>\\d+)/result", "GET async job task result")(self.job_task_result)
        r("PATCH", REC + "/(?P<rtype>\\w+)/(?P<rid>[^/]+)", "PATCH record")(self.patch)
        r("PUT", REC + "/(?P<rtype>\\w+)/(?P<rid>eid:[^/]+)", "PUT record eid upsert")(self.put_eid)
        r("DELETE", REC + "/(?P<rtype>\\w+)/(?P<rid>[^/]+)", "DELETE record")(self.delete)

    # -- errors and limits ------------------------------------------------------------------------------
    def unauthorized(self):
        return ns_error(401, "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI "
                             "at Setup > Users/Roles > User Management > View Login Audit Trail.", "INVALID_LOGIN")

    def server_error(self):
        return ns_error(500, "An unexpected error occurred. Error ID: " + secrets.token_hex(8), "UNEXPECTED_ERROR")

    def too_many(self):
        return ns_error(429, "Request blocked by the request limit. Try again later.", "CONCURRENCY_LIMIT_EXCEEDED")

    def not_found(self, path):
        return ns_error(404, f"The requested resource {path} was not found.", "NONEXISTENT_ID")

    def bad_request(self, message):
        return ns_error(400, message, "INVALID_CONTENT")

    def check_concurrency(self):
        limit = self.faults.get("concurrency_limit")
        if limit is not None:
            with self.inflight_lock:
                if self.inflight >= int(limit):
                    return ns_error(429, "The request could not be processed because the concurrency limit for "
                                         "the account has been exceeded.", "CONCURRENCY_LIMIT_EXCEEDED")
        return None

    # -- auth ---------------------------------------------------------------------------------------------
    def token(self, req: Request) -> Response:
        form = req.form()
        creds = self.sandbox.credentials["netsuite"]
        if form.get("grant_type") != "client_credentials":
            raise ApiError(400, {"error": "unsupported_grant_type"})
        if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            raise ApiError(400, {"error": "invalid_request"})
        try:
            head_b, body_b, sig_b = form.get("client_assertion", "").split(".")
            header = json.loads(_b64url_decode(head_b))
            claims = json.loads(_b64url_decode(body_b))
            sig = _b64url_decode(sig_b)
        except (ValueError, json.JSONDecodeError):
            raise ApiError(400, {"error": "invalid_request"}) from None
        if header.get("alg") != "ES256" or header.get("kid") != creds["certificate_id"]:
            raise ApiError(401, {"error": "invalid_client"})
        if claims.get("iss") != creds["client_id"]:
            raise ApiError(401, {"error": "invalid_client"})
        if len(sig) != 64:
            raise ApiError(401, {"error": "invalid_client"})
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        try:
            self.sandbox.netsuite_public_key().verify(der, f"{head_b}.{body_b}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise ApiError(401, {"error": "invalid_client"}) from None
        now = time.time()
        scope = claims.get("scope", "")
        scopes = scope if isinstance(scope, list) else str(scope).replace(",", " ").split()
        aud = claims.get("aud", "")
        iat, exp = claims.get("iat"), claims.get("exp")
        if ("rest_webservices" not in scopes or not str(aud).endswith("/services/rest/auth/oauth2/v1/token")
                or not isinstance(iat, (int, float)) or not isinstance(exp, (int, float))
                or exp - iat > 3600 or exp < now or iat > now + 300):
            raise ApiError(400, {"error": "invalid_grant"})
        tok = "eyJraWQiOiJzYW5kYm94In0." + secrets.token_urlsafe(64)
        self.sandbox.tokens.issue(self.name, tok)
        return Response(200, {"access_token": tok, "expires_in": str(self.sandbox.tokens.ttl), "token_type": "bearer"})

    # -- SuiteQL --------------------------------------------------------------------------------------------
    def suiteql(self, req: Request) -> Response:
        try:
            limit = int(req.arg("limit", "1000"))
            offset = int(req.arg("offset", "0"))
        except ValueError:
            raise ns_error(400, "Invalid value for the request parameter 'limit' or 'offset'.", "INVALID_PARAMETER") from None
        if not 1 <= limit <= 1000:
            raise ns_error(400, "Invalid value for the request parameter 'limit'. Provide a value between 1 and 1000.",
                           "INVALID_PARAMETER", "limit")
        if offset < 0:
            raise ns_error(400, "Invalid value for the request parameter 'offset'.", "INVALID_PARAMETER", "offset")
        body = req.json()
        q = body.get("q") if isinstance(body, dict) else None
        if not isinstance(q, str):
            raise ns_error(400, "The request body must be a JSON object with the query in the 'q' property.",
                           "INVALID_CONTENT")
        try:
            sql, names = translate(q)
        except SuiteQLError as e:
            raise ns_error(400, str(e), "INVALID_PARAMETER") from None
        c = self.sandbox.store.conn()
        key = hashlib.sha1(sql.encode()).hexdigest()
        try:
            with self.count_lock:
                total = self.counts.get(key)
            if total is None or offset == 0:
                total = c.execute(f"SELECT COUNT(*) FROM ({sql})").fetchone()[0]
                with self.count_lock:
                    self.counts[key] = total
                    while len(self.counts) > 500:
                        self.counts.popitem(last=False)
            if offset >= MAX_RESULTS or (offset and offset >= total):
                if offset >= MAX_RESULTS:
                    raise ns_error(400, "Invalid search query. The search exceeded the maximum number of results "
                                        f"({MAX_RESULTS}). Narrow the search.", "INVALID_PARAMETER")
            n = max(0, min(limit, MAX_RESULTS - offset))
            rows = c.execute(f"SELECT * FROM ({sql}) LIMIT {n} OFFSET {offset}").fetchall()
        except sqlite3.Error as e:
            raise ns_error(400, f"Invalid search query. Detailed unprocessed description follows. Search error "
                                f"occurred: {e}", "INVALID_PARAMETER") from None
        items = []
        for row in rows:
            item = {"links": []}
            for name, v in zip(names, row):
                if v is None:
                    continue
                if isinstance(v, float):
                    v = str(int(v)) if v.is_integer() else repr(v)
                item[name] = str(v)
            items.append(item)
        capped = min(total, MAX_RESULTS)
        has_more = offset + len(rows) < capped
        base = f"{self.base_url}/services/rest/query/v1/suiteql"
        links = [{"rel": "first", "href": f"{base}?limit={limit}&offset=0"}]
        if has_more:
            links.append({"rel": "next", "href": f"{base}?limit={limit}&offset={offset + limit}"})
        last = max(0, (capped - 1) // limit * limit)
        links.append({"rel": "last", "href": f"{base}?limit={limit}&offset={last}"})
        links.append({"rel": "self", "href": f"{base}?limit={limit}&offset={offset}"})
        return Response(200, {"links": links, "count": len(items), "hasMore": has_more, "items": items,
                              "offset": offset, "totalResults": total})

    # -- records ----------------------------------------------------------------------------------------
    def _rtype(self, rtype: str) -> str:
        t = rtype.lower()
        if t not in schema.NS_RECORD_TYPES:
            raise ns_error(400, f"Record type '{rtype}' does not exist.", "INVALID_RECORD_TYPE")
        return t

    def _row(self, t: str, rid: str) -> dict | None:
        c = self.sandbox.store.conn()
        tbl = schema.table("netsuite", t)
        if rid.startswith("eid:"):
            cur = c.execute(f'SELECT * FROM "{tbl}" WHERE externalid = ?', (rid[4:],))
        else:
            if not rid.isdigit():
                raise ns_error(400, f"The record instance ID '{rid}' is not valid.", "INVALID_ID")
            cur = c.execute(f'SELECT * FROM "{tbl}" WHERE id = ?', (int(rid),))
        names = [d[0] for d in cur.description]
        r = cur.fetchone()
        return dict(zip(names, r)) if r else None

    def _render(self, t: str, row: dict) -> dict:
        types = schema.fields("netsuite", t)
        out = {"links": [{"rel": "self", "href": f"{self.base_url}{REC}/{t}/{row['id']}"}]}
        for col, v in row.items():
            if v is None:
                continue
            typ = types[col]
            name = schema.ns_rest_name(col)
            if typ == "ref":
                target = REFS.get(col) or ("customer" if col in ("parent", "customer", "entity") else col)
                out[name] = {"id": str(v), "links": [{"rel": "self", "href": f"{self.base_url}{REC}/{target}/{v}"}]}
            elif typ == "bool":
                out[name] = v == "T"
            elif typ == "id":
                out[name] = str(v)
            elif typ == "datetime":
                out[name] = v.replace(" ", "T") + "Z"
            else:
                out[name] = v
        return out

    def get_record(self, req, rtype, rid):
        t = self._rtype(rtype)
        row = self._row(t, rid)
        if row is None:
            raise ns_error(404, "The record instance does not exist. Provide a valid record instance ID.", "NONEXISTENT_ID")
        return Response(200, self._render(t, row))

    def list_records(self, req, rtype):
        t = self._rtype(rtype)
        limit = min(1000, max(1, int(req.arg("limit", "1000"))))
        offset = max(0, int(req.arg("offset", "0")))
        c = self.sandbox.store.conn()
        tbl = schema.table("netsuite", t)
        total = c.execute(f'SELECT COUNT(*) FROM "{tbl}"').fetchone()[0]
        ids = [r[0] for r in c.execute(f'SELECT id FROM "{tbl}" ORDER BY id LIMIT ? OFFSET ?', (limit, offset))]
        base = f"{self.base_url}{REC}/{t}"
        items = [{"links": [{"rel": "self", "href": f"{base}/{i}"}], "id": str(i)} for i in ids]
        has_more = offset + len(ids) < total
        links = [{"rel": "self", "href": f"{base}?limit={limit}&offset={offset}"}]
        if has_more:
            links.append({"rel": "next", "href": f"{base}?limit={limit}&offset={offset + limit}"})
        return Response(200, {"links": links, "count": len(items), "hasMore": has_more, "items": items,
                              "offset": offset, "totalResults": total})

    def _values(self, t: str, body) -> dict:
        if not isinstance(body, dict):
            raise ns_error(400, "The request body must be a JSON object.", "INVALID_CONTENT")
        types = schema.fields("netsuite", t)
        rest = {k.lower(): v for k, v in schema.NS_REST_NAMES[t].items()}
        c = self.sandbox.store.conn()
        out = {}
        for k, v in body.items():
            if k in ("links", "id"):
                continue
            col = rest.get(k.lower())
            if col is None:
                raise ns_error(400, f"Error while accessing a resource. You have entered an invalid field name: {k}.",
                               "INVALID_FIELD", k)
            if col in schema.NS_RECORD_READONLY:
                continue
            typ = types[col]
            if v is None:
                out[col] = None
            elif typ == "ref":
                ref = v.get("id") if isinstance(v, dict) else v
                if isinstance(v, dict) and ref is None and v.get("externalId") is not None:
                    target = REFS.get(col) or ("job" if col == "customer" and t in ("timebill",) else "customer")
                    hit = c.execute(f'SELECT id FROM "{schema.table("netsuite", target)}" WHERE externalid = ?',
                                    (str(v["externalId"]),)).fetchone()
                    ref = hit[0] if hit else None
                try:
                    out[col] = int(ref)
                except (TypeError, ValueError):
                    raise ns_error(400, f"Invalid {k} reference key {ref}.", "INVALID_KEY_OR_REF", k) from None
                if not self._ref_exists(t, col, out[col]):
                    raise ns_error(400, f"Invalid {k} reference key {out[col]}.", "INVALID_KEY_OR_REF", k)
            elif typ == "bool":
                if not isinstance(v, bool):
                    raise ns_error(400, f"Invalid value for field {k}: expected a boolean.", "INVALID_FLD_VALUE", k)
                out[col] = "T" if v else "F"
            elif typ in ("float", "int"):
                try:
                    out[col] = float(v) if typ == "float" else int(v)
                except (TypeError, ValueError):
                    raise ns_error(400, f"Invalid number {v!r} for field {k}.", "INVALID_FLD_VALUE", k) from None
            elif typ == "date":
                s = str(v)[:10]
                try:
                    time.strptime(s, "%Y-%m-%d")
                except ValueError:
                    raise ns_error(400, f"Invalid date {v!r} for field {k}; use YYYY-MM-DD.", "INVALID_FLD_VALUE", k) from None
                out[col] = s
            elif typ == "datetime":
                out[col] = ns_datetime(parse_datetime(str(v)))
            else:
                out[col] = str(v)
        return out

    def _ref_exists(self, t: str, col: str, rid: int) -> bool:
        target = REFS.get(col)
        c = self.sandbox.store.conn()
        if target is None:  # an entity: customer or project
            tables = ["ns_customer", "ns_job"] if col in ("parent", "customer", "entity") else []
            return any(c.execute(f'SELECT 1 FROM "{x}" WHERE id = ?', (rid,)).fetchone() for x in tables)
        return c.execute(f'SELECT 1 FROM "{schema.table("netsuite", target)}" WHERE id = ?', (rid,)).fetchone() is not None

    def _check_business(self, t: str, values: dict, existing: dict | None) -> None:
        merged = {**(existing or {}), **values}
        missing = [schema.ns_rest_name(c) for c in schema.NS_REQUIRED.get(t, []) if merged.get(c) in (None, "")]
        if missing:
            raise ns_error(400, f"Please enter value(s) for: {', '.join(missing)}", "USER_ERROR", missing[0])
        if t in ("timebill", "expensereport"):
            day = merged.get("trandate")
            c = self.sandbox.store.conn()
            closed = c.execute("SELECT periodname FROM ns_accountingperiod WHERE startdate <= ? AND enddate >= ? AND closed = 'T'",
                               (day, day)).fetchone() if day else None
            if closed:
                raise ns_error(400, f"The accounting period {closed[0]} is closed. You cannot post to a closed period.",
                               "USER_ERROR", "tranDate")

    def _write(self, t: str, values: dict, existing: dict | None) -> int:
        store = self.sandbox.store
        now = store.stamp("netsuite")
        tbl = schema.table("netsuite", t)
        types = schema.fields("netsuite", t)
        c = store.conn()
        if existing is None:
            rid = store.new_ns_id(t)
            row = {**values, "id": rid, "lastmodifieddate": now}
            for k in ("datecreated", "created", "createddate"):
                if k in types:
                    row[k] = now
            if t == "timebill":
                row.setdefault("billed", "F")
                row.setdefault("approvalstatus", "2")
                row.setdefault("isbillable", "T")
                if row.get("subsidiary") is None and row.get("employee"):
                    s = c.execute("SELECT subsidiary FROM ns_employee WHERE id = ?", (row["employee"],)).fetchone()
                    row["subsidiary"] = s[0] if s else None
            if t == "expensereport":
                row.setdefault("billed", "F")
                row.setdefault("tranid", f"EXP{rid:06d}")
            if t == "customrecord_pshub_invoice_request":
                row.setdefault("custrecord_pshub_ir_status", "Pending")
            if t in ("customer", "job"):
                row.setdefault("isinactive", "F")
                row.setdefault("entityid", f"{'CUST' if t == 'customer' else 'PRJ'}-{rid}")
            if t == "customer":
                row.setdefault("creditholdoverride", "AUTO")
            if t == "job":
                row.setdefault("customer", row.get("parent"))
                row.setdefault("entitystatus", 2)
                if row.get("subsidiary") is None and row.get("parent"):
                    s = c.execute("SELECT subsidiary, currency FROM ns_customer WHERE id = ?", (row["parent"],)).fetchone()
                    if s:
                        row["subsidiary"] = s[0]
                        row.setdefault("currency", s[1])
            cols = list(row)
            c.execute(f'INSERT INTO "{tbl}" ({", ".join(chr(34) + k + chr(34) for k in cols)}) VALUES ({", ".join("?" * len(cols))})',
                      [row[k] for k in cols])
            if t == "customer":
                rel = store.next_ids("ns_customersubsidiaryrelationship")
                c.execute("INSERT INTO ns_customersubsidiaryrelationship VALUES (?, ?, ?, 'T', ?)",
                          (rel, rid, row.get("subsidiary"), now))
            return rid
        values = {**values, "lastmodifieddate": now}
        sets = ", ".join(f'"{k}" = ?' for k in values)
        c.execute(f'UPDATE "{tbl}" SET {sets} WHERE id = ?', [*values.values(), existing["id"]])
        return existing["id"]

    def _done(self, t: str, rid: int) -> Response:
        resp = Response(204, None, {"Location": f"{self.base_url}{REC}/{t}/{rid}"})
        resp.records_written = 1
        return resp

    def create(self, req, rtype):
        if _is_batch(req):
            return self.batch(req, rtype)
        t = self._rtype(rtype)
        values = self._values(t, req.json())
        with self.sandbox.store.write_lock:
            if values.get("externalid") and self._row(t, "eid:" + values["externalid"]):
                raise ns_error(400, f"A record with external ID {values['externalid']} already exists.",
                               "DUP_RCRD", "externalId")
            self._check_business(t, values, None)
            rid = self._write(t, values, None)
        return self._done(t, rid)

    def patch(self, req, rtype, rid):
        t = self._rtype(rtype)
        values = self._values(t, req.json())
        with self.sandbox.store.write_lock:
            row = self._row(t, rid)
            if row is None:
                raise ns_error(404, "The record instance does not exist. Provide a valid record instance ID.", "NONEXISTENT_ID")
            self._check_business(t, values, row)
            self._write(t, values, row)
        return self._done(t, row["id"])

    def put_eid(self, req, rtype, rid):
        t = self._rtype(rtype)
        values = self._values(t, req.json())
        values["externalid"] = rid[4:]
        with self.sandbox.store.write_lock:
            row = self._row(t, rid)
            self._check_business(t, values, row)
            new = self._write(t, values, row)
        return self._done(t, new)

    def delete(self, req, rtype, rid):
        t = self._rtype(rtype)
        with self.sandbox.store.write_lock:
            row = self._row(t, rid)
            if row is None:
                raise ns_error(404, "The record instance does not exist. Provide a valid record instance ID.", "NONEXISTENT_ID")
            delete_record(self.sandbox.store, t, row["id"])
        resp = Response(204)
        resp.records_written = 1
        return resp


    # -- batch operations: asynchronous jobs --------------------------------------------------------------
    def batch(self, req, rtype):
        """POST (create), PUT (upsert by external id) or PATCH (update by internal id, else external id) of up to
        100 records of one type (NetSuite Help, "Batch Operations",
        https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/article_0127092747.html): `Prefer: respond-async`
        and the collection content type are required; the body is {"items": [...]}. Answered 202 Accepted with
        Preference-Applied and `Location: /services/rest/async/v1/job/<id>` ("Sending an Asynchronous Request"); the
        items are written afterwards by a processor, each with the single-record rules. A repeated
        X-NetSuite-idempotency-key is refused "400 Conflict", IDEMPOTENCY_ERROR, with the Location of its job
        ("Sending an Asynchronous Request Using an Idempotency Key"): nothing is written a second time."""
        if not _is_batch(req):
            raise ns_error(400, "Batch requests must be sent with the headers 'Prefer: respond-async' and "
                                f"'Content-Type: {COLLECTION_TYPE}'.", "INVALID_HEADER")
        t = self._rtype(rtype)
        body = req.json()
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise ns_error(400, "The request body must be a JSON object with the records in the 'items' property.",
                           "INVALID_CONTENT")
        if len(items) > BATCH_MAX:
            raise ns_error(400, f"A batch request can contain at most {BATCH_MAX} records.", "INVALID_CONTENT")
        key = req.headers.get("x-netsuite-idempotency-key")
        with self.jobs_lock:
            if key and key in self.job_keys:
                raise ApiError(400, {"type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.10",
                                     "title": "Conflict", "status": 400,
                                     "o:errorDetails": [{"detail": "A request with the same idempotency key is already "
                                                         "submitted. See the \"Location\" header for a link to the "
                                                         "previously submitted job", "o:errorCode": "IDEMPOTENCY_ERROR"}]},
                               {"Location": f"{ASYNC}/{self.job_keys[key]}", "Preference-Applied": "respond-async"})
            self.next_job += 1
            job = {"id": self.next_job, "type": t, "method": req.method, "items": items, "completed": False,
                   "progress": "pending", "tasks": [], "start": None, "end": None}
            self.jobs[job["id"]] = job
            if key:
                self.job_keys[key] = job["id"]
                job["key"] = key
            while len(self.jobs) > JOBS_KEPT:
                _, old = self.jobs.popitem(last=False)
                self.job_keys.pop(old.get("key"), None)
        self.processors.submit(self._run_job, job)
        return Response(202, None, {"Location": f"{ASYNC}/{job['id']}", "Preference-Applied": "respond-async"})

    def _run_job(self, job: dict) -> None:
        """Write the items one by one with the single-record endpoints' rules; a refused item is its task's
        failure, the others are written (one transaction, one savepoint per item)."""
        t, method = job["type"], job["method"]
        job["start"] = self._now_iso()
        tasks = []
        c = self.sandbox.store.conn()
        try:
            with self.sandbox.store.write_lock:
                c.execute("BEGIN IMMEDIATE")
                try:
                    for item in job["items"]:
                        c.execute("SAVEPOINT item")
                        try:
                            rid = self._batch_item(t, method, item)
                            tasks.append({"progress": "succeeded", "record": rid})
                            c.execute("RELEASE SAVEPOINT item")
                        except ApiError as e:
                            c.execute("ROLLBACK TO SAVEPOINT item")
                            c.execute("RELEASE SAVEPOINT item")
                            tasks.append({"progress": "failed", "error": e.body})
                        except (ValueError, sqlite3.Error) as e:
                            c.execute("ROLLBACK TO SAVEPOINT item")
                            c.execute("RELEASE SAVEPOINT item")
                            tasks.append({"progress": "failed", "error": ns_error(400, str(e), "INVALID_CONTENT").body})
                    c.execute("COMMIT")
                except BaseException:
                    c.execute("ROLLBACK")
                    raise
        except Exception as e:  # the whole job failed: no item written
            tasks = [{"progress": "failed", "error": self.server_error().body} for _ in job["items"]]
            log.error("netsuite batch job %s failed: %s", job["id"], e)
        written = sum(task["progress"] == "succeeded" for task in tasks)
        self.stats.add_records(written)
        job["tasks"] = tasks
        job["end"] = self._now_iso()
        job["progress"] = "succeeded" if written == len(tasks) else "failed"
        job["completed"] = True

    def _now_iso(self) -> str:
        return self.sandbox.store.now().strftime("%Y-%m-%dT%H:%M:%SZ")  # the firm's clock, as records are stamped

    def _batch_item(self, t: str, method: str, item) -> int:
        if not isinstance(item, dict):
            raise ns_error(400, "Each item of a batch request must be a JSON object.", "INVALID_CONTENT")
        rid = item.get("id")
        eid = item.get("externalId")
        values = self._values(t, item)
        if method == "POST":
            if values.get("externalid") and self._row(t, "eid:" + values["externalid"]):
                raise ns_error(400, f"A record with external ID {values['externalid']} already exists.",
                               "DUP_RCRD", "externalId")
            self._check_business(t, values, None)
            return self._write(t, values, None)
        if method == "PUT":  # "PUT requests only support external ID for the upsert operation"
            if eid in (None, ""):
                raise ns_error(400, "An upsert in a batch request needs the record's externalId.", "INVALID_CONTENT",
                               "externalId")
            values["externalid"] = str(eid)
            row = self._row(t, "eid:" + str(eid))
            self._check_business(t, values, row)
            return self._write(t, values, row)
        # PATCH: "PATCH and PUT requests have an internal or external ID specified in each item", "only one is used to
        # match it to a record. The internal ID takes precedence over the external ID." Whether an item matched by its
        # internal id also writes its externalId the docs do not say: the sandbox writes it, unless the fault
        # batch_patch_by_id_keeps_external_id is set (the other reading, which the connector must survive)
        if rid not in (None, ""):
            row = self._row(t, str(rid))
            if self.faults.get("batch_patch_by_id_keeps_external_id"):
                values.pop("externalid", None)
        elif eid not in (None, ""):
            row = self._row(t, "eid:" + str(eid))
        else:
            raise ns_error(400, "An update in a batch request needs the record's id or externalId.", "INVALID_CONTENT")
        if row is None:
            raise ns_error(404, "The record instance does not exist. Provide a valid record instance ID.",
                           "NONEXISTENT_ID")
        self._check_business(t, values, row)
        return self._write(t, values, row)

    def _job(self, job) -> dict:
        with self.jobs_lock:
            found = self.jobs.get(int(job))
        if found is None:
            raise ns_error(404, f"The async job {job} does not exist.", "NONEXISTENT_ID")
        return found

    def job_status(self, req, job):
        """"Sending an Asynchronous Request": links, completed, id, progress, task (its link)."""
        j = self._job(job)
        base = f"{self.base_url}{ASYNC}/{j['id']}"
        body = {"links": [{"rel": "self", "href": base}], "completed": j["completed"], "id": str(j["id"]),
                "progress": j["progress"], "task": {"links": [{"rel": "self", "href": base + "/task"}]}}
        if j["start"]:
            body["startTime"] = j["start"]
        if j["end"]:
            body["endTime"] = j["end"]
        return Response(200, body)

    def job_tasks(self, req, job):
        """The task list ("Polling for the Status of a Completed Asynchronous Request": GET .../job/1/task/), a
        collection: one task per item, in item order."""
        j = self._job(job)
        base = f"{self.base_url}{ASYNC}/{j['id']}/task"
        n = len(j["tasks"]) if j["completed"] else 0
        limit = min(1000, max(1, int(req.arg("limit", "1000"))))
        offset = max(0, int(req.arg("offset", "0")))
        ids = list(range(offset + 1, min(n, offset + limit) + 1))
        items = [{"links": [{"rel": "self", "href": f"{base}/{i}"}], "id": str(i)} for i in ids]
        return Response(200, {"links": [{"rel": "self", "href": base}], "count": len(items),
                              "hasMore": offset + len(items) < n, "items": items, "offset": offset, "totalResults": n})

    def _task(self, job, task) -> tuple[dict, dict]:
        j = self._job(job)
        i = int(task)
        if not j["completed"] or not 1 <= i <= len(j["tasks"]):
            raise ns_error(404, f"The task {task} of async job {job} does not exist.", "NONEXISTENT_ID")
        return j, j["tasks"][i - 1]

    def job_task(self, req, job, task):
        """"Polling for the Status of a Completed Asynchronous Request": links (related: its result), completed,
        endTime, id, progress ("succeeded"), startTime."""
        j, tk = self._task(job, task)
        base = f"{self.base_url}{ASYNC}/{j['id']}/task/{task}"
        return Response(200, {"links": [{"rel": "related", "href": base + "/result"}, {"rel": "self", "href": base}],
                              "completed": True, "endTime": j["end"], "id": str(task), "progress": tk["progress"],
                              "startTime": j["start"]})

    def job_task_result(self, req, job, task):
        """"Getting the Result of an Executed Request". A succeeded write's result: the record's link (the docs show
        only a read's result, the record); a failed one: the error body the single-record request would answer."""
        j, tk = self._task(job, task)
        if tk["progress"] != "succeeded":
            return Response(200, tk["error"])
        return Response(200, {"links": [{"rel": "self", "href": f"{self.base_url}{REC}/{j['type']}/{tk['record']}"}],
                              "id": str(tk["record"])})


def _is_batch(req) -> bool:
    return ("respond-async" in req.headers.get("prefer", "").lower()
            and "type=collection" in req.headers.get("content-type", "").replace(" ", "").lower())


def delete_record(store, t: str, rid: int) -> None:
    """Delete a record and leave NetSuite's deletedrecord trace (used by the API and by the clock)."""
    c = store.conn()
    tbl = schema.table("netsuite", t)
    row = c.execute(f'SELECT externalid FROM "{tbl}" WHERE id = ?', (rid,)).fetchone() if "externalid" in schema.fields("netsuite", t) else None
    c.execute(f'DELETE FROM "{tbl}" WHERE id = ?', (rid,))
    did = store.next_ids("ns_deletedrecord")
    c.execute("INSERT INTO ns_deletedrecord VALUES (?, ?, ?, ?, ?, ?)",
              (did, str(rid), t, t, row[0] if row else None, store.stamp("netsuite")))
