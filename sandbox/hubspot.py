"""HubSpot CRM (v3 objects, v4 associations, pipelines, owners) over the firm's CRM: the same accounts, opportunities,
line items and users the Salesforce sandbox serves, expressed as HubSpot companies, deals, line items, products and
owners. The records are read from the firm's CRM tables as they are at each request (a tick's new deals, stage moves
and deletions show in both), so that the two CRMs are one firm, not two copies that drift.

Sources of the behaviour simulated here (each asserted in tests/contracts/test_hubspot_contract.py):
- Objects: "CRM API | Companies / Deals / Line items / Products" (developers.hubspot.com/docs/api-reference/crm-*-v3):
  GET /crm/v3/objects/{object}?limit=&after=&properties=&archived= -> {results: [{id, properties, createdAt,
  updatedAt, archived, archivedAt?}], paging: {next: {after}}}; ids are numeric strings, property values strings.
  `archived=true` lists the records moved to the recycling bin (DELETE "Move an Object ... to the recycling bin").
- Search: "Search the CRM" (developers.hubspot.com/docs/api-reference/search/guide): POST /crm/v3/objects/{object}/
  search {filterGroups: [{filters: [{propertyName, operator, value | highValue | values}]}], sorts, properties, limit,
  after} -> {total, results, paging.next.after}; at most 200 records a page; filter groups are ORed, the filters of a
  group ANDed, at most 5 groups and 25 filters, 10 a group (HubSpot changelog "Breaking Change: Expanded Filtering
  Capabilities ... in HubSpot's Search API", 2024-08); one sort; a query can page through 10,000 results at most,
  a request past that is refused with a 400 (community.hubspot.com "CRM Record ID Sequencing and the Search API":
  "Paginating through query results fails once you ask for records past the 10,000th record"; apideck HubSpot
  gotchas: "will only return a maximum of 10.000"); archived records are never found by search.
- Pipelines: "CRM API | Pipelines" (developers.hubspot.com/docs/api-reference/crm-pipelines-v3/guide): GET
  /crm/v3/pipelines/deals -> {results: [{id, label, displayOrder, stages: [{id, label, displayOrder, metadata:
  {isClosed: "true"|"false", probability: "0.0".."1.0"}, ...}]}]}; a deal's `dealstage` is a stage id and its
  `pipeline` a pipeline id: closed-won is a closed stage with probability 1.0, whatever its label (stage metadata as
  in DataDirect's DEALPIPELINESTAGES table: ISCLOSED, PROBABILITY).
- Owners: "CRM API | Owners" (GET /crm/v3/owners?limit=&after=&archived=) -> {results: [{id, email, firstName,
  lastName, userId, createdAt, updatedAt, archived}], paging}.
- Associations v4: POST /crm/v4/associations/{from}/{to}/batch/read {inputs: [{id}]} -> {status: "COMPLETE",
  results: [{from: {id}, to: [{toObjectId, associationTypes: [{category: "HUBSPOT_DEFINED", typeId, label}]}]}]}
  (developers.hubspot.com/docs/api-reference/legacy/crm/associations/associate-records/batch/get-associations).
- Batch update: POST /crm/v3/objects/{object}/batch/update {inputs: [{id, properties}]} ("Update a batch of records by
  internal ID, or unique property values"); ids not found come back in `errors` with a 207 (HubSpot's multi-status
  answer of batch endpoints; its exact body is unconfirmed).
- Batch upsert: POST /crm/v3/objects/{object}/batch/upsert {inputs: [{idProperty, id, properties}]} creates or
  updates by a property with unique values (developers.hubspot.com ".../batch/upsert-custom-objects": "idProperty
  ... refers to a property whose values are unique for the object"); at most 100 inputs a batch (HubSpot's batch
  endpoints; unconfirmed for upsert in the pages found, kept at 100 as the brief of the hub states).
- Auth: a private app's access token as `Authorization: Bearer <token>`; it does not expire (it is rotated).
- Limits: "API usage guidelines and limits" (developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines):
  per 10 seconds 100 (Free/Starter) or 190 (Professional/Enterprise) per app, per day 250,000 to 1,000,000 per
  account; the answers carry X-HubSpot-RateLimit-Daily, -Daily-Remaining, -Interval-Milliseconds, -Max, -Remaining;
  beyond a limit a 429 {status: "error", message: "You have reached your ten_secondly_rolling limit.", errorType:
  "RATE_LIMIT", correlationId, policyName: "TEN_SECONDLY_ROLLING" (or "SECONDLY", "DAILY"), groupName} (the body as
  reported in HubSpot/hubspot-api-python#117 and HGData/mk-node-hubspot#89). The search endpoints have their own limit
  per token: four a second (changelog "CRM Search API Rate Limit Increase"; the current guide says five: the sandbox
  enforces five and the hub paces itself at four). No Retry-After is documented: none is sent.

Unconfirmed and kept here, easy to correct: the exact 400 body of a search past 10,000 results (the category and
message are HubSpot's generic validation error), the custom properties the firm adds for the hub (below), and the
stage ids (HubSpot's default pipeline's ids, labelled with the firm's own stage names).
"""
from __future__ import annotations

import collections
import datetime as dt
import json
import secrets
import threading
import time
import uuid

from sandbox.http import ApiError, App, Request, Response
from sandbox.store import parse_datetime, sf_datetime, sf_id

SEARCH_PAGE_MAX = 200       # records a search page may hold
LIST_PAGE_MAX = 100         # records a list page may hold
SEARCH_RESULT_CAP = 10_000  # results one search query can page through
BATCH_MAX = 100             # inputs of a batch upsert or association read
MAX_GROUPS, MAX_FILTERS, MAX_FILTERS_A_GROUP = 5, 25, 10
TEN_SECOND_LIMIT = 190      # Professional: per app and 10 seconds
SEARCH_PER_SECOND = 5       # the search endpoints, per token and second
DAILY_LIMIT = 625_000       # Professional: per account and day
PIPELINE_ID = "default"

# the firm's sales stages (Salesforce StageName) as stages of HubSpot's default pipeline:
# (stage id, label, isClosed, probability)
STAGES = [("appointmentscheduled", "Prospecting", False, 0.1), ("qualifiedtobuy", "Qualification", False, 0.2),
          ("presentationscheduled", "Needs Analysis", False, 0.3),
          ("decisionmakerboughtin", "Proposal/Price Quote", False, 0.6),
          ("contractsent", "Negotiation/Review", False, 0.8),
          ("closedwon", "Closed Won", True, 1.0), ("closedlost", "Closed Lost", True, 0.0)]
STAGE_ID = {label: sid for sid, label, _c, _p in STAGES}
STAGE_LABEL = {sid: label for sid, label, _c, _p in STAGES}
# the firm's roles as products (id, name); line items name their product by hs_product_id
PRODUCTS = [(1, "Analyst"), (2, "Consultant"), (3, "Project Manager"), (4, "Program Manager"), (5, "Architect")]
PRODUCT_ID = {name: pid for pid, name in PRODUCTS}

