with source as (

    select * from {{ source('netsuite', 'subsidiary') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_subsidiary_id,
        {{ json_id('parent') }}                                    as erp_parent_subsidiary_id,
        {{ json_id('currency') }}                                  as erp_currency_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('name') }}                                    as subsidiary_name,
        {{ json_text('fullname') }}                                as full_name,
        {{ json_text('legalname') }}                               as legal_name,
        {{ json_text('country') }}                                 as country,

        -- booleans
        {{ json_bool('isinactive') }}                              as is_inactive,

        -- timestamps
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
