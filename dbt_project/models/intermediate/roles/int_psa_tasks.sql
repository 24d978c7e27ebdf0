-- PSA role: milestones and tasks of projects (Kantata stories; story_type says which), with the PSA's id; Kantata today.
select
    'kantata'                           as psa_system,
    psa_story_id,
    psa_project_id,
    psa_parent_story_id,
    load_id,
    story_title,
    story_type,
    state,
    time_estimate_minutes,
    budget_estimate_amount,
    percentage_complete,
    is_billable,
    is_fixed_fee,
    is_archived,
    start_date,
    due_date,
    created_at,
    updated_at,
    landed_at
from {{ ref('stg_kantata__stories') }}
