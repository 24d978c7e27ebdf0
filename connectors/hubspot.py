"""HubSpot CRM: a private app's access token, v3 objects read through the search endpoint, v4 associations.

- Auth: `Authorization: Bearer <private app token>` (developers.hubspot.com, "Private apps": the token does not expire;
  it is rotated by an administrator). A 401 is a token to replace, not one to refresh.
- Changed records: POST /crm/v3/objects/{object}/search with a filter on `hs_lastmodifieddate` (GTE the cursor, in
  epoch milliseconds), sorted by it ascending, 200 a page (the documented page maximum), `after` paging ("Search the
  CRM"). One query can page through 10,000 results at most (a request past that is refused): when a query holds more,
  the read starts a new query from the last stamp it reached, and when 10,000 records share one stamp it reads that
  stamp by `hs_object_id` windows, so that nothing is missed (records re-read at a boundary are skipped).
- Deletes: search never finds archived records; GET /crm/v3/objects/{object}?archived=true lists them ("Archive":
  moved to the recycling bin); they land with archived=true, as deleted.
- Associations: POST /crm/v4/associations/{from}/{to}/batch/read for each page of deals (-> company) and line items
  (-> deal); the associated id is landed on the record (`associated_company_id`, `associated_deal_id`).
- Pipelines (GET /crm/v3/pipelines/deals) and owners (GET /crm/v3/owners) are small lists, read whole each run;
  products (GET /crm/v3/objects/products) too.
- Limits ("API usage guidelines and limits"): a 429's body names its policy (policyName TEN_SECONDLY_ROLLING,
  SECONDLY or DAILY; errorType RATE_LIMIT) and HubSpot documents no Retry-After: the rolling 10-second window is
  waited out from X-HubSpot-RateLimit-Interval-Milliseconds (1 s steps, as the window rolls), the search endpoints'
  per-second limit by one second; the daily limit is a LimitExceeded (it resets at midnight of the account's time
  zone). The client also paces its searches at four a second (the limit announced in HubSpot's changelog "CRM Search
  API Rate Limit Increase"; the usage guide now says five), so that a read rarely meets the limit at all.
- Write-back: POST /crm/v3/objects/{object}/batch/upsert, at most 100 inputs, by a property with unique values
  (`idProperty`).
"""
from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx

from connectors.http import (ApiClient, AuthError, LimitExceeded, NotFoundError, RateLimited, ServerError,
                             ValidationError, json_of)

