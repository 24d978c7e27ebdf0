"""Objects and fields of the three simulated systems, and the SQLite tables that hold them.

One SQLite database holds the whole firm; each system's objects live in tables prefixed
``sf_`` (Salesforce), ``ns_`` (NetSuite) and ``kt_`` (Kantata). Field names are the vendors'
own: Salesforce API names, NetSuite SuiteQL column names (the REST record field is the same
name in camelCase, see ``NS_REST_NAMES``), Kantata API attribute names.

Types: ``id`` primary key, ``str``, ``int``, ``float``, ``bool``, ``date`` (YYYY-MM-DD),
``datetime`` (stored in the system's sortable text form), ``ref`` (id of another record).
"""
from __future__ import annotations

SF_AUDIT = ["IsDeleted:bool", "CreatedDate:datetime", "LastModifiedDate:datetime", "SystemModstamp:datetime"]

SALESFORCE: dict[str, list[str]] = {
    "User": [
        "Id:id", "Username:str", "Name:str", "FirstName:str", "LastName:str", "Email:str", "Title:str",
        "IsActive:bool", "CurrencyIsoCode:str", "CreatedDate:datetime", "LastModifiedDate:datetime",
        "SystemModstamp:datetime",
    ],
    "Account": [
        "Id:id", "Name:str", "Type:str", "Industry:str", "CurrencyIsoCode:str", "Legal_Entity__c:str",
        "BillingCountry:str", "BillingCity:str", "OwnerId:ref", "External_Id__c:str", "ERP_Customer_Id__c:str",
        "Open_AR__c:float", "Overdue_AR__c:float", "AR_Current__c:float", "AR_1_30__c:float",
        "AR_31_60__c:float", "AR_61_90__c:float", "AR_Over_90__c:float", "DSO__c:float",
        "Last_Payment_Date__c:date", "Credit_Hold__c:bool", "Finance_Synced_At__c:datetime",
        "Credit_Limit__c:float", "Available_Credit__c:float", "Collection_Stage__c:str",
        *SF_AUDIT,
    ],
    "Opportunity": [
        "Id:id", "AccountId:ref", "Name:str", "StageName:str", "IsClosed:bool", "IsWon:bool", "CloseDate:date",
        "Amount:float", "Probability:float", "CurrencyIsoCode:str", "Type:str", "OwnerId:ref",
        "Billing_Model__c:str", "Legal_Entity__c:str", "Service_Line__c:str", "Start_Date__c:date",
        "End_Date__c:date", "External_Id__c:str", "ERP_Project_Id__c:str", "PSA_Project_Id__c:str",
        "Sync_Status__c:str", "Last_Sync_Error__c:str", "Last_Synced_At__c:datetime", "Project_Status__c:str",
        "Billed_Amount__c:float", "Recognized_Revenue__c:float", "Backlog__c:float", "Burn_Pct__c:float",
        "Margin_Pct__c:float", "Collected_Amount__c:float", "Unbilled_Work__c:float",
        *SF_AUDIT,
    ],
    "OpportunityLineItem": [
        "Id:id", "OpportunityId:ref", "Name:str", "Role__c:str", "Quantity:float", "UnitPrice:float",
        "TotalPrice:float", "CurrencyIsoCode:str", *SF_AUDIT,
    ],
    # A custom object the firm's admin creates for the hub: one record per ERP invoice or credit memo of an account.
    # Name is its text name field; ERP_Invoice_Id__c an external id field (Salesforce: custom objects get a standard
    # Name field and may have external id fields, used by upserts, SF-REST "sObject Collections upsert").
    "ERP_Invoice__c": [
        "Id:id", "Name:str", "Account__c:ref", "Opportunity__c:ref", "ERP_Invoice_Id__c:str", "Document_Type__c:str",
        "Invoice_Date__c:date", "Due_Date__c:date", "Amount__c:float", "Open_Balance__c:float",
        "CurrencyIsoCode:str", "Status__c:str", "Days_Overdue__c:float", "Last_Payment_Date__c:date",
        "Collection_Stage__c:str", *SF_AUDIT,
    ],
}
# Certinia PSA (formerly FinancialForce PSA): a managed package of custom objects (namespace pse__) in the same
# Salesforce org, read and written through the same REST API. Objects and fields as the "Professional Services
# Automation Data Dictionary" names them (help.certinia.com/TechnicalReference/<release>/ProfessionalServicesAutomation/
# Schema/<Object>.htm): Proj__c (Project: Account__c, Opportunity__c, Stage__c, Is_Active__c, Is_Billable__c,
# Start_Date__c, End_Date__c, Bookings__c, Project_Type__c), Assignment__c (Resource__c, a Contact; Project__c, Role__c,
# Bill_Rate__c, Cost_Rate_Amount__c, Schedule__c), Schedule__c (Start_Date__c, End_Date__c, Scheduled_Hours__c,
# Is_Blocking__c), Resource_Request__c, Milestone__c (Target_Date__c, Actual_Date__c, Milestone_Amount__c, Status__c,
# Approved__c), Project_Task__c (Start_Date_Time__c, End_Date_Time__c, Started__c, Completed__c), Timecard_Header__c
# (Timecard: a week of one resource on one project, Monday_Hours__c ... Sunday_Hours__c and the day notes, Status__c,
# Approved__c, Billable__c, Bill_Rate__c) and its master-detail Timecard__c (Timecard Split: "PSA creates timecard
# splits when a timecard spans the boundary of a time period ... subsequent billing and invoicing are associated with
# child timecard splits"; Approved__c, Billable__c, Billed__c, Assignment__c), Expense__c, Rate_Card__c (Role__c,
# Suggested_Bill_Rate__c, Average_Cost_Rate__c, CurrencyIsoCode; for a region, practice, group or account). A resource
# is a Contact with Is_Resource__c (Contact page of the same dictionary). Fields without the namespace (CRM_Opportunity_Id__c,
# Billing_Model__c, Legal_Entity__c, Service_Line__c, Credit_Hold__c, Budget_Used__c) are the firm's own, added for the
# hub as on the Opportunity.
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_TIMECARD_DAYS = [f"pse__{d}_Hours__c:float" for d in _DAYS] + [f"pse__{d}_Notes__c:str" for d in _DAYS]
_TIMECARD = ["pse__Resource__c:ref", "pse__Project__c:ref", "pse__Assignment__c:ref", "pse__Milestone__c:ref",
             "pse__Start_Date__c:date", "pse__End_Date__c:date", "pse__Status__c:str", "pse__Approved__c:bool",
             "pse__Billable__c:bool", "pse__Billed__c:bool", "pse__Bill_Rate__c:float", "pse__Cost_Rate_Amount__c:float",
             "CurrencyIsoCode:str", *_TIMECARD_DAYS, "pse__Total_Hours__c:float"]
