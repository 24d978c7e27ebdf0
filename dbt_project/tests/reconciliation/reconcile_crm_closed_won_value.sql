-- Reconciliation: the value of closed-won opportunities in the CRM (raw, not deleted), per currency and in count,
-- equals sold in marts.engagements. Returns the currencies that differ. An installation lands one CRM (PSHUB_CRM):
-- Salesforce's opportunities say IsWon; HubSpot's deals are won when their stage is closed with probability 1.0 by
-- the pipeline's stage metadata (never by its label).
with won_opportunities as (

    select data ->> 'CurrencyIsoCode' as currency_code, coalesce({{ json_numeric('Amount') }}, 0) as amount
    from {{ source('salesforce', 'opportunity') }}
    where not is_deleted and {{ json_bool('IsWon') }}

    union all

    select data ->> 'deal_currency_code', coalesce({{ json_numeric('amount') }}, 0)
    from {{ source('hubspot', 'deals') }} as deals
    join {{ ref('stg_hubspot__deal_stages') }} as stages
        on stages.crm_pipeline_id = deals.data ->> 'pipeline' and stages.crm_stage_id = deals.data ->> 'dealstage'
    where not deals.is_deleted and stages.is_closed and stages.probability = 1

),

source_totals as (

    select currency_code, count(*) as deals, sum(amount) as amount
    from won_opportunities
    group by 1

),

mart_totals as (

    select contract_currency as currency_code, count(*) as deals, sum(sold_amount) as amount
    from {{ ref('engagements') }}
    group by 1

)

select coalesce(source_totals.currency_code, mart_totals.currency_code) as currency_code,
       source_totals.deals as source_deals, mart_totals.deals as mart_deals,
       source_totals.amount as source_amount, mart_totals.amount as mart_amount
from source_totals
full join mart_totals using (currency_code)
where source_totals.amount is distinct from mart_totals.amount or source_totals.deals is distinct from mart_totals.deals