SEARCH_PAGE = 200          # records a search page may hold (documented maximum)
SEARCH_RESULT_CAP = 10_000  # results one search query can page through (documented)
LIST_PAGE = 100            # records a list page may hold
BATCH_MAX = 100            # inputs of a batch upsert or association read
SEARCHES_PER_SECOND = 4.0  # the client's own pace (HubSpot: 4 or 5 a second per token)
# the association landed on each object: (to object, field it lands in)
ASSOCIATED = {"deals": ("companies", "associated_company_id"), "line_items": ("deals", "associated_deal_id")}
STAMP = "hs_lastmodifieddate"
# The CRM syncs name Salesforce fields (their outbound models are the CRM role's): the HubSpot property of each,
# by HubSpot object (reverse_etl.syncs.HUBSPOT_OBJECTS): the properties the firm adds for the hub (sandbox/README.md).
CRM_PROPERTIES = {
    "companies": {"ERP_Customer_Id__c": "erp_customer_id", "Open_AR__c": "open_ar", "Overdue_AR__c": "overdue_ar",
                  "AR_Current__c": "ar_current", "AR_1_30__c": "ar_1_30", "AR_31_60__c": "ar_31_60",
                  "AR_61_90__c": "ar_61_90", "AR_Over_90__c": "ar_over_90", "DSO__c": "dso",
                  "Last_Payment_Date__c": "last_payment_date", "Credit_Hold__c": "credit_hold",
                  "Credit_Limit__c": "credit_limit", "Available_Credit__c": "available_credit",
                  "Collection_Stage__c": "collection_stage", "Finance_Synced_At__c": "finance_synced_at"},
    "deals": {"ERP_Project_Id__c": "erp_project_id", "PSA_Project_Id__c": "psa_project_id",
              "Project_Status__c": "project_status", "Sync_Status__c": "sync_status",
              "Last_Sync_Error__c": "last_sync_error", "Billed_Amount__c": "billed_amount",
              "Recognized_Revenue__c": "recognized_revenue", "Backlog__c": "backlog", "Burn_Pct__c": "burn_pct",
              "Margin_Pct__c": "margin_pct", "Collected_Amount__c": "collected_amount",
              "Unbilled_Work__c": "unbilled_work", "Last_Synced_At__c": "last_synced_at"},
    # the firm's custom object of ERP invoices (sandbox/hubspot.py, INVOICE_PROPERTIES): the invoice's company is an
    # association (Account__c), not a property
    "erp_invoices": {"ERP_Invoice_Id__c": "erp_invoice_id", "Name": "invoice_number",
                     "Document_Type__c": "document_type", "Invoice_Date__c": "invoice_date", "Due_Date__c": "due_date",
                     "Amount__c": "amount", "Open_Balance__c": "open_balance", "CurrencyIsoCode": "currency",
                     "Status__c": "status", "Days_Overdue__c": "days_overdue",
                     "Last_Payment_Date__c": "last_payment_date", "Collection_Stage__c": "collection_stage",
                     "Opportunity__c": "deal_id"},
}
COMPANY_TYPE_ID = "0-2"  # HubSpot's object type id of companies ("Understanding the CRM": object type ids)


def parse_datetime(value: str) -> dt.datetime:
    """HubSpot datetimes: 2024-01-15T12:00:00.123Z (or epoch milliseconds)."""
    text = str(value).strip()
    if text.isdigit():
        return dt.datetime.fromtimestamp(int(text) / 1000, dt.timezone.utc)
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.timezone.utc)


