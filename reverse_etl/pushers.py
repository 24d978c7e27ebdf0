"""Pushers: one per destination operation. Each takes a batch of valid rows and returns one Outcome per row,
in any order; a record the destination refuses never stops the others. What a pusher is given (Context) and
returns (Outcome) are defined here, below the engine that calls the pushers."""
from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg

from connectors.http import ConnectorError, ValidationError, NotFoundError
from connectors.hubspot import BATCH_MAX as HUBSPOT_BATCH, COMPANY_TYPE_ID, CRM_PROPERTIES
from connectors.salesforce import COLLECTION_MAX
from reverse_etl import syncs
from reverse_etl.payloads import body, json_value
from reverse_etl.syncs import Sync


@dataclass
class Outcome:
    """What happened to one record at the destination."""
    record_key: str
    destination_id: str | None = None
    error_code: str | None = None
    error: str | None = None
    stage: str = "rejected"          # rejected: the destination said no; failed: the outcome is unknown
    created: bool = False            # the call created the record (it was not there before)

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Context:
    """What a pusher may use besides its client: the sync, the run, and the intents table."""
    conn: psycopg.Connection
    sync: Sync
    run_id: str
    concurrency: int = 1
    cache: dict = field(default_factory=dict)

    def pending_intents(self, keys: list[str]) -> dict[str, object]:
        rows = self.conn.execute("select record_key, created_at from ops.sync_intents"
                                 " where sync_name = %s and record_key = any(%s)", (self.sync.name, keys)).fetchall()
        self.conn.commit()
        return dict(rows)

    def write_intents(self, rows: list[dict]):
        """Committed before the create calls: a crash or a lost answer after them leaves a trace to look up.
        Returns the intents' time (records the creates make are younger)."""
        with self.conn.cursor() as cur:
            cur.executemany("""
                insert into ops.sync_intents (sync_name, record_key, run_id, row_hash) values (%s, %s, %s, %s)
                on conflict (sync_name, record_key) do update set run_id = excluded.run_id,
                    row_hash = excluded.row_hash, created_at = now()
            """, [(self.sync.name, str(r[self.sync.key]), self.run_id, r["_row_hash"]) for r in rows])
            written_at = cur.execute("select now()").fetchone()[0]
        self.conn.commit()
        return written_at

log = logging.getLogger("pshub.sync")


def _failure(key: str, exc: ConnectorError) -> Outcome:
    """Refused (a 4xx that retrying will not change) or failed (the outcome is unknown: a retry may succeed)."""
    stage = "failed" if exc.transient or exc.status is None or exc.status >= 500 or exc.status == 401 else "rejected"
    return Outcome(key, error_code=exc.code or type(exc).__name__, error=exc.message, stage=stage)


def _known_id(ctx: Context, row: dict) -> str | None:
    """The destination id of a record already there: from the ledger, or matched by rule in dbt."""
    existing = row.get(ctx.sync.existing_id) if ctx.sync.existing_id else None
    return row.get("_destination_id") or (str(existing) if existing not in (None, "") else None)


# -- NetSuite: upsert by external id; a record made by hand is patched by id and gets the external id ----------
# From this many rows to upsert (or to patch), batch requests of up to 100 (connectors.netsuite batch_upsert and
# batch_update: one write call, an asynchronous job polled for); below it, one call per record answers sooner than a
# job can be submitted and polled.
NETSUITE_BATCH_FROM = 10


