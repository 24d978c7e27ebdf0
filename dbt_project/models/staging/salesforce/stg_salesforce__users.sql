with source as (

    select * from {{ source('salesforce', 'user') }}

),

renamed as (

    select
        -- ids
        id                                                         as crm_user_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('Username') }}                                as username,
        {{ json_text('Name') }}                                    as user_name,
        {{ json_text('FirstName') }}                               as first_name,
        {{ json_text('LastName') }}                                as last_name,
        {{ json_text('Email') }}                                   as email,
        {{ json_text('Title') }}                                   as title,
        {{ json_text('CurrencyIsoCode') }}                         as currency_code,

        -- booleans
        {{ json_bool('IsActive') }}                                as is_active,

        -- timestamps
        {{ json_timestamp('CreatedDate') }}                        as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
