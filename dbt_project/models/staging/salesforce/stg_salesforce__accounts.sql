with source as (

    select * from {{ source('salesforce', 'account') }}

),

renamed as (

    select
        -- ids
        id                                                         as crm_account_id,
        nullif(data ->> 'OwnerId', '')                             as crm_owner_user_id,
        nullif(data ->> 'ERP_Customer_Id__c', '')                  as erp_customer_id,
        nullif(data ->> 'External_Id__c', '')                      as external_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('Name') }}                                    as account_name,
        {{ json_text('Type') }}                                    as account_type,
        {{ json_text('Industry') }}                                as industry,
        {{ json_text('CurrencyIsoCode') }}                         as currency_code,
        {{ json_text('Legal_Entity__c') }}                         as legal_entity,
        {{ json_text('BillingCountry') }}                          as billing_country,
        {{ json_text('BillingCity') }}                             as billing_city,

        -- numerics
        {{ json_numeric('Open_AR__c', 2) }}                        as synced_open_ar,
        {{ json_numeric('Overdue_AR__c', 2) }}                     as synced_overdue_ar,
        {{ json_numeric('AR_Current__c', 2) }}                     as synced_ar_current,
        {{ json_numeric('AR_1_30__c', 2) }}                        as synced_ar_1_30,
        {{ json_numeric('AR_31_60__c', 2) }}                       as synced_ar_31_60,
        {{ json_numeric('AR_61_90__c', 2) }}                       as synced_ar_61_90,
        {{ json_numeric('AR_Over_90__c', 2) }}                     as synced_ar_over_90,
        {{ json_numeric('DSO__c') }}                               as synced_dso,

        -- booleans
        {{ json_bool('Credit_Hold__c') }}                          as synced_credit_hold,

        -- dates
        {{ json_date('Last_Payment_Date__c') }}                    as synced_last_payment_date,

        -- timestamps
        {{ json_timestamp('CreatedDate') }}                        as created_at,
        {{ json_timestamp('Finance_Synced_At__c') }}               as finance_synced_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
