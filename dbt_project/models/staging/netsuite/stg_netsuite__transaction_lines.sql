with source as (

    select * from {{ source('netsuite', 'transactionline') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_transaction_line_id,
        {{ json_id('transaction') }}                               as erp_transaction_id,
        {{ json_id('id') }}                                        as line_id,
        {{ json_id('item') }}                                      as erp_item_id,
        {{ json_id('entity') }}                                    as erp_entity_id,
        {{ json_id('subsidiary') }}                                as erp_subsidiary_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('memo') }}                                    as memo,

        -- numerics
        {{ json_integer('linesequencenumber') }}                   as line_sequence_number,
        {{ json_numeric('quantity') }}                             as quantity,
        {{ json_numeric('rate') }}                                 as rate,
        {{ json_numeric('netamount', 2) }}                         as net_amount,
        {{ json_numeric('foreignamount', 2) }}                     as amount,

        -- booleans
        {{ json_bool('mainline') }}                                as is_main_line,
        {{ json_bool('isbillable') }}                              as is_billable,

        -- timestamps
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
