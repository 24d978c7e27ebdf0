-- One row per calendar day from well before the first record to two years after the as-of date.
with bounds as (

    select
        least(
            (select min(close_date) from {{ ref('int_crm_opportunities') }}),
            (select first_work_date from {{ ref('int_time_entry_first_day') }}),
            (select min(invoice_date) from {{ ref('int_erp_invoices') }}),
            (select min(payment_date) from {{ ref('int_erp_payments') }}),
            (select as_of_date from {{ ref('int_as_of_date') }})
        ) - 400                                                             as first_day,
        (select as_of_date from {{ ref('int_as_of_date') }}) + 730         as last_day

)

select
    day::date                                                   as calendar_date,
    date_trunc('week', day)::date                               as week_start,
    date_trunc('month', day)::date                              as month_start,
    extract(isodow from day) between 1 and 5                    as is_weekday,
    -- weekdays from the first calendar day up to this one: the weekdays between two days are a difference
    count(*) filter (where extract(isodow from day) between 1 and 5) over (order by day) as weekdays_through
from bounds, generate_series(first_day, last_day, interval '1 day') as day
