"""Dynamics 365 Finance (finance and operations apps): the Microsoft identity platform's token endpoint and the
OData v4 service of data entities under /data/, over the firm's legal entities routed to it.

Sources of the behaviour simulated here (each also asserted in tests/contracts/test_dynamics_contract.py):
- Token: Microsoft identity platform, "OAuth 2.0 client credentials flow" (learn.microsoft.com/entra/identity-platform/
  v2-oauth2-client-creds-grant-flow): POST https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token, form
  grant_type=client_credentials, client_id, client_secret, scope=<resource>/.default; answer {token_type: "Bearer",
  expires_in, ext_expires_in, access_token}; errors {error, error_description "AADSTSnnnn: ...", error_codes, ...}.
  No refresh token in this flow. The sandbox serves the token endpoint under its own base URL, at the same path.
- Data entities: "Open Data Protocol (OData)" of finance and operations (learn.microsoft.com/dynamics365/fin-ops-core/
  dev-itpro/data-entities/odata): https://<env>/data/<EntitySet>, entity set names plural and case-sensitive (the
  CustomerV3 entity is read as CustomersV3; d365fo.integrations, Get-D365ODataEntityData); $filter, $select,
  $orderby, $top, $skip; `cross-company=true` reads every legal entity, otherwise only the caller's default company
  ("Cross-company behavior of data entities"); `dataAreaId` is the legal entity. Server-driven paging: at most 10,000
  records a page, then `@odata.nextLink` (Cleo, "API Related Information D365 SCM": nextLink ".../data/
  SalesOrderHeadersV3?cross-company=true&$skip=10000&$top=10000"); `Prefer: odata.maxpagesize=N` asks for smaller
  pages (OData v4.01 part 1, 8.2.8.3; the answer's Preference-Applied header says so).
- Enumerations are written in $filter as Microsoft.Dynamics.DataEntities.<Enum>'<Value>' (e.g. IsPosted eq
  Microsoft.Dynamics.DataEntities.NoYes'No', in open-source F&O clients) and returned as their names.
- Service protection: "Service protection API limits" / "Throttling prioritization" (learn.microsoft.com/dynamics365/
  fin-ops-core/dev-itpro/data-entities/service-protection-api-limits, .../throttling-faq): 429 Too Many Requests with a
  Retry-After header in seconds; a retry after it is treated as a new request.
- Writes: POST /data/<EntitySet> (201 with the record), PATCH /data/<EntitySet>(dataAreaId='x',Key='y') (204),
  DELETE the same (204), by the entity's natural key; $batch (OData v4 part 1, 11.7) with change sets that succeed or
  fail as a whole (the Dynamics Web API's "Execute batch operations"; d365fo.integrations Import-D365ODataEntityBatchMode).
- Dates: finance and operations returns date fields as DateTimeOffset at noon UTC ("2024-06-14T12:00:00Z") and an empty
  date as 1900-01-01 (unconfirmed in Microsoft's pages; seen in open-source clients' fixtures).

Entity set names (public collection names) and fields. Confirmed: CustomersV3, Projects, FreeTextInvoiceHeaders/-Lines
and CustomerPaymentJournalLines (Microsoft's data entity reference, open-source connectors). The project journals and
periods follow a client generated from a finance and operations environment's $metadata (SAP Cloud SDK for
JavaScript, OData v4: github.com/ntrtd/d365-agent, src/mcp_hub/d365-client/JournalTrans*.ts, ExpenseJournalLines*.ts,
FiscalPeriods*.ts, LedgerFiscalPeriods*.ts: entity set, `_keys` and property names) and the Common Data Model
(MicrosoftDocs/common-data-model-and-service, schema/core/operationsCommon/Entities/ProfessionalServices/
ProjectManagementAndAccounting/ProjJournalTransEntity.md and ExpenseJournalLineEntity.md: the same attributes):
- JournalTrans: ProjJournalTransEntity, "Project hour journal lines"; keys dataAreaId, JournalId, LineNumber; ProjectID
  (so spelled in both), ResourceId, Category, ProjectDate, Hours, SalesPrice, CurrencyId, LineProperty, Description.
- ExpenseJournalLines: ExpenseJournalLineEntity, "Project expense journal lines"; keys dataAreaId, JournalBatchNumber,
  LineNumber; ProjId, ResourceId, ProjectCategory, ProjectDate, DebitAmount (the expense; the entity is a ledger
  journal line, CreditAmount its other side), CurrencyCode, ProjectLineProperty, Text.
- FiscalPeriods: the shared fiscal calendar; keys Calendar, FiscalYear, StartDate, EndDate, PeriodName; no company and
  no status. LedgerFiscalPeriods: each ledger's status of a calendar period; keys LedgerName, Calendar, YearName,
  PeriodName; PeriodStatus (enum FiscalPeriodStatus), LegalEntityId. This sandbox's choices there: each legal entity's
  ledger is named after its dataAreaId (LedgerName = LegalEntityId = dataAreaId), YearName holds the calendar's
  FiscalYear (the hub joins the two on Calendar, year and PeriodName), and the status values are Open, OnHold and
  PermanentlyClosed (the enum's values are unconfirmed).
This sandbox's own choices, no source naming them: `ModifiedDateTime` on every entity (the change cursor); fields
prefixed `Psh` stand for the extension fields a firm adds for the hub (as NetSuite's custentity_ fields), among them
the journal lines' PshExternalId (the PSA record) and PshInvoiceIdentifier (the free text invoice that billed the line).
- A project's creation date: the Projects entity (ProjectEntity, "Projects"; Common Data Model operationsCommon
  ProjectManagementAndAccounting/ProjectEntity.cdm.json) exposes `DateOfCreation`, backed by ProjTable.Created
  (Tables/.../Main/ProjTable.cdm.json: data type TransDate, label "Date of creation"): a date, no time of day. The
  service fills it with the day the project is created when a write leaves it out (the sandbox does so on insert).
"""
from __future__ import annotations

