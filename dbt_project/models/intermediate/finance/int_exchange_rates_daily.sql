-- One row per currency and calendar day: the rate into the reporting currency (the setting PSHUB_REPORTING_CURRENCY, macro reporting_currency).
-- Rule (docs/kpis.md): the ERP's rate effective on that day (every ERP's rates, from the ERP role); where there is no daily rate, the average of the
-- month's rates; before a currency's first rate of a month, the latest earlier rate.
with rates as (

    select erp_system, base_currency, transaction_currency, effective_date, exchange_rate
    from {{ ref('int_erp_exchange_rates') }}
    where exchange_rate > 0

),

to_reporting as (

    -- direct quotes (reporting currency is the base) win over inverted ones
    select transaction_currency as currency_code, effective_date, exchange_rate as rate, 1 as preference, erp_system
    from rates where base_currency = {{ reporting_currency() }}
    union all
    select base_currency, effective_date, 1.0 / exchange_rate, 2, erp_system
    from rates where transaction_currency = {{ reporting_currency() }}

),

daily_rates as (

    select distinct on (currency_code, effective_date) currency_code, effective_date, rate
    from to_reporting
    -- two ERPs quoting the same day hold the firm's one rate table: the first ERP by name is taken, so the pick is fixed
    order by currency_code, effective_date, preference, erp_system

),

monthly_average as (

    select currency_code, date_trunc('month', effective_date)::date as month_start, avg(rate) as rate
    from daily_rates
    group by 1, 2

),

currencies as (

    select currency_code from {{ ref('currencies') }}
    union
    select currency_code from daily_rates

),

days as (

    select currencies.currency_code, calendar.calendar_date, calendar.month_start
    from currencies
    cross join {{ ref('int_calendar_days') }} as calendar

)

select
    days.currency_code,
    days.calendar_date,
    (case
        when days.currency_code = {{ reporting_currency() }} then 1.0
        else coalesce(daily_rates.rate, monthly_average.rate, (
            select earlier.rate from daily_rates as earlier
            where earlier.currency_code = days.currency_code and earlier.effective_date < days.calendar_date
            order by earlier.effective_date desc limit 1))
    end)::numeric(20, 10)                                       as rate_to_reporting,
    case
        when days.currency_code = {{ reporting_currency() }} then 'identity'
        when daily_rates.rate is not null then 'daily'
        when monthly_average.rate is not null then 'monthly_average'
        else 'latest_earlier'
    end                                                         as rate_method
from days
left join daily_rates
    on daily_rates.currency_code = days.currency_code and daily_rates.effective_date = days.calendar_date
left join monthly_average
    on monthly_average.currency_code = days.currency_code and monthly_average.month_start = days.month_start