def netsuite_upsert(ctx: Context, client, rows: list[dict], *, batch_from: int = NETSUITE_BATCH_FROM) -> list[Outcome]:
    """Upsert by external id, in batches of up to 100 when there are at least `batch_from` rows, several in flight (up
    to the context's concurrency: NetSuite's default limit is 5 requests at once). An upsert by external id is
    idempotent, so a batch whose outcome is unknown (timeout, 5xx, job lost) is sent again (the connector first
    retries with the same idempotency key, which follows the job the first attempt made) and can never make a second
    record. A record NetSuite refuses is that record's rejection; the others in its batch are written.

    Records matched by rule in dbt and not yet written by the hub (made by hand in NetSuite) are PATCHed by their
    internal id, taking the external id so that later upserts find them: in batch PATCH requests of up to 100 when
    there are at least `batch_from` of them, else one PATCH each. A PATCH of the same fields by internal id is
    idempotent too (it sets the same values on the same record and can never make one), so a batch of them whose
    outcome is unknown is sent again in the same way. Each record still has its own outcome, recorded in the ledger
    (or its exceptions) one by one by the engine."""
    from connectors.netsuite import BATCH_MAX

    sync = ctx.sync

    def one(row: dict) -> list[Outcome]:
        key = str(row[sync.key])
        fields = body(sync, row, send_nulls=False)
        try:
            if row_matched(sync, row):
                return [Outcome(key, destination_id=client.update(sync.object, str(row[sync.existing_id]),
                                                                  {**fields, "externalId": key}))]
            return [Outcome(key, destination_id=client.upsert(sync.object, key, fields),
                            created=row.get("_action") == "insert")]
        except ConnectorError as exc:
            return [_failure(key, exc)]

    def in_batches(chunk: list[dict], matched: bool) -> list[Outcome]:
        keys = [str(r[sync.key]) for r in chunk]
        if matched:  # (internal id, fields with the external id), as the single PATCH sends them
            records = [(str(r[sync.existing_id]), {**body(sync, r, send_nulls=False), "externalId": key})
                       for r, key in zip(chunk, keys)]
            send, what = client.batch_update, "by internal id"
        else:
            records = [(key, body(sync, r, send_nulls=False)) for r, key in zip(chunk, keys)]
            send, what = client.batch_upsert, "by external id"
        for attempt in (1, 2):
            try:
                results = send(sync.object, records)
                break
            except ConnectorError as exc:
                if attempt == 2 or not exc.transient:
                    return [_failure(key, exc) for key in keys]
                log.warning("%s: a batch of %d records has an unknown outcome (%s); sending it again %s",
                            sync.name, len(records), exc, what)
        outcomes = []
        for row, key, res in zip(chunk, keys, results):
            if res.get("id"):
                outcomes.append(Outcome(key, destination_id=str(res["id"]),
                                        created=not matched and row.get("_action") == "insert"))
            else:
                outcomes.append(Outcome(key, error_code=res.get("error_code") or "REJECTED",
                                        error=res.get("error") or "refused by NetSuite",
                                        stage="failed" if res.get("unknown") else "rejected"))
        return outcomes

    def plan(group: list[dict], matched: bool, method: str) -> list[tuple]:
        if len(group) >= batch_from and hasattr(client, method):
            return [(lambda c: in_batches(c, matched), group[i:i + BATCH_MAX]) for i in range(0, len(group), BATCH_MAX)]
        return [(one, r) for r in group]

    work = plan([r for r in rows if row_matched(sync, r)], True, "batch_update")
    work += plan([r for r in rows if not row_matched(sync, r)], False, "batch_upsert")
    with ThreadPoolExecutor(max_workers=max(1, min(ctx.concurrency, len(work) or 1))) as pool:
        return [o for outcomes in pool.map(lambda w: w[0](w[1]), work) for o in outcomes]


# -- Salesforce: sObject Collections update by Id or upsert by external id, 200 records a call ---------------
def _stamped(sync, record: dict) -> dict:
    if sync.stamp:
        record[sync.stamp] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    return record


def salesforce_update(ctx: Context, client, rows: list[dict]) -> list[Outcome]:
    """Collections of 200, a few calls in flight at once; results come back in request order."""
    return _salesforce_collections(ctx, client, rows, upsert=False)


def salesforce_upsert(ctx: Context, client, rows: list[dict]) -> list[Outcome]:
    """Upsert by the external id field (the sync's key): a retry or a lost answer never makes a second record."""
    return _salesforce_collections(ctx, client, rows, upsert=True)