import datetime as dt
import re
import secrets
import sqlite3
import uuid

from sandbox.http import ApiError, App, Request, Response

PAGE_MAX = 10_000
DEFAULT_COMPANY = "nbus"  # the integration user's default company: what a read without cross-company=true sees
EMPTY_DATE = "1900-01-01T12:00:00Z"
ENUM_PREFIX = "Microsoft.Dynamics.DataEntities."

# legal entity (CRM Legal_Entity__c) -> (dataAreaId, name, accounting currency, country)
COMPANIES = {"US": ("nbus", "Northbeam Consulting Inc.", "USD", "USA"),
             "UK": ("nbuk", "Northbeam Consulting Ltd", "GBP", "GBR"),
             "DE": ("nbde", "Northbeam Beratung GmbH", "EUR", "DEU")}
NS_SUBSIDIARY = {"US": 1, "UK": 2, "DE": 3}

# entity set -> (fields "Name:type", natural key, per legal entity (has dataAreaId))
# types: str, int, float, date, datetime, enum (its name)
ENTITIES: dict[str, tuple[list[str], tuple[str, ...], bool]] = {
    "LegalEntities": (["LegalEntityId:str", "Name:str", "AddressCountryRegionId:str", "AccountingCurrency:str",
                       "ModifiedDateTime:datetime"], ("LegalEntityId",), False),
    "Currencies": (["CurrencyCode:str", "Name:str", "Symbol:str", "ModifiedDateTime:datetime"], ("CurrencyCode",), False),
    "ExchangeRates": (["RateTypeName:str", "FromCurrency:str", "ToCurrency:str", "StartDate:date", "EndDate:date",
                       "Rate:float", "ModifiedDateTime:datetime"],
                      ("RateTypeName", "FromCurrency", "ToCurrency", "StartDate"), False),
    # the shared fiscal calendar (no company, no status), and each legal entity's ledger's status of its periods
    "FiscalPeriods": (["Calendar:str", "FiscalYear:str", "PeriodName:str", "StartDate:date", "EndDate:date",
                       "ModifiedDateTime:datetime"], ("Calendar", "FiscalYear", "StartDate", "EndDate", "PeriodName"),
                      False),
    "LedgerFiscalPeriods": (["LedgerName:str", "Calendar:str", "YearName:str", "PeriodName:str", "PeriodStatus:enum",
                             "LegalEntityId:str", "ModifiedDateTime:datetime"],
                            ("LedgerName", "Calendar", "YearName", "PeriodName"), False),
    "CustomersV3": (["dataAreaId:str", "CustomerAccount:str", "OrganizationName:str", "CustomerGroupId:str",
                     "SalesCurrencyCode:str", "PaymentTerms:str", "CreditLimit:float", "OnHoldStatus:enum",
                     "AddressCountryRegionId:str", "PrimaryContactEmail:str", "PshCrmAccountId:str",
                     "ModifiedDateTime:datetime"], ("dataAreaId", "CustomerAccount"), True),
    "Projects": (["dataAreaId:str", "ProjectID:str", "ProjectName:str", "CustomerAccount:str", "ProjectGroup:str",
                  "ProjectType:enum", "ProjectStage:enum", "StartDate:date", "EndDate:date", "DateOfCreation:date",
                  "CurrencyCode:str",
                  "PshCrmOpportunityId:str", "PshBillingModel:str", "PshServiceLine:str", "ModifiedDateTime:datetime"],
                 ("dataAreaId", "ProjectID"), True),
    "JournalTrans": (["dataAreaId:str", "JournalId:str", "LineNumber:int", "ProjectID:str", "ResourceId:str",
                      "Category:str", "ProjectDate:date", "Hours:float", "SalesPrice:float", "CurrencyId:str",
                      "LineProperty:str", "Description:str", "PshInvoiceIdentifier:int", "PshExternalId:str",
                      "ModifiedDateTime:datetime"], ("dataAreaId", "JournalId", "LineNumber"), True),
    "ExpenseJournalLines": (["dataAreaId:str", "JournalBatchNumber:str", "LineNumber:int", "ProjId:str",
                             "ResourceId:str", "ProjectCategory:str", "ProjectDate:date", "DebitAmount:float",
                             "CurrencyCode:str", "ProjectLineProperty:str", "Text:str", "PshInvoiceIdentifier:int",
                             "PshExternalId:str", "ModifiedDateTime:datetime"],
                            ("dataAreaId", "JournalBatchNumber", "LineNumber"), True),
    "FreeTextInvoiceHeaders": (["dataAreaId:str", "InvoiceIdentifier:int", "InvoiceNumber:str", "CustomerAccount:str",
                                "InvoiceDate:date", "DueDate:date", "CurrencyCode:str", "IsPosted:enum",
                                "InvoiceDescription:str", "PshProjectId:str", "ModifiedDateTime:datetime"],
                               ("dataAreaId", "InvoiceIdentifier"), True),
    "FreeTextInvoiceLines": (["dataAreaId:str", "InvoiceIdentifier:int", "LineNumber:int", "Description:str",
                              "Quantity:float", "UnitPrice:float", "LineAmount:float", "PshProjectId:str",
                              "ModifiedDateTime:datetime"], ("dataAreaId", "InvoiceIdentifier", "LineNumber"), True),
    "CustomerPaymentJournalLines": (["dataAreaId:str", "JournalBatchNumber:str", "LineNumber:int",
                                     "AccountDisplayValue:str", "TransactionDate:date", "CreditAmount:float",
                                     "CurrencyCode:str", "MarkedInvoice:str", "PaymentReference:str",
                                     "TransactionText:str", "ModifiedDateTime:datetime"],
                                    ("dataAreaId", "JournalBatchNumber", "LineNumber"), True),
}
# the internal (entity) name a write error names, as finance and operations does
ENTITY_TYPES = {"CustomersV3": "CustCustomerV3Entity", "Projects": "ProjProjectEntity",
                "FreeTextInvoiceHeaders": "FreeTextInvoiceHeaderEntity", "FreeTextInvoiceLines": "FreeTextInvoiceLineEntity",
                "CustomerPaymentJournalLines": "CustomerPaymentJournalLineEntity", "JournalTrans": "ProjJournalTransEntity",
                "ExpenseJournalLines": "ExpenseJournalLineEntity"}
