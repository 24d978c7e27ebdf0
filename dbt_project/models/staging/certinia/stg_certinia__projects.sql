-- Certinia projects (pse__Proj__c), with the firm's fields for the hub (CRM opportunity, billing model, legal
-- entity, service line, credit hold).
with source as (

    select * from {{ source('certinia', 'pse__proj__c') }}

),

renamed as (

    select
        -- ids
        id                                                         as psa_project_id,
        {{ json_id('pse__Account__c') }}                           as psa_account_id,
        -- the hub's external id (any CRM's deal), else the org's own opportunity lookup
        coalesce({{ json_text('CRM_Opportunity_Id__c') }}, {{ json_id('pse__Opportunity__c') }}) as crm_opportunity_id,
        {{ json_text('CurrencyIsoCode') }}                         as psa_rate_card_id,
        _load_id                                                   as load_id,
        -- strings
        {{ json_text('Name') }}                                    as project_name,
        {{ json_text('pse__Description__c') }}                     as description,
        {{ json_text('CurrencyIsoCode') }}                         as currency_code,
        {{ json_text('pse__Stage__c') }}                           as status_name,
        {{ json_text('pse__Project_Type__c') }}                    as project_type,
        {{ json_text('Billing_Model__c') }}                        as billing_model_value,
        {{ json_text('Legal_Entity__c') }}                         as legal_entity,
        {{ json_text('Service_Line__c') }}                         as service_line,
        -- numerics
        {{ json_numeric('pse__Bookings__c', 2) }}                     as contract_amount,
        {{ json_numeric('Budget_Used__c', 2) }}                       as budget_used_amount,
        {{ json_numeric('pse__Percent_Hours_Completed_For_Recognition__c') }}::integer as percentage_complete,
        -- booleans
        {{ json_bool('pse__Is_Active__c') }}                       as is_active,
        {{ json_bool('pse__Is_Billable__c') }}                     as is_billable,
        coalesce({{ json_bool('Credit_Hold__c') }}, false)         as is_credit_hold_flagged,
        -- dates
        {{ json_date('pse__Start_Date__c') }}                      as start_date,
        {{ json_date('pse__End_Date__c') }}                        as due_date,
        -- timestamps
        {{ json_timestamp('CreatedDate') }}                         as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
