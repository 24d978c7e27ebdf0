with source as (

    select * from {{ source('netsuite', 'transaction') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_transaction_id,
        {{ json_id('entity') }}                                    as erp_entity_id,
        {{ json_id('currency') }}                                  as erp_currency_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('tranid') }}                                  as document_number,
        {{ json_text('type') }}                                    as transaction_type,

        -- numerics
        {{ json_numeric('foreigntotal', 2) }}                      as total_amount,

        -- dates
        {{ json_date('trandate') }}                                as transaction_date,
        {{ json_date('duedate') }}                                 as due_date,

        -- timestamps
        source_updated_at                                          as deleted_at,
        _landed_at                                                 as landed_at

    from source
    where is_deleted

)

select * from renamed