# a journal line's project date: posting is refused when its legal entity's ledger period is not open
JOURNAL_LINES = {"JournalTrans", "ExpenseJournalLines"}
READONLY = {"ModifiedDateTime"}


def fields(entity: str) -> dict[str, str]:
    return {f.split(":")[0]: f.split(":")[1] for f in ENTITIES[entity][0]}


def table(entity: str) -> str:
    return f"d365_{entity}"


def ddl() -> list[str]:
    out = []
    for entity, (flist, key, _company) in ENTITIES.items():
        cols = []
        for f in flist:
            name, typ = f.split(":")
            cols.append(f'"{name}" {"INTEGER" if typ == "int" else "REAL" if typ == "float" else "TEXT"}')
        out.append(f'CREATE TABLE IF NOT EXISTS "{table(entity)}" ({", ".join(cols)}, '
                   f'PRIMARY KEY ({", ".join(chr(34) + k + chr(34) for k in key)}))')
        out.append(f'CREATE INDEX IF NOT EXISTS "ix_{table(entity)}_modified" ON "{table(entity)}" ("ModifiedDateTime")')
    return out


# a firm made before the journals and periods took their documented names: old table -> (new entity, new <- old)
_RENAMED = {
    "ProjectHourJournalLines": ("JournalTrans", {
        "dataAreaId": "dataAreaId", "JournalId": "JournalNumber", "LineNumber": "LineNumber", "ProjectID": "ProjectID",
        "ResourceId": "Worker", "Category": "CategoryId", "ProjectDate": "TransactionDate", "Hours": "Hours",
        "SalesPrice": "SalesPrice", "CurrencyId": "CurrencyCode", "LineProperty": "LineProperty", "Description": "Text",
        "PshInvoiceIdentifier": "InvoiceIdentifier", "PshExternalId": "PshExternalId",
        "ModifiedDateTime": "ModifiedDateTime"}),
    "ProjectExpenseJournalLines": ("ExpenseJournalLines", {
        "dataAreaId": "dataAreaId", "JournalBatchNumber": "JournalNumber", "LineNumber": "LineNumber",
        "ProjId": "ProjectID", "ResourceId": "Worker", "ProjectCategory": "CategoryId", "ProjectDate": "TransactionDate",
        "DebitAmount": "Amount", "CurrencyCode": "CurrencyCode", "ProjectLineProperty": "LineProperty", "Text": "Text",
        "PshInvoiceIdentifier": "InvoiceIdentifier", "PshExternalId": "PshExternalId",
        "ModifiedDateTime": "ModifiedDateTime"}),
}


def _migrate(c) -> None:
    """Move an earlier version's journal lines to their documented entity sets; its per-company FiscalPeriods become
    the shared calendar and the ledgers' statuses."""
    have = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for old, (new, cols) in _RENAMED.items():
        if table(old) in have:
            c.execute(f'INSERT OR REPLACE INTO "{table(new)}" ({", ".join(chr(34) + k + chr(34) for k in cols)}) '
                      f'SELECT {", ".join(chr(34) + v + chr(34) for v in cols.values())} FROM "{table(old)}"')
            c.execute(f'DROP TABLE "{table(old)}"')
    if "dataAreaId" in {r[1] for r in c.execute(f'PRAGMA table_info("{table("FiscalPeriods")}")')}:
        c.execute('INSERT OR REPLACE INTO "d365_LedgerFiscalPeriods" SELECT dataAreaId, Calendar, FiscalYear, '
                  'PeriodName, PeriodStatus, dataAreaId, ModifiedDateTime FROM "d365_FiscalPeriods"')
        c.execute('CREATE TABLE "d365_calendar" AS SELECT DISTINCT Calendar, FiscalYear, PeriodName, StartDate, EndDate, '
                  'MIN(ModifiedDateTime) FROM "d365_FiscalPeriods" GROUP BY 1, 2, 3, 4, 5')
        c.execute('DROP TABLE "d365_FiscalPeriods"')
        for stmt in ddl():
            c.execute(stmt)
        c.execute('INSERT INTO "d365_FiscalPeriods" SELECT * FROM "d365_calendar"')
        c.execute('DROP TABLE "d365_calendar"')


