-- Sync erp_projects: the rows to push (see int_sync_erp_projects for the rules); only rows routed to NetSuite (erp_system); rows that must not be pushed are in erp_projects_blocked.
select
    external_id,
    "companyName",
    parent,
    subsidiary,
    currency,
    "entityStatus",
    "jobBillingType",
    "startDate",
    "projectedEndDate",
    "projectedValue",
    custentity_billing_model,
    custentity_service_line,
    custentity_crm_opportunity_id,
    _erp_project_id,
    _match_method,
    _customer,
    _engagement,
    _amount_at_stake,
    _currency
from {{ ref('int_sync_erp_projects') }}
where block_reason_code is null and erp_system = 'netsuite'