CERTINIA: dict[str, list[str]] = {
    "Contact": ["Id:id", "FirstName:str", "LastName:str", "Name:str", "Email:str", "Title:str", "AccountId:ref",
                "pse__Is_Resource__c:bool", "pse__Is_Resource_Active__c:bool", "pse__Resource_Role__c:str",
                "pse__Default_Cost_Rate__c:float", "CurrencyIsoCode:str", *SF_AUDIT],
    "pse__Rate_Card__c": ["Id:id", "Name:str", "pse__Role__c:str", "pse__Suggested_Bill_Rate__c:float",
                          "pse__Average_Cost_Rate__c:float", "pse__Account__c:ref", "pse__Start_Date__c:date",
                          "pse__End_Date__c:date", "CurrencyIsoCode:str", *SF_AUDIT],
    "pse__Proj__c": ["Id:id", "Name:str", "pse__Account__c:ref", "pse__Opportunity__c:ref", "pse__Project_Type__c:str",
                     "pse__Stage__c:str", "pse__Is_Active__c:bool", "pse__Is_Billable__c:bool",
                     "pse__Start_Date__c:date", "pse__End_Date__c:date", "pse__Bookings__c:float",
                     "pse__Percent_Hours_Completed_For_Recognition__c:float", "pse__Description__c:str",
                     "CurrencyIsoCode:str", "CRM_Opportunity_Id__c:str", "Billing_Model__c:str", "Legal_Entity__c:str",
                     "Service_Line__c:str", "Credit_Hold__c:bool", "Budget_Used__c:float", *SF_AUDIT],
    "pse__Schedule__c": ["Id:id", "Name:str", "pse__Start_Date__c:date", "pse__End_Date__c:date",
                         "pse__Scheduled_Hours__c:float", "pse__Is_Blocking__c:bool", *SF_AUDIT],
    "pse__Resource_Request__c": ["Id:id", "Name:str", "pse__Project__c:ref", "pse__Resource_Role__c:str",
                                 "pse__Start_Date__c:date", "pse__End_Date__c:date", "pse__SOW_Hours__c:float",
                                 "pse__Status__c:str", "pse__Assignment__c:ref", "CurrencyIsoCode:str",
                                 "pse__Suggested_Bill_Rate__c:float", "External_Id__c:str", *SF_AUDIT],
    "pse__Assignment__c": ["Id:id", "Name:str", "pse__Project__c:ref", "pse__Resource__c:ref", "pse__Role__c:str",
                           "pse__Bill_Rate__c:float", "pse__Cost_Rate_Amount__c:float", "pse__Is_Billable__c:bool",
                           "pse__Schedule__c:ref", "pse__Resource_Request__c:ref", "CurrencyIsoCode:str", *SF_AUDIT],
    "pse__Project_Task__c": ["Id:id", "Name:str", "pse__Project__c:ref", "pse__Parent_Task__c:ref",
                             "pse__Start_Date_Time__c:datetime", "pse__End_Date_Time__c:datetime", "pse__Started__c:bool",
                             "pse__Completed__c:bool", "pse__Estimated_Hours__c:float", "pse__Billable__c:bool",
                             *SF_AUDIT],
    "pse__Milestone__c": ["Id:id", "Name:str", "pse__Project__c:ref", "pse__Target_Date__c:date",
                          "pse__Actual_Date__c:date", "pse__Milestone_Amount__c:float", "pse__Status__c:str",
                          "pse__Approved__c:bool", "pse__Exclude_from_Billing__c:bool", "CurrencyIsoCode:str",
                          "External_Id__c:str", *SF_AUDIT],
    "pse__Timecard_Header__c": ["Id:id", "Name:str", *_TIMECARD, *SF_AUDIT],
    "pse__Timecard__c": ["Id:id", "Name:str", "pse__Timecard_Header__c:ref", *_TIMECARD, *SF_AUDIT],
    "pse__Expense__c": ["Id:id", "Name:str", "pse__Project__c:ref", "pse__Resource__c:ref", "pse__Expense_Date__c:date",
                        "pse__Type__c:str", "pse__Description__c:str", "pse__Amount__c:float", "CurrencyIsoCode:str",
                        "pse__Billable__c:bool", "pse__Billed__c:bool", "pse__Non_Reimbursible__c:bool",
                        "pse__Approved__c:bool", "pse__Status__c:str", *SF_AUDIT],
}
SALESFORCE.update(CERTINIA)
CERTINIA_PREFIX = {"Contact": "003", "pse__Rate_Card__c": "a16", "pse__Proj__c": "a1P", "pse__Schedule__c": "a1E",
                   "pse__Resource_Request__c": "a1R", "pse__Assignment__c": "a0S", "pse__Project_Task__c": "a1T",
                   "pse__Milestone__c": "a10", "pse__Timecard_Header__c": "a2H", "pse__Timecard__c": "a2S",
                   "pse__Expense__c": "a0E"}

