-- One row per engagement with ERP invoices: billed (invoices minus credit memos), credit memos, and collected
-- (payments applied to those invoices), in contract currency and in reporting currency at each transaction's date.
with invoices as (

    select * from {{ ref('int_invoices') }}
    where engagement_id is not null

),

billed as (

    select
        engagement_id,
        sum(amount)                                                     as billed_amount,
        round(sum(amount * rate_to_reporting), 2)                       as billed_amount_reporting,
        coalesce(sum(amount) filter (where invoice_type = 'credit_memo'), 0) as credit_memo_amount,
        min(invoice_date) filter (where invoice_type = 'invoice')       as first_invoice_date
    from invoices
    group by 1

),

collected as (

    select
        invoices.engagement_id,
        sum(applications.amount_applied)                                as collected_amount,
        round(sum(applications.amount_applied * rates.rate_to_reporting), 2) as collected_amount_reporting,
        max(applications.applied_date)                                  as last_payment_date
    from {{ ref('int_payment_applications') }} as applications
    join invoices on invoices.erp_invoice_id = applications.erp_invoice_id
    left join {{ ref('int_exchange_rates_daily') }} as rates
        on rates.currency_code = invoices.currency_code and rates.calendar_date = applications.applied_date
    where applications.application_type = 'payment'
    group by 1

)

select
    billed.engagement_id,
    billed.billed_amount,
    billed.billed_amount_reporting,
    billed.credit_memo_amount,
    billed.first_invoice_date,
    coalesce(collected.collected_amount, 0)                             as collected_amount,
    coalesce(collected.collected_amount_reporting, 0)                   as collected_amount_reporting,
    collected.last_payment_date
from billed
left join collected using (engagement_id)
