with source as (

    select * from {{ source('netsuite', 'item') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_item_id,
        {{ json_id('externalid') }}                                as external_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('itemid') }}                                  as item_name,
        {{ json_text('displayname') }}                             as display_name,
        {{ json_text('itemtype') }}                                as item_type,

        -- booleans
        {{ json_bool('isinactive') }}                              as is_inactive,

        -- timestamps
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
