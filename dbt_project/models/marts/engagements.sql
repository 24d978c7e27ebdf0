-- One row per engagement: a closed-won CRM opportunity.
with opportunities as (

    select * from {{ ref('stg_salesforce__opportunities') }}
    where is_won

),

accounts as (

    select * from {{ ref('stg_salesforce__accounts') }}

)

select
    opportunities.crm_opportunity_id                       as engagement_id,
    opportunities.crm_opportunity_id,
    opportunities.crm_account_id,
    opportunities.erp_project_id,
    opportunities.psa_project_id,
    accounts.account_name                                  as customer_name,
    opportunities.opportunity_name                         as engagement_name,
    coalesce(opportunities.legal_entity, accounts.legal_entity) as legal_entity,
    opportunities.billing_model,
    opportunities.service_line,
    opportunities.currency_code                            as contract_currency,
    opportunities.amount                                   as sold_amount,
    opportunities.close_date                               as closed_won_date,
    opportunities.start_date,
    opportunities.end_date
from opportunities
left join accounts using (crm_account_id)
