-- Sync psa_projects when the PSA is Certinia (PSHUB_PSA=certinia; reverse_etl/syncs.py, for_psa): the project shells
-- of int_sync_psa_projects as Certinia projects (pse__Proj__c), upserted by the firm's external id field
-- CRM_Opportunity_Id__c = the CRM opportunity id, so that a retry or a lost answer never makes a second project. The
-- account and opportunity lookups name the CRM's records when the CRM is the same Salesforce org (a HubSpot company or
-- deal is no record there). A project made by hand and matched by rule (_psa_project_id) is updated by its Id and takes
-- the external id (reverse_etl/pushers.py). Rows held back are in certinia_projects_blocked.
-- The project's stage, active flag and type are the PSA's once the project exists (delivery starts, holds and completes
-- it there): a new shell starts Planned, active, a Customer Project; a project that exists (made by hand and matched,
-- or made by the hub) carries them as Certinia has them, so that updating its other fields (dates, bookings) never
-- moves it back to Planned or reopens it.
select
    candidates.external_id                                      as "CRM_Opportunity_Id__c",
    candidates.title                                            as "Name",
    case when opportunities.crm_system = 'salesforce' then facts.crm_account_id end as "pse__Account__c",
    case when opportunities.crm_system = 'salesforce' then candidates.external_id end as "pse__Opportunity__c",
    case when existing.is_internal then 'Internal' else 'Customer Project' end as "pse__Project_Type__c",
    coalesce(existing.status_name, 'Planned')                   as "pse__Stage__c",
    coalesce(not existing.is_archived, true)                    as "pse__Is_Active__c",
    true                                                        as "pse__Is_Billable__c",
    candidates.start_date                                       as "pse__Start_Date__c",
    candidates.due_date                                         as "pse__End_Date__c",
    candidates._amount_at_stake                                 as "pse__Bookings__c",
    candidates.description                                      as "pse__Description__c",
    candidates.currency                                         as "CurrencyIsoCode",
    candidates."Billing Model"                                  as "Billing_Model__c",
    candidates."Legal Entity"                                   as "Legal_Entity__c",
    candidates."Service Line"                                   as "Service_Line__c",
    candidates._psa_project_id,
    candidates._match_method,
    candidates._customer,
    candidates._engagement,
    candidates._amount_at_stake,
    candidates._currency
from {{ ref('int_sync_psa_projects') }} as candidates
join {{ ref('int_engagement_facts') }} as facts on facts.engagement_id = candidates.external_id
left join {{ ref('int_crm_opportunities') }} as opportunities on opportunities.crm_opportunity_id = candidates.external_id
left join {{ ref('int_sync_created_ids') }} as created
    on created.sync_name = 'psa_projects' and created.record_key = candidates.external_id
left join {{ ref('int_psa_projects') }} as existing
    on existing.psa_system = 'certinia'
   and existing.psa_project_id = coalesce(candidates._psa_project_id, created.destination_id)
where candidates.block_reason_code is null
