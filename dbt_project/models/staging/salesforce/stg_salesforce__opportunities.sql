with source as (

    select * from {{ source('salesforce', 'opportunity') }}

),

renamed as (

    select
        -- ids
        id                                                         as crm_opportunity_id,
        nullif(data ->> 'AccountId', '')                           as crm_account_id,
        nullif(data ->> 'OwnerId', '')                             as crm_owner_user_id,
        nullif(data ->> 'External_Id__c', '')                      as external_id,
        nullif(data ->> 'ERP_Project_Id__c', '')                   as erp_project_id,
        nullif(data ->> 'PSA_Project_Id__c', '')                   as psa_project_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('Name') }}                                    as opportunity_name,
        {{ json_text('StageName') }}                               as stage_name,
        {{ json_text('Type') }}                                    as opportunity_type,
        {{ json_text('CurrencyIsoCode') }}                         as currency_code,
        {{ json_text('Billing_Model__c') }}                        as billing_model,
        {{ json_text('Legal_Entity__c') }}                         as legal_entity,
        {{ json_text('Service_Line__c') }}                         as service_line,
        {{ json_text('Sync_Status__c') }}                          as sync_status,
        {{ json_text('Last_Sync_Error__c') }}                      as last_sync_error,
        {{ json_text('Project_Status__c') }}                       as synced_project_status,

        -- numerics
        {{ json_numeric('Amount', 2) }}                            as amount,
        {{ json_numeric('Probability') }}                          as probability,
        {{ json_numeric('Billed_Amount__c', 2) }}                  as synced_billed_amount,
        {{ json_numeric('Recognized_Revenue__c', 2) }}             as synced_recognized_revenue,
        {{ json_numeric('Backlog__c', 2) }}                        as synced_backlog,
        {{ json_numeric('Burn_Pct__c') }}                          as synced_burn_pct,
        {{ json_numeric('Margin_Pct__c') }}                        as synced_margin_pct,
        {{ json_numeric('Collected_Amount__c', 2) }}               as synced_collected_amount,

        -- booleans
        {{ json_bool('IsClosed') }}                                as is_closed,
        {{ json_bool('IsWon') }}                                   as is_won,

        -- dates
        {{ json_date('CloseDate') }}                               as close_date,
        {{ json_date('Start_Date__c') }}                           as start_date,
        {{ json_date('End_Date__c') }}                             as end_date,

        -- timestamps
        {{ json_timestamp('CreatedDate') }}                        as created_at,
        {{ json_timestamp('Last_Synced_At__c') }}                  as last_synced_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