# Fields a client may write (everything else is read-only, as system fields are in Salesforce).
SF_READONLY = {"Id", "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp", "IsClosed", "IsWon",
               "TotalPrice", "Name@User"}
# Fields usable as the external id of an upsert (Id always is).
SF_EXTERNAL_ID = {"Account": ["External_Id__c", "ERP_Customer_Id__c"],
                  "Opportunity": ["External_Id__c"], "OpportunityLineItem": [], "User": [],
                  "ERP_Invoice__c": ["ERP_Invoice_Id__c"], "pse__Proj__c": ["CRM_Opportunity_Id__c"],
                  # the firm's own external id fields on the Certinia records the hub creates (a real org's export
                  # shows such a field, PSA_External_ID__c, on pse__Resource_Request__c: sirhcrd/sirhcrd.github.io,
                  # schema-intel/data/tables/pse_resource_request_c.md)
                  "pse__Milestone__c": ["External_Id__c"], "pse__Resource_Request__c": ["External_Id__c"]}
SF_PREFIX = {"User": "005", "Account": "001", "Opportunity": "006", "OpportunityLineItem": "00k", "ERP_Invoice__c": "a0I",
             **CERTINIA_PREFIX}

NS_STAMP = ["lastmodifieddate:datetime"]
NETSUITE: dict[str, list[str]] = {
    "subsidiary": ["id:id", "name:str", "fullname:str", "parent:ref", "currency:ref", "country:str",
                   "legalname:str", "isinactive:bool", *NS_STAMP],
    "currency": ["id:id", "name:str", "symbol:str", "isbasecurrency:bool", "isinactive:bool", *NS_STAMP],
    "currencyrate": ["id:id", "basecurrency:ref", "transactioncurrency:ref", "exchangerate:float",
                     "effectivedate:date", *NS_STAMP],
    "term": ["id:id", "name:str", "daysuntilnetdue:int", "isinactive:bool", *NS_STAMP],
    "entitystatus": ["id:id", "name:str", "entitytype:str", "isinactive:bool", *NS_STAMP],
    "customer": ["id:id", "entityid:str", "companyname:str", "externalid:str", "parent:ref", "subsidiary:ref",
                 "currency:ref", "terms:ref", "email:str", "phone:str", "creditlimit:float",
                 "creditholdoverride:str", "isinactive:bool", "datecreated:datetime", *NS_STAMP],
    "customersubsidiaryrelationship": ["id:id", "entity:ref", "subsidiary:ref", "isprimarysub:bool", *NS_STAMP],
    "job": ["id:id", "entityid:str", "companyname:str", "externalid:str", "parent:ref", "customer:ref",
            "subsidiary:ref", "currency:ref", "entitystatus:ref", "jobtype:str", "jobbillingtype:str",
            "startdate:date", "projectedenddate:date", "enddate:date", "projectedvalue:float",
            "custentity_billing_model:str", "custentity_service_line:str", "custentity_crm_opportunity_id:str",
            "isinactive:bool", "datecreated:datetime", *NS_STAMP],
    "employee": ["id:id", "entityid:str", "firstname:str", "lastname:str", "email:str", "externalid:str",
                 "subsidiary:ref", "title:str", "laborcost:float", "isinactive:bool", *NS_STAMP],
    "item": ["id:id", "itemid:str", "displayname:str", "itemtype:str", "externalid:str", "isinactive:bool",
             *NS_STAMP],
    "accountingperiod": ["id:id", "periodname:str", "startdate:date", "enddate:date", "closed:bool",
                         "closedondate:date", "isquarter:bool", "isyear:bool", "isadjust:bool", *NS_STAMP],
    "timebill": ["id:id", "externalid:str", "employee:ref", "customer:ref", "item:ref", "subsidiary:ref",
                 "hours:float", "rate:float", "isbillable:bool", "trandate:date", "memo:str", "approvalstatus:str",
                 "billed:bool", "invoice:ref", "datecreated:datetime", *NS_STAMP],
    "expensereport": ["id:id", "externalid:str", "tranid:str", "employee:ref", "entity:ref", "subsidiary:ref",
                      "trandate:date", "category:str", "amount:float", "currency:ref", "isbillable:bool",
                      "memo:str", "billed:bool", "invoice:ref", "datecreated:datetime", *NS_STAMP],
    "customrecord_pshub_invoice_request": [
        "id:id", "externalid:str", "name:str", "custrecord_pshub_ir_project:ref",
        "custrecord_pshub_ir_amount:float", "custrecord_pshub_ir_currency:ref",
        "custrecord_pshub_ir_milestone:str", "custrecord_pshub_ir_date:date", "custrecord_pshub_ir_status:str",
        "custrecord_pshub_ir_invoice:ref", "created:datetime", *NS_STAMP],
    "transaction": ["id:id", "tranid:str", "type:str", "trandate:date", "entity:ref", "subsidiary:ref",
                    "currency:ref", "exchangerate:float", "foreigntotal:float", "foreignamountpaid:float",
                    "foreignamountunpaid:float", "status:str", "postingperiod:ref", "terms:ref", "duedate:date",
                    "closedate:date", "externalid:str", "memo:str", "createddate:datetime", *NS_STAMP],
    "transactionline": ["uniquekey:id", "transaction:ref", "id:int", "linesequencenumber:int", "mainline:bool",
                        "item:ref", "entity:ref", "subsidiary:ref", "quantity:float", "rate:float",
                        "netamount:float", "foreignamount:float", "isbillable:bool", "memo:str",
                        "linelastmodifieddate:datetime"],
    "previoustransactionlink": ["id:id", "previousdoc:ref", "nextdoc:ref", "linktype:str", "foreignamount:float",
                                *NS_STAMP],
    "deletedrecord": ["id:id", "recordid:str", "recordtypeid:str", "type:str", "name:str",
                      "deleteddate:datetime"],
}
# Record types the REST record service exposes (SuiteQL reaches every table above).
NS_RECORD_TYPES = ["customer", "job", "employee", "timebill", "expensereport",
                   "customrecord_pshub_invoice_request", "subsidiary", "currency", "item", "accountingperiod",
                   "term"]
