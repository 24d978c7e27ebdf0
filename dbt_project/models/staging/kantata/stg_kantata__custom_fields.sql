with source as (

    select * from {{ source('kantata', 'custom_fields') }}

),

renamed as (

    select
        -- ids
        id                                                         as psa_custom_field_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('name') }}                                    as custom_field_name,
        {{ json_text('subject_type') }}                            as subject_type,
        {{ json_text('value_type') }}                              as value_type,

        -- timestamps
        {{ json_timestamp('created_at') }}                         as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
