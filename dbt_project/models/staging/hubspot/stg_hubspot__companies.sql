with source as (

    select * from {{ source('hubspot', 'companies') }}

),

renamed as (

    select
        -- ids
        id                                                         as crm_account_id,
        {{ json_id('hubspot_owner_id') }}                          as crm_owner_user_id,
        {{ json_text('erp_customer_id') }}                         as erp_customer_id,
        {{ json_text('external_id') }}                             as external_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('name') }}                                    as account_name,
        {{ json_text('type') }}                                    as account_type,
        {{ json_text('industry') }}                                as industry,
        {{ json_text('company_currency') }}                        as currency_code,
        {{ json_text('legal_entity') }}                            as legal_entity,
        {{ json_text('country') }}                                 as billing_country,
        {{ json_text('city') }}                                    as billing_city,

        -- numerics
        {{ json_numeric('open_ar', 2) }}                           as synced_open_ar,
        {{ json_numeric('overdue_ar', 2) }}                        as synced_overdue_ar,
        {{ json_numeric('ar_current', 2) }}                        as synced_ar_current,
        {{ json_numeric('ar_1_30', 2) }}                           as synced_ar_1_30,
        {{ json_numeric('ar_31_60', 2) }}                          as synced_ar_31_60,
        {{ json_numeric('ar_61_90', 2) }}                          as synced_ar_61_90,
        {{ json_numeric('ar_over_90', 2) }}                        as synced_ar_over_90,
        {{ json_numeric('dso') }}                                  as synced_dso,

        -- booleans
        {{ json_bool('credit_hold') }}                             as synced_credit_hold,

        -- dates
        {{ json_date('last_payment_date') }}                       as synced_last_payment_date,

        -- timestamps
        {{ json_timestamp('createdate') }}                         as created_at,
        {{ json_timestamp('finance_synced_at') }}                  as finance_synced_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
