"""The syncs: each is an outbound dbt model + destination object + operation + key + field types + batch size.

What to push, and what to hold back, is decided in SQL: `outbound.<sync>` holds the rows to push (columns
named as the destination's fields; `_`-prefixed columns carry business context and are never pushed) and
`outbound.<sync>_blocked` the rows held back, each with a `block_reason_code`. This file says only where
the rows go and in what shape, and which syncs must be applied before each (`after`): a sync whose models read what
other syncs created (their ledger rows, through int_sync_created_ids) or held (their exceptions) runs once those
finished, so that a won deal becomes ERP customer, project and PSA project and reaches the CRM in one cycle. The
sync flow applies independent syncs side by side (PSHUB_SYNC_CONCURRENCY); listed, they are in an order that
respects `after`, the order they run in one at a time.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

# Operations, per destination:
NETSUITE_UPSERT = "netsuite_upsert"          # PUT /record/v1/{type}/eid:{key} (batches of 100: PUT /record/v1/{type});
#                                             PATCH by id where matched by rule
# NetSuite syncs read 500 rows a batch: five batch requests of 100 in flight, NetSuite's default concurrency limit
NETSUITE_BATCH = 500
SALESFORCE_UPDATE = "salesforce_update"      # PATCH /composite/sobjects, 200 a call, by Id
SALESFORCE_UPSERT = "salesforce_upsert"      # PATCH /composite/sobjects/{SObject}/{ExternalIdField}, 200 a call
KANTATA_UPSERT = "kantata_upsert"            # POST (bulk, 100 a call) or PUT by id; intents guard creates
KANTATA_CUSTOM_FIELD = "kantata_custom_field"  # POST custom_field_values: one value per field and subject
DYNAMICS_UPSERT = "dynamics_upsert"          # $batch change sets: PATCH by natural key, POST the new ones
HUBSPOT_UPDATE = "hubspot_update"            # POST /crm/v3/objects/{object}/batch/update, 100 a call, by id
HUBSPOT_UPSERT = "hubspot_upsert"            # POST /crm/v3/objects/{custom object}/batch/upsert, 100 a call, by a
                                             # unique property; then v4 associations to the company


@dataclass(frozen=True)
class Field:
    name: str                 # the destination field, and the outbound model's column
    type: str = "string"      # string | number | integer | date | boolean | ref (NetSuite reference: {"id": v})
    required: bool = False


@dataclass(frozen=True)
class Sync:
    name: str
    destination: str          # netsuite | salesforce | kantata | dynamics | hubspot
    object: str               # destination record type / sObject / resource
    key: str                  # the model column that identifies the destination record (external id, or Id)
    fields: tuple[Field, ...]
    operation: str
    batch_size: int = 200
    description: str = ""
    existing_id: str | None = None     # column with the destination id of a record matched by rule (made by hand)
    custom_fields: tuple[str, ...] = ()  # Kantata: columns written as custom field values, by field name
    match_on: tuple[str, ...] = ()     # Kantata: fields that find a record a lost create made
    # a destination field set to the time of the push: when the hub last wrote the record (never part of the row's
    # hash, so it alone never makes a record due)
    stamp: str | None = None
    # Dynamics 365 Finance: the destination fields that make a record's natural key (dataAreaId first); the record
    # is created with them and patched by them, so a retry meets the record instead of making a second one
    natural_key: tuple[str, ...] = ()
    # the outbound model, when not the sync's name (a sync whose destination depends on the installation's systems)
    model_name: str | None = None
    # the syncs applied before this one in a cycle (each listed earlier in SYNCS): those whose ledger rows or
    # exceptions its outbound models read, as tests/sync/test_sync_order.py checks against the dbt project, and those
    # whose records the destination needs first. Declared on SYNCS, by name: an installation's variant of a sync
    # (HubSpot's, Certinia's) takes its place in the same order, and the test checks its models too.
    after: tuple[str, ...] = ()

    @property
    def model(self) -> str:
        return f"outbound.{self.model_name or self.name}"

    @property
    def blocked_model(self) -> str:
        return f"outbound.{self.model_name or self.name}_blocked"

    @property
    def pushed_columns(self) -> list[str]:
        return [f.name for f in self.fields] + list(self.custom_fields)


def _f(spec: str) -> Field:
    """'name:type!' -> Field (the ! marks a required field)."""
    required = spec.endswith("!")
    name, _, type_ = spec.rstrip("!").partition(":")
    return Field(name, type_ or "string", required)


def fields(*specs: str) -> tuple[Field, ...]:
    return tuple(_f(s) for s in specs)


SYNCS: dict[str, Sync] = {s.name: s for s in (
    Sync("erp_customers", "netsuite", "customer", "external_id",
         fields("companyName!", "subsidiary:ref!", "currency:ref", "terms:ref"),
         NETSUITE_UPSERT, batch_size=NETSUITE_BATCH, existing_id="_erp_customer_id",
         description="CRM accounts with a closed-won deal become ERP customers (external id = CRM account id)."),
    Sync("erp_projects", "netsuite", "job", "external_id",
         fields("companyName!", "parent:ref!", "subsidiary:ref", "currency:ref", "entityStatus:ref",
                "jobBillingType", "startDate:date", "projectedEndDate:date", "projectedValue:number",
                "custentity_billing_model", "custentity_service_line", "custentity_crm_opportunity_id"),
         NETSUITE_UPSERT, batch_size=NETSUITE_BATCH, existing_id="_erp_project_id",
         after=("erp_customers",),
         description="Closed-won opportunities become ERP projects (external id = opportunity id)."),
    # Dynamics 365 Finance: the ERP syncs' rows routed to it (int_erp_routes), upserted by each data entity's
    # natural key, dataAreaId (the company) first: a retry, or a change set redone after a lost answer, meets the
    # record it made (learn.microsoft.com, "Open Data Protocol (OData)" for finance and operations: entities are
    # addressed by their key, e.g. CustomersV3(dataAreaId='usmf',CustomerAccount='US-001')). Entities: Common Data
    # Model operationsCommon (CustCustomerV3Entity, ProjectEntity, ProjJournalTransEntity "Project hour journal
    # lines", ExpenseJournalLineEntity "Project expense journal lines"); their set names: sandbox/dynamics.py.
    # Customers and projects run right after NetSuite's, before the CRM learns its opportunities' ERP projects
    # (crm_opportunity_links shows the project of the ERP an engagement's entity posts to, created in this cycle).
    Sync("d365_customers", "dynamics", "CustomersV3", "external_id",
         fields("dataAreaId!", "CustomerAccount!", "OrganizationName!", "CustomerGroupId", "SalesCurrencyCode",
                "PaymentTerms", "PshCrmAccountId"),
         DYNAMICS_UPSERT, natural_key=("dataAreaId", "CustomerAccount"),
         description="CRM accounts with a closed-won deal, of legal entities routed to Dynamics 365 Finance, become "
                     "its customers in the entity's company."),
    Sync("d365_projects", "dynamics", "Projects", "external_id",
         fields("dataAreaId!", "ProjectID!", "ProjectName!", "CustomerAccount!", "ProjectGroup", "ProjectType",
                "ProjectStage", "StartDate:date", "EndDate:date", "CurrencyCode", "PshCrmOpportunityId",
                "PshBillingModel", "PshServiceLine"),
         DYNAMICS_UPSERT, natural_key=("dataAreaId", "ProjectID"),
         after=("erp_customers", "d365_customers"),
         description="Closed-won opportunities of legal entities routed to Dynamics 365 Finance become its projects."),
    Sync("psa_projects", "kantata", "workspaces", "external_id",
         fields("title!", "description", "start_date:date", "due_date:date", "budgeted:boolean",
                "price_in_cents:integer", "currency", "rate_card_id", "creator_role!"),
         KANTATA_UPSERT, batch_size=100, existing_id="_psa_project_id",
         custom_fields=("CRM Opportunity ID", "Client", "Billing Model", "Legal Entity", "Service Line"),
         match_on=("title",),
         description="Closed-won opportunities become PSA project shells (CRM Opportunity ID = opportunity id)."),
    Sync("psa_project_roles", "kantata", "workspace_resources", "external_id",
         fields("workspace_id!", "role_id!", "bill_rate:number", "currency"),
         KANTATA_UPSERT, batch_size=100, match_on=("workspace_id", "role_id"),
         after=("psa_projects",),
         description="Planned roles of the opportunity's line items, on its PSA project."),
    Sync("psa_project_milestones", "kantata", "stories", "external_id",
         fields("workspace_id!", "title!", "story_type", "billable:boolean", "fixed_fee:boolean", "due_date:date",
                "budget_estimate_in_cents:integer"),
         KANTATA_UPSERT, batch_size=100, match_on=("workspace_id", "title"),
         after=("psa_projects",),
         description="Billing milestones of milestone-billed engagements, on their PSA project."),
    Sync("crm_opportunity_links", "salesforce", "Opportunity", "Id",
         fields("ERP_Project_Id__c", "PSA_Project_Id__c", "Project_Status__c", "Sync_Status__c",
                "Last_Sync_Error__c"),
         SALESFORCE_UPDATE, batch_size=1000,
         after=("erp_customers", "erp_projects", "d365_customers", "d365_projects", "psa_projects"),
         description="The opportunity learns its ERP and PSA project ids, project status and sync status."),
    Sync("erp_time_bills", "netsuite", "timebill", "external_id",
         fields("employee:ref!", "customer:ref!", "item:ref", "hours:number!", "rate:number", "isBillable:boolean",
                "tranDate:date!", "memo"),
         NETSUITE_UPSERT, batch_size=NETSUITE_BATCH, existing_id="_erp_time_bill_id",
         after=("erp_projects",),
         description="Approved billable PSA time on keyed projects in open periods becomes ERP time bills."),
    Sync("erp_expenses", "netsuite", "expensereport", "external_id",
         fields("employee:ref!", "entity:ref!", "tranDate:date!", "category", "amount:number!", "currency:ref",
                "isBillable:boolean", "memo"),
         NETSUITE_UPSERT, batch_size=NETSUITE_BATCH, existing_id="_erp_expense_report_id",
         after=("erp_projects",),
         description="Approved billable PSA expenses become ERP billable expenses."),
    Sync("erp_invoice_requests", "netsuite", "customrecord_pshub_invoice_request", "external_id",
         fields("name!", "custrecord_pshub_ir_project:ref!", "custrecord_pshub_ir_amount:number!",
                "custrecord_pshub_ir_currency:ref", "custrecord_pshub_ir_milestone", "custrecord_pshub_ir_date:date",
                "custrecord_pshub_ir_status"),
         NETSUITE_UPSERT, batch_size=NETSUITE_BATCH,
         after=("erp_projects",),
         description="Completed milestones of milestone-billed engagements become ERP invoice requests."),
    # Dynamics 365 Finance's lines and invoice requests (its customers and projects run beside NetSuite's, above)
    # entity sets and fields: sandbox/dynamics.py names the sources (JournalTrans, ExpenseJournalLines); PshExternalId is
    # the firm's extension field
    Sync("d365_hour_journal_lines", "dynamics", "JournalTrans", "external_id",
         fields("dataAreaId!", "JournalId!", "LineNumber:integer!", "ProjectID!", "ResourceId", "Category",
                "ProjectDate:date!", "Hours:number!", "SalesPrice:number", "CurrencyId", "LineProperty", "Description",
                "PshExternalId"),
         DYNAMICS_UPSERT, natural_key=("dataAreaId", "JournalId", "LineNumber"),
         after=("erp_projects", "d365_projects", "erp_time_bills"),
         description="Approved billable PSA time routed to Dynamics 365 Finance (by legal entity and work date) "
                     "becomes project hour journal lines."),
    Sync("d365_expense_journal_lines", "dynamics", "ExpenseJournalLines", "external_id",
         fields("dataAreaId!", "JournalBatchNumber!", "LineNumber:integer!", "ProjId!", "ResourceId", "ProjectCategory",
                "ProjectDate:date!", "DebitAmount:number!", "CurrencyCode", "ProjectLineProperty", "Text",
                "PshExternalId"),
         DYNAMICS_UPSERT, natural_key=("dataAreaId", "JournalBatchNumber", "LineNumber"),
         after=("erp_projects", "d365_projects", "erp_expenses"),
         description="Approved billable PSA expenses routed to Dynamics 365 Finance become project expense journal "
                     "lines."),
    Sync("d365_invoice_requests", "dynamics", "FreeTextInvoiceHeaders", "external_id",
         fields("dataAreaId!", "InvoiceIdentifier:integer!", "CustomerAccount!", "InvoiceDate:date", "CurrencyCode",
                "IsPosted", "InvoiceDescription", "PshProjectId"),
         DYNAMICS_UPSERT, natural_key=("dataAreaId", "InvoiceIdentifier"),
         after=("erp_projects", "d365_customers", "d365_projects", "erp_invoice_requests"),
         description="Completed milestones routed to Dynamics 365 Finance become unposted free text invoices "
                     "(finance reviews and posts them), as NetSuite's invoice requests."),
    Sync("d365_invoice_request_lines", "dynamics", "FreeTextInvoiceLines", "external_id",
         fields("dataAreaId!", "InvoiceIdentifier:integer!", "LineNumber:integer!", "Description",
                "Quantity:number", "UnitPrice:number", "LineAmount:number!", "PshProjectId"),
         DYNAMICS_UPSERT, natural_key=("dataAreaId", "InvoiceIdentifier", "LineNumber"),
         # and after the invoices themselves: a free text invoice line belongs to its invoice (header), which
         # the same cycle may create just before it
         after=("erp_projects", "d365_customers", "d365_projects", "erp_invoice_requests",
                "d365_invoice_requests"),
         description="The milestone's amount, as the one line of its unposted free text invoice."),
    Sync("crm_account_finance", "salesforce", "Account", "Id",
         fields("ERP_Customer_Id__c", "Open_AR__c:number", "Overdue_AR__c:number", "AR_Current__c:number",
                "AR_1_30__c:number", "AR_31_60__c:number", "AR_61_90__c:number", "AR_Over_90__c:number",
                "DSO__c:number", "Last_Payment_Date__c:date", "Credit_Hold__c:boolean", "Credit_Limit__c:number",
                "Available_Credit__c:number", "Collection_Stage__c"),
         SALESFORCE_UPDATE, batch_size=1000, stamp="Finance_Synced_At__c",
         after=("erp_customers", "d365_customers"),
         description="The account team sees open and overdue AR, aging, DSO, last payment, credit hold, credit "
                     "limit, available credit and collection stage."),
    Sync("crm_invoices", "salesforce", "ERP_Invoice__c", "ERP_Invoice_Id__c",
         fields("Name!", "Account__c!", "Opportunity__c", "Document_Type__c", "Invoice_Date__c:date",
                "Due_Date__c:date", "Amount__c:number", "Open_Balance__c:number", "CurrencyIsoCode",
                "Status__c!", "Days_Overdue__c:integer", "Last_Payment_Date__c:date", "Collection_Stage__c"),
         SALESFORCE_UPSERT, batch_size=1000,
         description="Every ERP invoice and credit memo of a CRM account is an ERP Invoice record of the account "
                     "(external id = ERP invoice id): amounts, open balance, status, days overdue, collection stage."),
    Sync("crm_opportunity_delivery", "salesforce", "Opportunity", "Id",
         fields("Billed_Amount__c:number", "Recognized_Revenue__c:number", "Backlog__c:number",
                "Burn_Pct__c:number", "Margin_Pct__c:number", "Collected_Amount__c:number",
                "Unbilled_Work__c:number"),
         SALESFORCE_UPDATE, batch_size=1000, stamp="Last_Synced_At__c",
         description="The opportunity shows billed, recognized, backlog, burn %, margin %, collected and unbilled "
                     "work."),
    Sync("psa_credit_holds", "kantata", "custom_field_values", "external_id",
         fields("subject_type!", "subject_id!", "custom_field_id!", "value"),
         KANTATA_CUSTOM_FIELD, batch_size=100,
         after=("psa_projects",),
         description="PSA projects of customers on credit hold carry the Credit Hold flag."),
)}


# The CRM syncs when the CRM is HubSpot (PSHUB_CRM=hubspot): the same outbound rows (keyed by the CRM role's ids,
# HubSpot's there), written to the companies and deals by id; the stamp and fields are mapped to HubSpot properties by
# the pusher (connectors.hubspot.CRM_PROPERTIES). The invoice records go to the firm's custom object of ERP invoices,
# upserted by its unique erp_invoice_id and associated with their company.
HUBSPOT_OBJECTS = {"Account": "companies", "Opportunity": "deals"}
HUBSPOT_CUSTOM_OBJECTS = {"ERP_Invoice__c": "erp_invoices"}


def for_crm(sync: Sync, crm: str) -> Sync | None:
    """The sync as the installation's CRM takes it; None when that CRM has no destination for it."""
    if crm == "salesforce" or sync.destination != "salesforce":
        return sync
    if crm == "hubspot":
        if sync.object in HUBSPOT_CUSTOM_OBJECTS and sync.operation == SALESFORCE_UPSERT:
            return replace(sync, destination="hubspot", object=HUBSPOT_CUSTOM_OBJECTS[sync.object],
                           operation=HUBSPOT_UPSERT, batch_size=min(sync.batch_size, 100))
        if sync.object not in HUBSPOT_OBJECTS or sync.operation != SALESFORCE_UPDATE:
            return None
        return replace(sync, destination="hubspot", object=HUBSPOT_OBJECTS[sync.object], operation=HUBSPOT_UPDATE,
                       batch_size=min(sync.batch_size, 100))
    raise ValueError(f"unknown CRM {crm!r}; known: salesforce, hubspot")


