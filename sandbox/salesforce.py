"""Salesforce REST API (v62.0 paths; any vNN.N accepted): OAuth client credentials, SOQL query and
queryAll with query locators, sObject rows, single upsert by external id, sObject Collections."""
from __future__ import annotations

import base64
import re
import secrets
import threading
import time
import uuid
from collections import OrderedDict

import jwt as pyjwt

from sandbox import schema
from sandbox.http import ApiError, App, Request, Response
from sandbox.soql import SoqlError, parse
from sandbox.store import parse_datetime, sf_datetime

V = r"/services/data/(?P<ver>v\d+\.\d)"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
PAGE_DEFAULT = 2000
KEYSET_FIELDS = {"Id", "SystemModstamp", "CreatedDate", "LastModifiedDate"}
REQUIRED = {"Account": ["Name"], "Opportunity": ["Name", "StageName", "CloseDate"],
            "OpportunityLineItem": ["OpportunityId"], "User": ["Username", "LastName"], "ERP_Invoice__c": ["Name"],
            "pse__Proj__c": ["Name"], "Contact": ["LastName"]}


def _err(status: int, code: str, message: str, fields=None) -> ApiError:
    body = {"message": message, "errorCode": code}
    if fields is not None:
        body["fields"] = fields
    return ApiError(status, [body])


