-- Rows of sync psa_credit_holds that must not be pushed, each with its reason code, for the engine's exception queue.
select * from {{ ref('int_sync_psa_credit_holds') }}
where block_reason_code is not null
