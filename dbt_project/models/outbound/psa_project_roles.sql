-- Sync psa_project_roles: the rows to push (see int_sync_psa_project_roles for the rules); rows that must not be pushed are in psa_project_roles_blocked.
select
    external_id,
    workspace_external_id,
    workspace_id,
    role_id,
    role_name,
    bill_rate,
    currency,
    planned_minutes,
    _customer,
    _engagement,
    _amount_at_stake,
    _currency
from {{ ref('int_sync_psa_project_roles') }}
where block_reason_code is null
