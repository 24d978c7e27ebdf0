-- Rows of sync psa_project_milestones (Certinia) that must not be pushed, each with its reason code, for the engine's
-- exception queue: those of int_sync_psa_project_milestones.
select
    external_id                                                 as "External_Id__c",
    workspace_id                                                as "pse__Project__c",
    title                                                       as "Name",
    _customer,
    _engagement,
    _amount_at_stake,
    _currency,
    block_reason_code
from {{ ref('int_sync_psa_project_milestones') }}
where block_reason_code is not null
