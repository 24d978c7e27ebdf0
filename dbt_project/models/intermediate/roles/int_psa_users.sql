-- PSA role: people (Kantata users; Certinia resources, Contacts), with the PSA's id.
{{ role_union('psa_system', [
    'psa_user_id', 'psa_account_id', 'load_id', 'user_name', 'email', 'headline',
    'is_disabled', 'created_at', 'updated_at', 'landed_at',
], [['kantata', 'stg_kantata__users'], ['certinia', 'stg_certinia__resources']]) }}
