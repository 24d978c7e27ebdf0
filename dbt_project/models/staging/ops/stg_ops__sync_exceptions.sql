with source as (

    select * from {{ source('ops', 'sync_exceptions') }}

),

renamed as (

    select
        -- ids
        exception_id                                                as sync_exception_id,
        sync_name,
        record_key,
        run_id,

        -- strings
        reason_code,
        reason,
        customer,
        engagement,
        currency,

        -- numerics
        attempts,
        amount_at_stake,

        -- booleans
        resolved_at is null                                         as is_open,

        -- timestamps
        first_seen_at,
        last_seen_at,
        resolved_at

    from source

)

select * from renamed