# HubSpot object -> (firm table, Salesforce id prefix, {property: (column, type)}); types: str, num, date, datetime,
# bool, ref:<prefix> (another record's HubSpot id), stage (a stage id from StageName), product (from Role__c)
_F = dict
OBJECTS: dict[str, tuple[str, str, dict[str, tuple[str, str]]]] = {
    "companies": ("sf_Account", "001", _F(
        name=("Name", "str"), type=("Type", "str"), industry=("Industry", "str"), country=("BillingCountry", "str"),
        city=("BillingCity", "str"), hubspot_owner_id=("OwnerId", "ref:005"),
        # custom properties the firm adds for the hub (external_id and erp_customer_id with unique values)
        company_currency=("CurrencyIsoCode", "str"), legal_entity=("Legal_Entity__c", "str"),
        external_id=("External_Id__c", "str"), erp_customer_id=("ERP_Customer_Id__c", "str"),
        open_ar=("Open_AR__c", "num"), overdue_ar=("Overdue_AR__c", "num"), ar_current=("AR_Current__c", "num"),
        ar_1_30=("AR_1_30__c", "num"), ar_31_60=("AR_31_60__c", "num"), ar_61_90=("AR_61_90__c", "num"),
        ar_over_90=("AR_Over_90__c", "num"), dso=("DSO__c", "num"), last_payment_date=("Last_Payment_Date__c", "date"),
        credit_hold=("Credit_Hold__c", "bool"), finance_synced_at=("Finance_Synced_At__c", "datetime"),
        credit_limit=("Credit_Limit__c", "num"), available_credit=("Available_Credit__c", "num"),
        collection_stage=("Collection_Stage__c", "str"))),
    "deals": ("sf_Opportunity", "006", _F(
        dealname=("Name", "str"), amount=("Amount", "num"), closedate=("CloseDate", "datetime_of_date"),
        dealstage=("StageName", "stage"), deal_currency_code=("CurrencyIsoCode", "str"),
        dealtype=("Type", "str"), hubspot_owner_id=("OwnerId", "ref:005"),
        billing_model=("Billing_Model__c", "str"), legal_entity=("Legal_Entity__c", "str"),
        service_line=("Service_Line__c", "str"), start_date=("Start_Date__c", "date"), end_date=("End_Date__c", "date"),
        external_id=("External_Id__c", "str"), erp_project_id=("ERP_Project_Id__c", "str"),
        psa_project_id=("PSA_Project_Id__c", "str"), sync_status=("Sync_Status__c", "str"),
        last_sync_error=("Last_Sync_Error__c", "str"), last_synced_at=("Last_Synced_At__c", "datetime"),
        project_status=("Project_Status__c", "str"), billed_amount=("Billed_Amount__c", "num"),
        recognized_revenue=("Recognized_Revenue__c", "num"), backlog=("Backlog__c", "num"),
        burn_pct=("Burn_Pct__c", "num"), margin_pct=("Margin_Pct__c", "num"),
        collected_amount=("Collected_Amount__c", "num"), unbilled_work=("Unbilled_Work__c", "num"))),
    "line_items": ("sf_OpportunityLineItem", "00k", _F(
        name=("Name", "str"), quantity=("Quantity", "num"), price=("UnitPrice", "num"), amount=("TotalPrice", "num"),
        hs_line_item_currency_code=("CurrencyIsoCode", "str"), hs_product_id=("Role__c", "product"))),
}
COMMON = {"hs_object_id", "createdate", "hs_lastmodifieddate", "hs_pipeline"}
# properties whose values are unique (usable as idProperty of a batch upsert) and writable ones
UNIQUE = {"companies": {"external_id": "External_Id__c", "erp_customer_id": "ERP_Customer_Id__c"},
          "deals": {"external_id": "External_Id__c"}}
READONLY = {"hs_object_id", "createdate", "hs_lastmodifieddate", "hs_pipeline", "pipeline"}
# association type ids (HUBSPOT_DEFINED): deal -> company 5 (primary), line item -> deal 20
ASSOCIATIONS = {("deals", "companies"): ("AccountId", "001", 5, "Primary"),
                ("line_items", "deals"): ("OpportunityId", "006", 20, None)}
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# The custom object the firm defines for its ERP's invoices and credit memos (the hub writes them; HubSpot's own
# invoices object is for invoices HubSpot issues and collects: a draft that needs a contact and line items before it is
# open, "Invoices API" guide, so an ERP's invoice is a record of a custom object instead). As the schemas API
# describes one ("Custom objects" / "Schemas API" guides, developers.hubspot.com: POST /crm/v3/schemas with name,
# labels, primaryDisplayProperty, requiredProperties, properties [{name, label, type, fieldType, hasUniqueValue}],
# associatedObjects; the answer has id, objectTypeId "2-<id>", fullyQualifiedName "p<portal>_<name>" and associations
# [{id, fromObjectTypeId, toObjectTypeId, name}]). Unconfirmed and kept here: the portal and type ids, and that the
# association definition's id is the USER_DEFINED association type id the v4 endpoints take.
PORTAL_ID = 7878787
INVOICE_OBJECT = "erp_invoices"
INVOICE_TYPE_ID = "2-3210987"
INVOICE_FQN = f"p{PORTAL_ID}_{INVOICE_OBJECT}"
CUSTOM_REF = r"2-\d+|p\d+_\w+"
COMPANY_TYPE_ID = "0-2"
INVOICE_TO_COMPANY, COMPANY_TO_INVOICE = 101, 102  # association definitions (USER_DEFINED type ids)
INVOICE_PROPERTIES = {  # name -> (type, fieldType)
    "erp_invoice_id": ("string", "text"), "invoice_number": ("string", "text"), "document_type": ("string", "text"),
    "invoice_date": ("date", "date"), "due_date": ("date", "date"), "amount": ("number", "number"),
    "open_balance": ("number", "number"), "currency": ("string", "text"), "status": ("string", "text"),
    "days_overdue": ("number", "number"), "last_payment_date": ("date", "date"),
    "collection_stage": ("string", "text"), "deal_id": ("string", "text")}
INVOICE_UNIQUE = "erp_invoice_id"


def hs_id(sf: str | None) -> str | None:
    """A Salesforce id of the firm as a HubSpot record id: its sequence number (ids are numbers in HubSpot)."""
    if not sf:
        return None
    n = 0
    for ch in sf[5:15]:
        n = n * 62 + _B62.index(ch)
    return str(n)


def sf_of(prefix: str, record_id: str) -> str | None:
    try:
        n = int(record_id)
    except (TypeError, ValueError):
        return None
    return sf_id(prefix, n) if n >= 0 else None


def hs_datetime(value: str | None) -> str | None:
    """A firm timestamp as HubSpot writes datetimes: 2024-01-15T12:00:00.000Z."""
    if not value:
        return None
    return parse_datetime(value).strftime("%Y-%m-%dT%H:%M:%S.") + f"{parse_datetime(value).microsecond // 1000:03d}Z"


