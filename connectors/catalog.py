"""What each source system offers the hub: objects, the fields read, and how changes are found.

A source's shape, not its business meaning: field lists, id / version / deleted fields, cursor style.
Every field that staging casts carries its type as a suffix (`trandate:date`, `Amount:numeric`; the types are
`date`, `datetime`, `numeric`, `integer`, `boolean`; no suffix: text, never cast). Landing checks each value
against it (flows/landing.py) and quarantines a record whose value the cast would refuse, so that a staging
cast never fails on landed data; tests/test_typed_landing.py checks that the staging models and these suffixes
agree. NetSuite's reader also uses them: SuiteQL returns dates in the account's own format unless they are
selected through TO_CHAR.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceObject:
    system: str
    name: str          # the API's name: Account, time_entries, customer
    table: str         # raw table: account, time_entries, customer
    fields: tuple[str, ...]
    id_field: str
    updated_field: str
    deleted_field: str | None = None
    # fixed query parameters of every read (Kantata: time entries of archived workspaces too)
    params: tuple[tuple[str, str], ...] = ()
    # the source reports no deletes: list every id now and then and mark the vanished ones deleted
    reconcile_ids: bool = False
    # NetSuite deletedrecord: each landed row is applied as a delete to the object it names
    applies_deletes: bool = False
    # NetSuite transactionline: deleted with the transaction they belong to (no deletedrecord row of their own)
    parent: tuple[str, str] | None = None   # (parent object name, field of this object holding the parent id)
    # the source leaves a record's null fields out (NetSuite SuiteQL): a field absent from a page is no news
    omits_nulls: bool = False
    # (list filter, date field) of the records still editable, whose ids each cycle confirms: a record deleted
    # there leaves the warehouse in the next cycle, not at the next full id listing
    recent: tuple[str, str] | None = None

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.split(":")[0] for f in self.fields)

    def typed_fields(self) -> list[tuple[str, str | None]]:
        return [(f.split(":")[0], f.split(":")[1] if ":" in f else None) for f in self.fields]

    @property
    def field_types(self) -> dict[str, str]:
        """{field: type} of the fields that staging casts (those declared with a type)."""
        return {name: typ for name, typ in self.typed_fields() if typ}

    @property
    def key(self) -> str:
        return f"{self.system}.{self.name}"


# -- Salesforce: SystemModstamp cursor, queryAll returns deleted rows with IsDeleted = true ---------------
_SF_AUDIT = ("IsDeleted", "CreatedDate:datetime", "LastModifiedDate", "SystemModstamp")


def _sf(name: str, *fields: str, audit: tuple[str, ...] = _SF_AUDIT) -> SourceObject:
    return SourceObject("salesforce", name, name.lower(), ("Id", *fields, *audit), "Id", "SystemModstamp",
                        "IsDeleted" if "IsDeleted" in audit else None)


SALESFORCE = {
    o.name: o for o in (
        # User has no IsDeleted: users are deactivated (IsActive), never deleted
        _sf("User", "Username", "Name", "FirstName", "LastName", "Email", "Title", "IsActive:boolean",
            "CurrencyIsoCode", audit=("CreatedDate:datetime", "LastModifiedDate", "SystemModstamp")),
        _sf("Account", "Name", "Type", "Industry", "CurrencyIsoCode", "Legal_Entity__c", "BillingCountry",
            "BillingCity", "OwnerId", "External_Id__c", "ERP_Customer_Id__c", "Open_AR__c:numeric",
            "Overdue_AR__c:numeric", "AR_Current__c:numeric", "AR_1_30__c:numeric", "AR_31_60__c:numeric",
            "AR_61_90__c:numeric", "AR_Over_90__c:numeric", "DSO__c:numeric", "Last_Payment_Date__c:date",
            "Credit_Hold__c:boolean", "Finance_Synced_At__c:datetime"),
        _sf("Opportunity", "AccountId", "Name", "StageName", "IsClosed:boolean", "IsWon:boolean", "CloseDate:date",
            "Amount:numeric", "Probability:numeric", "CurrencyIsoCode", "Type", "OwnerId", "Billing_Model__c",
            "Legal_Entity__c", "Service_Line__c", "Start_Date__c:date", "End_Date__c:date", "External_Id__c",
            "ERP_Project_Id__c", "PSA_Project_Id__c", "Sync_Status__c", "Last_Sync_Error__c",
            "Last_Synced_At__c:datetime", "Project_Status__c", "Billed_Amount__c:numeric",
            "Recognized_Revenue__c:numeric", "Backlog__c:numeric", "Burn_Pct__c:numeric", "Margin_Pct__c:numeric",
            "Collected_Amount__c:numeric"),
        _sf("OpportunityLineItem", "OpportunityId", "Name", "Role__c", "Quantity:numeric", "UnitPrice:numeric",
            "TotalPrice:numeric", "CurrencyIsoCode"),
    )
}


# -- Certinia PSA: Salesforce objects of the pse__ package in the same org, read as the Salesforce objects are -------
# (SystemModstamp cursor, queryAll with IsDeleted), landed under raw_certinia. Objects and fields: Certinia's
# "Professional Services Automation Data Dictionary" (sandbox/schema.py names the pages).
def _cert(name: str, *fields: str) -> SourceObject:
    return SourceObject("certinia", name, name.lower(), ("Id", *fields, *_SF_AUDIT), "Id", "SystemModstamp", "IsDeleted")


_DAY_FIELDS = tuple(f"pse__{d}_Hours__c:numeric" for d in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                                           "Saturday", "Sunday")) + tuple(
    f"pse__{d}_Notes__c" for d in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"))
_TIMECARD_FIELDS = ("Name", "pse__Resource__c", "pse__Project__c", "pse__Assignment__c", "pse__Milestone__c",
                    "pse__Start_Date__c:date", "pse__End_Date__c:date", "pse__Status__c", "pse__Approved__c:boolean",
                    "pse__Billable__c:boolean", "pse__Billed__c:boolean", "pse__Bill_Rate__c:numeric",
                    "pse__Cost_Rate_Amount__c:numeric", "CurrencyIsoCode", *_DAY_FIELDS, "pse__Total_Hours__c:numeric")
CERTINIA = {
    o.name: o for o in (
        # the org's accounts, which projects (pse__Account__c) and rate cards name: their names are the projects'
        # clients, whichever CRM the firm sells in
        _cert("Account", "Name"),
        # resources are Contacts (pse__Is_Resource__c); the org's other contacts land too and staging leaves them out
        _cert("Contact", "FirstName", "LastName", "Name", "Email", "Title", "AccountId", "pse__Is_Resource__c:boolean",
              "pse__Is_Resource_Active__c:boolean", "pse__Resource_Role__c", "pse__Default_Cost_Rate__c:numeric",
              "CurrencyIsoCode"),
        _cert("pse__Rate_Card__c", "Name", "pse__Role__c", "pse__Suggested_Bill_Rate__c:numeric",
              "pse__Average_Cost_Rate__c:numeric", "pse__Account__c", "pse__Start_Date__c:date", "pse__End_Date__c:date",
              "CurrencyIsoCode"),
        _cert("pse__Proj__c", "Name", "pse__Account__c", "pse__Opportunity__c", "pse__Project_Type__c", "pse__Stage__c",
              "pse__Is_Active__c:boolean", "pse__Is_Billable__c:boolean", "pse__Start_Date__c:date",
              "pse__End_Date__c:date", "pse__Bookings__c:numeric", "pse__Percent_Hours_Completed_For_Recognition__c:numeric",
              "pse__Description__c", "CurrencyIsoCode", "CRM_Opportunity_Id__c", "Billing_Model__c", "Legal_Entity__c",
              "Service_Line__c", "Credit_Hold__c:boolean", "Budget_Used__c:numeric"),
        _cert("pse__Schedule__c", "Name", "pse__Start_Date__c:date", "pse__End_Date__c:date",
              "pse__Scheduled_Hours__c:numeric", "pse__Is_Blocking__c:boolean"),
        _cert("pse__Resource_Request__c", "Name", "pse__Project__c", "pse__Resource_Role__c", "pse__Start_Date__c:date",
              "pse__End_Date__c:date", "pse__SOW_Hours__c:numeric", "pse__Status__c", "pse__Assignment__c",
              "CurrencyIsoCode"),
        _cert("pse__Assignment__c", "Name", "pse__Project__c", "pse__Resource__c", "pse__Role__c",
              "pse__Bill_Rate__c:numeric", "pse__Cost_Rate_Amount__c:numeric", "pse__Is_Billable__c:boolean",
              "pse__Schedule__c", "pse__Resource_Request__c", "CurrencyIsoCode"),
        _cert("pse__Project_Task__c", "Name", "pse__Project__c", "pse__Parent_Task__c",
              "pse__Start_Date_Time__c:datetime", "pse__End_Date_Time__c:datetime", "pse__Started__c:boolean",
              "pse__Completed__c:boolean", "pse__Estimated_Hours__c:numeric", "pse__Billable__c:boolean"),
        _cert("pse__Milestone__c", "Name", "pse__Project__c", "pse__Target_Date__c:date", "pse__Actual_Date__c:date",
              "pse__Milestone_Amount__c:numeric", "pse__Status__c", "pse__Approved__c:boolean",
              "pse__Exclude_from_Billing__c:boolean", "CurrencyIsoCode"),
        _cert("pse__Timecard_Header__c", *_TIMECARD_FIELDS),
        _cert("pse__Timecard__c", "pse__Timecard_Header__c", *_TIMECARD_FIELDS),
        _cert("pse__Expense__c", "Name", "pse__Project__c", "pse__Resource__c", "pse__Expense_Date__c:date",
              "pse__Type__c", "pse__Description__c", "pse__Amount__c:numeric", "CurrencyIsoCode",
              "pse__Billable__c:boolean", "pse__Billed__c:boolean", "pse__Non_Reimbursible__c:boolean",
              "pse__Approved__c:boolean", "pse__Status__c"),
    )
}


# -- Kantata: updated_at cursor (updated_after + order=updated_at:asc); no deletes reported --------------
def _kt(name: str, *fields: str, params: tuple[tuple[str, str], ...] = (), deleted: str | None = None,
        recent: tuple[str, str] | None = None) -> SourceObject:
    return SourceObject("kantata", name, name, ("id", *fields, "created_at:datetime", "updated_at"), "id",
                        "updated_at", deleted, params=params, reconcile_ids=True, recent=recent)


KANTATA = {
    o.name: o for o in (
        _kt("users", "full_name", "email_address", "headline", "disabled:boolean", "account_id"),
        _kt("roles", "name"),
        _kt("rate_cards", "title", "currency", "is_default:boolean"),
        _kt("rate_card_roles", "rate_card_id", "role_id", "rate_in_cents:numeric", "currency"),
        _kt("workspaces", "title", "description", "archived:boolean", "start_date:date", "due_date:date",
            "budgeted:boolean", "price_in_cents:numeric", "budget_used_in_cents:numeric", "currency", "rate_card_id",
            "status_key:integer", "status_message", "status_color", "creator_role", "percentage_complete:integer",
            "account_id",
            # archived workspaces are left out unless include_archived=true: they must land (and never look deleted)
            params=(("include_archived", "true"),)),
        _kt("stories", "workspace_id", "parent_id", "title", "story_type", "state", "start_date:date",
            "due_date:date", "billable:boolean", "fixed_fee:boolean", "time_estimate_in_minutes:integer",
            "budget_estimate_in_cents:numeric", "percentage_complete:integer", "archived:boolean", "deleted_at",
            params=(("archived", "include"),), deleted="deleted_at"),
        _kt("workspace_resources", "workspace_id", "user_id", "role_id", "role_name", "bill_rate:numeric",
            "cost_rate:numeric", "start_date:date", "end_date:date", "currency"),
        _kt("workspace_allocations", "workspace_resource_id", "workspace_id", "user_id", "start_date:date",
            "end_date:date", "minutes:integer", "hard:boolean"),
        # from_archived_workspaces defaults to false: without it, time of archived projects silently vanishes
        _kt("time_entries", "workspace_id", "story_id", "user_id", "role_id", "date_performed:date",
            "time_in_minutes:integer",
            "billable:boolean", "notes", "rate_in_cents:numeric", "cost_rate_in_cents:numeric", "currency",
            "approved:boolean", "is_invoiced:boolean",
            "invoice_id", params=(("from_archived_workspaces", "true"),),
            # date_performed_between=YYYY-MM-DD:YYYY-MM-DD (developer.kantata.com/tag/Time-Entries, query parameters)
            recent=("date_performed_between", "date_performed")),
        _kt("expenses", "workspace_id", "user_id", "date:date", "category", "notes", "amount_in_cents:numeric",
            "currency", "is_billable:boolean", "is_invoiced:boolean", "reimbursable:boolean", "approved:boolean",
            params=(("from_archived_workspaces", "true"),),
            # date_expensed_between=YYYY-MM-DD:YYYY-MM-DD (developer.kantata.com/tag/Expenses, query parameters)
            recent=("date_expensed_between", "date")),
        _kt("custom_fields", "name", "subject_type", "value_type"),
        # subject_type is a required filter of custom_field_values: the hub's custom fields are all on workspaces
        _kt("custom_field_values", "custom_field_id", "subject_type", "subject_id", "value",
            params=(("subject_type", "Workspace"),)),
    )
}


# -- NetSuite: lastmodifieddate cursor through SuiteQL; deletes from deletedrecord ----------------------
def _ns(name: str, *fields: str, id_field: str = "id", updated: str = "lastmodifieddate", **kw) -> SourceObject:
    return SourceObject("netsuite", name, name, (f"{id_field}", *fields, f"{updated}:datetime"), id_field, updated,
                        omits_nulls=True, **kw)


NETSUITE = {
    o.name: o for o in (
        _ns("subsidiary", "name", "fullname", "parent", "currency", "country", "legalname", "isinactive:boolean"),
        _ns("currency", "name", "symbol", "isbasecurrency:boolean", "isinactive:boolean"),
        _ns("currencyrate", "basecurrency", "transactioncurrency", "exchangerate:numeric", "effectivedate:date"),
        _ns("term", "name", "daysuntilnetdue:integer", "isinactive:boolean"),
        _ns("entitystatus", "name", "entitytype", "isinactive:boolean"),
        _ns("customer", "entityid", "companyname", "externalid", "parent", "subsidiary", "currency", "terms", "email",
            "phone", "creditlimit:numeric", "creditholdoverride", "isinactive:boolean", "datecreated:datetime"),
        _ns("customersubsidiaryrelationship", "entity", "subsidiary", "isprimarysub:boolean"),
        _ns("job", "entityid", "companyname", "externalid", "parent", "customer", "subsidiary", "currency",
            "entitystatus", "jobtype", "jobbillingtype", "startdate:date", "projectedenddate:date", "enddate:date",
            "projectedvalue:numeric", "custentity_billing_model", "custentity_service_line",
            "custentity_crm_opportunity_id", "isinactive:boolean", "datecreated:datetime"),
        _ns("employee", "entityid", "firstname", "lastname", "email", "externalid", "subsidiary", "title",
            "laborcost:numeric", "isinactive:boolean"),
        _ns("item", "itemid", "displayname", "itemtype", "externalid", "isinactive:boolean"),
        _ns("accountingperiod", "periodname", "startdate:date", "enddate:date", "closed:boolean", "closedondate:date",
            "isquarter:boolean", "isyear:boolean", "isadjust:boolean"),
        _ns("timebill", "externalid", "employee", "customer", "item", "subsidiary", "hours:numeric", "rate:numeric",
            "isbillable:boolean", "trandate:date", "memo", "approvalstatus", "billed:boolean", "invoice",
            "datecreated:datetime"),
        _ns("expensereport", "externalid", "tranid", "employee", "entity", "subsidiary", "trandate:date", "category",
            "amount:numeric", "currency", "isbillable:boolean", "memo", "billed:boolean", "invoice",
            "datecreated:datetime"),
        _ns("customrecord_pshub_invoice_request", "externalid", "name", "custrecord_pshub_ir_project",
            "custrecord_pshub_ir_amount:numeric", "custrecord_pshub_ir_currency", "custrecord_pshub_ir_milestone",
            "custrecord_pshub_ir_date:date", "custrecord_pshub_ir_status", "custrecord_pshub_ir_invoice",
            "created:datetime"),
        _ns("transaction", "tranid", "type", "trandate:date", "entity", "subsidiary", "currency",
            "exchangerate:numeric", "foreigntotal:numeric", "foreignamountpaid:numeric",
            "foreignamountunpaid:numeric", "status", "postingperiod", "terms", "duedate:date", "closedate:date",
            "externalid", "memo", "createddate:datetime"),
        _ns("transactionline", "transaction", "id", "linesequencenumber:integer", "mainline:boolean", "item",
            "entity", "subsidiary", "quantity:numeric", "rate:numeric", "netamount:numeric", "foreignamount:numeric",
            "isbillable:boolean", "memo", id_field="uniquekey", updated="linelastmodifieddate",
            parent=("transaction", "transaction")),
        _ns("previoustransactionlink", "previousdoc", "nextdoc", "linktype", "foreignamount:numeric"),
        _ns("deletedrecord", "recordid", "recordtypeid", "type", "name", updated="deleteddate", applies_deletes=True),
    )
}


# -- Dynamics 365 Finance: OData data entities, ModifiedDateTime cursor, cross-company reads ----------------------
# Records are keyed by their natural key (several fields: dataAreaId, the legal entity, first), landed as one id
# `_key` (the values joined by "|", connectors/dynamics.py). The service reports no deletes: an id reconciliation
# finds the vanished ones, as for Kantata. Entity set names, keys and fields: sandbox/dynamics.py names their sources
# (the journals and periods: a client generated from an environment's $metadata, and the Common Data Model); fields
# prefixed Psh and ModifiedDateTime are the firm's extension fields and the change cursor, no source naming them.
DYNAMICS_KEYS: dict[str, tuple[str, ...]] = {
    "LegalEntities": ("LegalEntityId",),
    "Currencies": ("CurrencyCode",),
    "ExchangeRates": ("RateTypeName", "FromCurrency", "ToCurrency", "StartDate"),
    "FiscalPeriods": ("Calendar", "FiscalYear", "StartDate", "EndDate", "PeriodName"),
    "LedgerFiscalPeriods": ("LedgerName", "Calendar", "YearName", "PeriodName"),
    "CustomersV3": ("dataAreaId", "CustomerAccount"),
    "Projects": ("dataAreaId", "ProjectID"),
    "JournalTrans": ("dataAreaId", "JournalId", "LineNumber"),
    "ExpenseJournalLines": ("dataAreaId", "JournalBatchNumber", "LineNumber"),
    "FreeTextInvoiceHeaders": ("dataAreaId", "InvoiceIdentifier"),
    "FreeTextInvoiceLines": ("dataAreaId", "InvoiceIdentifier", "LineNumber"),
    "CustomerPaymentJournalLines": ("dataAreaId", "JournalBatchNumber", "LineNumber"),
}


def _dyn(name: str, *fields: str) -> SourceObject:
    key = DYNAMICS_KEYS[name]
    declared = {f.split(":")[0] for f in fields}
    return SourceObject("dynamics", name, name.lower(), ("_key", *[k for k in key if k not in declared], *fields,
                                                         "ModifiedDateTime"),
                        "_key", "ModifiedDateTime", reconcile_ids=True)


DYNAMICS = {
    o.name: o for o in (
        _dyn("LegalEntities", "Name", "AddressCountryRegionId", "AccountingCurrency"),
        _dyn("Currencies", "Name", "Symbol"),
        _dyn("ExchangeRates", "StartDate:date", "EndDate:date", "Rate:numeric"),
        _dyn("FiscalPeriods", "StartDate:date", "EndDate:date"),
        _dyn("LedgerFiscalPeriods", "PeriodStatus", "LegalEntityId"),
        _dyn("CustomersV3", "OrganizationName", "CustomerGroupId", "SalesCurrencyCode", "PaymentTerms",
             "CreditLimit:numeric", "OnHoldStatus", "AddressCountryRegionId", "PrimaryContactEmail", "PshCrmAccountId"),
        _dyn("Projects", "ProjectName", "CustomerAccount", "ProjectGroup", "ProjectType", "ProjectStage",
             "StartDate:date", "EndDate:date", "DateOfCreation:date", "CurrencyCode", "PshCrmOpportunityId",
             "PshBillingModel", "PshServiceLine"),
        _dyn("JournalTrans", "LineNumber:integer", "ProjectID", "ResourceId", "Category", "ProjectDate:date",
             "Hours:numeric", "SalesPrice:numeric", "CurrencyId", "LineProperty", "Description",
             "PshInvoiceIdentifier:integer", "PshExternalId"),
        _dyn("ExpenseJournalLines", "LineNumber:integer", "ProjId", "ResourceId", "ProjectCategory",
             "ProjectDate:date", "DebitAmount:numeric", "CurrencyCode", "ProjectLineProperty", "Text",
             "PshInvoiceIdentifier:integer", "PshExternalId"),
        _dyn("FreeTextInvoiceHeaders", "InvoiceIdentifier:integer", "InvoiceNumber", "CustomerAccount",
             "InvoiceDate:date", "DueDate:date", "CurrencyCode", "IsPosted", "InvoiceDescription", "PshProjectId"),
        _dyn("FreeTextInvoiceLines", "InvoiceIdentifier:integer", "LineNumber:integer", "Description",
             "Quantity:numeric", "UnitPrice:numeric", "LineAmount:numeric", "PshProjectId"),
        _dyn("CustomerPaymentJournalLines", "LineNumber:integer", "AccountDisplayValue", "TransactionDate:date",
             "CreditAmount:numeric", "CurrencyCode", "MarkedInvoice", "PaymentReference", "TransactionText"),
    )
}
# "Entity.Field" of the key fields that are integers (OData key literals without quotes)
DYNAMICS_INTEGER_KEYS = {f"{o.name}.{name}" for o in DYNAMICS.values() for name, typ in o.typed_fields()
                         if typ == "integer" and name in DYNAMICS_KEYS[o.name]}

# -- HubSpot CRM: v3 objects read through the search endpoint on hs_lastmodifieddate; archived records as deletes ------
# Record ids are HubSpot's numeric ids (as text); properties land flat beside `id` and `archived`; deals and line items
# carry the id of their associated company / deal (v4 associations, connectors/hubspot.py). Owners, products and the
# deal pipelines are small lists read whole each run (an owner that is deactivated lands with archived = true).
def _hs(name: str, *fields: str, id_field: str = "id", updated: str = "hs_lastmodifieddate",
        deleted: str | None = "archived", stamp: tuple[str, ...] = ("createdate:datetime",)) -> SourceObject:
    recycled = ("archived", "archived_at") if deleted else ()  # set on the records of the recycling bin
    return SourceObject("hubspot", name, name, (id_field, *fields, *recycled, *stamp, updated), id_field, updated,
                        deleted)


HUBSPOT = {
    o.name: o for o in (
        _hs("owners", "email", "firstName", "lastName", "userId", "archived:boolean", updated="updatedAt",
            deleted=None, stamp=("createdAt:datetime",)),
        _hs("companies", "name", "type", "industry", "country", "city", "hubspot_owner_id", "company_currency",
            "legal_entity", "external_id", "erp_customer_id", "open_ar:numeric", "overdue_ar:numeric",
            "ar_current:numeric", "ar_1_30:numeric", "ar_31_60:numeric", "ar_61_90:numeric", "ar_over_90:numeric",
            "dso:numeric", "last_payment_date:date", "credit_hold:boolean", "finance_synced_at:datetime"),
        _hs("deals", "dealname", "amount:numeric", "closedate:date", "pipeline", "dealstage",
            "deal_currency_code", "dealtype", "hubspot_owner_id", "associated_company_id", "billing_model",
            "legal_entity", "service_line", "start_date:date", "end_date:date", "external_id", "erp_project_id",
            "psa_project_id", "sync_status", "last_sync_error", "last_synced_at:datetime", "project_status",
            "billed_amount:numeric", "recognized_revenue:numeric", "backlog:numeric", "burn_pct:numeric",
            "margin_pct:numeric", "collected_amount:numeric"),
        _hs("line_items", "name", "quantity:numeric", "price:numeric", "amount:numeric",
            "hs_line_item_currency_code", "hs_product_id", "associated_deal_id"),
        _hs("products", "name"),
        _hs("pipelines", "label", "displayOrder:integer", "stages", updated="updatedAt", deleted=None,
            stamp=("createdAt:datetime",)),
    )
}
# the objects read whole each run (lists with no search): the rest are searched from their cursor
HUBSPOT_LISTS = {"owners", "products", "pipelines"}

SOURCES: dict[str, dict[str, SourceObject]] = {"salesforce": SALESFORCE, "kantata": KANTATA, "netsuite": NETSUITE,
                                               "dynamics": DYNAMICS, "hubspot": HUBSPOT, "certinia": CERTINIA}
# What select() gives when no system is named; the hub's ingest names them from its settings (Settings.default_systems:
# Dynamics 365 Finance too when PSHUB_DYNAMICS_ENABLED).
DEFAULT_SYSTEMS = ("salesforce", "kantata", "netsuite")


def find(system: str, name: str | None = None) -> list[SourceObject]:
    if system not in SOURCES:
        raise KeyError(f"unknown system {system!r}; known: {', '.join(SOURCES)}")
    objects = SOURCES[system]
    if name is None:
        return list(objects.values())
    matches = [o for o in objects.values() if name.lower() in (o.name.lower(), o.table)]
    if not matches:
        raise KeyError(f"unknown {system} object {name!r}; known: {', '.join(objects)}")
    return matches


def select(systems: list[str] | None = None, objects: list[str] | None = None) -> list[SourceObject]:
    """The objects to ingest: all of the named systems (default DEFAULT_SYSTEMS), narrowed to the named objects."""
    for system in systems or []:
        find(system)  # unknown system: a clear error
    chosen = [o for s in (systems or DEFAULT_SYSTEMS) for o in SOURCES[s].values()]
    if objects:
        wanted = {n.lower() for n in objects}
        unknown = wanted - {o.name.lower() for o in chosen} - {o.table for o in chosen}
        if unknown:
            raise KeyError(f"unknown object(s) {', '.join(sorted(unknown))}; known: "
                           + ", ".join(o.name for o in chosen))
        chosen = [o for o in chosen if o.name.lower() in wanted or o.table in wanted]
    return chosen
