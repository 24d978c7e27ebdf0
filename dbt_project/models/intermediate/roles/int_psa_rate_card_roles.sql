-- PSA role: bill rates of roles on rate cards (Kantata rate card roles; Certinia rate cards, one role's rate in
-- one currency, the firm's cards being per currency), with the PSA's id.
{{ role_union('psa_system', [
    'psa_rate_card_role_id', 'psa_rate_card_id', 'psa_role_id', 'load_id', 'currency_code', 'bill_rate',
    'created_at', 'updated_at', 'landed_at',
], [['kantata', 'stg_kantata__rate_card_roles'], ['certinia', 'stg_certinia__rate_cards']]) }}