def _salesforce_collections(ctx: Context, client, rows: list[dict], upsert: bool) -> list[Outcome]:
    sync = ctx.sync
    adopted: list[Outcome] = []
    if upsert and sync.existing_id:
        # a record made by hand, matched by rule in dbt and not yet written by the hub: updated by its Id, taking the
        # external id, so that the upserts after it find it (an upsert by external id would make a second record)
        matched = [r for r in rows if row_matched(sync, r)]
        rows = [r for r in rows if not row_matched(sync, r)]
        adopted = _salesforce_adopt(ctx, client, matched) if matched else []

    def one_call(chunk: list[dict]) -> list[Outcome]:
        records = [_stamped(sync, {("Id" if not upsert else sync.key): str(r[sync.key]),
                                   **body(sync, r, send_nulls=True)}) for r in chunk]
        try:
            results = (client.upsert_collection(sync.object, sync.key, records) if upsert
                       else client.update_collection(sync.object, records))
        except ConnectorError as exc:
            return [_failure(str(r[sync.key]), exc) for r in chunk]
        outcomes = []
        for row, res in zip(chunk, results):
            key = str(row[sync.key])
            if res.get("success"):
                outcomes.append(Outcome(key, destination_id=res.get("id") or key, created=bool(res.get("created"))))
            else:
                err = (res.get("errors") or [{}])[0]
                outcomes.append(Outcome(key, error_code=err.get("statusCode", "REJECTED"),
                                        error=err.get("message", "rejected by Salesforce")))
        return outcomes

    chunks = [rows[i:i + COLLECTION_MAX] for i in range(0, len(rows), COLLECTION_MAX)]
    if not chunks:
        return adopted
    with ThreadPoolExecutor(max_workers=max(1, min(ctx.concurrency, len(chunks)))) as pool:
        return adopted + [o for outcomes in pool.map(one_call, chunks) for o in outcomes]


def row_matched(sync, row: dict) -> bool:
    """The row names a destination record matched by rule that the hub has not written yet."""
    matched = row.get(sync.existing_id) if sync.existing_id else None
    return matched not in (None, "") and not row.get("_destination_id")


def _salesforce_adopt(ctx: Context, client, rows: list[dict]) -> list[Outcome]:
    sync = ctx.sync
    outcomes = []
    for start in range(0, len(rows), COLLECTION_MAX):
        chunk = rows[start:start + COLLECTION_MAX]
        records = [_stamped(sync, {"Id": str(r[sync.existing_id]), sync.key: str(r[sync.key]),
                                   **body(sync, r, send_nulls=True)}) for r in chunk]
        try:
            results = client.update_collection(sync.object, records)
        except ConnectorError as exc:
            outcomes += [_failure(str(r[sync.key]), exc) for r in chunk]
            continue
        for row, res in zip(chunk, results):
            key = str(row[sync.key])
            if res.get("success"):
                outcomes.append(Outcome(key, destination_id=str(row[sync.existing_id])))
            else:
                err = (res.get("errors") or [{}])[0]
                outcomes.append(Outcome(key, error_code=err.get("statusCode", "REJECTED"),
                                        error=err.get("message", "rejected by Salesforce")))
    return outcomes


# -- Kantata: creates guarded by intents, updates by id, custom fields by name ------------------------------
def _custom_field_ids(ctx: Context, client) -> dict[str, str]:
    if "custom_fields" not in ctx.cache:
        ctx.cache["custom_fields"] = {r["name"]: str(r["id"]) for page in client.list_pages(
            "custom_fields", {"subject_type": "Workspace"}) for r in page if r.get("subject_type", "Workspace") == "Workspace"}
    return ctx.cache["custom_fields"]