# The PSA syncs when the PSA is Certinia (PSHUB_PSA=certinia): each is written to Certinia's object in the Salesforce
# org Certinia runs in, through sObject Collections (REST API Developer Guide, "Upsert Up to 200 Records" and "Update
# Records"). Creates are upserts by an external id field, so that a retry or a lost answer meets the record it made:
# - project shells: Certinia projects (pse__Proj__c) by the firm's CRM_Opportunity_Id__c; a project made by hand and
#   matched by rule is updated by its Id, taking the external id (outbound.certinia_projects);
# - planned roles: resource requests (pse__Resource_Request__c) on the project, by the firm's External_Id__c = the CRM
#   line item id (outbound.certinia_resource_requests);
# - billing milestones: milestones (pse__Milestone__c) on the project, by External_Id__c = opportunity id:number
#   (outbound.certinia_milestones);
# - the credit-hold flag: the project's Credit_Hold__c checkbox, updated by the project's Id
#   (outbound.certinia_credit_holds).
# The objects' fields: the PSA Data Dictionary's pages and a real org's export of them (sirhcrd/sirhcrd.github.io,
# schema-intel/data/tables/pse_resource_request_c.md, pse_milestone_c.md); asserted in tests/contracts/
# test_certinia_contract.py. A PSA sync with no Certinia destination would be skipped with why (PSA_SKIPPED): none is.
CERTINIA_PROJECTS = Sync(
    "psa_projects", "salesforce", "pse__Proj__c", "CRM_Opportunity_Id__c",
    fields("Name!", "pse__Account__c", "pse__Opportunity__c", "pse__Project_Type__c", "pse__Stage__c",
           "pse__Is_Active__c:boolean", "pse__Is_Billable__c:boolean", "pse__Start_Date__c:date", "pse__End_Date__c:date",
           "pse__Bookings__c:number", "pse__Description__c", "CurrencyIsoCode", "Billing_Model__c", "Legal_Entity__c",
           "Service_Line__c"),
    SALESFORCE_UPSERT, batch_size=200, model_name="certinia_projects", existing_id="_psa_project_id",
    description="Closed-won opportunities become Certinia project shells (CRM_Opportunity_Id__c = opportunity id).")
