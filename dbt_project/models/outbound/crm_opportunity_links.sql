-- Sync crm_opportunity_links: one row per engagement (closed-won CRM opportunity): the ERP and PSA project ids
-- the hub matched or created, the project status, and the hub's sync status and last error, written to the
-- Opportunity (key Id). The ERP project shown is the one in the ERP the engagement's legal entity posts to now
-- (int_sync_erp_engagement_routes' current route), landed or created by that ERP's sync earlier in the cycle, else the
-- one another ERP holds: it does not change from one cycle to the next as a created project lands. Sync status:
-- error = an open sync exception for its projects; blocked = a rule keeps the project syncs from pushing it (reason in
-- Last_Sync_Error__c); synced = both projects exist; pending otherwise.
with facts as (

    select * from {{ ref('int_engagement_facts') }}

),

open_exceptions as (

    select distinct on (record_key) record_key, reason_code || ': ' || reason as error
    from {{ ref('stg_ops__sync_exceptions') }}
    where is_open and sync_name in ('erp_projects', 'd365_projects', 'psa_projects')
    order by record_key, last_seen_at desc

),

blocked as (

    select external_id, min(block_reason_code) as block_reason_code
    from (
        -- each ERP's project sync judges its own rows (a NetSuite reason is not a Dynamics project's)
        select external_id, block_reason_code from {{ ref('int_sync_erp_projects') }}
        where block_reason_code is not null and erp_system = 'netsuite'
        union all
        select external_id, block_reason_code from {{ ref('int_sync_d365_projects') }} where block_reason_code is not null
        union all
        select external_id, block_reason_code from {{ ref('int_sync_psa_projects') }} where block_reason_code is not null
    ) as reasons
    group by 1

),

shown as (

    -- the ERP project the CRM shows, and whether the hub created a project earlier in this cycle (not landed yet)
    select
        facts.*,
        coalesce(case when keyed.erp_system = current_route.erp_system then facts.erp_project_id end,
                 case current_route.erp_system when 'netsuite' then created_projects.destination_id
                                               when 'dynamics' then created_d365_projects.destination_id end,
                 facts.erp_project_id, created_projects.destination_id) as shown_erp_project_id,
        coalesce(created_projects.destination_id, created_d365_projects.destination_id) as created_erp_project_id,
        created_workspaces.destination_id                           as created_psa_project_id
    from facts
    left join {{ ref('int_engagements_keyed') }} as keyed on keyed.engagement_id = facts.engagement_id
    left join {{ ref('int_sync_erp_engagement_routes') }} as current_route
        on current_route.engagement_id = facts.engagement_id and current_route.is_current_route
    left join {{ ref('int_sync_created_ids') }} as created_projects
        on created_projects.sync_name = 'erp_projects' and created_projects.record_key = facts.engagement_id
    left join {{ ref('int_sync_created_ids') }} as created_d365_projects
        on created_d365_projects.sync_name = 'd365_projects' and created_d365_projects.record_key = facts.engagement_id
        and split_part(created_d365_projects.destination_id, '|', 1) = current_route.erp_company
    left join {{ ref('int_sync_created_ids') }} as created_workspaces
        on created_workspaces.sync_name = 'psa_projects' and created_workspaces.record_key = facts.engagement_id

)

select
    shown.crm_opportunity_id                                    as "Id",
    shown.shown_erp_project_id                                  as "ERP_Project_Id__c",
    coalesce(shown.psa_project_id, shown.created_psa_project_id) as "PSA_Project_Id__c",
    case when shown.erp_project_id is null and shown.psa_project_id is null
              and coalesce(shown.created_erp_project_id, shown.created_psa_project_id) is not null
         then 'active'  -- created earlier in this cycle, in the status mapped to active; not landed back yet
         else shown.canonical_status end                        as "Project_Status__c",
    case
        when open_exceptions.record_key is not null then 'error'
        when blocked.external_id is not null then 'blocked'
        when shown.shown_erp_project_id is not null
         and coalesce(shown.psa_project_id, shown.created_psa_project_id) is not null then 'synced'
        else 'pending'
    end                                                         as "Sync_Status__c",
    coalesce(open_exceptions.error, blocked.block_reason_code)  as "Last_Sync_Error__c",
    shown.customer_name                                         as _customer,
    shown.engagement_id                                         as _engagement,
    shown.sold_amount                                           as _amount_at_stake,
    shown.contract_currency                                     as _currency
from shown
left join open_exceptions on open_exceptions.record_key = shown.crm_opportunity_id
left join blocked on blocked.external_id = shown.crm_opportunity_id
