-- Rows of sync psa_project_roles (Certinia) that must not be pushed, each with its reason code, for the engine's
-- exception queue: those of int_sync_psa_project_roles.
select
    external_id                                                 as "External_Id__c",
    workspace_id                                                as "pse__Project__c",
    role_name                                                   as "pse__Resource_Role__c",
    _customer,
    _engagement,
    _amount_at_stake,
    _currency,
    block_reason_code
from {{ ref('int_sync_psa_project_roles') }}
where block_reason_code is not null