NS_RECORD_READONLY = {"id", "lastmodifieddate", "datecreated", "created", "createddate"}
NS_REQUIRED = {"customer": ["companyname", "subsidiary"], "job": ["companyname", "parent"],
               "timebill": ["employee", "hours", "trandate"], "expensereport": ["employee", "amount", "trandate"],
               "customrecord_pshub_invoice_request": ["custrecord_pshub_ir_project", "custrecord_pshub_ir_amount"],
               "employee": ["firstname", "lastname", "subsidiary"]}
# NetSuite entity ids (customer, job, employee) share one sequence, as they do in NetSuite.
NS_ENTITY_TYPES = {"customer", "job", "employee"}

_NS_CAMEL = {
    "entityid": "entityId", "companyname": "companyName", "externalid": "externalId", "creditlimit": "creditLimit",
    "creditholdoverride": "creditHoldOverride", "isinactive": "isInactive", "datecreated": "dateCreated",
    "lastmodifieddate": "lastModifiedDate", "entitystatus": "entityStatus", "jobtype": "jobType",
    "jobbillingtype": "jobBillingType", "startdate": "startDate", "projectedenddate": "projectedEndDate",
    "enddate": "endDate", "projectedvalue": "projectedValue", "firstname": "firstName", "lastname": "lastName",
    "laborcost": "laborCost", "itemid": "itemId", "displayname": "displayName", "itemtype": "itemType",
    "periodname": "periodName", "closedondate": "closedOnDate", "isquarter": "isQuarter", "isyear": "isYear",
    "isadjust": "isAdjust", "isbillable": "isBillable", "trandate": "tranDate", "approvalstatus": "approvalStatus",
    "tranid": "tranId", "legalname": "legalName", "fullname": "fullName", "isbasecurrency": "isBaseCurrency",
    "daysuntilnetdue": "daysUntilNetDue", "created": "created",
}


