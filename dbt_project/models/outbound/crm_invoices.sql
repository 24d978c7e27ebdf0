-- Sync crm_invoices: the rows to push (see int_sync_crm_invoices for the rules); rows that must not be pushed are in crm_invoices_blocked.
select
    "ERP_Invoice_Id__c",
    "Name",
    "Account__c",
    "Opportunity__c",
    "Document_Type__c",
    "Invoice_Date__c",
    "Due_Date__c",
    "Amount__c",
    "Open_Balance__c",
    "CurrencyIsoCode",
    "Status__c",
    "Days_Overdue__c",
    "Last_Payment_Date__c",
    "Collection_Stage__c",
    _customer,
    _engagement,
    _amount_at_stake,
    _currency,
    _erp_system
from {{ ref('int_sync_crm_invoices') }}
where block_reason_code is null
