-- PSA role: rate cards (Kantata rate cards; Certinia: the firm's rate cards of one currency, taken together),
-- with the PSA's id.
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

union all

select
    'certinia'                          as psa_system,
    psa_rate_card_id,
    max(load_id)                        as load_id,
    'Standard ' || psa_rate_card_id     as rate_card_name,
    psa_rate_card_id                    as currency_code,
    false                               as is_default,
    min(created_at)                     as created_at,
    max(updated_at)                     as updated_at,
    max(landed_at)                      as landed_at
from {{ ref('stg_certinia__rate_cards') }}
group by psa_rate_card_id
