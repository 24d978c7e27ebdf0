-- Reconciliation: ERP invoices minus credit memos, per currency, read straight from raw (NetSuite transactions, and
-- the posted free text invoices of Dynamics 365 Finance, whose credit notes have negative lines), equal marts.invoices
-- to the cent. Returns the currencies that differ.
with raw_transactions as (

    select
        data ->> 'type'                                                 as transaction_type,
        data ->> 'currency'                                             as erp_currency_id,
        abs({{ json_numeric('foreigntotal') }})                         as total
    from {{ source('netsuite', 'transaction') }}
    where not is_deleted and data ->> 'type' in ('CustInvc', 'CustCred')

),

dynamics_headers as (

    select {{ json_text('dataAreaId') }} as company, {{ json_integer('InvoiceIdentifier') }} as invoice_identifier,
           {{ json_text('CurrencyCode') }} as currency_code
    from {{ source('dynamics', 'freetextinvoiceheaders') }}
    where not is_deleted and {{ json_text('IsPosted') }} = 'Yes'

),

dynamics_lines as (

    select {{ json_text('dataAreaId') }} as company, {{ json_integer('InvoiceIdentifier') }} as invoice_identifier,
           {{ json_numeric('LineAmount', 2) }} as amount
    from {{ source('dynamics', 'freetextinvoicelines') }}
    where not is_deleted

),

source_totals as (

    select currency_code, sum(amount) as amount from (
        select currencies.currency_code,
               case when transaction_type = 'CustCred' then -total else total end as amount
        from raw_transactions
        left join {{ ref('stg_netsuite__currencies') }} as currencies
            on currencies.erp_currency_id = regexp_replace(raw_transactions.erp_currency_id, '\.0+$', '')
        union all
        select dynamics_headers.currency_code, dynamics_lines.amount
        from dynamics_lines
        join dynamics_headers using (company, invoice_identifier)
    ) as both_erps
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
