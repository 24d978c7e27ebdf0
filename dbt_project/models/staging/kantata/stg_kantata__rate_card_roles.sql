with source as (

    select * from {{ source('kantata', 'rate_card_roles') }}

),

renamed as (

    select
        -- ids
        id                                                         as psa_rate_card_role_id,
        nullif(data ->> 'rate_card_id', '')                        as psa_rate_card_id,
        nullif(data ->> 'role_id', '')                             as psa_role_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('currency') }}                                as currency_code,

        -- numerics
        {{ cents('rate_in_cents') }}                               as bill_rate,

        -- timestamps
        {{ json_timestamp('created_at') }}                         as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