def create_tables(c) -> None:
    """The entity tables, and the fields added since a firm was made (a firm kept from an earlier version)."""
    for stmt in ddl():
        c.execute(stmt)
    for entity, (flist, _key, _company) in ENTITIES.items():
        have = {r[1] for r in c.execute(f'PRAGMA table_info("{table(entity)}")')}
        for f in flist:
            name, typ = f.split(":")
            if name not in have:
                kind = "INTEGER" if typ == "int" else "REAL" if typ == "float" else "TEXT"
                c.execute(f'ALTER TABLE "{table(entity)}" ADD COLUMN "{name}" {kind}')
    _migrate(c)


def d365_datetime(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def d365_date(day: str | None) -> str:
    """A YYYY-MM-DD date as finance and operations returns it (noon UTC); none = 1900-01-01."""
    return f"{day[:10]}T12:00:00Z" if day else EMPTY_DATE


def odata_error(status: int, message: str, code: str = "", inner: str | None = None) -> ApiError:
    body = {"error": {"code": code, "message": message}}
    if inner:
        body["error"]["innererror"] = {"message": inner, "type": "Microsoft.Dynamics.Platform.Integration.Services."
                                                                 "OData.AxODataWriteException", "stacktrace": ""}
    return ApiError(status, body)


def aad_error(status: int, error: str, code: int, description: str) -> ApiError:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    return ApiError(status, {"error": error, "error_description": f"AADSTS{code}: {description}",
                             "error_codes": [code], "timestamp": now, "trace_id": str(uuid.uuid4()),
                             "correlation_id": str(uuid.uuid4())})


# -- $filter ------------------------------------------------------------------------------------------------
_TOKEN = re.compile(r"""\s*(?:
      (?P<str>'(?:[^']|'')*')
    | (?P<enum>Microsoft\.Dynamics\.DataEntities\.\w+'(?:[^']|'')*')
    | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))
    | (?P<num>-?\d+(?:\.\d+)?)
    | (?P<paren>[()])
    | (?P<word>[A-Za-z_][\w.]*)
    )""", re.X)
_OPS = {"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"The query specified in the URI is not valid. Syntax error at position {pos} in "
                             f"'{text}'.")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


def translate_filter(text: str, entity: str) -> tuple[str, list]:
    """An OData $filter (comparisons joined by and/or/not, parentheses) as an SQLite WHERE clause and parameters."""
    types = fields(entity)
    toks = _tokens(text)
    params: list = []
    pos = 0

    def peek():
        return toks[pos] if pos < len(toks) else (None, None)

    def take():
        nonlocal pos
        pos += 1
        return toks[pos - 1]

    def literal(field: str):
        kind, value = take()
        typ = types[field]
        if kind == "str":
            return value[1:-1].replace("''", "'")
        if kind == "enum":
            return value.split("'", 1)[1][:-1].replace("''", "'")
        if kind == "datetime":
            t = dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.timezone.utc)
            return d365_datetime(t)
        if kind == "num":
            if typ in ("str", "date", "datetime", "enum"):
                raise ValueError(f"A binary operator with incompatible types was detected. Found operand types "
                                 f"'Edm.{'String' if typ == 'str' else 'DateTimeOffset'}' and 'Edm.Int32' for "
                                 f"the operator kind 'Equal'.")
            return float(value) if "." in value else int(value)
        if kind == "word" and value == "null":
            return None
        raise ValueError(f"The query specified in the URI is not valid. Unexpected '{value}'.")

    def factor() -> str:
        kind, value = peek()
        if kind == "word" and value == "not":
            take()
            return f"NOT ({factor()})"
        if kind == "paren" and value == "(":
            take()
            inner = expr()
            if take() != ("paren", ")"):
                raise ValueError("The query specified in the URI is not valid. ')' expected.")
            return f"({inner})"
        if kind != "word":
            raise ValueError(f"The query specified in the URI is not valid. Unexpected '{value}'.")
        take()
        if value not in types:
            raise ValueError(f"Could not find a property named '{value}' on type 'Microsoft.Dynamics.DataEntities."
                             f"{entity}'.")
        op_kind, op = take() if pos < len(toks) else (None, None)
        if op_kind != "word" or op not in _OPS:
            raise ValueError(f"The query specified in the URI is not valid. Operator expected after '{value}'.")
        v = literal(value)
        if v is None:
            return f'"{value}" IS {"NOT " if op == "ne" else ""}NULL'
        params.append(v)
        return f'"{value}" {_OPS[op]} ?'

    def term() -> str:
        parts = [factor()]
        while peek() == ("word", "and"):
            take()
            parts.append(factor())
        return " AND ".join(parts)

    def expr() -> str:
        parts = [term()]
        while peek() == ("word", "or"):
            take()
            parts.append(term())
        return " OR ".join(parts) if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    sql = expr()
    if pos != len(toks):
        raise ValueError(f"The query specified in the URI is not valid. Unexpected '{toks[pos][1]}'.")
    return sql, params


