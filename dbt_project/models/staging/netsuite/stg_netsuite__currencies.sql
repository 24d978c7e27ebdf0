with source as (

    select * from {{ source('netsuite', 'currency') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_currency_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('name') }}                                    as currency_code,
        {{ json_text('symbol') }}                                  as symbol,

        -- booleans
        {{ json_bool('isbasecurrency') }}                          as is_base_currency,
        {{ json_bool('isinactive') }}                              as is_inactive,

        -- timestamps
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
