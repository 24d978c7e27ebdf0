with source as (

    select * from {{ source('netsuite', 'term') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_terms_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('name') }}                                    as terms_name,

        -- numerics
        {{ json_integer('daysuntilnetdue') }}                      as days_until_net_due,

        -- booleans
        {{ json_bool('isinactive') }}                              as is_inactive,

        -- timestamps
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
