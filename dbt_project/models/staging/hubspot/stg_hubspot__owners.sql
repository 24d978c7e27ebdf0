with source as (

    select * from {{ source('hubspot', 'owners') }}

),

renamed as (

    select
        -- ids
        id                                                         as crm_user_id,
        {{ json_id('userId') }}                                    as hubspot_user_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('email') }}                                   as email,
        {{ json_text('firstName') }}                               as first_name,
        {{ json_text('lastName') }}                                as last_name,

        -- booleans (an archived owner is a deactivated user)
        not coalesce({{ json_bool('archived') }}, false)           as is_active,

        -- timestamps
        {{ json_timestamp('createdAt') }}                          as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
