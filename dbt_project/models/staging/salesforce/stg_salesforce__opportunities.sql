with source as (

    select * from {{ source('salesforce', 'opportunity') }}

),

renamed as (

    select
        -- ids
        id                                          as crm_opportunity_id,
        data ->> 'AccountId'                        as crm_account_id,
        nullif(data ->> 'ERP_Project_Id__c', '')    as erp_project_id,
        nullif(data ->> 'PSA_Project_Id__c', '')    as psa_project_id,

        -- strings
        data ->> 'Name'                             as opportunity_name,
        data ->> 'StageName'                        as stage_name,
        data ->> 'CurrencyIsoCode'                  as currency_code,
        nullif(data ->> 'Billing_Model__c', '')     as billing_model,
        nullif(data ->> 'Legal_Entity__c', '')      as legal_entity,
        nullif(data ->> 'Service_Line__c', '')      as service_line,
        nullif(data ->> 'Sync_Status__c', '')       as sync_status,

        -- numerics
        (data ->> 'Amount')::numeric(18, 2)         as amount,

        -- booleans
        (data ->> 'IsClosed')::boolean              as is_closed,
        (data ->> 'IsWon')::boolean                 as is_won,

        -- dates
        (data ->> 'CloseDate')::date                as close_date,
        (data ->> 'Start_Date__c')::date            as start_date,
        (data ->> 'End_Date__c')::date              as end_date,

        -- timestamps
        (data ->> 'CreatedDate')::timestamptz       as created_at,
        source_updated_at                           as updated_at,
        _landed_at                                  as landed_at

    from source
    where not is_deleted

)

select * from renamed
