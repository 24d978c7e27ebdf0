-- Rows of sync erp_projects that must not be pushed, each with its reason code, for the engine's exception queue; only rows
-- routed to NetSuite (erp_system), with the columns of erp_projects.
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
    _currency,
    block_reason_code
from {{ ref('int_sync_erp_projects') }}
where block_reason_code is not null and erp_system = 'netsuite'
