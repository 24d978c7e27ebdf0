"""Kantata (Mavenlink) API v1: OAuth2 access token, lazy page iterators over /api/v1/{resource}.json.

Lists come in an envelope {count, meta:{page_count, ...}, results:[{key, id}], <resource>:{id: record}}; the
order is the order of `results`. Pages are numbered from 1, at most 200 records each. Kantata reports no
deletes: `list_ids` pages through every id of a resource so that the hub can find the vanished ones.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx

from connectors.http import ApiClient, AuthError, ConnectorError, json_of
from connectors.paging import fetch_in_order

TOKEN_PATH = "/oauth/token"
API_PREFIX = "/api/v1"
PER_PAGE_MAX = 200
BULK_MAX = 100  # records per bulk create
# Requests in flight at once per client. Kantata's API reference ("Rate Limits",
# developer.kantata.com/kantata/specification/section/rate-limits) documents general rate limits on all requests
# and endpoints with limits of their own (workspaces and custom field values, read and create; invitations;
# project snapshots: not time entries), answered with 429 Too Many Requests, "simply retry your request after a
# small delay"; the figures themselves are only in a Knowledge Base article (knowledge.kantata.com, article
# 9698066628123) and "may change at any time": no concurrency or per-minute figure a client could size to. The hub
# keeps a few requests in flight, one per updated_at window of a large read, and waits out a 429 as told.
MAX_IN_FLIGHT = 4
IDEMPOTENT_CREATES = {"custom_field_values"}  # a POST that overrides the subject's value (see create)
# Each endpoint has its own sort fields, and an order it does not know falls back to the endpoint's default order
# without an error (developer.kantata.com, "Ordering"; Kantata's brainstem framework). The hub asks for
# order=updated_at:asc only where the endpoint sorts by updated_at; users sort alphabetically only, so their pages
# come in no updated_at order and the cursor of such a read moves only once the whole read has landed.
NOT_ORDERED_BY_UPDATED_AT = {"users"}


class OrderNotHonoured(ConnectorError):
    """Pages asked for in updated_at order came in another order: landing them page by page could skip records."""
SINGULAR = {"workspaces": "workspace", "stories": "story", "workspace_resources": "workspace_resource",
            "workspace_allocations": "workspace_allocation", "time_entries": "time_entry",
            "custom_field_values": "custom_field_value", "expenses": "expense"}


def kantata_timestamp(value: dt.datetime) -> str:
    """A datetime as Kantata filters take it (ISO 8601, UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(value: str) -> dt.datetime:
    """Kantata timestamps: ISO 8601 with offset (2026-01-02T03:04:05+00:00 or ...Z)."""
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def authorize_url(oauth_base: str, client_id: str, redirect_uri: str) -> str:
    """Where the user agrees to give the application access (developer.kantata.com, "Obtaining tokens for users")."""
    query = httpx.QueryParams({"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri})
    return f"{oauth_base.rstrip('/')}/oauth/authorize?{query}"


def code_from(text: str) -> str:
    """The code, given alone or as the whole redirect URL the browser landed on."""
    text = text.strip()
    if "code=" in text:
        return httpx.URL(text if "://" in text else "http://x/?" + text.split("?")[-1]).params.get("code", "")
    return text


def exchange_code(oauth_base: str, client_id: str, client_secret: str, redirect_uri: str, code: str,
                  *, verify=True, timeout: float = 60.0) -> str:
    """The one-time exchange of an authorization code for the application's access token."""
    response = httpx.post(f"{oauth_base.rstrip('/')}{TOKEN_PATH}", verify=verify, timeout=timeout, data={
        "grant_type": "authorization_code", "client_id": client_id, "client_secret": client_secret,
        "redirect_uri": redirect_uri, "code": code_from(code)})
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or not body.get("access_token"):
        detail = body.get("error_description") or body.get("error") or response.text[:200]
        raise AuthError("kantata", f"the code was not accepted: {detail}", status=response.status_code,
                        code=body.get("error"))
    return body["access_token"]


class KantataClient(ApiClient):
    system = "kantata"

    def __init__(self, base_url: str, credentials: dict, *, page_workers: int = 1, **kw):
        super().__init__(base_url, credentials, max_concurrency=max(page_workers, MAX_IN_FLIGHT), **kw)
        self.page_workers = page_workers

    def _fetch_token(self) -> tuple[str, float]:
        """Kantata's access tokens do not expire and there is no client-credentials grant (developer.kantata.com,
        "Security", "Obtaining tokens for users"): the hub is given a token (PSHUB_KANTATA_TOKEN), obtained once
        by the authorization-code exchange (`pshub kantata authorize`) or copied from the application's page."""
        token = self._credentials.get("token")
        if not token:
            raise AuthError(self.system, "no access token: set PSHUB_KANTATA_TOKEN (get one with "
                                         "`pshub kantata authorize`)")
        return token, float(10 ** 9)

    def _error_detail(self, response: httpx.Response) -> tuple[str, str | None, object]:
        try:
            body = response.json()
        except ValueError:
            body = {}
        errors = body.get("errors") if isinstance(body, dict) else None
        first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
        message = first.get("message") or response.text[:300]
        if response.status_code == 401:  # a token does not expire: it was revoked, or belongs elsewhere
            message += " The access token was refused (revoked?): renew PSHUB_KANTATA_TOKEN with `pshub kantata authorize`"
        return message, first.get("type"), body

    # -- reads -------------------------------------------------------------------------------------
    def _page(self, resource: str, params: dict, page: int) -> dict:
        return json_of(self.request("GET", f"{API_PREFIX}/{resource}.json", params={**params, "page": page}))

    @staticmethod
    def records_of(body: dict, resource: str) -> list[dict]:
        """The records of one page, in the order of `results` (side-loaded types are skipped)."""
        by_id = body.get(resource) or {}
        return [by_id[str(r["id"])] for r in body.get("results", [])
                if r.get("key") == resource and str(r.get("id")) in by_id]

    def list_pages(self, resource: str, params: dict | None = None, *, per_page: int = PER_PAGE_MAX,
                   workers: int | None = None) -> Iterator[list[dict]]:
        """Lazy pages of a resource. After the first page, the next pages are fetched `workers` at a time
        (the first response tells how many there are) and still yielded in order."""
        params = {**(params or {}), "per_page": min(per_page, PER_PAGE_MAX)}
        first = self._page(resource, params, 1)
        yield self.records_of(first, resource)
        page_count = int((first.get("meta") or {}).get("page_count") or 1)
        pages = fetch_in_order(lambda n: self._page(resource, params, n), range(2, page_count + 1),
                               workers=workers or self.page_workers)
        for body in pages:
            yield self.records_of(body, resource)

    @staticmethod
    def ordered_by_updated_at(resource: str) -> bool:
        return resource not in NOT_ORDERED_BY_UPDATED_AT

    def pages_in_cursor_order(self, resource: str) -> bool:
        return self.ordered_by_updated_at(resource)

    def changed_pages(self, resource: str, since: dt.datetime | None, params: dict | None = None,
                      until: dt.datetime | None = None, **kw) -> Iterator[list[dict]]:
        """Records updated after `since` (all when None) and before `until`: oldest change first where the endpoint
        sorts by updated_at (checked page by page), else in the endpoint's default order."""
        query = dict(params or {})
        if since is not None:
            query["updated_after"] = kantata_timestamp(since)
        if until is not None:
            query["updated_before"] = kantata_timestamp(until)
        if not self.ordered_by_updated_at(resource):
            return self.list_pages(resource, query, **kw)
        return self._in_updated_order(resource, self.list_pages(resource, {**query, "order": "updated_at:asc"}, **kw))

    def _in_updated_order(self, resource: str, pages: Iterator[list[dict]]) -> Iterator[list[dict]]:
        """The pages, each checked before it is handed on: a page out of updated_at order stops the read before it
        lands (its records, landed with a cursor past them, would be skipped by the next run)."""
        last = None
        for page in pages:
            stamps = [r.get("updated_at") for r in page]
            try:
                parsed = [parse_datetime(x) for x in stamps]
            except (TypeError, ValueError, AttributeError):
                parsed = None
            if parsed is not None:
                if last is not None:
                    parsed = [last, *parsed]
                if any(b < a for a, b in zip(parsed, parsed[1:])):
                    raise OrderNotHonoured(self.system, f"{resource} did not come in order=updated_at:asc; the "
                                           "endpoint may not sort by updated_at: add it to NOT_ORDERED_BY_UPDATED_AT")
                last = parsed[-1] if parsed else last
            yield page

    def changed_partitions(self, resource: str, since: dt.datetime | None, params: dict | None = None, *,
                           parts: int = MAX_IN_FLIGHT, max_parts: int = MAX_IN_FLIGHT, window_rows: int = 250_000,
                           min_pages: int = 20) -> list[Iterator[list[dict]]]:
        """The same records as changed_pages, split into updated_at windows that can be read at the same time,
        each page by page in order: `parts` windows, more for large reads so that none holds much more than
        `window_rows` records (at most `max_parts`: as many as the requests the client keeps in flight); one
        window when there are fewer than `min_pages` pages.

        Windows meet at whole seconds (Kantata's timestamps have no fraction): each starts one second before
        its lower bound, since updated_after excludes its own second; the overlap lands once (newest wins)."""
        if not self.ordered_by_updated_at(resource):
            return [self.changed_pages(resource, since, params, workers=1)]
        query = {**(params or {}), "per_page": 1}
        if since is not None:
            query["updated_after"] = kantata_timestamp(since)
        oldest = self._page(resource, {**query, "order": "updated_at:asc"}, 1)
        count = int(oldest.get("count") or 0)
        if parts <= 1 or count < min_pages * PER_PAGE_MAX:
            return [self.changed_pages(resource, since, params, workers=1)]
        parts = max(parts, min(max_parts, -(-count // window_rows)))
        newest = self._page(resource, {**query, "order": "updated_at:desc"}, 1)
        try:
            low = parse_datetime(self.records_of(oldest, resource)[0]["updated_at"])
            high = parse_datetime(self.records_of(newest, resource)[0]["updated_at"])
        except (IndexError, KeyError, TypeError, ValueError, AttributeError):  # no readable stamp: one window
            return [self.changed_pages(resource, since, params, workers=1)]
        step = (high - low) / parts
        bounds = [low + step * i for i in range(1, parts)]
        bounds = sorted({b.replace(microsecond=0) for b in bounds})  # a short span: fewer, distinct windows
        edges = [since, *[b - dt.timedelta(seconds=1) for b in bounds]]
        untils = [*bounds, None]
        return [self.changed_pages(resource, after, params, until=before, workers=1)
                for after, before in zip(edges, untils)]

    def count(self, resource: str, params: dict | None = None) -> int:
        """How many records the query matches: every list response carries the query's `count`
        (developer.kantata.com, "Response Format"; tests/contracts/test_kantata_contract.py), so one record's page
        tells it."""
        return int(self._page(resource, {**(params or {}), "per_page": 1}, 1).get("count") or 0)

    def list_ids(self, resource: str, params: dict | None = None) -> Iterator[list[str]]:
        """Every id of a resource, page by page (for the reconciliation that finds deleted records)."""
        order = {"order": "id:asc"} if resource not in NOT_ORDERED_BY_UPDATED_AT else {}  # users: alphabetical
        for page in self.list_pages(resource, {**(params or {}), **order}, workers=1):
            yield [str(r["id"]) for r in page]

    def get_by_ids(self, resource: str, ids: list[str], params: dict | None = None) -> list[dict]:
        """The records of the given ids that still exist (`only=` filters a list to those ids)."""
        found: list[dict] = []
        for start in range(0, len(ids), PER_PAGE_MAX):
            chunk = ids[start:start + PER_PAGE_MAX]
            for page in self.list_pages(resource, {**(params or {}), "only": ",".join(chunk)}):
                found.extend(page)
        return found

    # -- writes (used by reverse ETL) -------------------------------------------------------------
    def create(self, resource: str, records: list[dict]) -> list[dict]:
        """Create up to 100 records in one call; returns them (with their ids) in request order.

        Kantata's creates take no idempotency key or external id, so a create is never sent twice by this call:
        after a timeout, a reset or a 5xx the records may exist (a lost response); the TransportError or
        ServerError goes to the caller, which looks them up before creating again. The one exception is
        custom_field_values: "Creating a value can also override existing values, effectively making this an
        update request as well" (developer.kantata.com, Custom Field Values, "Creating a new Custom Field
        Value"), so a repeat is harmless and it is retried like any idempotent call."""
        if len(records) > BULK_MAX:
            raise ValueError(f"at most {BULK_MAX} {resource} per call")
        body = {resource: records} if len(records) > 1 else {SINGULAR[resource]: records[0]}
        response = self.request("POST", f"{API_PREFIX}/{resource}.json", json=body,
                                idempotent=resource in IDEMPOTENT_CREATES)
        return self.records_of(response.json(), resource)

    def update(self, resource: str, record_id: str, fields: dict) -> dict:
        response = self.request("PUT", f"{API_PREFIX}/{resource}/{record_id}.json",
                                json={SINGULAR[resource]: fields})
        records = self.records_of(response.json(), resource)
        return records[0] if records else {"id": record_id}
