-- Sync crm_opportunity_links: one row per engagement (closed-won CRM opportunity): the ERP and PSA project ids
-- the hub matched or created, the project status, and the hub's sync status and last error, written to the
-- Opportunity (key Id). Sync status: error = an open sync exception for its projects; blocked = a rule keeps the
-- project syncs from pushing it (reason in Last_Sync_Error__c); synced = both projects exist; pending otherwise.
with facts as (

    select * from {{ ref('int_engagement_facts') }}

),

open_exceptions as (

    select distinct on (record_key) record_key, reason_code || ': ' || reason as error
    from {{ ref('stg_ops__sync_exceptions') }}
    where is_open and sync_name in ('erp_projects', 'psa_projects')
    order by record_key, last_seen_at desc

),

blocked as (

    select external_id, min(block_reason_code) as block_reason_code
    from (
        select external_id, block_reason_code from {{ ref('int_sync_erp_projects') }} where block_reason_code is not null
        union all
        select external_id, block_reason_code from {{ ref('int_sync_psa_projects') }} where block_reason_code is not null
    ) as reasons
    group by 1

)

select
    facts.crm_opportunity_id                                    as "Id",
    coalesce(facts.erp_project_id, created_projects.destination_id) as "ERP_Project_Id__c",
    coalesce(facts.psa_project_id, created_workspaces.destination_id) as "PSA_Project_Id__c",
    case when facts.erp_project_id is null and facts.psa_project_id is null
              and coalesce(created_projects.destination_id, created_workspaces.destination_id) is not null
         then 'active'  -- created earlier in this cycle, in the status mapped to active; not landed back yet
         else facts.canonical_status end                        as "Project_Status__c",
    case
        when open_exceptions.record_key is not null then 'error'
        when blocked.external_id is not null then 'blocked'
        when coalesce(facts.erp_project_id, created_projects.destination_id) is not null
         and coalesce(facts.psa_project_id, created_workspaces.destination_id) is not null then 'synced'
        else 'pending'
    end                                                         as "Sync_Status__c",
    coalesce(open_exceptions.error, blocked.block_reason_code)  as "Last_Sync_Error__c",
    facts.customer_name                                         as _customer,
    facts.engagement_id                                         as _engagement,
    facts.sold_amount                                           as _amount_at_stake,
    facts.contract_currency                                     as _currency
from facts
left join open_exceptions on open_exceptions.record_key = facts.crm_opportunity_id
left join blocked on blocked.external_id = facts.crm_opportunity_id
left join {{ ref('int_sync_created_ids') }} as created_projects
    on created_projects.sync_name = 'erp_projects' and created_projects.record_key = facts.engagement_id
left join {{ ref('int_sync_created_ids') }} as created_workspaces
    on created_workspaces.sync_name = 'psa_projects' and created_workspaces.record_key = facts.engagement_id
