-- Rows of sync d365_projects that must not be pushed, each with its reason code, for the engine's exception queue.
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
    _currency,
    block_reason_code
from {{ ref('int_sync_d365_projects') }}
where block_reason_code is not null
