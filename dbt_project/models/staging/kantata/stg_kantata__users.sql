with source as (

    select * from {{ source('kantata', 'users') }}

),

renamed as (

    select
        -- ids
        id                                                         as psa_user_id,
        nullif(data ->> 'account_id', '')                          as psa_account_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('full_name') }}                               as user_name,
        {{ json_text('email_address') }}                           as email,
        {{ json_text('headline') }}                                as headline,

        -- booleans
        {{ json_bool('disabled') }}                                as is_disabled,

        -- timestamps
        {{ json_timestamp('created_at') }}                         as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
