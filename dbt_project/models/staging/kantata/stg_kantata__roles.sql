with source as (

    select * from {{ source('kantata', 'roles') }}

),

renamed as (

    select
        -- ids
        id                                                         as psa_role_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('name') }}                                    as role_name,

        -- timestamps
        {{ json_timestamp('created_at') }}                         as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