def ns_rest_name(column: str) -> str:
    """REST record field name of a SuiteQL column (NetSuite uses the same name in camelCase)."""
    return _NS_CAMEL.get(column, column)


NS_REST_NAMES = {table: {ns_rest_name(f.split(":")[0]): f.split(":")[0] for f in fields}
                 for table, fields in NETSUITE.items()}

KT_STAMP = ["created_at:datetime", "updated_at:datetime"]
KANTATA: dict[str, list[str]] = {
    "users": ["id:id", "full_name:str", "email_address:str", "headline:str", "disabled:bool",
              "account_id:ref", *KT_STAMP],
    "roles": ["id:id", "name:str", *KT_STAMP],
    "rate_cards": ["id:id", "title:str", "currency:str", "is_default:bool", *KT_STAMP],
    "rate_card_roles": ["id:id", "rate_card_id:ref", "role_id:ref", "rate_in_cents:int", "currency:str", *KT_STAMP],
    "workspaces": ["id:id", "title:str", "description:str", "archived:bool", "start_date:date", "due_date:date",
                   "budgeted:bool", "price_in_cents:int", "budget_used_in_cents:int", "currency:str",
                   "rate_card_id:ref", "status_key:int", "status_message:str", "status_color:str",
                   "creator_role:str", "percentage_complete:int", "account_id:ref", *KT_STAMP],
    "stories": ["id:id", "workspace_id:ref", "parent_id:ref", "title:str", "story_type:str", "state:str",
                "start_date:date", "due_date:date", "billable:bool", "fixed_fee:bool",
                "time_estimate_in_minutes:int", "budget_estimate_in_cents:int", "percentage_complete:int",
                "archived:bool", "deleted_at:datetime", *KT_STAMP],
    "workspace_resources": ["id:id", "workspace_id:ref", "user_id:ref", "role_id:ref", "role_name:str",
                            "bill_rate:float", "cost_rate:float", "start_date:date", "end_date:date",
                            "currency:str", *KT_STAMP],
    "workspace_allocations": ["id:id", "workspace_resource_id:ref", "workspace_id:ref", "user_id:ref",
                              "start_date:date", "end_date:date", "minutes:int", "hard:bool", *KT_STAMP],
    "time_entries": ["id:id", "workspace_id:ref", "story_id:ref", "user_id:ref", "role_id:ref",
                     "date_performed:date", "time_in_minutes:int", "billable:bool", "notes:str",
                     "rate_in_cents:int", "cost_rate_in_cents:int", "currency:str", "approved:bool",
                     "is_invoiced:bool", "invoice_id:ref", *KT_STAMP],
    "expenses": ["id:id", "workspace_id:ref", "user_id:ref", "date:date", "category:str", "notes:str",
                 "amount_in_cents:int", "currency:str", "is_billable:bool", "is_invoiced:bool",
                 "reimbursable:bool", "approved:bool", *KT_STAMP],
    "custom_fields": ["id:id", "name:str", "subject_type:str", "value_type:str", *KT_STAMP],
    "custom_field_values": ["id:id", "custom_field_id:ref", "subject_type:str", "subject_id:ref", "value:str",
                            *KT_STAMP],
}
KT_SINGULAR = {"users": "user", "roles": "role", "rate_cards": "rate_card", "rate_card_roles": "rate_card_role",
               "workspaces": "workspace", "stories": "story", "workspace_resources": "workspace_resource",
               "workspace_allocations": "workspace_allocation", "time_entries": "time_entry",
               "expenses": "expense", "custom_fields": "custom_field", "custom_field_values": "custom_field_value"}
