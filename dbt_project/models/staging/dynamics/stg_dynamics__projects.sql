with source as (

    select * from {{ source('dynamics', 'projects') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_project_id,
        {{ json_text('dataAreaId') }}                              as legal_entity_code,
        {{ json_text('ProjectID') }}                               as project_code,
        {{ json_text('CustomerAccount') }}                         as customer_account,
        {{ json_text('PshCrmOpportunityId') }}                     as crm_opportunity_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('ProjectName') }}                             as project_name,
        {{ json_text('ProjectGroup') }}                            as project_group,
        {{ json_text('ProjectType') }}                             as project_type,
        {{ json_text('ProjectStage') }}                            as project_stage,
        {{ json_text('CurrencyCode') }}                            as currency_code,
        {{ json_text('PshBillingModel') }}                         as billing_model,
        {{ json_text('PshServiceLine') }}                          as service_line,

        -- dates
        nullif({{ json_date('StartDate') }}, date '1900-01-01')    as start_date,
        nullif({{ json_date('EndDate') }}, date '1900-01-01')      as end_date,
        -- ProjTable.Created, "Date of creation": a date without a time of day (sandbox/dynamics.py)
        nullif({{ json_date('DateOfCreation') }}, date '1900-01-01') as created_date,

        -- timestamps
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
