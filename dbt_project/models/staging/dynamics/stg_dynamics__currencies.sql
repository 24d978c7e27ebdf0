with source as (

    select * from {{ source('dynamics', 'currencies') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_currency_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('CurrencyCode') }}                            as currency_code,
        {{ json_text('Name') }}                                    as currency_name,
        {{ json_text('Symbol') }}                                  as symbol,

        -- timestamps
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
