-- Sync psa_project_roles when the PSA is Certinia (PSHUB_PSA=certinia; reverse_etl/syncs.py, for_psa): the planned
-- roles of int_sync_psa_project_roles as Certinia resource requests (pse__Resource_Request__c) on the Certinia project,
-- upserted by the firm's external id field External_Id__c = the CRM line item id, so that a retry or a lost answer
-- never makes a second request. The role is the resource role picklist value (its name: int_psa_roles); the sold hours
-- the request's SOW hours; the line's unit price its suggested bill rate. Fields as a real org's export names them
-- (sirhcrd/sirhcrd.github.io, schema-intel/data/tables/pse_resource_request_c.md: pse__Project__c,
-- pse__Resource_Role__c, pse__SOW_Hours__c, pse__Suggested_Bill_Rate__c, CurrencyIsoCode). Staffing a person onto the
-- request stays in Certinia. Rows held back are in certinia_resource_requests_blocked.
select
    external_id                                                 as "External_Id__c",
    workspace_id                                                as "pse__Project__c",
    role_name                                                   as "pse__Resource_Role__c",
    round(planned_minutes / 60.0, 2)                            as "pse__SOW_Hours__c",
    bill_rate                                                   as "pse__Suggested_Bill_Rate__c",
    currency                                                    as "CurrencyIsoCode",
    _customer,
    _engagement,
    _amount_at_stake,
    _currency
from {{ ref('int_sync_psa_project_roles') }}
where block_reason_code is null
