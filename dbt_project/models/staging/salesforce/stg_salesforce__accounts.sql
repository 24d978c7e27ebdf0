with source as (

    select * from {{ source('salesforce', 'account') }}

),

renamed as (

    select
        -- ids
        id                                          as crm_account_id,
        nullif(data ->> 'ERP_Customer_Id__c', '')   as erp_customer_id,

        -- strings
        data ->> 'Name'                             as account_name,
        data ->> 'CurrencyIsoCode'                  as currency_code,
        nullif(data ->> 'Legal_Entity__c', '')      as legal_entity,
        data ->> 'BillingCountry'                   as billing_country,

        -- timestamps
        (data ->> 'CreatedDate')::timestamptz       as created_at,
        source_updated_at                           as updated_at,
        _landed_at                                  as landed_at

    from source
    where not is_deleted

)

select * from renamed
