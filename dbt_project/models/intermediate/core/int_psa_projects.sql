-- One row per PSA project (Kantata workspace, Certinia project) with its hub attributes and canonical status: the PSA
-- role's projects. Kantata keeps the hub's attributes in custom fields (pivoted here); Certinia in the project's own
-- fields, its client being the account of the org it names (whichever CRM the firm sells in).
with workspaces as (

    select * from {{ ref('stg_kantata__workspaces') }}

),

field_values as (

    select
        values_.subject_id                                      as psa_project_id,
        fields.hub_attribute,
        values_.value
    from {{ ref('stg_kantata__custom_field_values') }} as values_
    join {{ ref('stg_kantata__custom_fields') }} as definitions using (psa_custom_field_id)
    join {{ ref('psa_custom_fields') }} as fields on fields.custom_field_name = definitions.custom_field_name
    where values_.subject_type = 'Workspace'

),

pivoted as (

    select
        psa_project_id,
        max(value) filter (where hub_attribute = 'crm_opportunity_id')   as crm_opportunity_id,
        max(value) filter (where hub_attribute = 'client_name')          as client_name,
        max(value) filter (where hub_attribute = 'billing_model')        as billing_model_value,
        max(value) filter (where hub_attribute = 'legal_entity')         as legal_entity,
        max(value) filter (where hub_attribute = 'service_line')         as service_line,
        bool_or(lower(value) in ('true', 't', '1', 'yes')) filter (where hub_attribute = 'credit_hold') as is_credit_hold_flagged
    from field_values
    group by psa_project_id

)

select
    'kantata'                                                   as psa_system,
    workspaces.psa_project_id,
    nullif(pivoted.crm_opportunity_id, '')                      as crm_opportunity_id,
    workspaces.psa_rate_card_id,
    workspaces.project_name,
    pivoted.client_name,
    billing_models.billing_model,
    pivoted.legal_entity,
    pivoted.service_line,
    workspaces.currency_code,
    workspaces.status_name,
    coalesce(statuses.canonical_status, 'active')               as canonical_status,
    workspaces.contract_amount,
    workspaces.budget_used_amount,
    workspaces.percentage_complete,
    -- internal workspaces (bench, training, pre-sales) carry no budget and no client
    (not coalesce(workspaces.is_budgeted, false) and pivoted.client_name is null) as is_internal,
    workspaces.is_archived,
    coalesce(pivoted.is_credit_hold_flagged, false)             as is_credit_hold_flagged,
    workspaces.start_date,
    workspaces.due_date,
    workspaces.created_at,
    workspaces.updated_at
from workspaces
left join pivoted using (psa_project_id)
left join {{ ref('billing_models') }} as billing_models on billing_models.psa_value = pivoted.billing_model_value
left join {{ ref('status_mappings') }} as statuses
    on statuses.source_system = 'kantata' and statuses.status_value = workspaces.status_name

union all

select
    'certinia'                                                  as psa_system,
    projects.psa_project_id,
    projects.crm_opportunity_id,
    projects.psa_rate_card_id,
    projects.project_name,
    accounts.account_name                                       as client_name,
    billing_models.billing_model,
    projects.legal_entity,
    projects.service_line,
    projects.currency_code,
    projects.status_name,
    coalesce(statuses.canonical_status, 'active')               as canonical_status,
    projects.contract_amount,
    projects.budget_used_amount,
    projects.percentage_complete,
    -- Certinia says it: an internal project (bench, training, pre-sales) is of the Internal type
    coalesce(projects.project_type = 'Internal', false)         as is_internal,
    not coalesce(projects.is_active, true)                      as is_archived,
    projects.is_credit_hold_flagged,
    projects.start_date,
    projects.due_date,
    projects.created_at,
    projects.updated_at
from {{ ref('stg_certinia__projects') }} as projects
left join {{ ref('stg_certinia__accounts') }} as accounts on accounts.psa_account_id = projects.psa_account_id
left join {{ ref('billing_models') }} as billing_models on billing_models.psa_value = projects.billing_model_value
left join {{ ref('status_mappings') }} as statuses
    on statuses.source_system = 'certinia' and statuses.status_value = projects.status_name
