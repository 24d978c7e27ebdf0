-- PSA role: people (Kantata users; Certinia resources, Contacts), with the PSA's id.
select
    'kantata'                           as psa_system,
    psa_user_id,
    psa_account_id,
    load_id,
    user_name,
    email,
    headline,
    is_disabled,
    created_at,
    updated_at,
    landed_at
from {{ ref('stg_kantata__users') }}

union all

select
    'certinia'                          as psa_system,
    psa_user_id,
    psa_account_id,
    load_id,
    user_name,
    email,
    headline,
    is_disabled,
    created_at,
    updated_at,
    landed_at
from {{ ref('stg_certinia__resources') }}
