"""What each source system offers the hub: objects, the fields read, and how changes are found.

A source's shape, not its business meaning: field lists, id / version / deleted fields, cursor style.
NetSuite fields carry a type suffix (`trandate:date`, `lastmodifieddate:datetime`): SuiteQL returns dates in
the account's own format unless they are selected through TO_CHAR, so the reader needs to know which are dates.
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

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.split(":")[0] for f in self.fields)

    def typed_fields(self) -> list[tuple[str, str | None]]:
        return [(f.split(":")[0], f.split(":")[1] if ":" in f else None) for f in self.fields]

    @property
    def key(self) -> str:
        return f"{self.system}.{self.name}"


# -- Salesforce: SystemModstamp cursor, queryAll returns deleted rows with IsDeleted = true ---------------
_SF_AUDIT = ("IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp")


def _sf(name: str, *fields: str, audit: tuple[str, ...] = _SF_AUDIT) -> SourceObject:
    return SourceObject("salesforce", name, name.lower(), ("Id", *fields, *audit), "Id", "SystemModstamp",
                        "IsDeleted" if "IsDeleted" in audit else None)


SALESFORCE = {
    o.name: o for o in (
        # User has no IsDeleted: users are deactivated (IsActive), never deleted
        _sf("User", "Username", "Name", "FirstName", "LastName", "Email", "Title", "IsActive", "CurrencyIsoCode",
            audit=("CreatedDate", "LastModifiedDate", "SystemModstamp")),
        _sf("Account", "Name", "Type", "Industry", "CurrencyIsoCode", "Legal_Entity__c", "BillingCountry",
            "BillingCity", "OwnerId", "External_Id__c", "ERP_Customer_Id__c", "Open_AR__c", "Overdue_AR__c",
            "AR_Current__c", "AR_1_30__c", "AR_31_60__c", "AR_61_90__c", "AR_Over_90__c", "DSO__c",
            "Last_Payment_Date__c", "Credit_Hold__c", "Finance_Synced_At__c"),
        _sf("Opportunity", "AccountId", "Name", "StageName", "IsClosed", "IsWon", "CloseDate", "Amount",
            "Probability", "CurrencyIsoCode", "Type", "OwnerId", "Billing_Model__c", "Legal_Entity__c",
            "Service_Line__c", "Start_Date__c", "End_Date__c", "External_Id__c", "ERP_Project_Id__c",
            "PSA_Project_Id__c", "Sync_Status__c", "Last_Sync_Error__c", "Last_Synced_At__c", "Project_Status__c",
            "Billed_Amount__c", "Recognized_Revenue__c", "Backlog__c", "Burn_Pct__c", "Margin_Pct__c",
            "Collected_Amount__c"),
        _sf("OpportunityLineItem", "OpportunityId", "Name", "Role__c", "Quantity", "UnitPrice", "TotalPrice",
            "CurrencyIsoCode"),
    )
}


# -- Kantata: updated_at cursor (updated_after + order=updated_at:asc); no deletes reported --------------
def _kt(name: str, *fields: str, params: tuple[tuple[str, str], ...] = (), deleted: str | None = None) -> SourceObject:
    return SourceObject("kantata", name, name, ("id", *fields, "created_at", "updated_at"), "id", "updated_at",
                        deleted, params=params, reconcile_ids=True)


KANTATA = {
    o.name: o for o in (
        _kt("users", "full_name", "email_address", "headline", "disabled", "account_id"),
        _kt("roles", "name"),
        _kt("rate_cards", "title", "currency", "is_default"),
        _kt("rate_card_roles", "rate_card_id", "role_id", "rate_in_cents", "currency"),
        _kt("workspaces", "title", "description", "archived", "start_date", "due_date", "budgeted",
            "price_in_cents", "budget_used_in_cents", "currency", "rate_card_id", "status_key", "status_message",
            "status_color", "creator_role", "percentage_complete", "account_id",
            # archived workspaces are left out unless include_archived=true: they must land (and never look deleted)
            params=(("include_archived", "true"),)),
        _kt("stories", "workspace_id", "parent_id", "title", "story_type", "state", "start_date", "due_date",
            "billable", "fixed_fee", "time_estimate_in_minutes", "budget_estimate_in_cents", "percentage_complete",
            "archived", "deleted_at", params=(("archived", "include"),), deleted="deleted_at"),
        _kt("workspace_resources", "workspace_id", "user_id", "role_id", "role_name", "bill_rate", "cost_rate",
            "start_date", "end_date", "currency"),
        _kt("workspace_allocations", "workspace_resource_id", "workspace_id", "user_id", "start_date", "end_date",
            "minutes", "hard"),
        # from_archived_workspaces defaults to false: without it, time of archived projects silently vanishes
        _kt("time_entries", "workspace_id", "story_id", "user_id", "role_id", "date_performed", "time_in_minutes",
            "billable", "notes", "rate_in_cents", "cost_rate_in_cents", "currency", "approved", "is_invoiced",
            "invoice_id", params=(("from_archived_workspaces", "true"),)),
        _kt("expenses", "workspace_id", "user_id", "date", "category", "notes", "amount_in_cents", "currency",
            "is_billable", "is_invoiced", "reimbursable", "approved", params=(("from_archived_workspaces", "true"),)),
        _kt("custom_fields", "name", "subject_type", "value_type"),
        # subject_type is a required filter of custom_field_values: the hub's custom fields are all on workspaces
        _kt("custom_field_values", "custom_field_id", "subject_type", "subject_id", "value",
            params=(("subject_type", "Workspace"),)),
    )
}


# -- NetSuite: lastmodifieddate cursor through SuiteQL; deletes from deletedrecord ----------------------
def _ns(name: str, *fields: str, id_field: str = "id", updated: str = "lastmodifieddate", **kw) -> SourceObject:
    return SourceObject("netsuite", name, name, (f"{id_field}", *fields, f"{updated}:datetime"), id_field, updated,
                        **kw)


NETSUITE = {
    o.name: o for o in (
        _ns("subsidiary", "name", "fullname", "parent", "currency", "country", "legalname", "isinactive"),
        _ns("currency", "name", "symbol", "isbasecurrency", "isinactive"),
        _ns("currencyrate", "basecurrency", "transactioncurrency", "exchangerate", "effectivedate:date"),
        _ns("term", "name", "daysuntilnetdue", "isinactive"),
        _ns("entitystatus", "name", "entitytype", "isinactive"),
        _ns("customer", "entityid", "companyname", "externalid", "parent", "subsidiary", "currency", "terms", "email",
            "phone", "creditlimit", "creditholdoverride", "isinactive", "datecreated:datetime"),
        _ns("customersubsidiaryrelationship", "entity", "subsidiary", "isprimarysub"),
        _ns("job", "entityid", "companyname", "externalid", "parent", "customer", "subsidiary", "currency",
            "entitystatus", "jobtype", "jobbillingtype", "startdate:date", "projectedenddate:date", "enddate:date",
            "projectedvalue", "custentity_billing_model", "custentity_service_line",
            "custentity_crm_opportunity_id", "isinactive", "datecreated:datetime"),
        _ns("employee", "entityid", "firstname", "lastname", "email", "externalid", "subsidiary", "title",
            "laborcost", "isinactive"),
        _ns("item", "itemid", "displayname", "itemtype", "externalid", "isinactive"),
        _ns("accountingperiod", "periodname", "startdate:date", "enddate:date", "closed", "closedondate:date",
            "isquarter", "isyear", "isadjust"),
        _ns("timebill", "externalid", "employee", "customer", "item", "subsidiary", "hours", "rate", "isbillable",
            "trandate:date", "memo", "approvalstatus", "billed", "invoice", "datecreated:datetime"),
        _ns("expensereport", "externalid", "tranid", "employee", "entity", "subsidiary", "trandate:date", "category",
            "amount", "currency", "isbillable", "memo", "billed", "invoice", "datecreated:datetime"),
        _ns("customrecord_pshub_invoice_request", "externalid", "name", "custrecord_pshub_ir_project",
            "custrecord_pshub_ir_amount", "custrecord_pshub_ir_currency", "custrecord_pshub_ir_milestone",
            "custrecord_pshub_ir_date:date", "custrecord_pshub_ir_status", "custrecord_pshub_ir_invoice",
            "created:datetime"),
        _ns("transaction", "tranid", "type", "trandate:date", "entity", "subsidiary", "currency", "exchangerate",
            "foreigntotal", "foreignamountpaid", "foreignamountunpaid", "status", "postingperiod", "terms",
            "duedate:date", "closedate:date", "externalid", "memo", "createddate:datetime"),
        _ns("transactionline", "transaction", "id", "linesequencenumber", "mainline", "item", "entity", "subsidiary",
            "quantity", "rate", "netamount", "foreignamount", "isbillable", "memo", id_field="uniquekey",
            updated="linelastmodifieddate", parent=("transaction", "transaction")),
        _ns("previoustransactionlink", "previousdoc", "nextdoc", "linktype", "foreignamount"),
        _ns("deletedrecord", "recordid", "recordtypeid", "type", "name", updated="deleteddate", applies_deletes=True),
    )
}

SOURCES: dict[str, dict[str, SourceObject]] = {"salesforce": SALESFORCE, "kantata": KANTATA, "netsuite": NETSUITE}


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
    """The objects to ingest: all of the named systems (default all), narrowed to the named objects."""
    for system in systems or []:
        find(system)  # unknown system: a clear error
    chosen = [o for s in (systems or SOURCES) for o in SOURCES[s].values()]
    if objects:
        wanted = {n.lower() for n in objects}
        unknown = wanted - {o.name.lower() for o in chosen} - {o.table for o in chosen}
        if unknown:
            raise KeyError(f"unknown object(s) {', '.join(sorted(unknown))}; known: "
                           + ", ".join(o.name for o in chosen))
        chosen = [o for o in chosen if o.name.lower() in wanted or o.table in wanted]
    return chosen
