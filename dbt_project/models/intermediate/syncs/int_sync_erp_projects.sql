-- Candidates of sync erp_projects: one row per engagement, as a NetSuite job (project); external id = the
-- CRM opportunity id. A legacy project matched by rule carries its id (_erp_project_id) to be updated, not duplicated.
-- One row per ERP and company the engagement's project must exist in (erp_system, erp_company: the current route of
-- its legal entity and the ERPs its dated records go to, int_sync_erp_engagement_routes).
with engagements as (

    select * from {{ ref('int_engagement_facts') }}

),

opportunities as (

    select * from {{ ref('int_crm_opportunities') }}

)

select
    engagements.engagement_id                                   as external_id,
    engagements.engagement_name                                 as "companyName",
    coalesce(customers.erp_customer_id, created_customers.destination_id) as parent,
    legal_entities.erp_subsidiary_id                            as subsidiary,
    currencies.erp_currency_id                                  as currency,
    active_status.erp_entity_status_id                          as "entityStatus",
    billing_models.erp_billing_type_code                        as "jobBillingType",
    opportunities.start_date                                    as "startDate",
    opportunities.end_date                                      as "projectedEndDate",
    engagements.sold_amount                                     as "projectedValue",
    billing_models.billing_model_name                           as custentity_billing_model,
    engagements.service_line                                    as custentity_service_line,
    engagements.engagement_id                                   as custentity_crm_opportunity_id,
    -- the project of this row's ERP, keyed to the engagement in that ERP (int_project_keys): an engagement whose
    -- entity moved to Dynamics keeps its NetSuite project for its NetSuite rows, and the reverse
    case when own_projects.candidates = 1 then own_projects.project_id end as _erp_project_id,
    case
        when own_projects.candidates = 1 and own_projects.project_id = engagements.erp_project_id
            then engagements.erp_match_method
        when own_projects.candidates = 1 then own_projects.key_status
        when own_projects.candidates > 1 then 'several'
        else 'none'
    end                                                         as _match_method,
    engagements.customer_name                                   as _customer,
    engagements.engagement_id                                   as _engagement,
    engagements.sold_amount                                     as _amount_at_stake,
    engagements.contract_currency                               as _currency,
    case
        when engagements.erp_candidate_count > 1 then 'engagement_key_matches_several'
        when own_projects.candidates > 1 then 'engagement_key_matches_several'
        when engagements.sold_amount < 0 then 'negative_amount'
        when engagements.billing_model is null then 'closed_won_without_billing_model'
        when opportunities.start_date is null then 'closed_won_without_start_date'
        when legal_entities.legal_entity is null then 'unknown_legal_entity'
        when coalesce(customers.erp_customer_id, created_customers.destination_id) is null
            then 'customer_not_in_erp'
    end                                                         as block_reason_code,
    routes.erp_system,
    routes.erp_company
from engagements
join {{ ref('int_sync_erp_engagement_routes') }} as routes using (engagement_id)
join opportunities using (crm_opportunity_id)
left join (
    select engagement_id, source_system, count(*) as candidates, min(project_id) as project_id,
           min(key_status) as key_status
    from {{ ref('int_project_keys') }}
    where engagement_id is not null and not is_internal
    group by 1, 2
) as own_projects on own_projects.engagement_id = engagements.engagement_id
                 and own_projects.source_system = routes.erp_system
-- the account's NetSuite customer (each ERP matched on its own, int_customer_erp_matches): a NetSuite job's parent
left join {{ ref('int_customer_erp_matches') }} as customers
    on customers.crm_account_id = engagements.crm_account_id and customers.erp_system = 'netsuite'
left join {{ ref('int_sync_created_ids') }} as created_customers
    on created_customers.sync_name = 'erp_customers' and created_customers.record_key = engagements.crm_account_id
left join {{ ref('legal_entities') }} as legal_entities on legal_entities.legal_entity = engagements.legal_entity
left join {{ ref('currencies') }} as currencies on currencies.currency_code = engagements.contract_currency
left join {{ ref('billing_models') }} as billing_models on billing_models.billing_model = engagements.billing_model
left join (
    -- a new project starts in the ERP status mapped to canonical 'active' (NetSuite "In Progress")
    select min(entity_statuses.erp_entity_status_id) as erp_entity_status_id
    from {{ ref('stg_netsuite__entity_statuses') }} as entity_statuses
    join {{ ref('status_mappings') }} as mappings
        on mappings.source_system = 'netsuite' and mappings.status_value = entity_statuses.status_name
    where mappings.canonical_status = 'active'
) as active_status on true