KT_WRITABLE = {"workspaces", "stories", "workspace_resources", "custom_field_values", "time_entries",
               "workspace_allocations"}
KT_REQUIRED = {"workspaces": ["title"], "stories": ["workspace_id", "title"],
               "workspace_resources": ["workspace_id"], "custom_field_values": ["custom_field_id", "subject_id",
                                                                                 "subject_type"],
               "time_entries": ["workspace_id", "date_performed", "time_in_minutes"],
               "workspace_allocations": ["workspace_resource_id", "start_date", "end_date", "minutes"]}

SYSTEMS = {"salesforce": ("sf", SALESFORCE), "netsuite": ("ns", NETSUITE), "kantata": ("kt", KANTATA)}

# Indexes that make incremental reads and keyset paging cheap.
INDEXES = [
    ("sf", "Account", ["SystemModstamp", "Id"]), ("sf", "Opportunity", ["SystemModstamp", "Id"]),
    ("sf", "Opportunity", ["AccountId"]), ("sf", "OpportunityLineItem", ["SystemModstamp", "Id"]),
    ("sf", "OpportunityLineItem", ["OpportunityId"]), ("sf", "User", ["SystemModstamp", "Id"]),
    ("sf", "Account", ["External_Id__c"]), ("sf", "Account", ["ERP_Customer_Id__c"]),
    ("sf", "Opportunity", ["External_Id__c"]), ("sf", "ERP_Invoice__c", ["ERP_Invoice_Id__c"]),
    ("sf", "ERP_Invoice__c", ["SystemModstamp", "Id"]),
    *[("sf", obj, ["SystemModstamp", "Id"]) for obj in CERTINIA],
    ("sf", "pse__Proj__c", ["CRM_Opportunity_Id__c"]),
    ("sf", "pse__Milestone__c", ["External_Id__c"]), ("sf", "pse__Resource_Request__c", ["External_Id__c"]),
    ("ns", "customer", ["externalid"]), ("ns", "customer", ["lastmodifieddate"]),
    ("ns", "job", ["externalid"]), ("ns", "job", ["lastmodifieddate"]), ("ns", "job", ["parent"]),
    ("ns", "employee", ["externalid"]), ("ns", "timebill", ["externalid"]),
    ("ns", "timebill", ["lastmodifieddate"]), ("ns", "timebill", ["customer"]), ("ns", "expensereport", ["externalid"]),
    ("ns", "customrecord_pshub_invoice_request", ["externalid"]), ("ns", "transaction", ["lastmodifieddate"]),
    ("ns", "transaction", ["entity"]), ("ns", "transaction", ["type", "status"]),
    ("ns", "transactionline", ["transaction"]), ("ns", "transactionline", ["linelastmodifieddate"]),
    ("ns", "previoustransactionlink", ["previousdoc"]), ("ns", "deletedrecord", ["deleteddate"]),
    ("kt", "time_entries", ["updated_at", "id"]), ("kt", "time_entries", ["workspace_id"]),
    ("kt", "time_entries", ["user_id", "date_performed"]), ("kt", "time_entries", ["date_performed"]),
    ("kt", "expenses", ["updated_at", "id"]), ("kt", "stories", ["updated_at", "id"]),
    ("kt", "stories", ["workspace_id"]), ("kt", "workspaces", ["updated_at", "id"]),
    ("kt", "workspace_resources", ["workspace_id"]), ("kt", "workspace_allocations", ["workspace_id"]),
    ("kt", "custom_field_values", ["subject_type", "subject_id"]),
]