def parse_key(entity: str, text: str) -> dict:
    """(dataAreaId='nbuk',CustomerAccount='C1') -> {field: value}; every key field named once."""
    types = fields(entity)
    key = ENTITIES[entity][1]
    out = {}
    for part in re.findall(r"(\w+)=('(?:[^']|'')*'|\d{4}-\d{2}-\d{2}T[\d:.]+Z|-?\d+)", text):
        name, raw = part
        if name not in types:
            raise odata_error(400, f"The key property '{name}' is not defined on '{entity}'.")
        if raw.startswith("'"):
            out[name] = raw[1:-1].replace("''", "'")
        elif "T" in raw:  # a date key (FiscalPeriods' StartDate, EndDate), unquoted as in $filter
            out[name] = d365_date(raw[:10])
        else:
            out[name] = int(raw)
    if set(out) != set(key):
        raise odata_error(400, f"The number of keys specified in the URI does not match number of key properties for "
                               f"the resource '{entity}': expected {', '.join(key)}.")
    return out


class Dynamics(App):
    name = "dynamics"

    def __init__(self, sandbox):
        super().__init__(sandbox)
        create_tables(sandbox.store.conn())
        r = self.route
        r("POST", "/(?P<tenant>[^/]+)/oauth2/v2.0/token", "POST token", auth=False, write=False)(self.token)
        r("POST", r"/data/\$batch", "POST $batch", write=True)(self.batch)
        r("GET", r"/data/(?P<entity>\w+)", "GET entity set")(self.list)
        r("GET", r"/data/(?P<entity>\w+)\((?P<key>[^)]*)\)", "GET entity")(self.get)
        r("POST", r"/data/(?P<entity>\w+)", "POST entity")(self.create)
        r("PATCH", r"/data/(?P<entity>\w+)\((?P<key>[^)]*)\)", "PATCH entity")(self.patch)
        r("DELETE", r"/data/(?P<entity>\w+)\((?P<key>[^)]*)\)", "DELETE entity")(self.delete)

    # -- errors ---------------------------------------------------------------------------------------
    def unauthorized(self):
        return ApiError(401, None, {"WWW-Authenticate": 'Bearer error="invalid_token"'})

    def server_error(self):
        return odata_error(500, "An error has occurred.")

    def too_many(self):
        # Service protection API limits: 429 with Retry-After (seconds)
        return ApiError(429, {"error": {"code": "", "message": "Too many requests. Retry after the time in the "
                                                               "Retry-After header."}},
                        {"Retry-After": str(self.faults.get("retry_after_seconds") or 1)})

    def not_found(self, path):
        return odata_error(404, f"No HTTP resource was found that matches the request URI '{path}'.")

    def bad_request(self, message):
        return odata_error(400, message)

    def _entity(self, entity: str) -> str:
        if entity not in ENTITIES:  # entity set names are case-sensitive: customersv3 is not CustomersV3
            raise odata_error(404, f"Resource not found for the segment '{entity}'.")
        return entity

    # -- token (Microsoft identity platform) ----------------------------------------------------------------
    def token(self, req: Request, tenant: str) -> Response:
        creds = self.sandbox.credentials["dynamics"]
        form = req.form()
        if tenant != creds["tenant_id"]:
            raise aad_error(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
        if form.get("grant_type") != "client_credentials":
            raise aad_error(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
        if form.get("client_id") != creds["client_id"]:
            raise aad_error(400, "unauthorized_client", 700016, f"Application with identifier "
                            f"'{form.get('client_id')}' was not found in the directory '{tenant}'.")
        if not secrets.compare_digest(form.get("client_secret", ""), creds["client_secret"]):
            raise aad_error(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being "
                            "sent in the request is the client secret value, not the client secret ID.")
        if form.get("scope") != f"{self.base_url}/.default":
            raise aad_error(400, "invalid_scope", 1002012, f"The provided value for scope {form.get('scope')} is not "
                            "valid. Client credential flows must have a scope value with /.default suffixed to the "
                            "resource identifier (application ID URI).")
        tok = "eyJ0eXAiOiJKV1QifQ." + secrets.token_urlsafe(48)
        self.sandbox.tokens.issue(self.name, tok)
        ttl = self.sandbox.tokens.ttl
        return Response(200, {"token_type": "Bearer", "expires_in": ttl, "ext_expires_in": ttl, "access_token": tok})

    # -- reads ----------------------------------------------------------------------------------------------
    def _render(self, entity: str, row: dict, select: list[str] | None) -> dict:
        types = fields(entity)
        out = {"@odata.etag": 'W/"' + str(abs(hash(row.get("ModifiedDateTime") or "")) % 10 ** 12) + '"'}
        for name in (select or types):
            v = row.get(name)
            typ = types[name]
            if typ == "date":
                v = v or EMPTY_DATE
            elif v is None and typ in ("str", "enum"):
                v = ""  # finance and operations returns empty strings, not nulls
            out[name] = v
        return out

    def _select(self, entity: str, req: Request) -> list[str] | None:
        raw = req.arg("$select")
        if not raw:
            return None
        names = [s.strip() for s in raw.split(",") if s.strip()]
        types = fields(entity)
        for n in names:
            if n not in types:
                raise odata_error(400, f"Could not find a property named '{n}' on type "
                                       f"'Microsoft.Dynamics.DataEntities.{entity}'.")
        return names

    def list(self, req: Request, entity: str) -> Response:
        entity = self._entity(entity)
        types = fields(entity)
        select = self._select(entity, req)
        where, params = [], []
        if ENTITIES[entity][2] and req.arg("cross-company", "false").lower() != "true":
            where.append('"dataAreaId" = ?')
            params.append(DEFAULT_COMPANY)
        if req.arg("$filter"):
            sql, p = translate_filter(req.arg("$filter"), entity)
            where.append(f"({sql})")
            params += p
        order = []
        for part in (req.arg("$orderby") or "").split(","):
            bits = part.split()
            if not bits:
                continue
            if bits[0] not in types or (len(bits) > 1 and bits[1].lower() not in ("asc", "desc")):
                raise odata_error(400, f"Could not find a property named '{bits[0]}' on type "
                                       f"'Microsoft.Dynamics.DataEntities.{entity}'.")
            order.append(f'"{bits[0]}" {bits[1].upper() if len(bits) > 1 else "ASC"}')
        order += [f'"{k}" ASC' for k in ENTITIES[entity][1]]  # a stable order, so that $skip pages never overlap
        try:
            top = int(req.arg("$top")) if req.arg("$top") else None
            skip = int(req.arg("$skip") or 0)
        except ValueError:
            raise odata_error(400, "Invalid value for $top or $skip.") from None
        page = PAGE_MAX
        prefer = req.headers.get("prefer", "")
        m = re.search(r"odata\.maxpagesize=(\d+)", prefer)
        headers = {"OData-Version": "4.0"}
        if m:
            page = max(1, min(PAGE_MAX, int(m.group(1))))
            headers["Preference-Applied"] = f"odata.maxpagesize={page}"
        want = page if top is None else min(page, top)
        sql = (f'SELECT * FROM "{table(entity)}"' + (f" WHERE {' AND '.join(where)}" if where else "")
               + f" ORDER BY {', '.join(order)} LIMIT ? OFFSET ?")
        c = self.sandbox.store.conn()
        try:
            cur = c.execute(sql, [*params, want + 1, skip])
        except sqlite3.Error as e:
            raise odata_error(400, f"The query specified in the URI is not valid. {e}") from None
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r)) for r in cur.fetchall()]
        more = len(rows) > want and (top is None or top > want)
        rows = rows[:want]
        body = {"@odata.context": f"{self.base_url}/data/$metadata#{entity}"
                                  + (f"({','.join(select)})" if select else ""),
                "value": [self._render(entity, r, select) for r in rows]}
        if more:
            query = [(k, v[-1]) for k, v in req.query.items() if k not in ("$skip", "$top")]
            query += [("$skip", str(skip + want))] + ([("$top", str(top - want))] if top is not None else [])
            from urllib.parse import urlencode
            body["@odata.nextLink"] = f"{self.base_url}/data/{entity}?{urlencode(query, safe='$,=')}"
        return Response(200, body, headers)

    def _row(self, entity: str, key: dict) -> dict | None:
        c = self.sandbox.store.conn()
        cur = c.execute(f'SELECT * FROM "{table(entity)}" WHERE ' + " AND ".join(f'"{k}" = ?' for k in key),
                        list(key.values()))
        r = cur.fetchone()
        return dict(zip([d[0] for d in cur.description], r)) if r else None

    def get(self, req: Request, entity: str, key: str) -> Response:
        entity = self._entity(entity)
        row = self._row(entity, parse_key(entity, key))
        if row is None:
            raise odata_error(404, f"Resource not found for the segment '{entity}'.")
        return Response(200, {"@odata.context": f"{self.base_url}/data/$metadata#{entity}/$entity",
                              **self._render(entity, row, self._select(entity, req))})

    # -- writes ----------------------------------------------------------------------------------------------
    def _values(self, entity: str, body) -> dict:
        if not isinstance(body, dict):
            raise odata_error(400, "The request body must be a JSON object.")
        types = fields(entity)
        out = {}
        for k, v in body.items():
            if k.startswith("@odata."):
                continue
            if k not in types:
                raise odata_error(400, f"The property '{k}' does not exist on type "
                                       f"'Microsoft.Dynamics.DataEntities.{entity}'. Make sure to only use property "
                                       "names that are defined by the type.")
            if k in READONLY:
                continue
            typ = types[k]
            if v is None:
                out[k] = None
            elif typ in ("int", "float"):
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise odata_error(400, f"Cannot convert the literal '{v}' to the expected type "
                                           f"'Edm.{'Int64' if typ == 'int' else 'Decimal'}'.")
                out[k] = int(v) if typ == "int" else float(v)
            elif typ == "date":
                try:
                    t = dt.datetime.fromisoformat(str(v).replace("Z", "+00:00"))
                except ValueError:
                    raise odata_error(400, f"Cannot convert the literal '{v}' to the expected type "
                                           "'Edm.DateTimeOffset'.") from None
                out[k] = d365_date(t.date().isoformat())
            else:
                out[k] = str(v)
        return out

    def _check(self, entity: str, row: dict) -> None:
        missing = [k for k in ENTITIES[entity][1] if row.get(k) in (None, "")]
        if missing:
            raise odata_error(400, "Write failed for table row of type '" + ENTITY_TYPES.get(entity, entity)
                              + f"'. Infolog: Error: Field '{missing[0]}' must be filled in.", inner="Write failed")
        if "dataAreaId" in row and row["dataAreaId"] not in {c[0] for c in COMPANIES.values()}:
            raise odata_error(400, f"Write failed for table row of type '{ENTITY_TYPES.get(entity, entity)}'. "
                                   f"Infolog: Error: Company {row['dataAreaId']} does not exist.", inner="Write failed")
        if entity in JOURNAL_LINES:
            closed = self.sandbox.store.conn().execute(
                "SELECT p.PeriodName FROM d365_FiscalPeriods p JOIN d365_LedgerFiscalPeriods l ON l.Calendar = p.Calendar "
                "AND l.YearName = p.FiscalYear AND l.PeriodName = p.PeriodName WHERE l.LegalEntityId = ? "
                "AND p.StartDate <= ? AND p.EndDate >= ? AND l.PeriodStatus <> 'Open'",
                (row["dataAreaId"], row.get("ProjectDate"), row.get("ProjectDate"))).fetchone()
            if closed:
                raise odata_error(400, f"Write failed for table row of type '{ENTITY_TYPES[entity]}'. Infolog: Error: "
                                       f"The period {closed[0]} is not open.", inner="Write failed")

    def _insert(self, entity: str, values: dict) -> dict:
        row = {**values, "ModifiedDateTime": d365_datetime(self.sandbox.store.now())}
        if entity == "Projects" and not row.get("DateOfCreation"):
            # ProjTable.Created ("Date of creation") is the day the project is created
            row["DateOfCreation"] = d365_date(self.sandbox.store.now().date().isoformat())
        self._check(entity, row)
        if self._row(entity, {k: row[k] for k in ENTITIES[entity][1]}) is not None:
            raise odata_error(400, f"Write failed for table row of type '{ENTITY_TYPES.get(entity, entity)}'. "
                                   "Infolog: Error: Cannot create a record in "
                                   f"{ENTITY_TYPES.get(entity, entity)}. The record already exists.",
                              inner="Write failed")
        cols = list(row)
        self.sandbox.store.conn().execute(
            f'INSERT INTO "{table(entity)}" ({", ".join(chr(34) + k + chr(34) for k in cols)}) '
            f'VALUES ({", ".join("?" * len(cols))})', [row[k] for k in cols])
        return row

    def _update(self, entity: str, key: dict, values: dict) -> None:
        row = self._row(entity, key)
        if row is None:
            raise odata_error(404, f"Resource not found for the segment '{entity}'.")
        if any(k in values and values[k] != row[k] for k in key):
            raise odata_error(400, "The key properties of an entity cannot be changed.")
        merged = {**row, **values, "ModifiedDateTime": d365_datetime(self.sandbox.store.now())}
        self._check(entity, merged)
        sets = {k: v for k, v in merged.items() if k not in key}
        self.sandbox.store.conn().execute(
            f'UPDATE "{table(entity)}" SET {", ".join(chr(34) + k + chr(34) + " = ?" for k in sets)} WHERE '
            + " AND ".join(f'"{k}" = ?' for k in key), [*sets.values(), *key.values()])

    def create(self, req: Request, entity: str) -> Response:
        entity = self._entity(entity)
        with self.sandbox.store.write_lock:
            row = self._insert(entity, self._values(entity, req.json()))
        resp = Response(201, {"@odata.context": f"{self.base_url}/data/$metadata#{entity}/$entity",
                              **self._render(entity, row, None)},
                        {"Location": f"{self.base_url}/data/{entity}({_key_text(entity, row)})"})
        resp.records_written = 1
        return resp

    def patch(self, req: Request, entity: str, key: str) -> Response:
        entity = self._entity(entity)
        with self.sandbox.store.write_lock:
            self._update(entity, parse_key(entity, key), self._values(entity, req.json()))
        resp = Response(204)
        resp.records_written = 1
        return resp

    def delete(self, req: Request, entity: str, key: str) -> Response:
        entity = self._entity(entity)
        k = parse_key(entity, key)
        with self.sandbox.store.write_lock:
            if self._row(entity, k) is None:
                raise odata_error(404, f"Resource not found for the segment '{entity}'.")
            self.sandbox.store.conn().execute(f'DELETE FROM "{table(entity)}" WHERE '
                                              + " AND ".join(f'"{x}" = ?' for x in k), list(k.values()))
        resp = Response(204)
        resp.records_written = 1
        return resp

    # -- $batch ---------------------------------------------------------------------------------------------
    def batch(self, req: Request) -> Response:
        """OData v4 $batch, multipart/mixed: single requests and change sets; a change set is one transaction
        (all its changes or none), answered as one error when it fails."""
        boundary = _boundary(req.headers.get("content-type", ""))
        if boundary is None:
            raise odata_error(400, "The batch request must have a 'Content-Type' header of multipart/mixed with a "
                                   "boundary.")
        out_boundary = "batchresponse_" + uuid.uuid4().hex
        parts_out: list[str] = []
        written = 0
        for headers, body in _parts(req.body, boundary):
            inner = _boundary(headers.get("content-type", ""))
            if inner is not None:  # a change set
                requests = [(_parse_http(b), h.get("content-id")) for h, b in _parts(body, inner)]
                cs_boundary = "changesetresponse_" + uuid.uuid4().hex
                store = self.sandbox.store
                with store.write_lock:
                    c = store.conn()
                    c.execute("BEGIN")
                    answers = []
                    try:
                        for (method, path, hdrs, payload), cid in requests:
                            answers.append((self._one(method, path, hdrs, payload), cid))
                        c.execute("COMMIT")
                    except ApiError as e:
                        c.execute("ROLLBACK")
                        parts_out.append(_http_part(e.status, e.body, None))
                        continue
                    except BaseException:
                        c.execute("ROLLBACK")
                        raise
                written += sum(1 for r, _ in answers if r.status < 400)
                inner_parts = [_http_part(r.status, r.body, cid, r.headers) for r, cid in answers]
                parts_out.append(f"Content-Type: multipart/mixed; boundary={cs_boundary}\r\n\r\n"
                                 + "".join(f"--{cs_boundary}\r\n{p}" for p in inner_parts) + f"--{cs_boundary}--\r\n")
            else:
                method, path, hdrs, payload = _parse_http(body)
                if method != "GET":
                    raise odata_error(400, "Changes must be in a change set of the batch request.")
                try:
                    r = self._one(method, path, hdrs, payload)
                    parts_out.append(_http_part(r.status, r.body, None, r.headers))
                except ApiError as e:
                    parts_out.append(_http_part(e.status, e.body, None))
        raw = ("".join(f"--{out_boundary}\r\n{p}" for p in parts_out) + f"--{out_boundary}--\r\n").encode()
        resp = Response(200, None, {"Content-Type": f"multipart/mixed; boundary={out_boundary}"}, raw=raw)
        resp.records_written = written
        return resp

    def _one(self, method: str, path: str, headers: dict, payload: bytes) -> Response:
        import urllib.parse
        parsed = urllib.parse.urlsplit(path)
        p = urllib.parse.unquote(parsed.path)
        if p.startswith(self.base_url):
            p = p[len(self.base_url):]
        sub = Request(method, p, urllib.parse.parse_qs(parsed.query, keep_blank_values=True), headers, payload,
                      self.base_url)
        route, params = self.match(method, p)
        if route is None or route.handler == self.batch or not route.auth:
            raise odata_error(400, f"{method} {p} cannot be part of a batch request.")
        try:
            return route.handler(sub, **params)
        except ValueError as e:
            raise odata_error(400, str(e)) from None


