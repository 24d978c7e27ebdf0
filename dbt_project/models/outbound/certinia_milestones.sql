-- Sync psa_project_milestones when the PSA is Certinia (PSHUB_PSA=certinia; reverse_etl/syncs.py, for_psa): the
-- billing milestones of int_sync_psa_project_milestones as Certinia milestones (pse__Milestone__c) on the Certinia
-- project, upserted by the firm's external id field External_Id__c = opportunity id + ':' + milestone number. Fields as
-- the PSA Data Dictionary's Milestone page and a real org's export name them (sirhcrd/sirhcrd.github.io,
-- schema-intel/data/tables/pse_milestone_c.md: pse__Target_Date__c, pse__Milestone_Amount__c, pse__Status__c): the
-- due date is the target date, the share of the contract value the milestone amount. Its status is left to Certinia
-- (the firm approves a milestone there; a push never resets it). Rows held back are in certinia_milestones_blocked.
select
    external_id                                                 as "External_Id__c",
    title                                                       as "Name",
    workspace_id                                                as "pse__Project__c",
    due_date                                                    as "pse__Target_Date__c",
    budget_estimate_in_cents / 100.0                            as "pse__Milestone_Amount__c",
    not billable                                                as "pse__Exclude_from_Billing__c",
    _currency                                                   as "CurrencyIsoCode",
    _customer,
    _engagement,
    _amount_at_stake,
    _currency
from {{ ref('int_sync_psa_project_milestones') }}
where block_reason_code is null
