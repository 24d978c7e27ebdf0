-- Sync psa_project_milestones: the rows to push (see int_sync_psa_project_milestones for the rules); rows that must not be pushed are in psa_project_milestones_blocked.
select
    external_id,
    workspace_external_id,
    workspace_id,
    title,
    story_type,
    billable,
    fixed_fee,
    due_date,
    budget_estimate_in_cents,
    _customer,
    _engagement,
    _amount_at_stake,
    _currency
from {{ ref('int_sync_psa_project_milestones') }}
where block_reason_code is null
