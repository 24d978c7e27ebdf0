-- Sync psa_credit_holds: the rows to push (see int_sync_psa_credit_holds for the rules); rows that must not be pushed are in psa_credit_holds_blocked.
select
    external_id,
    subject_type,
    subject_id,
    custom_field_id,
    value,
    _customer,
    _engagement,
    _amount_at_stake,
    _currency
from {{ ref('int_sync_psa_credit_holds') }}
where block_reason_code is null
