-- Certinia resource requests (pse__Resource_Request__c): staffing asked for, and the assignment that filled it.
with source as (

    select * from {{ source('certinia', 'pse__resource_request__c') }}

),

renamed as (

    select
        -- ids
        id                                                         as psa_resource_request_id,
        {{ json_id('pse__Project__c') }}                           as psa_project_id,
        {{ json_id('pse__Assignment__c') }}                        as psa_project_resource_id,
        _load_id                                                   as load_id,
        -- strings
        {{ json_text('pse__Resource_Role__c') }}                   as role_name,
        {{ json_text('pse__Status__c') }}                          as request_status,
        {{ json_text('CurrencyIsoCode') }}                         as currency_code,
        -- numerics
        {{ json_numeric('pse__SOW_Hours__c') }}                    as requested_hours,
        -- dates
        {{ json_date('pse__Start_Date__c') }}                      as start_date,
        {{ json_date('pse__End_Date__c') }}                        as end_date,
        -- timestamps
        {{ json_timestamp('CreatedDate') }}                         as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