def epoch_ms(t: dt.datetime) -> str:
    """A filter value for a datetime property: milliseconds since the epoch (HubSpot's search filters)."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return str(int(t.timestamp() * 1000))


class HubSpotClient(ApiClient):
    system = "hubspot"

    def __init__(self, base_url: str, credentials: dict, *, page_size: int = SEARCH_PAGE,
                 result_cap: int = SEARCH_RESULT_CAP, searches_per_second: float | None = SEARCHES_PER_SECOND, **kw):
        super().__init__(base_url, credentials, max_concurrency=kw.pop("max_concurrency", 4), **kw)
        self.page_size = min(page_size, SEARCH_PAGE)
        self.result_cap = result_cap  # a smaller cap reads as if HubSpot's were that small (tests)
        self._pace = 1.0 / searches_per_second if searches_per_second else 0.0
        self._pace_lock = threading.Lock()
        self._next_search = 0.0
        self.queries = 0          # search queries started (a narrowed window is a new query)
        self.rate_limited = 0     # 429s met (each was waited out and retried)

    # -- auth and errors ---------------------------------------------------------------------------------
    def _fetch_token(self) -> tuple[str, float]:
        token = self._credentials.get("access_token")
        if not token:
            raise AuthError(self.system, "missing PSHUB_HUBSPOT_ACCESS_TOKEN (a private app's access token, "
                                         "Settings > Integrations > Private apps)")
        return token, 10 ** 9  # a private app token does not expire

    def _send_authenticated(self, method: str, url: str, **kwargs) -> httpx.Response:
        response = self._send(method, url, self.token(), **kwargs)
        if response.status_code >= 400:
            self._raise_for(response)
        return response

    def _raise_for(self, response: httpx.Response) -> None:
        status = response.status_code
        try:
            body = json_of(response) if response.content else {}
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        message = body.get("message") or response.reason_phrase or str(status)
        code = body.get("policyName") or body.get("category")
        kw = {"status": status, "code": code, "body": body}
        if status == 401:
            raise AuthError(self.system, "the access token was refused; set PSHUB_HUBSPOT_ACCESS_TOKEN to the private "
                                         "app's current token (rotated tokens stop working)", **kw)
        if status == 429:
            self.rate_limited += 1
            policy = body.get("policyName")
            if policy == "DAILY":
                raise LimitExceeded(self.system, f"{message} (the daily limit resets at midnight of the account's "
                                                 "time zone)", **kw)
            # no Retry-After is documented: the per-second limits pass within a second; the 10-second window rolls
            wait = 1.0
            if response.headers.get("Retry-After"):
                wait = float(response.headers["Retry-After"])
            raise RateLimited(self.system, message, retry_after=wait, **kw)
        if status == 404:
            raise NotFoundError(self.system, message, **kw)
        if status >= 500:
            raise ServerError(self.system, message, **kw)
        raise ValidationError(self.system, message, **kw)

    def _is_write(self, method: str, path: str) -> bool:
        return method not in ("GET", "HEAD") and not path.endswith(("/search", "/batch/read"))

    def pages_in_cursor_order(self, resource: str) -> bool:
        return False  # a read narrows its windows and ends with the archived records: the cursor moves at the end

    # -- search ----------------------------------------------------------------------------------------------
    def _paced(self) -> None:
        if not self._pace:
            return
        with self._pace_lock:
            now = time.monotonic()
            start = max(now, self._next_search)
            self._next_search = start + self._pace
        if start > now:
            time.sleep(start - now)

    def search_page(self, obj: str, filters: list[dict], sort: dict | None, properties: list[str],
                    after: int = 0) -> dict:
        self._paced()
        body: dict[str, Any] = {"filterGroups": [{"filters": filters}] if filters else [],
                                "properties": properties, "limit": self.page_size}
        if sort:
            body["sorts"] = [sort]
        if after:
            body["after"] = str(after)
        return json_of(self.request("POST", f"/crm/v3/objects/{obj}/search", json=body))

    def _query(self, obj: str, filters: list[dict], sort: dict, properties: list[str]) -> Iterator[tuple[list, bool]]:
        """One search query's pages, stopping before the result cap: (records, capped) per page; capped is True on
        the last page read when more results remain past the cap."""
        self.queries += 1
        after = 0
        while True:
            page = self.search_page(obj, filters, sort, properties, after)
            results = page.get("results") or []
            nxt = ((page.get("paging") or {}).get("next") or {}).get("after")
            if nxt is None:
                yield results, False
                return
            after = int(nxt)
            if after >= self.result_cap:  # the next page is past what one query may page through
                yield results, True
                return
            yield results, False

    def changed_pages(self, obj: str, properties: tuple[str, ...], *, since: dt.datetime | None) -> Iterator[list[dict]]:
        """Records of `obj` modified at or after `since` (all when None), oldest change first, each flattened
        ({id, property: value, ..., archived: false}) with its association. Nothing is missed past the cap."""
        props = list(dict.fromkeys(["hs_object_id", STAMP, "createdate", *properties]))
        sort = {"propertyName": STAMP, "direction": "ASCENDING"}
        low: dt.datetime | None = since
        boundary_ids: set[str] = set()  # ids already read at stamp `low` (a new query re-reads them)
        while True:
            filters = [{"propertyName": STAMP, "operator": "GTE", "value": epoch_ms(low)}] if low else []
            newest, at_newest = low, set(boundary_ids)
            capped = False
            for records, capped in self._query(obj, filters, sort, props):
                page = []
                for rec in records:
                    stamp = parse_datetime(rec["properties"][STAMP])
                    if low is not None and stamp == low and rec["id"] in boundary_ids:
                        continue
                    if newest is None or stamp > newest:
                        newest, at_newest = stamp, set()
                    if stamp == newest:
                        at_newest.add(rec["id"])
                    page.append(self._flat(rec))
                if page:
                    yield self._associated(obj, page)
            if not capped:
                return
            if newest == low:
                # the whole capped query shares one stamp: read that stamp by id, then go on past it
                yield from self._one_stamp(obj, low, props)
                low = low + dt.timedelta(milliseconds=1)
                boundary_ids = set()
            else:
                low, boundary_ids = newest, at_newest

    def _one_stamp(self, obj: str, stamp: dt.datetime, props: list[str]) -> Iterator[list[dict]]:
        """Every record modified at exactly `stamp`, in hs_object_id windows of at most the cap each."""
        last_id = 0
        sort = {"propertyName": "hs_object_id", "direction": "ASCENDING"}
        while True:
            filters = [{"propertyName": STAMP, "operator": "EQ", "value": epoch_ms(stamp)},
                       {"propertyName": "hs_object_id", "operator": "GT", "value": str(last_id)}]
            capped = False
            for records, capped in self._query(obj, filters, sort, props):
                if records:
                    last_id = max(last_id, max(int(r["id"]) for r in records))
                    yield self._associated(obj, [self._flat(r) for r in records])
            if not capped:
                return

    @staticmethod
    def _flat(rec: dict) -> dict:
        out = {"id": str(rec["id"]), **(rec.get("properties") or {}), "archived": bool(rec.get("archived"))}
        if rec.get("archived"):
            # an archived record's version: when it was archived (its hs_lastmodifieddate may predate that)
            stamps = [s for s in (out.get(STAMP), rec.get("archivedAt")) if s]
            out[STAMP] = max(stamps, key=parse_datetime) if stamps else rec.get("updatedAt")
            out["archived_at"] = rec.get("archivedAt")
        return out

    def _associated(self, obj: str, records: list[dict]) -> list[dict]:
        """The page's records with the id of their associated record (deal -> company, line item -> deal)."""
        if obj not in ASSOCIATED or not records:
            return records
        to, field = ASSOCIATED[obj]
        found: dict[str, str] = {}
        for start in range(0, len(records), BATCH_MAX):
            ids = [r["id"] for r in records[start:start + BATCH_MAX] if not r.get("archived")]
            if not ids:
                continue
            body = json_of(self.request("POST", f"/crm/v4/associations/{obj}/{to}/batch/read",
                                        json={"inputs": [{"id": i} for i in ids]}))
            for result in body.get("results") or []:
                targets = result.get("to") or []
                # the primary association first (deal -> company type 5), else the first
                targets.sort(key=lambda t: 0 if any(a.get("label") == "Primary" for a in t.get("associationTypes")
                                                    or []) else 1)
                if targets:
                    found[str(result["from"]["id"])] = str(targets[0]["toObjectId"])
        for r in records:
            r.setdefault(field, found.get(r["id"]))
        return records

    # -- lists -----------------------------------------------------------------------------------------------
    def archived_pages(self, obj: str, properties: tuple[str, ...]) -> Iterator[list[dict]]:
        """The records of `obj` in the recycling bin (archived=true), flattened, as deletions."""
        props = ",".join(dict.fromkeys(["hs_object_id", STAMP, "createdate", *properties]))
        after = None
        while True:
            params = {"archived": "true", "limit": LIST_PAGE, "properties": props}
            if after:
                params["after"] = after
            body = json_of(self.request("GET", f"/crm/v3/objects/{obj}", params=params))
            page = [self._flat(r) for r in body.get("results") or []]
            if page:
                yield page
            after = ((body.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return

    def list_pages(self, path: str, params: dict | None = None) -> Iterator[list[dict]]:
        """A whole list endpoint (owners, products) with `after` paging."""
        after = None
        while True:
            query = {"limit": LIST_PAGE, **(params or {})}
            if after:
                query["after"] = after
            body = json_of(self.request("GET", path, params=query))
            yield list(body.get("results") or [])
            after = ((body.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return

    def owners(self) -> Iterator[list[dict]]:
        """Active owners, then deactivated ones (archived=true): both land, the latter marked archived."""
        for archived in ("false", "true"):
            for page in self.list_pages("/crm/v3/owners", {"archived": archived}):
                yield [{**o, "id": str(o["id"]), "archived": archived == "true"} for o in page]

    def products(self) -> Iterator[list[dict]]:
        for page in self.list_pages("/crm/v3/objects/products", {"properties": "name,hs_object_id,hs_lastmodifieddate"}):
            yield [self._flat(r) for r in page]

    def pipelines(self) -> Iterator[list[dict]]:
        body = json_of(self.request("GET", "/crm/v3/pipelines/deals"))
        yield [{**p, "id": str(p["id"])} for p in body.get("results") or []]

    # -- write-back --------------------------------------------------------------------------------------------
    def batch_update(self, obj: str, records: list[tuple[str, dict]]) -> tuple[list[dict], set[str]]:
        """Update up to 100 records by id: [(id, properties)]. Returns (HubSpot's results, the ids it did not find).
        The same update twice leaves the same records: retried freely."""
        if len(records) > BATCH_MAX:
            raise ValueError(f"at most {BATCH_MAX} records per batch update")
        body = {"inputs": [{"id": str(rid), "properties": {k: _prop(v) for k, v in props.items()}}
                           for rid, props in records]}
        answer = json_of(self.request("POST", f"/crm/v3/objects/{obj}/batch/update", json=body))
        missing = {str(i) for err in answer.get("errors") or [] for i in (err.get("context") or {}).get("ids") or []}
        return answer.get("results") or [], missing

    def batch_upsert(self, obj: str, id_property: str, records: list[tuple[str, dict]]) -> list[dict]:
        """Create or update up to 100 records by a property with unique values: [(value, properties)]. Returns
        HubSpot's results ({id, properties, new}). The same upsert twice leaves the same records: retried freely."""
        if len(records) > BATCH_MAX:
            raise ValueError(f"at most {BATCH_MAX} records per batch upsert")
        body = {"inputs": [{"idProperty": id_property, "id": str(key),
                            "properties": {k: _prop(v) for k, v in props.items()}} for key, props in records]}
        return json_of(self.request("POST", f"/crm/v3/objects/{obj}/batch/upsert", json=body)).get("results") or []


    def custom_object(self, name: str) -> dict:
        """The account's custom object named `name`, as its schema says (GET /crm/v3/schemas, "Schemas API": results
        [{objectTypeId, name, fullyQualifiedName, properties, associations: [{id, fromObjectTypeId, toObjectTypeId}]}]).
        Records of it are addressed by objectTypeId (a base name no longer is: HubSpot changelog, 2025-06)."""
        for schema in json_of(self.request("GET", "/crm/v3/schemas")).get("results") or []:
            if schema.get("name") == name:
                return schema
        raise NotFoundError(self.system, f"the HubSpot account has no custom object {name!r}: create it (README, "
                                         "HubSpot as the CRM) before the invoice records can be written", status=404)

    def associate(self, from_type: str, to_type: str, pairs: list[tuple[str, str]], type_id: int,
                  category: str = "USER_DEFINED") -> set[str]:
        """Associate up to 100 (from id, to id) pairs with one association type (v4 "Associate records (labelled)":
        POST /crm/v4/associations/{from}/{to}/batch/create). Associating what is associated changes nothing: retried
        freely. Returns the from ids HubSpot did not associate (a record it does not find)."""
        if len(pairs) > BATCH_MAX:
            raise ValueError(f"at most {BATCH_MAX} associations per batch")
        body = {"inputs": [{"from": {"id": str(f)}, "to": {"id": str(t)},
                            "types": [{"associationCategory": category, "associationTypeId": int(type_id)}]}
                           for f, t in pairs]}
        answer = json_of(self.request("POST", f"/crm/v4/associations/{from_type}/{to_type}/batch/create", json=body))
        done = {str(r.get("fromObjectId")) for r in answer.get("results") or []}
        return {str(f) for f, _t in pairs} - done


def _prop(value: Any) -> str:
    """A property value as HubSpot takes it: text (booleans as true/false, empty for none)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
