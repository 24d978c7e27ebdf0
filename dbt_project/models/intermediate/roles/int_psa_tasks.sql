-- PSA role: milestones and tasks of projects (Kantata stories, story_type says which; Certinia milestones and
-- project tasks), with the PSA's id.
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

union all

select
    'certinia'                          as psa_system,
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
from {{ ref('stg_certinia__milestones') }}

union all

select
    'certinia'                          as psa_system,
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
from {{ ref('stg_certinia__project_tasks') }}
