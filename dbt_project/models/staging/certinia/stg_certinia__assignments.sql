-- Certinia assignments (pse__Assignment__c): a resource (Contact) on a project in a role, at a bill and cost rate.
with source as (

    select * from {{ source('certinia', 'pse__assignment__c') }}

),

renamed as (

    select
        -- ids
        id                                                         as psa_project_resource_id,
        {{ json_id('pse__Project__c') }}                           as psa_project_id,
        {{ json_id('pse__Resource__c') }}                          as psa_user_id,
        {{ json_text('pse__Role__c') }}                            as psa_role_id,
        {{ json_id('pse__Schedule__c') }}                          as psa_schedule_id,
        {{ json_id('pse__Resource_Request__c') }}                  as psa_resource_request_id,
        _load_id                                                   as load_id,
        -- strings
        {{ json_text('pse__Role__c') }}                            as role_name,
        {{ json_text('CurrencyIsoCode') }}                         as currency_code,
        -- numerics
        {{ json_numeric('pse__Bill_Rate__c', 2) }}                    as bill_rate,
        {{ json_numeric('pse__Cost_Rate_Amount__c', 2) }}             as cost_rate,
        -- booleans
        {{ json_bool('pse__Is_Billable__c') }}                     as is_billable,
        -- timestamps
        {{ json_timestamp('CreatedDate') }}                         as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