def _to_sf_stamp(value) -> str:
    """A filter value (epoch milliseconds or ISO text) as the firm's sortable stamp text."""
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        t = dt.datetime.fromtimestamp(int(text) / 1000, dt.timezone.utc).replace(tzinfo=None)
    else:
        t = parse_datetime(text)
    # to the millisecond (the firm's stamps carry .000): GTE 12:00:00.001 must not match 12:00:00.000
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}+0000"


def hs_error(status: int, message: str, category: str, **extra) -> ApiError:
    return ApiError(status, {"status": "error", "message": message, "correlationId": str(uuid.uuid4()),
                             "category": category, **extra})


class HubSpot(App):
    name = "hubspot"

    def __init__(self, sandbox):
        super().__init__(sandbox)
        self._window: collections.deque[float] = collections.deque()  # request times of the last 10 s
        self._search_window: collections.deque[float] = collections.deque()
        self._limit_lock = threading.Lock()
        with sandbox.store.write_lock:
            self._custom_tables(sandbox.store.conn())
        r = self.route
        r("GET", r"/crm/v3/pipelines/deals", "GET pipelines")(self.pipelines)
        r("GET", r"/crm/v3/schemas/?", "GET schemas")(self.schemas)
        r("GET", r"/crm/v3/schemas/(?P<obj>[\w-]+)", "GET schema")(self.schema)
        # the firm's custom object, by its objectTypeId or fullyQualifiedName (never its base name: HubSpot changelog
        # "Breaking change: removed support for referencing custom object types by base name", 2025-06)
        r("POST", rf"/crm/v3/objects/(?P<obj>{CUSTOM_REF})/batch/upsert", "POST custom batch upsert")(self.custom_upsert)
        r("GET", rf"/crm/v3/objects/(?P<obj>{CUSTOM_REF})/?", "GET custom objects")(self.custom_list)
        r("POST", r"/crm/v4/associations/(?P<src>[\w-]+)/(?P<dst>[\w-]+)/batch/create", "POST associations batch create")(
            self.associate)
        r("GET", r"/crm/v3/owners/?", "GET owners")(self.owners)
        r("POST", r"/crm/v3/objects/(?P<obj>\w+)/search", "POST search", write=False)(self.search)
        r("POST", r"/crm/v3/objects/(?P<obj>\w+)/batch/upsert", "POST batch upsert")(self.batch_upsert)
        r("POST", r"/crm/v3/objects/(?P<obj>\w+)/batch/update", "POST batch update")(self.batch_update)
        r("GET", r"/crm/v3/objects/(?P<obj>\w+)/?", "GET objects")(self.list)
        r("GET", r"/crm/v3/objects/(?P<obj>\w+)/(?P<rid>\d+)", "GET object")(self.get)
        r("POST", r"/crm/v4/associations/(?P<src>[\w-]+)/(?P<dst>[\w-]+)/batch/read", "POST associations batch read",
          write=False)(self.associations)

    # -- errors, auth and limits -------------------------------------------------------------------------------
    def unauthorized(self):
        return hs_error(401, "Authentication credentials not found. This API supports OAuth 2.0 authentication and "
                             "you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                        "INVALID_AUTHENTICATION")

    def server_error(self):
        return hs_error(500, "internal error", "UNKNOWN")

    def _rate_limited(self, policy: str) -> ApiError:
        word = {"TEN_SECONDLY_ROLLING": "ten_secondly_rolling", "SECONDLY": "secondly", "DAILY": "daily"}[policy]
        return ApiError(429, {"status": "error", "message": f"You have reached your {word} limit.",
                              "errorType": "RATE_LIMIT", "correlationId": str(uuid.uuid4()), "policyName": policy,
                              "groupName": f"publicapi:private-app-api-calls-{word}:{secrets.randbelow(10**7)}"},
                        self.limit_headers())

    def too_many(self):
        return self._rate_limited("TEN_SECONDLY_ROLLING")

    def not_found(self, path):
        return hs_error(404, f"Unable to route {path}", "OBJECT_NOT_FOUND")

    def bad_request(self, message):
        return hs_error(400, message, "VALIDATION_ERROR")

    def token_valid(self, token: str) -> bool:
        return secrets.compare_digest(token, self.sandbox.credentials["hubspot"]["access_token"])

    def _day(self):
        return self.sandbox.store.now().date()

    def over_daily_limit(self):
        with self.inflight_lock:
            if self.day_key != self._day():
                self.day_key, self.day_requests = self._day(), 0
            self.day_requests += 1
            if self.day_requests > self._daily_limit():
                return self._rate_limited("DAILY")
        return None

    def _daily_limit(self) -> int:
        return int(self.faults.get("daily_request_limit") or DAILY_LIMIT)

    def limit_headers(self) -> dict:
        with self._limit_lock:
            used = len(self._window)
        return {"X-HubSpot-RateLimit-Daily": str(self._daily_limit()),
                "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, self._daily_limit() - self.day_requests)),
                "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
                "X-HubSpot-RateLimit-Max": str(self._ten_second_limit()),
                "X-HubSpot-RateLimit-Remaining": str(max(0, self._ten_second_limit() - used))}

    def _ten_second_limit(self) -> int:
        return int(self.faults.get("requests_per_ten_seconds") or TEN_SECOND_LIMIT)

    def handle(self, req: Request) -> Response | None:
        """The rolling 10-second limit of every API call and the search endpoints' own per-second limit, counted
        before the call is served (a refused call counts too, as HubSpot's limiter does)."""
        if not req.path.startswith("/__sandbox/") and self.match(req.method, req.path)[0] is not None:
            now = time.monotonic()
            policy = None
            with self._limit_lock:
                while self._window and now - self._window[0] >= 10:
                    self._window.popleft()
                self._window.append(now)
                if len(self._window) > self._ten_second_limit():
                    policy = "TEN_SECONDLY_ROLLING"
                if req.path.endswith("/search"):
                    while self._search_window and now - self._search_window[0] >= 1:
                        self._search_window.popleft()
                    self._search_window.append(now)
                    if len(self._search_window) > int(self.faults.get("search_requests_per_second")
                                                      or SEARCH_PER_SECOND):
                        policy = policy or "SECONDLY"
            if policy:
                err = self._rate_limited(policy)
                self.stats.count(self.match(req.method, req.path)[0].name, False, 429)
                return Response(err.status, err.body, err.headers)
        return super().handle(req)

    # -- records ---------------------------------------------------------------------------------------------
    def _object(self, obj: str):
        if obj not in OBJECTS and obj != "products":
            raise hs_error(400, f"Unable to infer object type from: {obj}", "VALIDATION_ERROR")
        return obj

    def _properties(self, obj: str, wanted) -> list[str]:
        known = set(OBJECTS[obj][2]) | COMMON | ({"pipeline"} if obj == "deals" else set())
        if wanted is None:
            return sorted(known)
        if isinstance(wanted, str):
            wanted = [w for w in wanted.split(",") if w]
        # HubSpot leaves out properties that do not exist rather than refusing the request
        return [w for w in wanted if w in known]

    def _render(self, obj: str, row: dict, props: list[str]) -> dict:
        table, prefix, mapping = OBJECTS[obj]
        rid = hs_id(row["Id"])
        out: dict[str, str | None] = {}
        for p in props:
            if p == "hs_object_id":
                v = rid
            elif p == "createdate":
                v = hs_datetime(row.get("CreatedDate"))
            elif p == "hs_lastmodifieddate":
                v = hs_datetime(row.get("SystemModstamp"))
            elif p in ("pipeline", "hs_pipeline"):
                v = PIPELINE_ID if obj == "deals" else None
            else:
                col, typ = mapping[p]
                raw = row.get(col)
                if raw is None or raw == "":
                    v = None
                elif typ.startswith("ref:"):
                    v = hs_id(raw)
                elif typ == "stage":
                    v = STAGE_ID.get(raw, raw)
                elif typ == "product":
                    v = str(PRODUCT_ID[raw]) if raw in PRODUCT_ID else None
                elif typ == "bool":
                    v = "true" if raw in (1, "1", True, "true") else "false"
                elif typ == "num":
                    v = repr(float(raw)).removesuffix(".0") if float(raw).is_integer() else repr(float(raw))
                elif typ == "datetime":
                    v = hs_datetime(raw)
                elif typ == "datetime_of_date":  # closedate is a datetime property: midnight UTC of the day
                    v = f"{str(raw)[:10]}T00:00:00.000Z"
                else:
                    v = str(raw)
            out[p] = v
        record = {"id": rid, "properties": out, "createdAt": hs_datetime(row.get("CreatedDate")),
                  "updatedAt": hs_datetime(row.get("SystemModstamp")), "archived": bool(row.get("IsDeleted"))}
        if record["archived"]:
            record["archivedAt"] = hs_datetime(row.get("SystemModstamp"))
        return record

    def _rows(self, obj: str, where: str, params: list, order: str, limit: int, offset: int) -> list[dict]:
        cur = self.sandbox.store.conn().execute(
            f'SELECT * FROM "{OBJECTS[obj][0]}" WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?',
            [*params, limit, offset])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    @staticmethod
    def _int(value, default: int, name: str) -> int:
        try:
            return int(value) if value not in (None, "") else default
        except (TypeError, ValueError):
            raise hs_error(400, f"Invalid input JSON: {name} must be an integer", "VALIDATION_ERROR") from None

    def list(self, req: Request, obj: str) -> Response:
        obj = self._object(obj)
        limit = min(self._int(req.arg("limit"), 10, "limit"), LIST_PAGE_MAX)
        after = self._int(req.arg("after"), 0, "after")
        if obj == "products":
            rows = [{"id": str(pid), "properties": {"name": name, "hs_object_id": str(pid),
                                                     "createdate": "2020-01-01T00:00:00.000Z",
                                                     "hs_lastmodifieddate": "2020-01-01T00:00:00.000Z"},
                     "createdAt": "2020-01-01T00:00:00.000Z", "updatedAt": "2020-01-01T00:00:00.000Z",
                     "archived": False} for pid, name in PRODUCTS if req.arg("archived", "false") != "true"]
            page = rows[after:after + limit]
            return Response(200, {"results": page, **self._paging(after, limit, len(rows) > after + limit)})
        archived = 1 if req.arg("archived", "false").lower() == "true" else 0
        props = self._properties(obj, req.arg("properties") or "hs_object_id,createdate,hs_lastmodifieddate")
        rows = self._rows(obj, "IsDeleted = ?", [archived], "Id", limit + 1, after)
        return Response(200, {"results": [self._render(obj, r, props) for r in rows[:limit]],
                              **self._paging(after, limit, len(rows) > limit)})

    @staticmethod
    def _paging(after: int, limit: int, more: bool) -> dict:
        return {"paging": {"next": {"after": str(after + limit)}}} if more else {}

    def get(self, req: Request, obj: str, rid: str) -> Response:
        obj = self._object(obj)
        sf = sf_of(OBJECTS[obj][1], rid)
        rows = self._rows(obj, "Id = ? AND IsDeleted = ?", [sf, 1 if req.arg("archived") == "true" else 0], "Id", 1, 0)
        if not rows:
            raise hs_error(404, f"Object not found.  objectId are usually numeric.", "OBJECT_NOT_FOUND")
        return Response(200, self._render(obj, rows[0], self._properties(obj, req.arg("properties"))))

    # -- search ----------------------------------------------------------------------------------------------
    def _condition(self, obj: str, f: dict) -> tuple[str, list]:
        prop, op = f.get("propertyName"), str(f.get("operator", "")).upper()
        mapping = OBJECTS[obj][2]
        if prop == "hs_lastmodifieddate":
            col, conv = "SystemModstamp", _to_sf_stamp
        elif prop == "createdate":
            col, conv = "CreatedDate", _to_sf_stamp
        elif prop == "hs_object_id":
            col, conv = "Id", lambda v: sf_of(OBJECTS[obj][1], v)
        elif prop in mapping and not mapping[prop][1].startswith(("ref:", "stage", "product")):
            col, conv = mapping[prop][0], str
        elif prop == "dealstage" and obj == "deals":
            col, conv = "StageName", lambda v: STAGE_LABEL.get(v, v)
        else:
            raise hs_error(400, f"There was a problem with the request. Property {prop!r} does not exist or cannot be "
                                "searched", "VALIDATION_ERROR")
        ops = {"EQ": "=", "NEQ": "<>", "LT": "<", "LTE": "<=", "GT": ">", "GTE": ">="}
        try:
            if op in ops:
                return f'"{col}" {ops[op]} ?', [conv(f["value"])]
            if op == "BETWEEN":
                return f'"{col}" BETWEEN ? AND ?', [conv(f["value"]), conv(f["highValue"])]
            if op in ("IN", "NOT_IN"):
                values = [conv(v) for v in f.get("values") or []]
                return (f'"{col}" {"NOT " if op == "NOT_IN" else ""}IN ({", ".join("?" * len(values))})'
                        if values else ("0" if op == "IN" else "1")), values
            if op == "HAS_PROPERTY":
                return f"coalesce(\"{col}\", '') <> ''", []
            if op == "NOT_HAS_PROPERTY":
                return f"coalesce(\"{col}\", '') = ''", []
        except (KeyError, ValueError):
            raise hs_error(400, f"Invalid value for filter on {prop}", "VALIDATION_ERROR") from None
        raise hs_error(400, f"Unknown operator {op!r}", "VALIDATION_ERROR")

    def search(self, req: Request, obj: str) -> Response:
        obj = self._object(obj)
        if obj == "products":
            raise hs_error(400, "Search of products is not simulated", "VALIDATION_ERROR")
        body = req.json() or {}
        limit = self._int(body.get("limit"), 10, "limit")
        if not 1 <= limit <= SEARCH_PAGE_MAX:
            raise hs_error(400, f"limit must be between 1 and {SEARCH_PAGE_MAX}", "VALIDATION_ERROR")
        after = self._int(body.get("after"), 0, "after")
        cap = int(self.faults.get("search_result_cap") or SEARCH_RESULT_CAP)
        if after >= cap:
            # a query cannot page past its 10,000th result: narrow the query instead
            raise hs_error(400, f"There was a problem with the request. Paging past {cap} results is not allowed; "
                                "narrow the search with filters.", "VALIDATION_ERROR")
        groups = body.get("filterGroups") or []
        if len(groups) > MAX_GROUPS or sum(len(g.get("filters") or []) for g in groups) > MAX_FILTERS or any(
                len(g.get("filters") or []) > MAX_FILTERS_A_GROUP for g in groups):
            raise hs_error(400, f"Too many filters: at most {MAX_GROUPS} filter groups, {MAX_FILTERS_A_GROUP} filters "
                                f"a group and {MAX_FILTERS} in all", "VALIDATION_ERROR")
        ors, params = [], []
        for g in groups:
            ands = []
            for f in g.get("filters") or []:
                sql, p = self._condition(obj, f)
                ands.append(sql)
                params += p
            if ands:
                ors.append("(" + " AND ".join(ands) + ")")
        where = "IsDeleted = 0" + (f" AND ({' OR '.join(ors)})" if ors else "")
        sorts = body.get("sorts") or []
        if len(sorts) > 1:
            raise hs_error(400, "Only one sort is allowed", "VALIDATION_ERROR")
        order = '"Id" ASC'
        if sorts:
            s = sorts[0]
            prop = s.get("propertyName") if isinstance(s, dict) else str(s).lstrip("-")
            desc = (s.get("direction", "ASCENDING") if isinstance(s, dict) else
                    ("DESCENDING" if str(s).startswith("-") else "ASCENDING")).upper() == "DESCENDING"
            col = {"hs_lastmodifieddate": "SystemModstamp", "createdate": "CreatedDate", "hs_object_id": "Id"}.get(prop)
            if col is None:
                raise hs_error(400, f"Sorting by {prop!r} is not simulated", "VALIDATION_ERROR")
            # ids of one HubSpot object sort as numbers; the firm's ids sort the same way (fixed width)
            order = f'"{col}" {"DESC" if desc else "ASC"}, "Id" ASC'
        total = self.sandbox.store.conn().execute(
            f'SELECT count(*) FROM "{OBJECTS[obj][0]}" WHERE {where}', params).fetchone()[0]
        take = min(limit, cap - after)
        rows = self._rows(obj, where, params, order, take, after)
        props = self._properties(obj, body.get("properties") or ["hs_object_id", "createdate", "hs_lastmodifieddate"])
        out = {"total": total, "results": [self._render(obj, r, props) for r in rows]}
        if after + len(rows) < total:
            out["paging"] = {"next": {"after": str(after + len(rows))}}
        return Response(200, out)

    # -- the firm's custom object (ERP invoices) and associations to companies -------------------------------
    def _custom_tables(self, c) -> None:
        c.execute("CREATE TABLE IF NOT EXISTS hs_erp_invoices (id INTEGER PRIMARY KEY, erp_invoice_id TEXT NOT NULL "
                  "UNIQUE, properties TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)")
        c.execute("CREATE TABLE IF NOT EXISTS hs_associations (from_type TEXT, from_id TEXT, to_type TEXT, to_id TEXT, "
                  "category TEXT, type_id INTEGER, PRIMARY KEY (from_type, from_id, to_type, to_id, type_id))")

    def _schema(self) -> dict:
        stamp = "2020-01-01T00:00:00.000Z"
        return {"id": INVOICE_TYPE_ID.split("-")[1], "objectTypeId": INVOICE_TYPE_ID, "name": INVOICE_OBJECT,
                "fullyQualifiedName": INVOICE_FQN, "labels": {"singular": "ERP invoice", "plural": "ERP invoices"},
                "primaryDisplayProperty": "invoice_number", "requiredProperties": ["erp_invoice_id", "invoice_number"],
                "searchableProperties": ["erp_invoice_id", "invoice_number"], "metaType": "PORTAL_SPECIFIC",
                "archived": False, "createdAt": stamp, "updatedAt": stamp,
                "properties": [{"name": n, "label": n.replace("_", " ").capitalize(), "type": t, "fieldType": ft,
                                "hasUniqueValue": n == INVOICE_UNIQUE, "groupName": "erp_invoice_information",
                                "archived": False, "calculated": False, "createdAt": stamp, "updatedAt": stamp}
                               for n, (t, ft) in INVOICE_PROPERTIES.items()],
                "associations": [
                    {"id": str(INVOICE_TO_COMPANY), "fromObjectTypeId": INVOICE_TYPE_ID,
                     "toObjectTypeId": COMPANY_TYPE_ID, "name": f"{INVOICE_OBJECT}_to_company"},
                    {"id": str(COMPANY_TO_INVOICE), "fromObjectTypeId": COMPANY_TYPE_ID,
                     "toObjectTypeId": INVOICE_TYPE_ID, "name": f"company_to_{INVOICE_OBJECT}"}]}

    def schemas(self, req: Request) -> Response:
        return Response(200, {"results": [self._schema()]})

    def schema(self, req: Request, obj: str) -> Response:
        if obj not in (INVOICE_TYPE_ID, INVOICE_FQN):
            raise hs_error(404, f"Unable to find object type {obj}", "OBJECT_NOT_FOUND")
        return Response(200, self._schema())

    def _custom(self, obj: str) -> str:
        if obj not in (INVOICE_TYPE_ID, INVOICE_FQN):
            raise hs_error(400, f"Unable to infer object type from: {obj}", "VALIDATION_ERROR")
        return INVOICE_TYPE_ID

    def _invoice_record(self, row, props: list[str] | None) -> dict:
        rid, _key, properties, created, updated = row
        values = json.loads(properties)
        shown = {"hs_object_id": str(rid), "hs_createdate": created, "hs_lastmodifieddate": updated}
        shown |= {k: values.get(k) for k in (props if props is not None else INVOICE_PROPERTIES)
                  if k in INVOICE_PROPERTIES}
        return {"id": str(rid), "properties": shown, "createdAt": created, "updatedAt": updated, "archived": False}

    def custom_upsert(self, req: Request, obj: str) -> Response:
        """Create or update up to 100 records by their unique erp_invoice_id ("Create or update a batch of objects by
        unique property values": inputs [{idProperty, id, properties}]; the answer's results carry `new`)."""
        self._custom(obj)
        inputs = (req.json() or {}).get("inputs") or []
        if not inputs or len(inputs) > BATCH_MAX:
            raise hs_error(400, f"Batch input size must be between 1 and {BATCH_MAX}", "VALIDATION_ERROR")
        checked = []
        for item in inputs:
            if (item or {}).get("idProperty") != INVOICE_UNIQUE or item.get("id") in (None, ""):
                raise hs_error(400, f"idProperty must be a property with unique values: {INVOICE_UNIQUE}",
                               "VALIDATION_ERROR")
            props = item.get("properties") or {}
            unknown = sorted(set(props) - set(INVOICE_PROPERTIES))
            if unknown:
                raise hs_error(400, f"Property values were not valid: property {unknown[0]!r} does not exist",
                               "VALIDATION_ERROR")
            for name, value in props.items():
                if INVOICE_PROPERTIES[name][0] == "number" and value not in (None, ""):
                    try:
                        float(value)
                    except (TypeError, ValueError):
                        raise hs_error(400, f"Property values were not valid: {value!r} is not a number for {name}",
                                       "VALIDATION_ERROR") from None
            checked.append((str(item["id"]), {**props, INVOICE_UNIQUE: str(item["id"])}))
        if len({key for key, _p in checked}) < len(checked):
            raise hs_error(400, "Duplicate IDs found in batch input", "VALIDATION_ERROR")
        store = self.sandbox.store
        now = hs_datetime(sf_datetime(store.now()))
        results = []
        with store.write_lock:
            c = store.conn()
            c.execute("BEGIN")
            try:
                for key, props in checked:
                    found = c.execute("SELECT id, properties FROM hs_erp_invoices WHERE erp_invoice_id = ?",
                                      (key,)).fetchone()
                    if found:
                        merged = {**json.loads(found[1]), **{k: (None if v == "" else str(v)) for k, v in props.items()}}
                        c.execute("UPDATE hs_erp_invoices SET properties = ?, updated_at = ? WHERE id = ?",
                                  (json.dumps(merged), now, found[0]))
                        rid = found[0]
                    else:
                        rid = self.sandbox.store.next_ids("hs_erp_invoices") + 30_000_000
                        c.execute("INSERT INTO hs_erp_invoices VALUES (?, ?, ?, ?, ?)",
                                  (rid, key, json.dumps({k: (None if v == "" else str(v)) for k, v in props.items()}),
                                   now, now))
                    row = c.execute("SELECT * FROM hs_erp_invoices WHERE id = ?", (rid,)).fetchone()
                    results.append({**self._invoice_record(row, list(props)), "new": found is None})
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
        resp = Response(200, {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now})
        resp.records_written = len(results)
        return resp

    def custom_list(self, req: Request, obj: str) -> Response:
        self._custom(obj)
        limit = min(self._int(req.arg("limit"), 10, "limit"), LIST_PAGE_MAX)
        after = self._int(req.arg("after"), 0, "after")
        props = [p for p in (req.arg("properties") or "").split(",") if p] or None
        if req.arg("archived", "false").lower() == "true":
            rows = []  # the hub never archives an ERP invoice record
        else:
            rows = self.sandbox.store.conn().execute(
                "SELECT * FROM hs_erp_invoices ORDER BY id LIMIT ? OFFSET ?", (limit + 1, after)).fetchall()
        return Response(200, {"results": [self._invoice_record(r, props) for r in rows[:limit]],
                              **self._paging(after, limit, len(rows) > limit)})

    def _type_of(self, obj: str) -> str | None:
        return {"companies": COMPANY_TYPE_ID, "company": COMPANY_TYPE_ID, COMPANY_TYPE_ID: COMPANY_TYPE_ID,
                INVOICE_TYPE_ID: INVOICE_TYPE_ID, INVOICE_FQN: INVOICE_TYPE_ID}.get(obj)

    def _exists(self, type_id: str, rid: str) -> bool:
        c = self.sandbox.store.conn()
        if type_id == COMPANY_TYPE_ID:
            return c.execute('SELECT 1 FROM "sf_Account" WHERE Id = ? AND IsDeleted = 0',
                             (sf_of("001", rid),)).fetchone() is not None
        return c.execute("SELECT 1 FROM hs_erp_invoices WHERE id = ?", (rid,)).fetchone() is not None

    def associate(self, req: Request, src: str, dst: str) -> Response:
        """Associate records with a labelled association type, up to 100 pairs ("Associate records (labelled)", v4:
        inputs [{from: {id}, to: {id}, types: [{associationCategory, associationTypeId}]}]; results [{fromObjectTypeId,
        fromObjectId, toObjectTypeId, toObjectId, labels}]). Associating what is already associated changes nothing.
        Only the custom object's associations with companies are simulated; records not found are in `errors`
        (207), the others are associated."""
        pair = (self._type_of(src), self._type_of(dst))
        definitions = {(INVOICE_TYPE_ID, COMPANY_TYPE_ID): INVOICE_TO_COMPANY,
                       (COMPANY_TYPE_ID, INVOICE_TYPE_ID): COMPANY_TO_INVOICE}
        if pair not in definitions:
            raise hs_error(400, f"No association from {src} to {dst} is simulated", "VALIDATION_ERROR")
        inputs = (req.json() or {}).get("inputs") or []
        if not inputs or len(inputs) > BATCH_MAX:
            raise hs_error(400, f"Batch input size must be between 1 and {BATCH_MAX}", "VALIDATION_ERROR")
        pairs = []
        for item in inputs:
            types = (item or {}).get("types") or []
            if not types or any((t.get("associationCategory"), int(t.get("associationTypeId") or 0)) !=
                                ("USER_DEFINED", definitions[pair]) for t in types):
                raise hs_error(400, f"associationTypeId must be USER_DEFINED {definitions[pair]} from {src} to {dst}",
                               "VALIDATION_ERROR")
            pairs.append((str((item.get("from") or {}).get("id", "")), str((item.get("to") or {}).get("id", ""))))
        store = self.sandbox.store
        results, missing = [], []
        with store.write_lock:
            c = store.conn()
            c.execute("BEGIN")
            try:
                for from_id, to_id in pairs:
                    if not (self._exists(pair[0], from_id) and self._exists(pair[1], to_id)):
                        missing.append((from_id, to_id))
                        continue
                    # an association is one link seen from both ends: stored both ways
                    for (ft, fi), (tt, ti), type_id in (((pair[0], from_id), (pair[1], to_id), definitions[pair]),
                                                        ((pair[1], to_id), (pair[0], from_id),
                                                         definitions[(pair[1], pair[0])])):
                        c.execute("INSERT OR IGNORE INTO hs_associations VALUES (?, ?, ?, ?, 'USER_DEFINED', ?)",
                                  (ft, fi, tt, ti, type_id))
                    results.append({"fromObjectTypeId": pair[0], "fromObjectId": int(from_id),
                                    "toObjectTypeId": pair[1], "toObjectId": int(to_id), "labels": []})
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
        now = hs_datetime(sf_datetime(store.now()))
        body = {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}
        if missing:
            body |= {"numErrors": len(missing), "errors": [
                {"status": "error", "category": "OBJECT_NOT_FOUND", "message": f"No record {f} -> {t} to associate",
                 "context": {"fromObjectId": [f], "toObjectId": [t]}} for f, t in missing]}
        resp = Response(207 if missing else 201, body)
        resp.records_written = len(results)
        return resp

    # -- pipelines, owners, associations ------------------------------------------------------------------
    def pipelines(self, req: Request) -> Response:
        stamp = "2020-01-01T00:00:00.000Z"
        stages = [{"id": sid, "label": label, "displayOrder": i, "archived": False, "createdAt": stamp,
                   "updatedAt": stamp, "metadata": {"isClosed": "true" if closed else "false",
                                                    "probability": f"{prob:.1f}"}}
                  for i, (sid, label, closed, prob) in enumerate(STAGES)]
        return Response(200, {"results": [{"id": PIPELINE_ID, "label": "Sales Pipeline", "displayOrder": 0,
                                           "archived": False, "createdAt": stamp, "updatedAt": stamp,
                                           "stages": stages}]})

    def owners(self, req: Request) -> Response:
        limit = min(self._int(req.arg("limit"), 100, "limit"), 500)
        after = self._int(req.arg("after"), 0, "after")
        archived = req.arg("archived", "false").lower() == "true"
        cur = self.sandbox.store.conn().execute(
            "SELECT Id, Email, FirstName, LastName, IsActive, CreatedDate, SystemModstamp FROM sf_User "
            "WHERE IsActive = ? ORDER BY Id LIMIT ? OFFSET ?", (0 if archived else 1, limit + 1, after))
        rows = cur.fetchall()
        results = [{"id": hs_id(sid), "email": email, "firstName": first, "lastName": last, "userId": int(hs_id(sid)),
                    "createdAt": hs_datetime(created), "updatedAt": hs_datetime(stamp), "archived": archived}
                   for sid, email, first, last, _active, created, stamp in rows[:limit]]
        return Response(200, {"results": results, **self._paging(after, limit, len(rows) > limit)})

    def associations(self, req: Request, src: str, dst: str) -> Response:
        if {self._type_of(src), self._type_of(dst)} == {COMPANY_TYPE_ID, INVOICE_TYPE_ID}:
            return self._custom_associations(req, self._type_of(src), self._type_of(dst))
        key = ASSOCIATIONS.get((src, dst))
        if key is None:
            raise hs_error(400, f"No association from {src} to {dst} is simulated", "VALIDATION_ERROR")
        col, dst_prefix, type_id, label = key
        inputs = (req.json() or {}).get("inputs") or []
        if len(inputs) > BATCH_MAX:
            raise hs_error(400, f"Batch input size must be at most {BATCH_MAX}", "VALIDATION_ERROR")
        table, prefix, _m = OBJECTS[src]
        results, errors = [], []
        c = self.sandbox.store.conn()
        for item in inputs:
            rid = str((item or {}).get("id", ""))
            row = c.execute(f'SELECT "{col}" FROM "{table}" WHERE Id = ? AND IsDeleted = 0',
                            (sf_of(prefix, rid),)).fetchone()
            if row is None:
                errors.append({"status": "error", "category": "OBJECT_NOT_FOUND", "message": f"No {src} with id {rid}",
                               "context": {"fromObjectId": [rid]}})
                continue
            to = [{"toObjectId": int(hs_id(row[0])), "associationTypes": [
                {"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": label}]}] if row[0] else []
            results.append({"from": {"id": rid}, "to": to})
        now = hs_datetime(sf_datetime(self.sandbox.store.now()))
        body = {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}
        if errors:
            body |= {"numErrors": len(errors), "errors": errors}
        return Response(207 if errors else 200, body)

    def _custom_associations(self, req: Request, src: str, dst: str) -> Response:
        inputs = (req.json() or {}).get("inputs") or []
        if len(inputs) > BATCH_MAX:
            raise hs_error(400, f"Batch input size must be at most {BATCH_MAX}", "VALIDATION_ERROR")
        c = self.sandbox.store.conn()
        results = []
        for item in inputs:
            rid = str((item or {}).get("id", ""))
            to = [{"toObjectId": int(t), "associationTypes": [{"category": cat, "typeId": tid, "label": None}]}
                  for t, cat, tid in c.execute("SELECT to_id, category, type_id FROM hs_associations WHERE from_type = ? "
                                               "AND from_id = ? AND to_type = ? ORDER BY to_id", (src, rid, dst))]
            if to:
                results.append({"from": {"id": rid}, "to": to})
        now = hs_datetime(sf_datetime(self.sandbox.store.now()))
        return Response(200, {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now})

    # -- batch upsert (the hub's write-back) ---------------------------------------------------------------
    def batch_upsert(self, req: Request, obj: str) -> Response:
        obj = self._object(obj)
        if obj not in UNIQUE:
            raise hs_error(400, f"Upsert of {obj} is not simulated", "VALIDATION_ERROR")
        inputs = (req.json() or {}).get("inputs") or []
        if not inputs or len(inputs) > BATCH_MAX:
            raise hs_error(400, f"Batch input size must be between 1 and {BATCH_MAX}", "VALIDATION_ERROR")
        table, prefix, mapping = OBJECTS[obj]
        store = self.sandbox.store
        results = []
        with store.write_lock:
            c = store.conn()
            c.execute("BEGIN")
            try:
                for item in inputs:
                    id_prop, key = item.get("idProperty"), item.get("id")
                    if id_prop not in UNIQUE[obj] or key in (None, ""):
                        raise hs_error(400, f"idProperty must be a property with unique values: one of "
                                            f"{', '.join(sorted(UNIQUE[obj]))}", "VALIDATION_ERROR")
                    values = self._writable(obj, item.get("properties") or {})
                    values[UNIQUE[obj][id_prop]] = str(key)
                    now = sf_datetime(store.now())
                    found = c.execute(f'SELECT Id FROM "{table}" WHERE "{UNIQUE[obj][id_prop]}" = ? AND IsDeleted = 0',
                                      (str(key),)).fetchall()
                    if len(found) > 1:
                        raise hs_error(400, f"{len(found)} records have {id_prop} {key}: its values must be unique",
                                       "VALIDATION_ERROR")
                    if found:
                        sid = found[0][0]
                        sets = {**values, "LastModifiedDate": now, "SystemModstamp": now}
                        c.execute(f'UPDATE "{table}" SET {", ".join(chr(34) + k + chr(34) + " = ?" for k in sets)} '
                                  f'WHERE Id = ?', [*sets.values(), sid])
                        new = False
                    else:
                        if obj == "deals" and ("Name" not in values or "StageName" not in values):
                            raise hs_error(400, "Property values were not valid: dealname and dealstage are required "
                                                "to create a deal", "VALIDATION_ERROR")
                        sid = store.new_sf_id("Account" if obj == "companies" else "Opportunity")
                        row = {"Id": sid, **values, "IsDeleted": 0, "CreatedDate": now, "LastModifiedDate": now,
                               "SystemModstamp": now}
                        if obj == "companies":
                            row.setdefault("Name", str(key))
                        c.execute(f'INSERT INTO "{table}" ({", ".join(chr(34) + k + chr(34) for k in row)}) '
                                  f'VALUES ({", ".join("?" * len(row))})', list(row.values()))
                        new = True
                    got = c.execute(f'SELECT * FROM "{table}" WHERE Id = ?', (sid,))
                    names = [d[0] for d in got.description]
                    rec = self._render(obj, dict(zip(names, got.fetchone())),
                                       ["hs_object_id", "hs_lastmodifieddate", *item.get("properties", {})])
                    results.append({**rec, "new": new})
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
        now = hs_datetime(sf_datetime(store.now()))
        resp = Response(200, {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now})
        resp.records_written = len(results)
        return resp

    def batch_update(self, req: Request, obj: str) -> Response:
        """Update up to 100 records by id ("Update a batch of records by internal ID"): properties that do not exist or
        are read-only refuse the whole batch (400); ids not found are reported in `errors` (207) while the others are
        updated."""
        obj = self._object(obj)
        if obj not in UNIQUE:
            raise hs_error(400, f"Update of {obj} is not simulated", "VALIDATION_ERROR")
        inputs = (req.json() or {}).get("inputs") or []
        if not inputs or len(inputs) > BATCH_MAX:
            raise hs_error(400, f"Batch input size must be between 1 and {BATCH_MAX}", "VALIDATION_ERROR")
        table, prefix, _mapping = OBJECTS[obj]
        changes = [(str(item.get("id", "")), self._writable(obj, item.get("properties") or {})) for item in inputs]
        store = self.sandbox.store
        results, missing = [], []
        with store.write_lock:
            c = store.conn()
            c.execute("BEGIN")
            try:
                for rid, values in changes:
                    sid = sf_of(prefix, rid)
                    if sid is None or c.execute(f'SELECT 1 FROM "{table}" WHERE Id = ? AND IsDeleted = 0',
                                                (sid,)).fetchone() is None:
                        missing.append(rid)
                        continue
                    now = sf_datetime(store.now())
                    sets = {**values, "LastModifiedDate": now, "SystemModstamp": now}
                    c.execute(f'UPDATE "{table}" SET {", ".join(chr(34) + k + chr(34) + " = ?" for k in sets)} '
                              f'WHERE Id = ?', [*sets.values(), sid])
                    got = c.execute(f'SELECT * FROM "{table}" WHERE Id = ?', (sid,))
                    names = [d[0] for d in got.description]
                    results.append(self._render(obj, dict(zip(names, got.fetchone())),
                                                ["hs_object_id", "hs_lastmodifieddate"]))
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
        now = hs_datetime(sf_datetime(store.now()))
        body = {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}
        if missing:
            body |= {"numErrors": 1, "errors": [{"status": "error", "category": "OBJECT_NOT_FOUND",
                                                 "message": f"Could not get some {obj} objects, they may be deleted "
                                                            "or not exist.", "context": {"ids": missing}}]}
        resp = Response(207 if missing else 200, body)
        resp.records_written = len(results)
        return resp

    def _writable(self, obj: str, props: dict) -> dict:
        mapping = OBJECTS[obj][2]
        out = {}
        for p, v in props.items():
            if p in READONLY or p not in mapping:
                raise hs_error(400, f"Property values were not valid: property {p!r} does not exist or is read-only",
                               "VALIDATION_ERROR")
            col, typ = mapping[p]
            if v in (None, ""):
                out[col] = None
            elif typ == "num":
                try:
                    out[col] = float(v)
                except (TypeError, ValueError):
                    raise hs_error(400, f"Property values were not valid: {v!r} is not a number for {p}",
                                   "VALIDATION_ERROR") from None
            elif typ == "bool":
                out[col] = 1 if str(v).lower() == "true" else 0
            elif typ == "stage":
                if v not in STAGE_LABEL:
                    raise hs_error(400, f"Property values were not valid: {v!r} is not a stage of the pipeline",
                                   "VALIDATION_ERROR")
                out[col] = STAGE_LABEL[v]
                closed, won = {"closedwon": (1, 1), "closedlost": (1, 0)}.get(v, (0, 0))
                out["IsClosed"], out["IsWon"] = closed, won
            elif typ.startswith("ref:"):
                out[col] = sf_of(typ[4:], v)
            elif typ in ("datetime",):
                out[col] = sf_datetime(parse_datetime(str(v)))
            elif typ in ("date", "datetime_of_date"):
                out[col] = str(v)[:10]
            elif typ == "product":
                out[col] = {str(pid): name for pid, name in PRODUCTS}.get(str(v))
            else:
                out[col] = str(v)
        return out


# Where the firm's other systems name a CRM record (table -> columns), besides the CRM's own tables: the PSA project's
# CRM Opportunity ID custom field (Kantata), the ERP records' external ids and CRM references (NetSuite, Dynamics).
CRM_REFERENCES = {"ns_customer": ("externalid",), "ns_job": ("externalid", "custentity_crm_opportunity_id"),
                  "d365_CustomersV3": ("PshCrmAccountId",), "d365_Projects": ("PshCrmOpportunityId",)}
_SF_RECORD = ("001", "006", "00k", "005")  # account, opportunity, line item, user: the CRM records HubSpot serves


def _crm_record(value) -> bool:
    return isinstance(value, str) and len(value) == 18 and value[:3] in _SF_RECORD and value[3:5] == "8d"


def express_firm(path) -> dict[str, int]:
    """The firm (its SQLite file at `path`) as it is when its CRM is HubSpot: every record of its other systems that
    names a CRM record names it by its HubSpot id (hs_id), and so does the manifest of planted defects (a defect of the
    CRM is HubSpot's). The CRM tables stay as they are: this sandbox serves them as HubSpot records. A firm as
    generated names no CRM record outside its CRM but in the manifest (its projects set up by hand before the hub are
    matched by customer, name and dates); a firm a hub has written to with Salesforce as its CRM does (external ids).
    Returns the values rewritten per table."""
    import json
    import sqlite3

    counts: dict[str, int] = {}
    with sqlite3.connect(path) as c:
        c.create_function("hs_crm_id", 1, lambda v: hs_id(v) if _crm_record(v) else v, deterministic=True)
        tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for table, columns in CRM_REFERENCES.items():
            if table not in tables:
                continue
            for column in columns:
                n = c.execute(f'UPDATE "{table}" SET "{column}" = hs_crm_id("{column}") '
                              f'WHERE "{column}" <> hs_crm_id("{column}")').rowcount
                counts[table] = counts.get(table, 0) + n
        if "kt_custom_field_values" in tables:
            counts["kt_custom_field_values"] = c.execute(
                "UPDATE kt_custom_field_values SET value = hs_crm_id(value) WHERE value <> hs_crm_id(value) AND "
                "custom_field_id IN (SELECT id FROM kt_custom_fields WHERE name = 'CRM Opportunity ID')").rowcount

        def detail(text):
            try:
                data = json.loads(text) if text else None
            except ValueError:
                return text
            if not isinstance(data, dict):
                return text
            return json.dumps({k: hs_id(v) if _crm_record(v) else v for k, v in data.items()})

        c.create_function("hs_crm_detail", 1, detail, deterministic=True)
        if "sandbox_defects" in tables:
            counts["sandbox_defects"] = c.execute(
                "UPDATE sandbox_defects SET system = CASE system WHEN 'salesforce' THEN 'hubspot' ELSE system END, "
                "object = CASE WHEN system = 'salesforce' THEN CASE object WHEN 'Account' THEN 'companies' "
                "WHEN 'Opportunity' THEN 'deals' WHEN 'OpportunityLineItem' THEN 'line_items' WHEN 'User' THEN 'owners' "
                "ELSE object END ELSE object END, id = hs_crm_id(id), detail = hs_crm_detail(detail) "
                "WHERE system = 'salesforce' OR id <> hs_crm_id(id) OR detail <> hs_crm_detail(detail)").rowcount
    return counts
