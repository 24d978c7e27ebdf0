-- One row per ERP invoice or credit memo, with its open balance aged as of the as-of date (the mart invoices shows it).
-- AR aging (docs/kpis.md): open balance by days past the due date: current, 1-30, 31-60, 61-90, 90+.
-- Collection stage: the stage of seed collection_stages its days past due fall in, while money is open ('none' else).
with invoices as (

    select * from {{ ref('int_invoices') }}

),

collections as (

    select erp_invoice_id, sum(amount_applied) as collected_amount, max(applied_date) as last_payment_date
    from {{ ref('int_payment_applications') }}
    where application_type = 'payment'
    group by 1

),

aged as (

    select
        invoices.*,
        as_of.as_of_date,
        greatest(as_of.as_of_date - coalesce(invoices.due_date, invoices.invoice_date), 0) as days_past_due
    from invoices
    cross join {{ ref('int_as_of_date') }} as as_of

)

select
    aged.erp_invoice_id,
    aged.erp_system,                                                    -- the ERP holding it
    aged.document_number,
    aged.invoice_type,
    aged.erp_customer_id,
    customers.customer_id,
    customers.customer_name,
    aged.erp_project_id,
    aged.engagement_id,
    aged.legal_entity,
    aged.currency_code,
    aged.customer_currency_code,
    aged.status_code,
    aged.invoice_date,
    aged.due_date,
    aged.close_date,
    aged.as_of_date,
    aged.amount,
    round(aged.amount * aged.rate_to_reporting, 2)                      as amount_reporting,
    coalesce(collections.collected_amount, 0)                           as collected_amount,
    collections.last_payment_date,
    aged.amount_open,
    round(aged.amount_open * as_of_rates.rate_to_reporting, 2)          as amount_open_reporting,
    aged.amount_open <> 0 and aged.as_of_date > aged.due_date           as is_overdue,
    case when aged.amount_open = 0 then 0 else aged.days_past_due end   as days_past_due,
    case
        when aged.amount_open = 0 then 'paid'
        when aged.days_past_due = 0 then 'current'
        when aged.days_past_due <= 30 then '1-30'
        when aged.days_past_due <= 60 then '31-60'
        when aged.days_past_due <= 90 then '61-90'
        else '90+'
    end                                                                 as aging_bucket,
    case when collections.last_payment_date is not null and aged.amount_open = 0
         then collections.last_payment_date - aged.invoice_date end     as days_to_collect,
    case when collections.last_payment_date is not null and aged.amount_open = 0
         then collections.last_payment_date - aged.due_date end         as days_paid_late,
    case when aged.amount_open > 0 then coalesce({{ collection_stage('aged.days_past_due') }}, 'current') else 'none' end
                                                                        as collection_stage
from aged
left join collections using (erp_invoice_id)
left join {{ ref('int_customer_erp_matches') }} as erp_matches on erp_matches.erp_customer_id = aged.erp_customer_id
left join {{ ref('int_customers_matched') }} as customers on customers.customer_id = erp_matches.customer_id
left join {{ ref('int_exchange_rates_daily') }} as as_of_rates
    on as_of_rates.currency_code = aged.currency_code and as_of_rates.calendar_date = aged.as_of_date