CERTINIA_SYNCS = {s.name: s for s in (
    CERTINIA_PROJECTS,
    Sync("psa_project_roles", "salesforce", "pse__Resource_Request__c", "External_Id__c",
         fields("pse__Project__c!", "pse__Resource_Role__c!", "pse__SOW_Hours__c:number",
                "pse__Suggested_Bill_Rate__c:number", "CurrencyIsoCode"),
         SALESFORCE_UPSERT, batch_size=200, model_name="certinia_resource_requests",
         description="Planned roles of the opportunity's line items, as resource requests on its Certinia project."),
    Sync("psa_project_milestones", "salesforce", "pse__Milestone__c", "External_Id__c",
         fields("Name!", "pse__Project__c!", "pse__Target_Date__c:date", "pse__Milestone_Amount__c:number",
                "pse__Exclude_from_Billing__c:boolean", "CurrencyIsoCode"),
         SALESFORCE_UPSERT, batch_size=200, model_name="certinia_milestones",
         description="Billing milestones of milestone-billed engagements, as milestones on their Certinia project."),
    Sync("psa_credit_holds", "salesforce", "pse__Proj__c", "Id", fields("Credit_Hold__c:boolean"),
         SALESFORCE_UPDATE, batch_size=1000, model_name="certinia_credit_holds",
         description="Certinia projects of customers on credit hold carry the Credit_Hold__c flag."),
)}
PSA_SKIPPED: dict[str, str] = {}


def for_psa(sync: Sync, psa: str) -> Sync | None:
    """The sync as the installation's PSA takes it; None when that PSA has no destination for it (PSA_SKIPPED says
    why)."""
    if psa == "kantata" or sync.destination != "kantata":
        return sync
    if psa == "certinia":
        return CERTINIA_SYNCS.get(sync.name)
    raise ValueError(f"unknown PSA {psa!r}; known: kantata, certinia")


def for_systems(sync: Sync, crm: str, psa: str) -> Sync | None:
    """The sync as the installation's CRM and PSA take it (for_crm, then for_psa); None: not applied there."""
    sync = for_crm(sync, crm)
    return None if sync is None else for_psa(sync, psa)


def get_sync(name: str) -> Sync:
    try:
        return SYNCS[name]
    except KeyError:
        raise KeyError(f"unknown sync {name!r}; known: {', '.join(SYNCS)}") from None
