"""Kantata (Mavenlink) API v1: OAuth2 bearer tokens, paged JSON lists with the count/meta/results
envelope and per-type maps, filters, include= side-loading, and writes for the objects the hub syncs."""
from __future__ import annotations

import functools
import secrets
import threading
import time
from collections import OrderedDict

import orjson

from sandbox import schema
from sandbox.http import ApiError, App, Request, Response
from sandbox.store import kt_datetime, parse_datetime

API = "/api/v1"
PER_PAGE_DEFAULT, PER_PAGE_MAX, BULK_MAX = 20, 200, 100
# Sort fields per endpoint. developer.kantata.com, "Ordering": "Each endpoint in the Kantata OX API allows ordering
# by various fields ... See the specific endpoint documentation for endpoint-specific details", order=field:dir.
# Kantata's API is built on brainstem, whose presenters accept only their declared sort orders and use the default
# order for any other value, silently (no error); users sort alphabetically only. Endpoint field lists below are
# unconfirmed beyond users: the documented-looking ones, kept here in one place.
_STAMPED = ("id", "created_at", "updated_at")
SORT_ORDERS: dict[str, tuple[tuple[str, ...], str]] = {   # endpoint -> (sort fields, default order)
    "users": (("full_name",), "full_name:asc"),
    "roles": (_STAMPED + ("name",), "id:asc"),
    "rate_cards": (_STAMPED + ("title",), "id:asc"),
    "rate_card_roles": (_STAMPED, "id:asc"),
    "workspaces": (_STAMPED + ("title", "start_date", "due_date"), "id:asc"),
    "stories": (_STAMPED + ("title", "start_date", "due_date"), "id:asc"),
    "workspace_resources": (_STAMPED, "id:asc"),
    "workspace_allocations": (_STAMPED + ("start_date", "end_date"), "id:asc"),
    "time_entries": (_STAMPED + ("date_performed",), "id:asc"),
    "expenses": (_STAMPED + ("date",), "id:asc"),
    "custom_fields": (_STAMPED + ("name",), "id:asc"),
    "custom_field_values": (_STAMPED, "id:asc"),
}
# Listing custom field values needs the subject type (developer.kantata.com, Custom Field Values: subject_type is
# a required filter).
REQUIRED_FILTERS = {"custom_field_values": ("subject_type",)}
# include= names -> (field on this resource, resource it points to)
INCLUDES = {"user": ("user_id", "users"), "workspace": ("workspace_id", "workspaces"), "story": ("story_id", "stories"),
            "role": ("role_id", "roles"), "rate_card": ("rate_card_id", "rate_cards"),
            "workspace_resource": ("workspace_resource_id", "workspace_resources"),
            "custom_field": ("custom_field_id", "custom_fields"), "parent": ("parent_id", "stories")}


def kt_error(status: int, message: str, typ: str = "system", field: str | None = None) -> ApiError:
    e = {"type": typ, "message": message}
    if field:
        e["field"] = field
    return ApiError(status, {"errors": [e]})


