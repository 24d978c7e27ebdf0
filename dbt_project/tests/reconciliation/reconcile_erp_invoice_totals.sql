-- Reconciliation: ERP invoices minus credit memos, per currency, read straight from raw, equal marts.invoices to
-- the cent. Returns the currencies that differ.
with raw_transactions as (

    select
        data ->> 'type'                                                 as transaction_type,
        data ->> 'currency'                                             as erp_currency_id,
        abs({{ json_numeric('foreigntotal') }})                         as total
    from {{ source('netsuite', 'transaction') }}
    where not is_deleted and data ->> 'type' in ('CustInvc', 'CustCred')

),

source_totals as (

    select currencies.currency_code,
           sum(case when transaction_type = 'CustCred' then -total else total end) as amount
    from raw_transactions
    left join {{ ref('stg_netsuite__currencies') }} as currencies
        on currencies.erp_currency_id = regexp_replace(raw_transactions.erp_currency_id, '\.0+$', '')
    group by 1

),

mart_totals as (

    select currency_code, sum(amount) as amount from {{ ref('invoices') }} group by 1

)

select coalesce(source_totals.currency_code, mart_totals.currency_code) as currency_code,
       source_totals.amount as source_amount, mart_totals.amount as mart_amount
from source_totals
full join mart_totals using (currency_code)
where source_totals.amount is distinct from mart_totals.amount
