-- One row per ERP customer payment, with the amount applied to invoices and the unapplied rest.
with payments as (

    select * from {{ ref('stg_netsuite__transactions') }} where transaction_type = 'CustPymt'

),

applied as (

    select erp_payment_id, sum(amount_applied) as amount_applied
    from {{ ref('int_payment_applications') }}
    group by 1

)

select
    payments.erp_transaction_id                                 as erp_payment_id,
    payments.document_number,
    payments.erp_entity_id                                      as erp_customer_id,
    currencies.currency_code,
    abs(payments.total_amount)                                  as amount,
    coalesce(applied.amount_applied, 0)                         as amount_applied,
    abs(payments.total_amount) - coalesce(applied.amount_applied, 0) as amount_unapplied,
    payments.transaction_date                                   as payment_date
from payments
left join applied on applied.erp_payment_id = payments.erp_transaction_id
left join {{ ref('stg_netsuite__currencies') }} as currencies on currencies.erp_currency_id = payments.erp_currency_id
