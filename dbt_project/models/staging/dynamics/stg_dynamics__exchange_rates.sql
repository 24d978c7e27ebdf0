with source as (

    select * from {{ source('dynamics', 'exchangerates') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_exchange_rate_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('RateTypeName') }}                            as rate_type,
        {{ json_text('FromCurrency') }}                            as from_currency,
        {{ json_text('ToCurrency') }}                              as to_currency,

        -- numerics
        {{ json_numeric('Rate') }}                                 as exchange_rate,

        -- dates
        nullif({{ json_date('StartDate') }}, date '1900-01-01')    as valid_from,
        nullif({{ json_date('EndDate') }}, date '1900-01-01')      as valid_to,

        -- timestamps
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
