-- Sync psa_projects: the rows to push (see int_sync_psa_projects for the rules); rows that must not be pushed are in psa_projects_blocked.
select
    external_id,
    title,
    description,
    start_date,
    due_date,
    budgeted,
    price_in_cents,
    currency,
    rate_card_id,
    creator_role,
    "CRM Opportunity ID",
    "Client",
    "Billing Model",
    "Legal Entity",
    "Service Line",
    _psa_project_id,
    _match_method,
    _customer,
    _engagement,
    _amount_at_stake,
    _currency
from {{ ref('int_sync_psa_projects') }}
where block_reason_code is null
