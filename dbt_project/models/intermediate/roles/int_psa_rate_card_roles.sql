-- PSA role: bill rates of roles on rate cards (Kantata rate card roles), with the PSA's id; Kantata today.
select
    'kantata'                           as psa_system,
    psa_rate_card_role_id,
    psa_rate_card_id,
    psa_role_id,
    load_id,
    currency_code,
    bill_rate,
    created_at,
    updated_at,
    landed_at
from {{ ref('stg_kantata__rate_card_roles') }}
