with source as (

    select * from {{ source('netsuite', 'customersubsidiaryrelationship') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_customer_subsidiary_relationship_id,
        {{ json_id('entity') }}                                    as erp_customer_id,
        {{ json_id('subsidiary') }}                                as erp_subsidiary_id,
        _load_id                                                   as load_id,

        -- booleans
        {{ json_bool('isprimarysub') }}                            as is_primary_subsidiary,

        -- timestamps
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