class Salesforce(App):
    name = "salesforce"

    def __init__(self, sandbox):
        super().__init__(sandbox)
        self.locators: OrderedDict[str, dict] = OrderedDict()
        self.loc_lock = threading.Lock()
        # fields the integration user can no longer see: removed at the source, or hidden by field-level security
        # (see hide_field)
        self.hidden_fields: set[tuple[str, str]] = set()
        r = self.route
        r("POST", "/services/oauth2/token", "POST /services/oauth2/token", auth=False, write=False)(self.token)
        r("GET", "/services/data/?", "GET /services/data")(self.versions)
        r("GET", V + "/?", "GET /services/data/vXX.X")(self.resources)
        r("GET", V + "/limits/?", "GET limits")(self.limits)
        r("GET", V + "/(?P<kind>query|queryAll)/?", "GET query")(self.query)
        r("GET", V + "/(?P<kind>query|queryAll)/(?P<loc>[^/]+)", "GET query (next page)")(self.query_more)
        r("GET", V + "/sobjects/(?P<obj>\\w+)/describe/?", "GET describe")(self.describe)
        r("GET", V + "/sobjects/(?P<obj>\\w+)/(?P<rid>\\w{15,18})", "GET sobject")(self.get_record)
        r("POST", V + "/sobjects/(?P<obj>\\w+)/?", "POST sobject")(self.create)
        r("PATCH", V + "/sobjects/(?P<obj>\\w+)/(?P<rid>\\w{15,18})", "PATCH sobject")(self.update)
        r("DELETE", V + "/sobjects/(?P<obj>\\w+)/(?P<rid>\\w{15,18})", "DELETE sobject")(self.delete)
        r("PATCH", V + "/sobjects/(?P<obj>\\w+)/(?P<ext>\\w+)/(?P<val>.+)", "PATCH sobject upsert")(self.upsert)
        r("GET", V + "/sobjects/(?P<obj>\\w+)/(?P<ext>\\w+)/(?P<val>.+)", "GET sobject by external id")(self.get_by_ext)
        r("POST", V + "/composite/sobjects/?", "POST composite/sobjects")(self.collection_create)
        r("PATCH", V + "/composite/sobjects/?", "PATCH composite/sobjects")(self.collection_update)
        r("PATCH", V + "/composite/sobjects/(?P<obj>\\w+)/(?P<ext>\\w+)/?", "PATCH composite/sobjects upsert")(
            self.collection_upsert)

    # -- errors and limits ------------------------------------------------------------------------------
    def unauthorized(self):
        return _err(401, "INVALID_SESSION_ID", "Session expired or invalid")

    def server_error(self):
        return _err(500, "UNKNOWN_EXCEPTION", f"An unexpected error occurred. Please include this ErrorId if you "
                                              f"contact support: {self.rng.randint(10**8, 10**9)}-{self.rng.randint(10**4, 10**5)} (-{self.rng.randint(10**8, 10**9)})")

    # Salesforce has no 429. Both the daily request allocation and the concurrent long-running request limit
    # answer 403 with errorCode REQUEST_LIMIT_EXCEEDED; only the message tells them apart. Sources: Salesforce
    # REST API Developer Guide, "Status Codes and Error Responses" (403: "If the error code is
    # REQUEST_LIMIT_EXCEEDED, you've exceeded API request limits in your org"); Salesforce Developer Limits and
    # Allocations Quick Reference, "API Request Limits and Allocations" (concurrent requests of 20 s or longer
    # beyond 25 in production, 5 in developer orgs: REQUEST_LIMIT_EXCEEDED). Messages as orgs see them:
    # "TotalRequests Limit exceeded." (daily), "ConcurrentRequests (Concurrent API Requests) Limit exceeded."
    # and "ConcurrentPerOrgLongTxn Limit exceeded." (long-running requests).
    CONCURRENT_MESSAGES = ("ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
                           "ConcurrentPerOrgLongTxn Limit exceeded.")
    DAILY_MESSAGE = "TotalRequests Limit exceeded."

    def too_many(self):
        return _err(403, "REQUEST_LIMIT_EXCEEDED", self.rng.choice(self.CONCURRENT_MESSAGES))

    def check_concurrency(self):
        """`concurrency_limit`: requests beyond this many at once get the concurrent-limit 403 (the sandbox counts
        every request in flight as long-running; give it latency to make them so)."""
        limit = self.faults.get("concurrency_limit")
        if limit is not None:
            with self.inflight_lock:
                if self.inflight >= int(limit):
                    return _err(403, "REQUEST_LIMIT_EXCEEDED", self.CONCURRENT_MESSAGES[0])
        return None

    def not_found(self, path):
        return _err(404, "NOT_FOUND", "The requested resource does not exist")

    def bad_request(self, message):
        return _err(400, "JSON_PARSER_ERROR", message)

    def _day(self):
        return self.sandbox.store.now().date()

    def over_daily_limit(self):
        with self.inflight_lock:
            if self.day_key != self._day():
                self.day_key, self.day_requests = self._day(), 0
            self.day_requests += 1
            limit = self.faults.get("daily_request_limit")
            if limit is not None and self.day_requests > int(limit):
                return _err(403, "REQUEST_LIMIT_EXCEEDED", self.DAILY_MESSAGE)
        return None

    def limit_headers(self):
        limit = self.faults.get("daily_request_limit") or 5_000_000
        return {"Sforce-Limit-Info": f"api-usage={self.day_requests}/{limit}"}

    # -- auth ------------------------------------------------------------------------------------------
    def token(self, req: Request) -> Response:
        form = req.form()
        auth = req.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                cid, _, sec = base64.b64decode(auth[6:]).decode().partition(":")
                form.setdefault("client_id", cid)
                form.setdefault("client_secret", sec)
            except (ValueError, UnicodeDecodeError):
                pass
        creds = self.sandbox.credentials["salesforce"]
        if form.get("grant_type") == JWT_BEARER:
            return self._jwt_bearer(form.get("assertion") or "", creds)
        if form.get("grant_type") != "client_credentials":
            raise ApiError(400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"})
        if form.get("client_id") != creds["client_id"]:
            raise ApiError(400, {"error": "invalid_client_id", "error_description": "client identifier invalid"})
        if form.get("client_secret") != creds["client_secret"]:
            raise ApiError(400, {"error": "invalid_client", "error_description": "invalid client credentials"})
        return self._session()

    def _session(self, scope: str = "api") -> Response:
        tok = "00D8d000000Hub!" + secrets.token_urlsafe(48)
        self.sandbox.tokens.issue(self.name, tok)
        issued = str(int(time.time() * 1000))
        return Response(200, {"access_token": tok, "instance_url": self.base_url,
                              "id": f"{self.base_url}/id/00D8d000000HubEAA/0058d0000000001AAA",
                              "token_type": "Bearer", "issued_at": issued,
                              "signature": base64.b64encode(secrets.token_bytes(32)).decode(), "scope": scope})

    def _jwt_bearer(self, assertion: str, creds: dict) -> Response:
        """OAuth 2.0 JWT bearer flow (Salesforce Help, "OAuth 2.0 JWT Bearer Flow for Server-to-Server
        Integration"): a JWT signed RS256 with the key of the certificate uploaded to the connected app; iss = the
        consumer key, sub = the pre-approved user's username, aud = https://login.salesforce.com (test., or the
        My Domain / community URL), exp. Answers an access token (no refresh token), or 400 invalid_grant."""
        def refuse(description: str):
            raise ApiError(400, {"error": "invalid_grant", "error_description": description})

        try:
            claims = pyjwt.decode(assertion, self.sandbox.salesforce_public_key(), algorithms=["RS256"],
                                  audience=[self.base_url, "https://login.salesforce.com", "https://test.salesforce.com"],
                                  options={"require": ["iss", "sub", "aud", "exp"]})
        except pyjwt.ExpiredSignatureError:
            refuse("expired authorization code")
        except pyjwt.PyJWTError:
            refuse("invalid assertion")
        if claims["iss"] != creds["client_id"]:
            raise ApiError(400, {"error": "invalid_client_id", "error_description": "client identifier invalid"})
        if claims["sub"] != creds["username"]:
            refuse("user hasn't approved this consumer")
        return self._session("api id")

    def versions(self, req):
        return Response(200, [{"label": "Winter '25", "url": "/services/data/v62.0", "version": "62.0"}])

    def resources(self, req, ver):
        return Response(200, {k: f"/services/data/{ver}/{k}" for k in ("sobjects", "query", "queryAll", "composite", "limits")})

    def limits(self, req, ver):
        limit = self.faults.get("daily_request_limit") or 5_000_000
        return Response(200, {"DailyApiRequests": {"Max": limit, "Remaining": max(0, limit - self.day_requests)}})

    # -- schema drift -----------------------------------------------------------------------------------
    def hide_field(self, obj: str, field: str, hidden: bool = True) -> None:
        """A field deleted from the object, or hidden from the integration user by field-level security: describe
        no longer lists it and a query naming it is refused with INVALID_FIELD "No such column ... on entity".
        (describe returns only "the fields that the user can view, as defined by the user's field-level security
        settings": salesforcer's sf_describe_object_fields, on the describe call; a SOQL query naming a field
        the user cannot see fails "No such column 'example_field__c' on entity 'Opportunity'":
        docs.withampersand.com, Salesforce troubleshooting guide, "Read Action: No such column error".)"""
        key = (self._obj(obj), field)
        if hidden:
            self.hidden_fields.add(key)
        else:
            self.hidden_fields.discard(key)

    def _visible(self, obj: str) -> dict[str, str]:
        return {f: t for f, t in schema.fields("salesforce", obj).items() if (obj, f) not in self.hidden_fields}

    # -- query ------------------------------------------------------------------------------------------
    def query(self, req: Request, ver: str, kind: str) -> Response:
        q = req.arg("q")
        try:
            parsed = parse(q or "", today=self.sandbox.store.now().date())
        except SoqlError as e:
            raise _err(400, e.code, e.message) from None
        hidden = [f for f in parsed.fields if (parsed.obj, f) in self.hidden_fields]
        if hidden:
            raise _err(400, "INVALID_FIELD", f"\n{q}\n^\nERROR at Row:1:Column:1\nNo such column '{hidden[0]}' on entity "
                                             f"'{parsed.obj}'. If you are attempting to use a custom field, be sure to "
                                             "append the '__c' after the custom field name. Please reference your WSDL "
                                             "or the describe call for the appropriate names.")
        batch = PAGE_DEFAULT
        opts = req.headers.get("sforce-query-options", "")
        m = re.search(r"batchSize\s*=\s*(\d+)", opts)
        if m:
            batch = min(PAGE_DEFAULT, max(200, int(m.group(1))))
        include_deleted = kind == "queryAll"
        tbl = schema.table("salesforce", parsed.obj)
        has_deleted_flag = "IsDeleted" in schema.fields("salesforce", parsed.obj)  # User has none
        where = parsed.where if include_deleted or not has_deleted_flag else f'({parsed.where}) AND "IsDeleted" = 0'
        c = self.sandbox.store.conn()
        sub = f'SELECT 1 FROM "{tbl}" WHERE {where}'
        if parsed.limit is not None or parsed.offset:
            sub += f" LIMIT {parsed.limit if parsed.limit is not None else -1} OFFSET {parsed.offset}"
        total = c.execute(f"SELECT COUNT(*) FROM ({sub})", parsed.params).fetchone()[0]
        if parsed.count_only:
            return Response(200, {"totalSize": total, "done": True, "records": []})
        state = {"obj": parsed.obj, "fields": parsed.fields, "where": where, "params": parsed.params,
                 "order": parsed.order, "limit": parsed.limit, "offset": parsed.offset, "total": total,
                 "batch": batch, "returned": 0, "last": None, "ver": ver, "kind": kind}
        return self._page(state)

    def query_more(self, req: Request, ver: str, kind: str, loc: str) -> Response:
        lid, _, n = loc.rpartition("-")
        with self.loc_lock:
            state = self.locators.get(lid)
        if state is None or not n.isdigit() or int(n) != state["returned"]:
            raise _err(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(state, lid)

    def _page(self, state: dict, lid: str | None = None) -> Response:
        obj, fields = state["obj"], state["fields"]
        tbl = schema.table("salesforce", obj)
        order = list(state["order"])
        if not any(f == "Id" for f, _, _ in order):
            order.append(("Id", False, None))
        keyset = all(f in KEYSET_FIELDS and not desc for f, desc, _ in order) and not state["offset"]
        remaining = state["total"] - state["returned"]
        n = min(state["batch"], remaining)
        cols = list(dict.fromkeys(fields + [f for f, _, _ in order]))
        sel = ", ".join(f'"{f}"' for f in cols)
        where, params = state["where"], list(state["params"])
        order_sql = ", ".join(f'"{f}" {"DESC" if d else "ASC"}' + ("" if nf is None else (" NULLS FIRST" if nf else " NULLS LAST"))
                              for f, d, nf in order)
        if keyset:
            if state["last"] is not None:
                where = f'({where}) AND ({", ".join(chr(34) + f + chr(34) for f, _, _ in order)}) > ({", ".join("?" * len(order))})'
                params += state["last"]
            sql = f'SELECT {sel} FROM "{tbl}" WHERE {where} ORDER BY {order_sql} LIMIT {max(n, 0)}'
        else:
            sql = f'SELECT {sel} FROM "{tbl}" WHERE {where} ORDER BY {order_sql} LIMIT {max(n, 0)} OFFSET {state["offset"] + state["returned"]}'
        rows = self.sandbox.store.conn().execute(sql, params).fetchall() if n > 0 else []
        types = schema.fields("salesforce", obj)
        ver = state["ver"]
        idx = [cols.index(f) for f in fields]
        id_i = cols.index("Id")
        conv = [(f, types[f] == "bool", i) for f, i in zip(fields, idx)]
        records = []
        for row in rows:
            rec = {"attributes": {"type": obj, "url": f"/services/data/{ver}/sobjects/{obj}/{row[id_i]}"}}
            for f, is_bool, i in conv:
                v = row[i]
                rec[f] = bool(v) if is_bool and v is not None else v
            records.append(rec)
        state["returned"] += len(rows)
        if rows:
            state["last"] = [rows[-1][cols.index(f)] for f, _, _ in order]
        done = state["returned"] >= state["total"] or not rows
        body = {"totalSize": state["total"], "done": done}
        if not done:
            with self.loc_lock:
                if lid is None:
                    lid = "01g8d" + uuid.uuid4().hex[:13].upper()
                self.locators[lid] = state
                self.locators.move_to_end(lid)
                while len(self.locators) > 2000:
                    self.locators.popitem(last=False)
            body["nextRecordsUrl"] = f"/services/data/{ver}/{state['kind']}/{lid}-{state['returned']}"
        elif lid is not None:
            with self.loc_lock:
                self.locators.pop(lid, None)
        body["records"] = records
        return Response(200, body)

    # -- records -------------------------------------------------------------------------------------
    def _obj(self, obj: str) -> str:
        o = next((x for x in schema.SALESFORCE if x.lower() == obj.lower()), None)
        if o is None:
            raise _err(404, "NOT_FOUND", f"The requested resource does not exist")
        return o

    def _render(self, obj, row: dict, ver="v62.0") -> dict:
        types = self._visible(obj)
        rec = {"attributes": {"type": obj, "url": f"/services/data/{ver}/sobjects/{obj}/{row['Id']}"}}
        for f, t in types.items():
            v = row.get(f)
            rec[f] = bool(v) if t == "bool" and v is not None else v
        return rec

    def _fetch(self, obj, where, params) -> list[dict]:
        c = self.sandbox.store.conn()
        cur = c.execute(f'SELECT * FROM "{schema.table("salesforce", obj)}" WHERE {where}', params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    def describe(self, req, ver, obj):
        obj = self._obj(obj)
        types = {"id": "id", "str": "string", "int": "int", "float": "double", "bool": "boolean", "date": "date",
                 "datetime": "datetime", "ref": "reference"}
        ext = set(schema.SF_EXTERNAL_ID.get(obj, []))
        return Response(200, {"name": obj, "label": obj, "queryable": True, "updateable": True, "fields": [
            {"name": f, "type": types[t], "externalId": f in ext, "updateable": f not in schema.SF_READONLY,
             "nillable": f != "Id"} for f, t in self._visible(obj).items()]})

    def get_record(self, req, ver, obj, rid):
        obj = self._obj(obj)
        rows = self._fetch(obj, '"Id" = ? OR substr("Id", 1, 15) = ?', [rid, rid[:15]])
        if not rows or rows[0]["IsDeleted"]:
            raise _err(404, "NOT_FOUND", "The requested resource does not exist")
        return Response(200, self._render(obj, rows[0], ver))

    def get_by_ext(self, req, ver, obj, ext, val):
        obj = self._obj(obj)
        ext = self._ext_field(obj, ext)
        rows = [r for r in self._fetch(obj, f'"{ext}" = ?', [val]) if not r["IsDeleted"]]
        if not rows:
            raise _err(404, "NOT_FOUND", "The requested resource does not exist")
        if len(rows) > 1:
            return Response(300, [f"/services/data/{ver}/sobjects/{obj}/{r['Id']}" for r in rows])
        return Response(200, self._render(obj, rows[0], ver))

    def _ext_field(self, obj: str, ext: str) -> str:
        allowed = {f.lower(): f for f in schema.SF_EXTERNAL_ID.get(obj, []) + ["Id"]}
        f = allowed.get(ext.lower())
        if f is None:
            raise _err(404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {ext}")
        return f

    def _values(self, obj: str, body: dict, creating: bool) -> dict:
        """Validate and convert a record body; raises ApiError with Salesforce's code."""
        if not isinstance(body, dict):
            raise _err(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of sObject from non-object value")
        types = schema.fields("salesforce", obj)
        fmap = {f.lower(): f for f in types}
        out = {}
        for k, v in body.items():
            if k == "attributes" or (k.lower() == "id" and not creating):
                continue
            f = fmap.get(k.lower())
            if f is None:
                raise _err(400, "INVALID_FIELD", f"No such column '{k}' on sobject of type {obj}", [k])
            if f in schema.SF_READONLY or types[f] == "id":
                raise _err(400, "INVALID_FIELD_FOR_INSERT_UPDATE", f"Unable to create/update fields: {f}. Please check "
                           "the security settings of this field and verify that it is read/write for your profile "
                           "or permission set.", [f])
            out[f] = self._coerce(f, types[f], v)
        if creating:
            missing = [f for f in REQUIRED.get(obj, []) if out.get(f) in (None, "")]
            if missing:
                raise _err(400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing)
        if obj == "Opportunity" and "StageName" in out:
            stage = out["StageName"] or ""
            out["IsClosed"] = int(stage.startswith("Closed"))
            out["IsWon"] = int(stage == "Closed Won")
        if obj == "Account" and "Legal_Entity__c" in out and out["Legal_Entity__c"] not in (None, "US", "UK", "DE"):
            raise _err(400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                       f"Legal Entity: bad value for restricted picklist field: {out['Legal_Entity__c']}", ["Legal_Entity__c"])
        return out

    def _coerce(self, f, typ, v):
        if v is None:
            return None
        try:
            if typ == "bool":
                if not isinstance(v, bool):
                    raise ValueError
                return int(v)
            if typ in ("float", "int"):
                if isinstance(v, bool):
                    raise ValueError
                return float(v)
            if typ == "date":
                s = str(v)[:10]
                time.strptime(s, "%Y-%m-%d")
                return s
            if typ == "datetime":
                return sf_datetime(parse_datetime(str(v)))
            return str(v)
        except (ValueError, TypeError):
            raise _err(400, "JSON_PARSER_ERROR", f"Cannot deserialize instance of {typ} from value {v!r} for field {f}",
                       [f]) from None

    def _insert(self, obj: str, values: dict) -> str:
        store = self.sandbox.store
        now = store.stamp("salesforce")
        rid = store.new_sf_id(obj)
        row = {**values, "Id": rid, "IsDeleted": 0, "CreatedDate": now, "LastModifiedDate": now, "SystemModstamp": now}
        if obj == "OpportunityLineItem" and row.get("Quantity") is not None and row.get("UnitPrice") is not None:
            row["TotalPrice"] = row["Quantity"] * row["UnitPrice"]
        cols = list(row)
        store.conn().execute(f'INSERT INTO "{schema.table("salesforce", obj)}" ({", ".join(chr(34) + c + chr(34) for c in cols)}) '
                             f'VALUES ({", ".join("?" * len(cols))})', [row[c] for c in cols])
        return rid

    def _update(self, obj: str, rid: str, values: dict) -> None:
        store = self.sandbox.store
        now = store.stamp("salesforce")
        values = {**values, "LastModifiedDate": now, "SystemModstamp": now}
        sets = ", ".join(f'"{k}" = ?' for k in values)
        store.conn().execute(f'UPDATE "{schema.table("salesforce", obj)}" SET {sets} WHERE "Id" = ?', [*values.values(), rid])

    def _live(self, obj: str, rid: str) -> bool:
        rows = self._fetch(obj, '"Id" = ?', [rid])
        return bool(rows) and not rows[0]["IsDeleted"]

    def create(self, req, ver, obj):
        obj = self._obj(obj)
        values = self._values(obj, req.json(), creating=True)
        with self.sandbox.store.write_lock:
            rid = self._insert(obj, values)
        return self._written(Response(201, {"id": rid, "success": True, "errors": []}), 1)

    def update(self, req, ver, obj, rid):
        obj = self._obj(obj)
        values = self._values(obj, req.json(), creating=False)
        with self.sandbox.store.write_lock:
            if not self._live(obj, rid):
                raise _err(404, "NOT_FOUND", "The requested resource does not exist")
            self._update(obj, rid, values)
        return self._written(Response(204), 1)

    def delete(self, req, ver, obj, rid):
        obj = self._obj(obj)
        with self.sandbox.store.write_lock:
            if not self._live(obj, rid):
                raise _err(404, "ENTITY_IS_DELETED", "entity is deleted")
            self._update(obj, rid, {"IsDeleted": 1})
        return self._written(Response(204), 1)

    def upsert(self, req, ver, obj, ext, val):
        obj = self._obj(obj)
        ext = self._ext_field(obj, ext)
        body = req.json()
        values = self._values(obj, {k: v for k, v in (body or {}).items() if k.lower() != ext.lower()}, creating=False)
        with self.sandbox.store.write_lock:
            status, result = self._upsert_one(obj, ext, val, values, ver)
        if status == 300:
            return Response(300, result)
        if isinstance(result, ApiError):
            raise result
        return self._written(Response(status, result), 1)

    def _upsert_one(self, obj, ext, val, values, ver):
        rows = [r for r in self._fetch(obj, f'"{ext}" = ?', [val]) if not r["IsDeleted"]]
        if len(rows) > 1:
            return 300, [f"/services/data/{ver}/sobjects/{obj}/{r['Id']}" for r in rows]
        if rows:
            self._update(obj, rows[0]["Id"], values)
            return 200, {"id": rows[0]["Id"], "success": True, "errors": [], "created": False}
        if ext == "Id":
            return 404, _err(404, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: Id")
        missing = [f for f in REQUIRED.get(obj, []) if values.get(f) in (None, "")]
        if missing:
            return 400, _err(400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing)
        rid = self._insert(obj, {**values, ext: val})
        return 201, {"id": rid, "success": True, "errors": [], "created": True}

    @staticmethod
    def _written(resp: Response, n: int) -> Response:
        resp.records_written = n
        return resp

    # -- sObject Collections ----------------------------------------------------------------------------
    def _collection_body(self, req) -> tuple[list, bool]:
        body = req.json()
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            raise _err(400, "JSON_PARSER_ERROR", "The request body must contain a 'records' list")
        recs = body["records"]
        if len(recs) > 200:
            raise _err(400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into this call")
        return recs, bool(body.get("allOrNone", False))

    @staticmethod
    def _fail(code, message, fields=None, rid=None):
        return {"id": rid, "success": False, "errors": [{"statusCode": code, "message": message, "fields": fields or []}]}

    def _collection(self, req, ver, plan):
        """plan(record) -> (apply() -> result) or an error result; applies in request order."""
        recs, all_or_none = self._collection_body(req)
        with self.sandbox.store.write_lock:
            planned = []
            for rec in recs:
                try:
                    planned.append(plan(rec))
                except ApiError as e:
                    b = e.body[0] if isinstance(e.body, list) else {"errorCode": "UNKNOWN", "message": str(e.body)}
                    planned.append(self._fail(b["errorCode"], b["message"], b.get("fields"),
                                              rec.get("id") if isinstance(rec, dict) else None))
            failed = any(isinstance(p, dict) for p in planned)
            if all_or_none and failed:
                out = [p if isinstance(p, dict) else self._fail("ALL_OR_NONE_OPERATION_ROLLED_BACK",
                                                               "Record rolled back because not all records were valid and the request was using AllOrNone header")
                       for p in planned]
                return Response(200, out)
            c = self.sandbox.store.conn()
            c.execute("BEGIN")
            try:
                out = [p if isinstance(p, dict) else p() for p in planned]
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
        return self._written(Response(200, out), sum(1 for r in out if r.get("success")))

    def _rec_type(self, rec, default=None) -> str:
        if not isinstance(rec, dict):
            raise _err(400, "JSON_PARSER_ERROR", "each record must be an object")
        t = (rec.get("attributes") or {}).get("type") or default
        if not t:
            raise _err(400, "INVALID_TYPE", "Must specify a type in attributes")
        return self._obj(t)

    def collection_create(self, req, ver):
        def plan(rec):
            obj = self._rec_type(rec)
            values = self._values(obj, rec, creating=True)
            return lambda: {"id": self._insert(obj, values), "success": True, "errors": []}
        return self._collection(req, ver, plan)

    def collection_update(self, req, ver):
        def plan(rec):
            obj = self._rec_type(rec)
            rid = rec.get("id") or rec.get("Id")
            if not rid:
                raise _err(400, "MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])
            values = self._values(obj, rec, creating=False)
            if not self._live(obj, rid):
                raise _err(400, "ENTITY_IS_DELETED" if self._fetch(obj, '"Id" = ?', [rid]) else "INVALID_CROSS_REFERENCE_KEY",
                           "entity is deleted" if self._fetch(obj, '"Id" = ?', [rid]) else "invalid cross reference id")

            def apply():
                self._update(obj, rid, values)
                return {"id": rid, "success": True, "errors": []}
            return apply
        return self._collection(req, ver, plan)

    def collection_upsert(self, req, ver, obj, ext):
        obj = self._obj(obj)
        ext = self._ext_field(obj, ext)

        def plan(rec):
            t = self._rec_type(rec, obj)
            if t != obj:
                raise _err(400, "INVALID_TYPE", f"all records must be of type {obj}")
            key = next((v for k, v in rec.items() if k.lower() == ext.lower()), None)
            if key in (None, ""):
                raise _err(400, "MISSING_ARGUMENT", f"{ext} not specified", [ext])
            values = self._values(obj, {k: v for k, v in rec.items() if k.lower() != ext.lower()}, creating=False)

            def apply():
                status, result = self._upsert_one(obj, ext, str(key), values, ver)
                if status == 300:
                    return self._fail("DUPLICATE_EXTERNAL_ID", f"{ext}: more than one record found for external id field: {result}", [ext])
                if isinstance(result, ApiError):
                    b = result.body[0]
                    return self._fail(b["errorCode"], b["message"], b.get("fields"))
                return result
            return apply
        return self._collection(req, ver, plan)
