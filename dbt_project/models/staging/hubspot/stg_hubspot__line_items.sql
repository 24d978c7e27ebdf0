with source as (

    select * from {{ source('hubspot', 'line_items') }}

),

renamed as (

    select
        -- ids
        id                                                         as crm_opportunity_line_item_id,
        {{ json_id('associated_deal_id') }}                        as crm_opportunity_id,
        {{ json_id('hs_product_id') }}                             as crm_product_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('name') }}                                    as line_item_name,
        {{ json_text('hs_line_item_currency_code') }}              as currency_code,

        -- numerics
        {{ json_numeric('quantity') }}                             as quantity_hours,
        {{ json_numeric('price', 2) }}                             as unit_price,
        {{ json_numeric('amount', 2) }}                            as total_price,

        -- timestamps
        {{ json_timestamp('createdate') }}                         as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
