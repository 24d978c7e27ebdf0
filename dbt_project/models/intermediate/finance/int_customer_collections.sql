-- One row per customer (int_customers_matched): open and overdue AR, aging buckets, DSO, last payment and
-- credit hold, in the customer's currency (summed as invoiced) and in reporting currency (the customer's sums
-- converted once, at the as-of date's rate). The mart customer_collections shows it; the syncs read it here.
-- DSO (docs/kpis.md) = open AR / billed in the last 90 days x 90, not capped: an account whose open AR is old and whose
-- recent billing is small shows a DSO of years (unit test dso_not_capped_when_recent_billing_is_small);
-- null when nothing was billed in the window.
-- Credit hold: the ERP's credit hold override is ON, or AUTO with a credit limit that open AR exceeds.
-- Available credit: the ERP credit limit - open AR (none without a limit). Collection stage: the stage (seed
-- collection_stages) of the customer's most overdue open invoice; 'none' when nothing is open.
with invoices as (

    select * from {{ ref('int_invoices_aged') }}

),

customers as (

    select * from {{ ref('int_customers_matched') }}

),

customer_rates as (

    select customers.customer_id, rates.rate_to_reporting
    from customers
    join {{ ref('int_exchange_rates_daily') }} as rates
        on rates.currency_code = customers.currency_code
        and rates.calendar_date = (select as_of_date from {{ ref('int_as_of_date') }})

),

open_amounts as (

    -- each invoice's open amount in its customer's currency: as invoiced when the invoice is in that currency (an
    -- amount never goes through another currency and back), else through the reporting currency at the as-of rate
    select
        customers.customer_id,
        invoices.is_overdue,
        invoices.aging_bucket,
        invoices.invoice_date,
        invoices.as_of_date,
        invoices.amount_open,
        invoices.amount_reporting,
        invoices.last_payment_date,
        invoices.days_past_due,
        case when invoices.currency_code = customers.currency_code then invoices.amount_open
             else invoices.amount_open_reporting / nullif(customer_rates.rate_to_reporting, 0) end as amount_open_customer
    from customers
    -- every ERP customer of the customer: an account has one in each ERP its legal entity posted to
    join {{ ref('int_customer_erp_matches') }} as erp_matches on erp_matches.customer_id = customers.customer_id
    join invoices on invoices.erp_customer_id = erp_matches.erp_customer_id
    left join customer_rates on customer_rates.customer_id = customers.customer_id

),

per_customer as (

    select
        customer_id,
        sum(amount_open_customer)                                                       as open_ar,
        sum(amount_open_customer) filter (where is_overdue)                             as overdue_ar,
        sum(amount_open_customer) filter (where aging_bucket = 'current')               as ar_current,
        sum(amount_open_customer) filter (where aging_bucket = '1-30')                  as ar_1_30,
        sum(amount_open_customer) filter (where aging_bucket = '31-60')                 as ar_31_60,
        sum(amount_open_customer) filter (where aging_bucket = '61-90')                 as ar_61_90,
        sum(amount_open_customer) filter (where aging_bucket = '90+')                   as ar_over_90,
        -- the 90 days ending on the as-of date, that day included (METRICS.md): none after it (a pinned as-of date)
        sum(amount_reporting) filter (where invoice_date > as_of_date - 90 and invoice_date <= as_of_date)
                                                                                        as billed_last_90_days_reporting,
        sum(amount_reporting)                                                           as billed_reporting,
        max(last_payment_date)                                                          as last_payment_date,
        max(days_past_due)                                                              as max_days_past_due,
        max(days_past_due) filter (where amount_open > 0)                               as max_days_past_due_open,
        count(*) filter (where amount_open <> 0)                                        as open_invoices
    from open_amounts
    group by 1

)

select
    customers.customer_id,
    customers.crm_account_id,
    customers.erp_customer_id,
    customers.customer_name,
    customers.legal_entity,
    customers.currency_code,
    {% for amount in ['open_ar', 'overdue_ar', 'ar_current', 'ar_1_30', 'ar_31_60', 'ar_61_90', 'ar_over_90'] %}
    -- summed in the customer's currency, then converted once to the reporting currency
    round(coalesce(per_customer.{{ amount }}, 0), 2)                                     as {{ amount }},
    round(coalesce(per_customer.{{ amount }}, 0) * coalesce(customer_rates.rate_to_reporting, 1), 2) as {{ amount }}_reporting,
    {% endfor %}
    round(coalesce(per_customer.billed_last_90_days_reporting, 0), 2)                    as billed_last_90_days_reporting,
    round(coalesce(per_customer.open_ar, 0) * coalesce(customer_rates.rate_to_reporting, 1)
          / nullif(per_customer.billed_last_90_days_reporting, 0) * 90, 1)              as dso_days,
    per_customer.last_payment_date,
    coalesce(per_customer.open_invoices, 0)                                             as open_invoices,
    coalesce(per_customer.max_days_past_due, 0)                                         as max_days_past_due,
    customers.credit_hold_override,
    customers.credit_limit,
    case when customers.credit_limit > 0
         then round(customers.credit_limit - coalesce(per_customer.open_ar, 0), 2) end  as available_credit,
    coalesce({{ collection_stage('per_customer.max_days_past_due_open') }}, 'none')     as collection_stage,
    (upper(coalesce(customers.credit_hold_override, '')) = 'ON'
     or (upper(coalesce(customers.credit_hold_override, '')) = 'AUTO' and customers.credit_limit > 0
         and coalesce(per_customer.open_ar, 0) > customers.credit_limit))
                                                                                        as is_credit_hold
from customers
left join per_customer using (customer_id)
left join customer_rates using (customer_id)
