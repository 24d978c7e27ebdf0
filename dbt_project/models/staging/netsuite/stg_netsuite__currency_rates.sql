with source as (

    select * from {{ source('netsuite', 'currencyrate') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_currency_rate_id,
        {{ json_id('basecurrency') }}                              as erp_base_currency_id,
        {{ json_id('transactioncurrency') }}                       as erp_transaction_currency_id,
        _load_id                                                   as load_id,

        -- numerics
        {{ json_numeric('exchangerate') }}                         as exchange_rate,

        -- dates
        {{ json_date('effectivedate') }}                           as effective_date,

        -- timestamps
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
