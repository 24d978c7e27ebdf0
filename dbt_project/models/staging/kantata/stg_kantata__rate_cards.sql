with source as (

    select * from {{ source('kantata', 'rate_cards') }}

),

renamed as (

    select
        -- ids
        id                                                         as psa_rate_card_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('title') }}                                   as rate_card_name,
        {{ json_text('currency') }}                                as currency_code,

        -- booleans
        {{ json_bool('is_default') }}                              as is_default,

        -- timestamps
        {{ json_timestamp('created_at') }}                         as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