class Kantata(App):
    name = "kantata"

    def __init__(self, sandbox):
        super().__init__(sandbox)
        self.keysets: OrderedDict[tuple, list] = OrderedDict()
        self.ks_lock = threading.Lock()
        self.codes: dict[str, float] = {}  # authorization codes: expiry (monotonic)
        # {(resource, id): changes}: records a person edits while a client pages through them (see edit_while_paging)
        self.edits_while_paging: dict[tuple[str, int], dict] = {}
        self.edited_while_paging: list[tuple[str, int]] = []
        r = self.route
        r("POST", "/oauth/token", "POST /oauth/token", auth=False, write=False)(self.token)
        r("GET", "/oauth/authorize", "GET /oauth/authorize", auth=False, write=False)(self.authorize)
        r("GET", API + "/(?P<res>\\w+)\\.json", "GET list")(self.list)
        r("GET", API + "/(?P<res>\\w+)/(?P<rid>\\d+)\\.json", "GET one")(self.get_one)
        r("POST", API + "/(?P<res>\\w+)\\.json", "POST create")(self.create)
        r("PUT", API + "/(?P<res>\\w+)/(?P<rid>\\d+)\\.json", "PUT update")(self.update)
        r("DELETE", API + "/(?P<res>\\w+)/(?P<rid>\\d+)\\.json", "DELETE one")(self.delete)
        r("DELETE", API + "/(?P<res>\\w+)\\.json", "DELETE bulk")(self.delete_bulk)

    def unauthorized(self):
        return kt_error(401, "You must be logged in or provide a valid OAuth 2 token.", "oauth")

    def server_error(self):
        return kt_error(500, "An unexpected error occurred. Please try again later.", "system")

    def too_many(self):
        return ApiError(429, {"errors": [{"type": "system", "message": "Rate limit exceeded. Please retry after a small delay."}]},
                        {"Retry-After": str(self.faults.get("retry_after_seconds") or 1)})

    def not_found(self, path):
        return kt_error(404, "Not found", "system")

    def bad_request(self, message):
        return kt_error(400, message, "validation")

    # -- auth -------------------------------------------------------------------------------------------
    # Kantata documents the OAuth 2.0 authorization-code grant only (developer.kantata.com, "Obtaining tokens for
    # users"): the user is sent to /oauth/authorize?response_type=code&client_id=&redirect_uri=, agrees, and comes
    # back to redirect_uri with a short-lived code that the application exchanges at /oauth/token (client_id,
    # client_secret, grant_type=authorization_code, code, redirect_uri). "Kantata OX OAuth access tokens do not
    # expire ... If a user revokes your application's access, usage of the token will result in an error"
    # (developer.kantata.com, "Security"). An account administrator can also copy the application's own token
    # from its registration page: the sandbox's credentials carry it as `token`. No client-credentials grant.
    CODE_TTL_SECONDS = 600

    def authorize(self, req: Request) -> Response:
        """The user's consent, given at once (the sandbox has no one to ask): back to redirect_uri with a code."""
        creds = self.sandbox.credentials["kantata"]
        if req.arg("response_type") != "code":
            raise kt_error(400, "response_type must be 'code'", "oauth", "response_type")
        if req.arg("client_id") != creds["client_id"]:
            raise kt_error(400, "Unknown client_id", "oauth", "client_id")
        if req.arg("redirect_uri") != creds["redirect_uri"]:
            raise kt_error(400, "redirect_uri does not match the application's registered redirect URI", "oauth",
                           "redirect_uri")
        code = secrets.token_hex(16)
        with self.ks_lock:
            self.codes[code] = time.monotonic() + self.CODE_TTL_SECONDS
        sep = "&" if "?" in creds["redirect_uri"] else "?"
        return Response(302, None, {"Location": f"{creds['redirect_uri']}{sep}code={code}"})

    def token(self, req: Request) -> Response:
        form = req.form()
        creds = self.sandbox.credentials["kantata"]
        if form.get("grant_type") != "authorization_code":
            raise ApiError(400, {"error": "unsupported_grant_type",
                                 "error_description": "The authorization grant type is not supported by the authorization server."})
        if form.get("client_id") != creds["client_id"] or form.get("client_secret") != creds["client_secret"]:
            raise ApiError(401, {"error": "invalid_client", "error_description": "Client authentication failed due to "
                                 "unknown client, no client authentication included, or unsupported authentication method."})
        with self.ks_lock:
            expires = self.codes.pop(form.get("code") or "", None)
        if expires is None or expires < time.monotonic() or form.get("redirect_uri") != creds["redirect_uri"]:
            raise ApiError(400, {"error": "invalid_grant", "error_description": "The provided authorization grant is "
                                 "invalid, expired, revoked, does not match the redirection URI used in the "
                                 "authorization request, or was issued to another client."})
        tok = secrets.token_hex(32)
        self.sandbox.kantata_tokens.grant(tok)
        return Response(200, {"access_token": tok, "token_type": "bearer", "created_at": int(time.time())})

    def token_valid(self, token: str) -> bool:
        return self.sandbox.kantata_tokens.valid(token)

    # -- reads ------------------------------------------------------------------------------------------
    def _res(self, res: str) -> str:
        if res not in schema.KANTATA:
            raise kt_error(404, f"Unknown resource '{res}'", "system")
        return res

    def _render_rows(self, res: str, cols: list[str], rows) -> dict:
        types = schema.fields("kantata", res)
        out = {}
        for row in rows:
            rec = {}
            for k, v in zip(cols, row):
                t = types[k]
                if t in ("id", "ref"):
                    v = None if v is None else str(v)
                elif t == "bool":
                    v = None if v is None else bool(v)
                rec[k] = v
            if res == "workspaces":
                rec["status"] = {"color": rec.pop("status_color"), "key": rec.pop("status_key"),
                                 "message": rec.pop("status_message")}
            out[rec["id"]] = rec
        return out

    def _filters(self, res: str, req: Request) -> tuple[list[str], list]:
        types = schema.fields("kantata", res)
        where, params = [], []

        def ts(name):
            try:
                return kt_datetime(parse_datetime(req.arg(name)))
            except (ValueError, TypeError):
                raise kt_error(400, f"Invalid {name}: {req.arg(name)!r}", "validation", name) from None

        for name, col, op in (("updated_after", "updated_at", ">"), ("updated_before", "updated_at", "<"),
                              ("created_after", "created_at", ">"), ("created_before", "created_at", "<")):
            if req.arg(name):
                where.append(f"{col} {op} ?")
                params.append(ts(name))
        if req.arg("only"):
            ids = [int(x) for x in req.arg("only").split(",") if x.strip().isdigit()]
            where.append(f"id IN ({', '.join('?' * len(ids)) or 'NULL'})")
            params += ids
        for name, col in (("workspace_id", "workspace_id"), ("story_id", "story_id"), ("user_id", "user_id"),
                          ("with_user_ids", "user_id"), ("workspace_resource_id", "workspace_resource_id"),
                          ("subject_id", "subject_id"), ("custom_field_id", "custom_field_id")):
            if req.arg(name) and col in types:
                ids = [int(x) for x in req.arg(name).split(",") if x.strip().isdigit()]
                where.append(f"{col} IN ({', '.join('?' * len(ids)) or 'NULL'})")
                params += ids
        if req.arg("subject_type") and "subject_type" in types:
            where.append("subject_type = ?")
            params.append(req.arg("subject_type"))
        for name, col in (("approved", "approved"), ("billable", "billable"), ("is_billable", "is_billable")):
            if req.arg(name) is not None and col in types:
                where.append(f"{col} = ?")
                params.append(1 if req.arg(name).lower() in ("true", "1") else 0)
        if res in ("time_entries", "expenses"):
            if req.arg("invoiced", "").lower() == "true" or req.arg("uninvoiced", "").lower() == "false":
                where.append("is_invoiced = 1")
            if req.arg("uninvoiced", "").lower() == "true" or req.arg("invoiced", "").lower() == "false":
                where.append("is_invoiced = 0")
            # developer.kantata.com: time entries filter by date_performed_between, expenses by
            # date_expensed_between ("YYYY-MM-DD:YYYY-MM-DD"; a side left out is no bound)
            between = (req.arg("date_performed_between") or req.arg("date_expensed_between")
                       or req.arg("date_between"))
            if between:
                a, _, b = between.partition(":")
                col = "date_performed" if res == "time_entries" else "date"
                if a:
                    where.append(f"{col} >= ?")
                    params.append(a)
                if b:
                    where.append(f"{col} <= ?")
                    params.append(b)
            if req.arg("from_archived_workspaces", "false").lower() != "true":
                where.append("workspace_id NOT IN (SELECT id FROM kt_workspaces WHERE archived = 1)")
        if res in ("workspaces", "stories"):
            # workspaces: archived ones only with include_archived=true (Kantata, Workspaces list: "include_archived");
            # stories: archived=include|only|exclude, exclude by default
            arch = (req.arg("archived") or ("include" if req.arg("include_archived", "").lower() == "true" else
                                            "exclude")).lower()
            if arch in ("exclude", "false"):
                where.append("archived = 0")
            elif arch in ("only", "true"):
                where.append("archived = 1")
        if res == "stories":
            where.append("deleted_at IS NULL")
            if req.arg("story_type"):
                where.append("story_type = ?")
                params.append(req.arg("story_type"))
        return where, params

    def list(self, req: Request, res: str) -> Response:
        res = self._res(res)
        try:
            page = max(1, int(req.arg("page", "1")))
            per_page = min(PER_PAGE_MAX, max(1, int(req.arg("per_page", str(PER_PAGE_DEFAULT)))))
        except ValueError:
            raise kt_error(400, "page and per_page must be integers", "validation") from None
        for name in REQUIRED_FILTERS.get(res, ()):
            if not req.arg(name):
                raise kt_error(400, f"{name} is a required filter for {res}", "validation", name)
        where, params = self._filters(res, req)
        ocol, desc = self._order(res, req.arg("order"))
        d = "DESC" if desc else "ASC"
        order_cols = [ocol] if ocol == "id" else [ocol, "id"]
        tbl = schema.table("kantata", res)
        c = self.sandbox.store.conn()
        wsql = " AND ".join(where) or "1=1"
        cols = [f.split(":")[0] for f in schema.KANTATA[res]]
        # Sequential paging: continue from the last key of the previous page instead of a deep OFFSET, and with the
        # count the query's first page computed. Kantata's envelope carries the query's count and page_count on every
        # page (developer.kantata.com, "Response Format": {count, meta: {count, page_count, page_number,
        # page_size}}); counting the whole filtered set again on each page made a page's cost grow with the set
        # (a 1M-row read paid for a full count 5,000 times). A page asked out of order is counted afresh.
        sig = (res, wsql, tuple(params), ocol, desc, per_page)
        with self.ks_lock:
            prev = self.keysets.get(sig + (page - 1,)) if page > 1 else None
        kw, kp = wsql, list(params)
        if prev is not None:
            # the key condition first: SQLite seeks the index on the first bound it meets for a column, and with the
            # window's own bound (updated_after) first every page rescanned the window from its start
            kw = f"({', '.join(order_cols)}) {'<' if desc else '>'} ({', '.join('?' * len(order_cols))}) AND ({wsql})"
            kp = [*prev[0], *params]
            offset, count = 0, prev[1]
        else:
            offset = (page - 1) * per_page
            count = c.execute(f'SELECT COUNT(*) FROM "{tbl}" WHERE {wsql}', params).fetchone()[0]
        osql = ", ".join(f"{x} {d}" for x in order_cols)
        page_sql = f'FROM "{tbl}" WHERE {kw} ORDER BY {osql} LIMIT {per_page} OFFSET {offset}'
        inc = req.arg("include")
        if inc:
            rows = c.execute(f'SELECT {", ".join(cols)} {page_sql}', kp).fetchall()
            last = [rows[-1][cols.index(x)] for x in order_cols] if rows else None
            resp = Response(200, self._envelope(res, cols, rows, count, page, per_page, req))
        else:
            # the page rendered to JSON by SQLite (json_object), which runs without Python's GIL: concurrent readers
            # are served on every core, and Python only joins the records
            rows = c.execute(f'SELECT CAST(id AS TEXT), {self._json_record(res)}, {", ".join(order_cols)} {page_sql}',
                             kp).fetchall()
            last = list(rows[-1][2:]) if rows else None
            resp = Response(200, raw=self._envelope_json(res, rows, count, page, per_page))
        if last is not None:
            with self.ks_lock:
                self.keysets[sig + (page,)] = (last, count)
                self.keysets.move_to_end(sig + (page,))
                while len(self.keysets) > 5000:
                    self.keysets.popitem(last=False)
        if self.edits_while_paging and page * per_page < count:
            self._edit_between_pages(res, [row[cols.index("id")] if inc else row[0] for row in rows])
        return resp

    # -- a record edited while a client pages ---------------------------------------------------------------
    def edit_while_paging(self, res: str, rid: int, changes: dict) -> None:
        """Once: right after a page holding record `rid` of `res` is served, and before the next page is asked for,
        a person saves `changes` to it (a new updated_at). Kantata pages by number (page, per_page; API v1
        "Pagination"), so a read ordered by updated_at serves the record again, newer, on a later page of the same
        read: the same id on two pages, as any page-number paging over rows that change between requests
        ("pagination returns the latest results ... may lead to duplicate entries or missing items as data changes
        between page requests": palantir.com/docs/foundry/api/general/overview/paging). The sandbox continues each
        page from the last key of the previous one, so it serves the record twice without also skipping the record
        that page-number paging would shift across the page boundary."""
        self.edits_while_paging[(self._res(res), int(rid))] = dict(changes)

    def _edit_between_pages(self, res: str, served: list) -> None:
        for rid in served:
            changes = self.edits_while_paging.pop((res, int(rid)), None)
            if changes is None:
                continue
            store = self.sandbox.store
            values = {**changes, "updated_at": store.stamp("kantata")}
            with store.write_lock:
                store.conn().execute(
                    f'UPDATE "{schema.table("kantata", res)}" SET {", ".join(f"{k} = ?" for k in values)} WHERE id = ?',
                    [*values.values(), int(rid)])
            self.edited_while_paging.append((res, int(rid)))

    @staticmethod
    @functools.cache
    def _json_record(res: str) -> str:
        """SQL rendering one row of `res` as the JSON object _render_rows makes (ids as strings, flags as booleans,
        a workspace's status as an object)."""
        parts = []
        status = []
        for name, t in schema.fields("kantata", res).items():
            col = f'"{name}"'
            if res == "workspaces" and name.startswith("status_"):
                status.append(f"'{name[7:]}', {col}")
                continue
            if t in ("id", "ref"):
                value = f"CAST({col} AS TEXT)"
            elif t == "bool":
                value = f"CASE WHEN {col} IS NULL THEN NULL WHEN {col} THEN json('true') ELSE json('false') END"
            else:
                value = col
            parts.append(f"'{name}', {value}")
        if status:
            parts.append(f"'status', json_object({', '.join(status)})")
        return f"json_object({', '.join(parts)})"

    @staticmethod
    def _envelope_json(res: str, rows: list, count: int, page: int, per_page: int) -> bytes:
        meta = orjson.dumps({"count": count, "meta": {"count": count, "page_count": (count + per_page - 1) // per_page,
                                                      "page_number": page, "page_size": per_page}})
        key = orjson.dumps(res).decode()
        results = ",".join(f'{{"key":{key},"id":"{r[0]}"}}' for r in rows)
        objs = ",".join(f'"{r[0]}":{r[1]}' for r in rows)
        return f'{meta[:-1].decode()},"results":[{results}],{key}:{{{objs}}}}}'.encode()

    @staticmethod
    def _order(res: str, asked: str | None) -> tuple[str, bool]:
        """(sort field, descending) of the endpoint: the order asked when it is one of the endpoint's, else its
        default order, silently."""
        fields, default = SORT_ORDERS.get(res, (("id",), "id:asc"))
        ocol, _, odir = (asked or "").split(",")[0].strip().partition(":")
        if ocol not in fields or odir.lower() not in ("", "asc", "desc"):
            ocol, _, odir = default.partition(":")
        return ocol, odir.lower() == "desc"

    def _envelope(self, res, cols, rows, count, page, per_page, req) -> dict:
        objs = self._render_rows(res, cols, rows)
        body = {"count": count, "meta": {"count": count, "page_count": (count + per_page - 1) // per_page,
                                         "page_number": page, "page_size": per_page},
                "results": [{"key": res, "id": i} for i in objs], res: objs}
        inc = req.arg("include")
        if inc:
            types = schema.fields("kantata", res)
            for name in inc.split(","):
                name = name.strip()
                spec = INCLUDES.get(name)
                if spec is None or spec[0] not in types:
                    continue  # unknown include names are ignored, not refused (as Kantata does)
                fld, target = spec
                ids = sorted({int(o[fld]) for o in objs.values() if o.get(fld)})
                if not ids:
                    body.setdefault(target, {})
                    continue
                tcols = [f.split(":")[0] for f in schema.KANTATA[target]]
                trows = self.sandbox.store.conn().execute(
                    f'SELECT {", ".join(tcols)} FROM "{schema.table("kantata", target)}" WHERE id IN ({", ".join(map(str, ids))})').fetchall()
                body.setdefault(target, {}).update(self._render_rows(target, tcols, trows))
                for o in objs.values():
                    if o.get(fld):
                        o[name + "_id"] = o[fld]
        return body

    def get_one(self, req, res, rid):
        res = self._res(res)
        cols = [f.split(":")[0] for f in schema.KANTATA[res]]
        rows = self.sandbox.store.conn().execute(f'SELECT {", ".join(cols)} FROM "{schema.table("kantata", res)}" WHERE id = ?',
                                                 (int(rid),)).fetchall()
        if not rows:
            raise kt_error(404, f"{schema.KT_SINGULAR[res]} {rid} not found", "system")
        return Response(200, self._envelope(res, cols, rows, 1, 1, 1, req))

    # -- writes ---------------------------------------------------------------------------------------
    def _writable(self, res: str) -> str:
        res = self._res(res)
        if res not in schema.KT_WRITABLE:
            raise kt_error(403, f"{res} cannot be written through this API", "system")
        return res

    def _values(self, res: str, obj, creating: bool) -> dict:
        if not isinstance(obj, dict):
            raise kt_error(400, "Request body must contain an object", "validation")
        types = schema.fields("kantata", res)
        out = {}
        for k, v in obj.items():
            if res == "workspaces" and k == "status" and isinstance(v, dict):
                v = v.get("message")
                k = "status_message"
            if res == "workspaces" and k in ("status", "status_message"):
                from sandbox.generate import KT_STATUS
                if v not in KT_STATUS:
                    raise kt_error(422, f"status must be one of {', '.join(KT_STATUS)}", "validation", "status")
                out["status_message"], (out["status_key"], out["status_color"]) = v, KT_STATUS[v]
                continue
            if k in ("id", "created_at", "updated_at"):
                continue
            t = types.get(k)
            if t is None:
                raise kt_error(422, f"unknown attribute '{k}' for {schema.KT_SINGULAR[res]}", "validation", k)
            try:
                if v is None:
                    out[k] = None
                elif t in ("ref", "int"):
                    out[k] = int(v)
                elif t == "float":
                    out[k] = float(v)
                elif t == "bool":
                    out[k] = int(bool(v) if isinstance(v, bool) else str(v).lower() in ("true", "1"))
                elif t == "date":
                    time.strptime(str(v)[:10], "%Y-%m-%d")
                    out[k] = str(v)[:10]
                else:
                    out[k] = str(v)
            except (TypeError, ValueError):
                raise kt_error(422, f"{k} is invalid", "validation", k) from None
        if creating:
            for k in schema.KT_REQUIRED.get(res, []):
                if out.get(k) in (None, ""):
                    raise kt_error(422, f"{k} can't be blank", "validation", k)
            if res == "workspaces" and not obj.get("creator_role"):
                raise kt_error(422, "creator_role can't be blank", "validation", "creator_role")
        c = self.sandbox.store.conn()
        for k, target in (("workspace_id", "kt_workspaces"), ("user_id", "kt_users"), ("story_id", "kt_stories"),
                          ("role_id", "kt_roles"), ("custom_field_id", "kt_custom_fields"), ("parent_id", "kt_stories"),
                          ("workspace_resource_id", "kt_workspace_resources"), ("rate_card_id", "kt_rate_cards")):
            if out.get(k) is not None and not c.execute(f"SELECT 1 FROM {target} WHERE id = ?", (out[k],)).fetchone():
                raise kt_error(422, f"{k} {out[k]} does not exist", "validation", k)
        return out

    def _insert(self, res: str, values: dict) -> int:
        store = self.sandbox.store
        now = store.stamp("kantata")
        rid = store.new_kt_id(res)
        row = {**values, "id": rid, "created_at": now, "updated_at": now}
        if res == "workspaces":
            row.setdefault("archived", 0)
            row.setdefault("status_message", "Not Started")
            row.setdefault("status_key", 100)
            row.setdefault("status_color", "grey")
            row.setdefault("budget_used_in_cents", 0)
            row.setdefault("percentage_complete", 0)
            row.setdefault("account_id", 5001)
        if res == "stories":
            row.setdefault("archived", 0)
            row.setdefault("state", "not started")
            row.setdefault("story_type", "task")
            row.setdefault("percentage_complete", 0)
        if res == "custom_field_values":
            # one value per field and subject, as in Kantata: a second POST updates it
            hit = store.conn().execute("SELECT id FROM kt_custom_field_values WHERE custom_field_id = ? AND subject_type = ? "
                                       "AND subject_id = ?", (row["custom_field_id"], row["subject_type"], row["subject_id"])).fetchone()
            if hit:
                self._update(res, hit[0], values)
                return hit[0]
        if res == "workspace_resources" and row.get("role_id") and not row.get("role_name"):
            r = store.conn().execute("SELECT name FROM kt_roles WHERE id = ?", (row["role_id"],)).fetchone()
            row["role_name"] = r[0] if r else None
        cols = list(row)
        store.conn().execute(f'INSERT INTO "{schema.table("kantata", res)}" ({", ".join(cols)}) VALUES ({", ".join("?" * len(cols))})',
                             [row[k] for k in cols])
        return rid

    def _update(self, res: str, rid: int, values: dict) -> None:
        values = {**values, "updated_at": self.sandbox.store.stamp("kantata")}
        self.sandbox.store.conn().execute(
            f'UPDATE "{schema.table("kantata", res)}" SET {", ".join(k + " = ?" for k in values)} WHERE id = ?',
            [*values.values(), rid])

    def create(self, req, res):
        res = self._writable(res)
        body = req.json()
        single, plural = schema.KT_SINGULAR[res], res
        if isinstance(body, dict) and isinstance(body.get(plural), list):
            objs = body[plural]
            if len(objs) > BULK_MAX:
                raise kt_error(422, f"cannot create more than {BULK_MAX} {plural} at once", "validation")
        elif isinstance(body, dict) and isinstance(body.get(single), dict):
            objs = [body[single]]
        else:
            raise kt_error(400, f"Request body must contain '{single}' or '{plural}'", "validation")
        c = self.sandbox.store.conn()
        with self.sandbox.store.write_lock:
            values = [self._values(res, o, creating=True) for o in objs]
            c.execute("BEGIN")
            try:
                ids = [self._insert(res, v) for v in values]
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
        cols = [f.split(":")[0] for f in schema.KANTATA[res]]
        rows = c.execute(f'SELECT {", ".join(cols)} FROM "{schema.table("kantata", res)}" WHERE id IN ({", ".join(map(str, ids))})').fetchall()
        rows.sort(key=lambda r: ids.index(r[0]))
        resp = Response(200, self._envelope(res, cols, rows, len(rows), 1, max(1, len(rows)), req))
        resp.records_written = len(ids)
        return resp

    def update(self, req, res, rid):
        res = self._writable(res)
        body = req.json()
        single = schema.KT_SINGULAR[res]
        if not isinstance(body, dict) or not isinstance(body.get(single), dict):
            raise kt_error(400, f"Request body must contain '{single}'", "validation")
        with self.sandbox.store.write_lock:
            values = self._values(res, body[single], creating=False)
            if not self.sandbox.store.conn().execute(f'SELECT 1 FROM "{schema.table("kantata", res)}" WHERE id = ?', (int(rid),)).fetchone():
                raise kt_error(404, f"{single} {rid} not found", "system")
            self._update(res, int(rid), values)
        resp = self.get_one(req, res, rid)
        resp.records_written = 1
        return resp

    def delete(self, req, res, rid):
        res = self._writable(res)
        with self.sandbox.store.write_lock:
            n = self._delete_ids(res, [int(rid)])
        if not n:
            raise kt_error(404, f"{schema.KT_SINGULAR[res]} {rid} not found", "system")
        resp = Response(204)
        resp.records_written = n
        return resp

    def delete_bulk(self, req, res):
        res = self._writable(res)
        ids = [int(x) for x in (req.arg("ids") or "").split(",") if x.strip().isdigit()]
        if not ids or len(ids) > BULK_MAX:
            raise kt_error(422, f"ids must list 1 to {BULK_MAX} ids", "validation", "ids")
        with self.sandbox.store.write_lock:
            n = self._delete_ids(res, ids)
        resp = Response(204)
        resp.records_written = n
        return resp

    def _delete_ids(self, res, ids) -> int:
        c = self.sandbox.store.conn()
        q = ", ".join("?" * len(ids))
        if res == "stories":  # stories are soft-deleted: they keep a deleted_at
            return c.execute(f"UPDATE kt_stories SET deleted_at = ?, updated_at = ? WHERE id IN ({q}) AND deleted_at IS NULL",
                             [self.sandbox.store.stamp("kantata")] * 2 + ids).rowcount
        return c.execute(f'DELETE FROM "{schema.table("kantata", res)}" WHERE id IN ({q})', ids).rowcount
