-- PSA role: time entries gone from the PSA (Kantata time entries deleted; Certinia days no longer an entry),
-- as last landed, with the PSA's id.
{{ role_union('psa_system', [
    'psa_time_entry_id', 'psa_project_id', 'psa_user_id', 'work_date', 'updated_at', 'landed_at',
    'load_id',
], [['kantata', 'stg_kantata__deleted_time_entries'], ['certinia', 'stg_certinia__deleted_time_entries']]) }}
