with source as (

    select * from {{ source('hubspot', 'deals') }}

),

renamed as (

    select
        -- ids
        id                                                         as crm_opportunity_id,
        {{ json_id('associated_company_id') }}                     as crm_account_id,
        {{ json_id('hubspot_owner_id') }}                          as crm_owner_user_id,
        {{ json_text('pipeline') }}                                as crm_pipeline_id,
        {{ json_text('dealstage') }}                               as crm_stage_id,
        {{ json_text('external_id') }}                             as external_id,
        {{ json_text('erp_project_id') }}                          as erp_project_id,
        {{ json_text('psa_project_id') }}                          as psa_project_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('dealname') }}                                as opportunity_name,
        {{ json_text('dealtype') }}                                as opportunity_type,
        {{ json_text('deal_currency_code') }}                      as currency_code,
        {{ json_text('billing_model') }}                           as billing_model,
        {{ json_text('legal_entity') }}                            as legal_entity,
        {{ json_text('service_line') }}                            as service_line,
        {{ json_text('sync_status') }}                             as sync_status,
        {{ json_text('last_sync_error') }}                         as last_sync_error,
        {{ json_text('project_status') }}                          as synced_project_status,

        -- numerics
        {{ json_numeric('amount', 2) }}                            as amount,
        {{ json_numeric('billed_amount', 2) }}                     as synced_billed_amount,
        {{ json_numeric('recognized_revenue', 2) }}                as synced_recognized_revenue,
        {{ json_numeric('backlog', 2) }}                           as synced_backlog,
        {{ json_numeric('burn_pct') }}                             as synced_burn_pct,
        {{ json_numeric('margin_pct') }}                           as synced_margin_pct,
        {{ json_numeric('collected_amount', 2) }}                  as synced_collected_amount,

        -- dates (closedate is a datetime property at midnight UTC of the day)
        {{ json_date('closedate') }}                               as close_date,
        {{ json_date('start_date') }}                              as start_date,
        {{ json_date('end_date') }}                                as end_date,

        -- timestamps
        {{ json_timestamp('createdate') }}                         as created_at,
        {{ json_timestamp('last_synced_at') }}                     as last_synced_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