_SQLTYPE = {"id": "", "str": "TEXT", "int": "INTEGER", "float": "REAL", "bool": "", "date": "TEXT",
            "datetime": "TEXT", "ref": ""}


def fields(system: str, obj: str) -> dict[str, str]:
    """Field name -> type for one object of one system."""
    return {f.split(":")[0]: f.split(":")[1] for f in SYSTEMS[system][1][obj]}


def table(system: str, obj: str) -> str:
    return f"{SYSTEMS[system][0]}_{obj}"


def ddl() -> list[str]:
    """CREATE statements for every table and index."""
    out = []
    for system, (prefix, objects) in SYSTEMS.items():
        for obj, flist in objects.items():
            cols = []
            for f in flist:
                name, typ = f.split(":")
                sqltype = _SQLTYPE[typ]
                if typ == "id":
                    sqltype = "TEXT PRIMARY KEY" if system == "salesforce" else "INTEGER PRIMARY KEY"
                elif typ == "bool":
                    sqltype = "TEXT" if system == "netsuite" else "INTEGER"
                elif typ == "ref":
                    sqltype = "TEXT" if system == "salesforce" else "INTEGER"
                cols.append(f'"{name}" {sqltype}')
            out.append(f'CREATE TABLE IF NOT EXISTS "{prefix}_{obj}" ({", ".join(cols)})')
    for prefix, obj, cols in INDEXES:
        name = f"ix_{prefix}_{obj}_{'_'.join(cols)}"
        out.append(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{prefix}_{obj}" ({", ".join(chr(34) + c + chr(34) for c in cols)})')
    out += [
        "CREATE TABLE IF NOT EXISTS sandbox_meta (key TEXT PRIMARY KEY, value TEXT)",
        "CREATE TABLE IF NOT EXISTS sandbox_defects (kind TEXT, system TEXT, object TEXT, id TEXT, detail TEXT)",
        "CREATE TABLE IF NOT EXISTS sandbox_seq (name TEXT PRIMARY KEY, value INTEGER)",
    ]
    return out
