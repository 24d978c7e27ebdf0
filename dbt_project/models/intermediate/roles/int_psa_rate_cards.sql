-- PSA role: rate cards (Kantata rate cards), with the PSA's id; Kantata today.
select
    'kantata'                           as psa_system,
    psa_rate_card_id,
    load_id,
    rate_card_name,
    currency_code,
    is_default,
    created_at,
    updated_at,
    landed_at
from {{ ref('stg_kantata__rate_cards') }}
