with source as (

    select * from {{ source('hubspot', 'products') }}

),

renamed as (

    select
        -- ids
        id                                                         as crm_product_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('name') }}                                    as product_name,

        -- timestamps
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
