-- CRM role: opportunities of each CRM (Salesforce Opportunity, HubSpot deal), with the CRM's id; the marts and
-- syncs read this, never a CRM's staging model.
-- The role's columns, named once: Salesforce's staging model has them all; HubSpot's deals get theirs below.
{%- set columns = [
    'crm_opportunity_id', 'crm_account_id', 'crm_owner_user_id', 'external_id', 'erp_project_id', 'psa_project_id',
    'load_id', 'opportunity_name', 'stage_name', 'opportunity_type', 'currency_code', 'billing_model', 'legal_entity',
    'service_line', 'sync_status', 'last_sync_error', 'synced_project_status', 'amount', 'probability',
    'synced_billed_amount', 'synced_recognized_revenue', 'synced_backlog', 'synced_burn_pct', 'synced_margin_pct',
    'synced_collected_amount', 'is_closed', 'is_won', 'close_date', 'start_date', 'end_date', 'created_at',
    'last_synced_at', 'updated_at', 'landed_at',
] %}

with hubspot_deals as (

    -- HubSpot: the stage, its probability and whether the deal is closed and won come from the pipeline's stage
    -- metadata (closed with probability 1.0 is won), never from the stage's label
    select
        deals.*,
        stages.stage_label                                          as stage_name,
        stages.probability * 100                                    as probability,
        coalesce(stages.is_closed, false)                           as is_closed,
        coalesce(stages.is_closed and stages.probability = 1, false) as is_won
    from {{ ref('stg_hubspot__deals') }} as deals
    left join {{ ref('stg_hubspot__deal_stages') }} as stages
        on stages.crm_pipeline_id = deals.crm_pipeline_id and stages.crm_stage_id = deals.crm_stage_id

)

-- crm_object: the CRM's own name of the record's object (an issue names its system and object)
select 'salesforce' as crm_system, {{ columns | join(', ') }}, 'Opportunity' as crm_object
from {{ ref('stg_salesforce__opportunities') }}

union all

select 'hubspot' as crm_system, {{ columns | join(', ') }}, 'deals' as crm_object
from hubspot_deals
