with source as (

    select * from {{ source('netsuite', 'customer') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_customer_id,
        {{ json_id('externalid') }}                                as external_id,
        {{ json_id('parent') }}                                    as erp_parent_customer_id,
        {{ json_id('subsidiary') }}                                as erp_subsidiary_id,
        {{ json_id('currency') }}                                  as erp_currency_id,
        {{ json_id('terms') }}                                     as erp_terms_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('entityid') }}                                as customer_number,
        {{ json_text('companyname') }}                             as company_name,
        {{ json_text('email') }}                                   as email,
        {{ json_text('phone') }}                                   as phone,
        {{ json_text('creditholdoverride') }}                      as credit_hold_override,

        -- numerics
        {{ json_numeric('creditlimit', 2) }}                       as credit_limit,

        -- booleans
        {{ json_bool('isinactive') }}                              as is_inactive,

        -- timestamps
        {{ json_timestamp('datecreated') }}                        as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