def _key_text(entity: str, row: dict) -> str:
    types = fields(entity)
    return ",".join(f"{k}={row[k]}" if isinstance(row[k], int) or types[k] == "date"
                    else f"{k}='{str(row[k]).replace(chr(39), chr(39) * 2)}'" for k in ENTITIES[entity][1])


def _boundary(content_type: str) -> str | None:
    if "multipart/mixed" not in content_type.lower():
        return None
    m = re.search(r'boundary="?([^";]+)"?', content_type)
    return m.group(1) if m else None


def _parts(body: bytes, boundary: str) -> list[tuple[dict, bytes]]:
    """The parts of a multipart body: (headers lower-cased, body)."""
    delim = b"--" + boundary.encode()
    out = []
    for chunk in body.split(delim)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk.lstrip(b"\r\n")
        head, _, rest = chunk.partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            k, _, v = line.partition(":")
            if _:
                headers[k.strip().lower()] = v.strip()
        out.append((headers, rest[:-2] if rest.endswith(b"\r\n") else rest))
    return out


def _parse_http(part: bytes) -> tuple[str, str, dict, bytes]:
    """An application/http part: request line, headers, body."""
    head, _, body = part.partition(b"\r\n\r\n")
    lines = head.decode("utf-8", "replace").split("\r\n")
    try:
        method, path, _version = lines[0].split(" ", 2)
    except ValueError:
        raise odata_error(400, f"Invalid request line in the batch: {lines[0]!r}") from None
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if _:
            headers[k.strip().lower()] = v.strip()
    return method.upper(), path, headers, body.strip()


_REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
            429: "Too Many Requests", 500: "Internal Server Error"}


def _http_part(status: int, body, content_id: str | None, headers: dict | None = None) -> str:
    import orjson
    payload = orjson.dumps(body).decode() if body is not None else ""
    head = "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
    if content_id:
        head += f"Content-ID: {content_id}\r\n"
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items() if k.lower() in ("location",))
    ctype = "Content-Type: application/json; odata.metadata=minimal\r\n" if payload else ""
    return f"{head}\r\nHTTP/1.1 {status} {_REASONS.get(status, '')}\r\n{extra}{ctype}\r\n{payload}\r\n"
