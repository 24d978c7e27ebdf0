-- Candidates of sync psa_projects: one row per engagement, as a Kantata workspace shell with its budget; the
-- external reference (custom field "CRM Opportunity ID") = the CRM opportunity id. Planned roles and milestones
-- are their own syncs (psa_project_roles, psa_project_milestones).
with engagements as (

    select * from {{ ref('int_engagement_facts') }}

),

rate_cards as (

    select distinct on (currency_code) currency_code, psa_rate_card_id
    from {{ ref('int_psa_rate_cards') }}
    order by currency_code, is_default desc nulls last, psa_rate_card_id

)

select
    engagements.engagement_id                                   as external_id,
    engagements.customer_name || ' - ' || engagements.engagement_name as title,
    coalesce(billing_models.billing_model_name, 'Unknown') || ' engagement' as description,
    engagements.start_date                                      as start_date,
    engagements.end_date                                        as due_date,
    true                                                        as budgeted,
    (engagements.sold_amount * 100)::bigint                     as price_in_cents,
    engagements.contract_currency                               as currency,
    rate_cards.psa_rate_card_id                                 as rate_card_id,
    'maven'                                                     as creator_role,
    engagements.engagement_id                                   as "CRM Opportunity ID",
    engagements.customer_name                                   as "Client",
    billing_models.billing_model_name                           as "Billing Model",
    engagements.legal_entity                                    as "Legal Entity",
    engagements.service_line                                    as "Service Line",
    engagements.psa_project_id                                  as _psa_project_id,
    engagements.psa_match_method                                as _match_method,
    engagements.customer_name                                   as _customer,
    engagements.engagement_id                                   as _engagement,
    engagements.sold_amount                                     as _amount_at_stake,
    engagements.contract_currency                               as _currency,
    case
        when engagements.psa_candidate_count > 1 then 'engagement_key_matches_several'
        when engagements.sold_amount < 0 then 'negative_amount'
        when engagements.billing_model is null then 'closed_won_without_billing_model'
        when engagements.start_date is null then 'closed_won_without_start_date'
        when rate_cards.psa_rate_card_id is null then 'no_rate_card_for_currency'
    end                                                         as block_reason_code
from engagements
left join {{ ref('billing_models') }} as billing_models on billing_models.billing_model = engagements.billing_model
left join rate_cards on rate_cards.currency_code = engagements.contract_currency
