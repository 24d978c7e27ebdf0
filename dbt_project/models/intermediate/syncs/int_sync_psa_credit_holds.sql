-- Candidates of sync psa_credit_holds: one row per PSA project of a client engagement: the "Credit Hold" custom
-- field value it should carry (true when the customer is on credit hold in the ERP). Pushed as a Kantata custom
-- field value; key = the PSA project id. Only rows whose value differs from the ledger are pushed by the engine.
select
    coalesce(engagements.psa_project_id, created.destination_id) as external_id,
    'Workspace'                                                 as subject_type,
    coalesce(engagements.psa_project_id, created.destination_id) as subject_id,
    fields.psa_custom_field_id                                  as custom_field_id,
    case when coalesce(collections.is_credit_hold, false) then 'true' else 'false' end as value,
    engagements.customer_name                                   as _customer,
    engagements.engagement_id                                   as _engagement,
    collections.overdue_ar                                      as _amount_at_stake,
    collections.currency_code                                   as _currency,
    case when fields.psa_custom_field_id is null then 'credit_hold_field_missing_in_psa' end as block_reason_code
from {{ ref('int_engagement_facts') }} as engagements
left join {{ ref('int_customer_collections') }} as collections on collections.customer_id = engagements.customer_id
left join {{ ref('int_sync_created_ids') }} as created
    on created.sync_name = 'psa_projects' and created.record_key = engagements.engagement_id
left join (
    select definitions.psa_custom_field_id
    from {{ ref('stg_kantata__custom_fields') }} as definitions
    join {{ ref('psa_custom_fields') }} as mapping on mapping.custom_field_name = definitions.custom_field_name
    where mapping.hub_attribute = 'credit_hold'
) as fields on true
where coalesce(engagements.psa_project_id, created.destination_id) is not null
