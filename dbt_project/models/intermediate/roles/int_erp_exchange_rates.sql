-- ERP role: exchange rates of each ERP, as (base currency, transaction currency, effective date, rate): one unit of
-- the transaction currency is `exchange_rate` units of the base. NetSuite currency rates say it so; a Dynamics 365
-- Finance exchange rate converts FromCurrency into ToCurrency from its StartDate.
select
    'netsuite'                                  as erp_system,
    rates.erp_currency_rate_id                  as erp_exchange_rate_id,
    base.currency_code                          as base_currency,
    quote.currency_code                         as transaction_currency,
    rates.effective_date,
    rates.exchange_rate
from {{ ref('stg_netsuite__currency_rates') }} as rates
join {{ ref('stg_netsuite__currencies') }} as base on base.erp_currency_id = rates.erp_base_currency_id
join {{ ref('stg_netsuite__currencies') }} as quote on quote.erp_currency_id = rates.erp_transaction_currency_id

union all

select
    'dynamics'                                  as erp_system,
    erp_exchange_rate_id,
    to_currency                                 as base_currency,
    from_currency                               as transaction_currency,
    valid_from                                  as effective_date,
    exchange_rate
from {{ ref('stg_dynamics__exchange_rates') }}
