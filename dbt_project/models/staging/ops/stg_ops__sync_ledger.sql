with source as (

    select * from {{ source('ops', 'sync_ledger') }}

),

renamed as (

    select
        -- ids
        sync_name || ':' || record_key                              as sync_ledger_id,
        sync_name,
        record_key,
        destination_id,
        run_id,

        -- strings
        row_hash,

        -- booleans
        created_by_hub,

        -- timestamps
        synced_at

    from source

)

select * from renamed
