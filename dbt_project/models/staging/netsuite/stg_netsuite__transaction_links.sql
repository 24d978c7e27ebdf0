with source as (

    select * from {{ source('netsuite', 'previoustransactionlink') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_transaction_link_id,
        {{ json_id('previousdoc') }}                               as erp_previous_transaction_id,
        {{ json_id('nextdoc') }}                                   as erp_next_transaction_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('linktype') }}                                as link_type,

        -- numerics
        {{ json_numeric('foreignamount', 2) }}                     as amount,

        -- timestamps
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
