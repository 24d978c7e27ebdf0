-- Rows of sync psa_projects (Certinia) that must not be pushed, each with its reason code, for the engine's exception
-- queue: those of int_sync_psa_projects.
select
    candidates.external_id                                      as "CRM_Opportunity_Id__c",
    candidates._psa_project_id,
    candidates._match_method,
    candidates._customer,
    candidates._engagement,
    candidates._amount_at_stake,
    candidates._currency,
    candidates.block_reason_code
from {{ ref('int_sync_psa_projects') }} as candidates
where candidates.block_reason_code is not null
