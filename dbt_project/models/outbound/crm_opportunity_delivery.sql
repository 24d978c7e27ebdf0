-- Sync crm_opportunity_delivery: one row per engagement: delivery and finance figures for the account team,
-- written to the Opportunity (key Id), in contract currency (the opportunity's currency). The project status is
-- written by crm_opportunity_links, which also knows the projects created earlier in the cycle. Unbilled work is WIP
-- (recognized - billed; negative when prebilled). Last_Synced_At__c is stamped by the push (reverse_etl/syncs.py).
select
    crm_opportunity_id                                          as "Id",
    billed_amount                                               as "Billed_Amount__c",
    recognized_revenue                                          as "Recognized_Revenue__c",
    backlog_amount                                              as "Backlog__c",
    round(burn_pct * 100, 2)                                    as "Burn_Pct__c",
    round(margin_pct * 100, 2)                                  as "Margin_Pct__c",
    collected_amount                                            as "Collected_Amount__c",
    wip_amount                                                  as "Unbilled_Work__c",
    customer_name                                               as _customer,
    engagement_id                                               as _engagement,
    wip_amount                                                  as _amount_at_stake,
    contract_currency                                           as _currency
from {{ ref('engagements') }}
