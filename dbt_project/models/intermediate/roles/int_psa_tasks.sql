-- PSA role: milestones and tasks of projects (Kantata stories, story_type says which; Certinia milestones and
-- project tasks), with the PSA's id.
{{ role_union('psa_system', [
    'psa_story_id', 'psa_project_id', 'psa_parent_story_id', 'load_id', 'story_title', 'story_type',
    'state', 'time_estimate_minutes', 'budget_estimate_amount', 'percentage_complete', 'is_billable', 'is_fixed_fee',
    'is_archived', 'start_date', 'due_date', 'created_at', 'updated_at', 'landed_at',
], [['kantata', 'stg_kantata__stories'], ['certinia', 'stg_certinia__milestones'], ['certinia', 'stg_certinia__project_tasks']]) }}
