-- Sync d365_projects: the rows to push to Dynamics 365 Finance (see int_sync_d365_projects for the rules); rows that must not be pushed are in d365_projects_blocked.
select
    external_id,
    "dataAreaId",
    "ProjectID",
    "ProjectName",
    "CustomerAccount",
    "ProjectGroup",
    "ProjectType",
    "ProjectStage",
    "StartDate",
    "EndDate",
    "CurrencyCode",
    "PshCrmOpportunityId",
    "PshBillingModel",
    "PshServiceLine",
    _erp_project_code,
    _match_method,
    _customer,
    _engagement,
    _amount_at_stake,
    _currency
from {{ ref('int_sync_d365_projects') }}
where block_reason_code is null