def _find_created(ctx: Context, client, rows: list[dict], since, taken: set[str]) -> dict[str, str]:
    """Records lost creates may have made: same match fields, created after the rows' intent (minus clock skew).
    One listing per workspace (or one for the resource); each record is claimed by one row at most."""
    sync = ctx.sync
    after = (since - dt.timedelta(minutes=5)).astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    groups: dict[str | None, list[dict]] = {}
    for row in rows:
        groups.setdefault(str(row["workspace_id"]) if "workspace_id" in sync.match_on else None, []).append(row)
    found: dict[str, str] = {}
    for workspace_id, group in groups.items():
        params = {"created_after": after}
        if workspace_id is not None:
            params["workspace_id"] = workspace_id
        if sync.object == "stories":
            params["archived"] = "include"
        if sync.object == "workspaces":
            params["include_archived"] = "true"
        wanted: dict[tuple, list[str]] = {}
        for row in group:
            wanted.setdefault(tuple(str(row.get(f)) for f in sync.match_on), []).append(str(row[sync.key]))
        for page in client.list_pages(sync.object, params):
            for rec in page:
                keys = wanted.get(tuple(str(rec.get(f)) for f in sync.match_on))
                if keys and str(rec["id"]) not in taken:
                    taken.add(str(rec["id"]))
                    found[keys.pop(0)] = str(rec["id"])
    return found


def _create_guarded(ctx: Context, client, rows: list[dict], since, taken: set[str],
                    attempts: int = 4) -> tuple[list[tuple[dict, str]], list[Outcome]]:
    """Create rows whose intents are committed. A create that may have been committed without an answer
    (timeout, reset, 5xx) is never sent again blindly: the records it may have made are looked up first, and
    only the rows not found are created again. A refused bulk call is retried row by row to find the bad one."""
    sync = ctx.sync
    created: list[tuple[dict, str]] = []
    remaining = rows
    last: ConnectorError | None = None
    for _ in range(attempts):
        if not remaining:
            break
        try:
            records = client.create(sync.object, [body(sync, r, send_nulls=False) for r in remaining])
            created += [(row, str(rec["id"])) for row, rec in zip(remaining, records)]
            taken.update(str(rec["id"]) for rec in records)
            return created, []
        except ValidationError as exc:
            if len(remaining) == 1:
                return created, [_failure(str(remaining[0][sync.key]), exc)]
            outcomes: list[Outcome] = []
            for row in remaining:
                done, failed = _create_guarded(ctx, client, [row], since, taken, attempts)
                created += done
                outcomes += failed
            return created, outcomes
        except ConnectorError as exc:
            last = exc
            if not exc.transient:
                break
            try:
                found = _find_created(ctx, client, remaining, since, taken)
            except ConnectorError as look_exc:  # the intents stay: the next run looks again
                last = look_exc
                break
            created += [(row, found[str(row[sync.key])]) for row in remaining if str(row[sync.key]) in found]
            remaining = [row for row in remaining if str(row[sync.key]) not in found]
    return created, [_failure(str(row[sync.key]), last) for row in remaining] if last else []


def _write_custom_fields(ctx: Context, client, rows_and_ids: list[tuple[dict, str]]) -> None:
    if not ctx.sync.custom_fields:
        return
    ids = _custom_field_ids(ctx, client)
    values = [{"custom_field_id": ids[name], "subject_type": "Workspace", "subject_id": workspace_id,
               "value": "" if row.get(name) is None else str(row.get(name))}
              for row, workspace_id in rows_and_ids for name in ctx.sync.custom_fields if name in ids]
    for start in range(0, len(values), 100):
        client.create("custom_field_values", values[start:start + 100])


# Attributes a create takes that a record does not return: not compared (workspaces' creator_role, the creator's
# role in the new project; unconfirmed that Kantata leaves it out of a read).
CREATE_ONLY = {"workspaces": {"creator_role"}}
READ_ALL = {"workspaces": {"include_archived": "true"}, "stories": {"archived": "include"}}


def _current_records(ctx: Context, client, ids: list[str]) -> dict[str, dict]:
    """The records of these ids as the destination holds them now ({} when they cannot be read: all are written)."""
    if not ids:
        return {}
    try:
        return {str(r["id"]): r for r in client.get_by_ids(ctx.sync.object, ids, READ_ALL.get(ctx.sync.object))}
    except ConnectorError as exc:
        log.warning("%s: could not read the records to update (%s); writing all of them", ctx.sync.name, exc)
        return {}


