with source as (

    select * from {{ source('netsuite', 'deletedrecord') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_deleted_record_id,
        {{ json_id('recordid') }}                                  as erp_record_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('recordtypeid') }}                            as record_type_id,
        {{ json_text('type') }}                                    as record_type,
        {{ json_text('name') }}                                    as record_name,

        -- timestamps
        {{ json_timestamp('deleteddate') }}                        as deleted_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
