with source as (

    select * from {{ source('netsuite', 'entitystatus') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_entity_status_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('name') }}                                    as status_name,
        {{ json_text('entitytype') }}                              as entity_type,

        -- booleans
        {{ json_bool('isinactive') }}                              as is_inactive,

        -- timestamps
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