def _same(pushed, held) -> bool:
    if pushed is None or held is None:
        return pushed is None and held in (None, "")
    if isinstance(pushed, bool) or isinstance(held, bool):
        return bool(pushed) == bool(held) and str(held).lower() in ("true", "false", "1", "0")
    if isinstance(pushed, (int, float)):
        try:
            return float(pushed) == float(held)
        except (TypeError, ValueError):
            return False
    return str(pushed) == str(held)


def _holds(record: dict | None, fields: dict, skip: set[str] = frozenset()) -> bool:
    """Whether the destination's record already has every pushed value (a field it does not return differs)."""
    if record is None:
        return False
    return all(name in skip or (name in record and _same(value, record[name]))
               for name, value in fields.items())


def kantata_upsert(ctx: Context, client, rows: list[dict]) -> list[Outcome]:
    sync, outcomes = ctx.sync, []
    known, new = [], []
    for row in rows:
        record_id = _known_id(ctx, row)
        if record_id:
            known.append((row, record_id))
        else:
            new.append(row)
    taken = {record_id for _, record_id in known}
    if new:  # creates whose outcome an earlier run lost: look before creating again
        pending = ctx.pending_intents([str(r[sync.key]) for r in new])
        earlier = [row for row in new if str(row[sync.key]) in pending]
        found = _find_created(ctx, client, earlier, min(pending.values()), taken) if earlier else {}
        known += [(row, found[str(row[sync.key])]) for row in earlier if str(row[sync.key]) in found]
        new = [row for row in new if str(row[sync.key]) not in found]
    created: list[tuple[dict, str]] = []
    if new:
        since = ctx.write_intents(new)
        for start in range(0, len(new), 100):
            done, failed = _create_guarded(ctx, client, new[start:start + 100], since, taken)
            created += done
            outcomes += failed
    updated: list[tuple[dict, str]] = []
    # Kantata documents bulk creates (up to 100 a call, a list under the plural key: developer.kantata.com,
    # "Creating a new Workspace", Bulk Create) but no bulk update of workspaces, stories or resources: an update is
    # one PUT. A record matched by rule (made by hand before the hub) usually holds the values already: the known
    # records are read 200 a call (only=) and only those that differ are written.
    current = _current_records(ctx, client, [record_id for _, record_id in known])
    for row, record_id in known:
        fields = body(sync, row, send_nulls=True)
        if _holds(current.get(record_id), fields, CREATE_ONLY.get(sync.object, set())):
            updated.append((row, record_id))
            continue
        try:
            client.update(sync.object, record_id, fields)
            updated.append((row, record_id))
        except ConnectorError as exc:
            outcomes.append(_failure(str(row[sync.key]), exc))
    done = created + updated
    try:
        _write_custom_fields(ctx, client, done)
    except ConnectorError as exc:  # the records exist; their external reference is not yet written
        return outcomes + [_failure(str(row[sync.key]), exc) for row, _ in done]
    created_keys = {str(row[sync.key]) for row, _ in created}
    return outcomes + [Outcome(str(row[sync.key]), destination_id=record_id, created=str(row[sync.key]) in created_keys)
                       for row, record_id in done]


def kantata_custom_field(ctx: Context, client, rows: list[dict]) -> list[Outcome]:
    """Custom field values: Kantata keeps one value per field and subject, so a POST is an idempotent upsert."""
    sync, outcomes = ctx.sync, []
    for start in range(0, len(rows), 100):
        chunk = rows[start:start + 100]
        try:
            records = client.create(sync.object, [body(sync, r, send_nulls=False) for r in chunk])
            outcomes += [Outcome(str(r[sync.key]), destination_id=str(rec["id"])) for r, rec in zip(chunk, records)]
        except (ValidationError, NotFoundError):
            for row in chunk:
                try:
                    rec = client.create(sync.object, [body(sync, row, send_nulls=False)])[0]
                    outcomes.append(Outcome(str(row[sync.key]), destination_id=str(rec["id"])))
                except ConnectorError as exc:
                    outcomes.append(_failure(str(row[sync.key]), exc))
        except ConnectorError as exc:
            outcomes += [_failure(str(r[sync.key]), exc) for r in chunk]
    return outcomes


