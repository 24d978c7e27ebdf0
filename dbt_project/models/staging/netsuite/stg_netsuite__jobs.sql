with source as (

    select * from {{ source('netsuite', 'job') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_project_id,
        {{ json_id('externalid') }}                                as external_id,
        {{ json_id('parent') }}                                    as erp_parent_id,
        {{ json_id('customer') }}                                  as erp_customer_id,
        {{ json_id('subsidiary') }}                                as erp_subsidiary_id,
        {{ json_id('currency') }}                                  as erp_currency_id,
        {{ json_id('entitystatus') }}                              as erp_entity_status_id,
        {{ json_id('custentity_crm_opportunity_id') }}             as crm_opportunity_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('entityid') }}                                as project_number,
        {{ json_text('companyname') }}                             as project_name,
        {{ json_text('jobtype') }}                                 as project_type,
        {{ json_text('jobbillingtype') }}                          as billing_type_code,
        {{ json_text('custentity_billing_model') }}                as billing_model,
        {{ json_text('custentity_service_line') }}                 as service_line,

        -- numerics
        {{ json_numeric('projectedvalue', 2) }}                    as projected_value,

        -- booleans
        {{ json_bool('isinactive') }}                              as is_inactive,

        -- dates
        {{ json_date('startdate') }}                               as start_date,
        {{ json_date('projectedenddate') }}                        as projected_end_date,
        {{ json_date('enddate') }}                                 as end_date,

        -- timestamps
        {{ json_timestamp('datecreated') }}                        as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