# -- Dynamics 365 Finance: change sets by natural key; a refused or unanswered change set is redone record by record ---
def dynamics_upsert(ctx: Context, client, rows: list[dict]) -> list[Outcome]:
    """Records the ledger knows are PATCHed by their natural key, new ones POSTed, each group as one $batch change
    set of up to the sync's batch size. A change set is all or nothing: when it is refused (one bad record, or a
    record an earlier lost answer already created) or its answer is lost, its records are upserted one by one
    (PATCH, then POST where the key is not there yet), so a record is never created twice and a bad one is found."""
    from connectors.dynamics import BATCH_MAX, KEY_SEPARATOR

    sync = ctx.sync

    def key_of(row: dict) -> dict:
        return {k: json_value(row[k]) for k in sync.natural_key}

    def landed_id(row: dict) -> str:
        return KEY_SEPARATOR.join(str(v) for v in key_of(row).values())

    def fields_of(row: dict) -> dict:
        return {k: v for k, v in body(sync, row, send_nulls=True).items() if k not in sync.natural_key}

    def one_by_one(group: list[dict]) -> list[Outcome]:
        outcomes = []
        for row in group:
            try:
                done = client.upsert(sync.object, key_of(row), fields_of(row))
                outcomes.append(Outcome(str(row[sync.key]), destination_id=landed_id(row), created=done == "created"))
            except ConnectorError as exc:
                outcomes.append(_failure(str(row[sync.key]), exc))
        return outcomes

    def one_call(group: list[dict], method: str) -> list[Outcome]:
        if method == "PATCH":
            changes = [("PATCH", sync.object, key_of(r), fields_of(r)) for r in group]
        else:
            changes = [("POST", sync.object, None, {**key_of(r), **fields_of(r)}) for r in group]
        try:
            client.batch(changes)
        except ConnectorError:
            return one_by_one(group)
        return [Outcome(str(r[sync.key]), destination_id=landed_id(r), created=method == "POST") for r in group]

    size = max(1, min(sync.batch_size, BATCH_MAX))
    calls = []
    for method, group in (("PATCH", [r for r in rows if _known_id(ctx, r)]),
                          ("POST", [r for r in rows if not _known_id(ctx, r)])):
        calls += [(group[i:i + size], method) for i in range(0, len(group), size)]
    with ThreadPoolExecutor(max_workers=max(1, min(ctx.concurrency, len(calls) or 1))) as pool:
        return [o for outcomes in pool.map(lambda c: one_call(*c), calls) for o in outcomes]


# -- HubSpot: batch update of companies and deals by id, 100 records a call -------------------------------------
def hubspot_update(ctx: Context, client, rows: list[dict]) -> list[Outcome]:
    """The CRM syncs' rows (Salesforce field names) as HubSpot properties (connectors.hubspot.CRM_PROPERTIES), 100
    a call ("Update a batch of records by internal ID"), a few calls in flight; an id HubSpot does not find is that
    record's refusal, the others are written."""
    sync = ctx.sync
    names = CRM_PROPERTIES[sync.object]

    def one_call(chunk: list[dict]) -> list[Outcome]:
        records = [(str(r[sync.key]), {names[k]: v for k, v in _stamped(sync, body(sync, r, send_nulls=True)).items()})
                   for r in chunk]
        try:
            results, missing = client.batch_update(sync.object, records)
        except ConnectorError as exc:
            return [_failure(str(r[sync.key]), exc) for r in chunk]
        done = {str(res.get("id")) for res in results}
        return [Outcome(key, destination_id=key) if key in done else
                Outcome(key, error_code="OBJECT_NOT_FOUND", error=f"HubSpot has no {sync.object} record {key} "
                        f"(deleted, or merged into another)" if key in missing else "not in HubSpot's answer",
                        stage="rejected" if key in missing else "failed")
                for key, _props in records]

    size = max(1, min(sync.batch_size, HUBSPOT_BATCH))
    chunks = [rows[i:i + size] for i in range(0, len(rows), size)]
    with ThreadPoolExecutor(max_workers=max(1, min(ctx.concurrency, len(chunks)))) as pool:
        return [o for outcomes in pool.map(one_call, chunks) for o in outcomes]


# -- HubSpot: the invoice records, a custom object upserted by its unique ERP invoice id, then associated with the
# company ---------------------------------------------------------------------------------------------------------
def hubspot_upsert(ctx: Context, client, rows: list[dict]) -> list[Outcome]:
    """The invoice rows (Salesforce field names) as properties of the firm's custom object, 100 a call by its unique
    erp_invoice_id ("Create or update a batch of objects by unique property values"), then each record associated
    with its company (Account__c) by the schema's association type (v4 batch create, 100 a call). Both calls are
    idempotent: a record whose association failed is retried whole by the next run, and meets the record it made."""
    sync = ctx.sync
    names = CRM_PROPERTIES[sync.object]
    id_property = names[sync.key]
    try:
        if "schema" not in ctx.cache:
            ctx.cache["schema"] = client.custom_object(sync.object)
    except ConnectorError as exc:
        return [_failure(str(r[sync.key]), exc) for r in rows]
    schema = ctx.cache["schema"]
    object_type = schema["objectTypeId"]
    to_company = next((int(a["id"]) for a in schema.get("associations") or []
                       if a.get("fromObjectTypeId") == object_type and a.get("toObjectTypeId") == COMPANY_TYPE_ID), None)
    if to_company is None:
        return [Outcome(str(r[sync.key]), error_code="NO_ASSOCIATION", stage="rejected",
                        error=f"HubSpot's {sync.object} object has no association with companies: add companies to "
                              "its associated objects") for r in rows]

    def one_call(chunk: list[dict]) -> list[Outcome]:
        records = [(str(r[sync.key]), {names[k]: v for k, v in body(sync, r, send_nulls=True).items() if k in names})
                   for r in chunk]
        try:
            results = client.batch_upsert(object_type, id_property, records)
        except ConnectorError as exc:
            return [_failure(key, exc) for key, _p in records]
        made = {str((res.get("properties") or {}).get(id_property)): str(res["id"]) for res in results}
        company = {str(r[sync.key]): str(r["Account__c"]) for r in chunk}
        pairs = [(made[key], company[key]) for key, _p in records if key in made]
        try:
            not_associated = client.associate(object_type, "companies", pairs, to_company) if pairs else set()
        except ConnectorError as exc:
            failed = _failure("", exc)
            return [Outcome(key, error_code=failed.error_code, error=f"written, not yet associated with its company: "
                            f"{failed.error}", stage="failed") for key, _p in records]
        return [Outcome(key, destination_id=made[key]) if key in made and made[key] not in not_associated else
                Outcome(key, error_code="OBJECT_NOT_FOUND", stage="rejected",
                        error=f"HubSpot has no company {company[key]} to hold the invoice record (deleted, or merged)")
                if key in made else Outcome(key, error="not in HubSpot's answer", error_code="NO_RESULT",
                                            stage="failed")
                for key, _p in records]

    size = max(1, min(sync.batch_size, HUBSPOT_BATCH))
    chunks = [rows[i:i + size] for i in range(0, len(rows), size)]
    with ThreadPoolExecutor(max_workers=max(1, min(ctx.concurrency, len(chunks)))) as pool:
        return [o for outcomes in pool.map(one_call, chunks) for o in outcomes]


PUSHERS = {
    syncs.NETSUITE_UPSERT: netsuite_upsert,
    syncs.SALESFORCE_UPDATE: salesforce_update,
    syncs.SALESFORCE_UPSERT: salesforce_upsert,
    syncs.KANTATA_UPSERT: kantata_upsert,
    syncs.KANTATA_CUSTOM_FIELD: kantata_custom_field,
    syncs.DYNAMICS_UPSERT: dynamics_upsert,
    syncs.HUBSPOT_UPDATE: hubspot_update,
    syncs.HUBSPOT_UPSERT: hubspot_upsert,
}
