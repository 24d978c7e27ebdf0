-- One row per ERP customer payment (every ERP's, from the ERP role), with the amount applied to invoices and the
-- unapplied rest.
with applied as (

    select erp_payment_id, sum(amount_applied) as amount_applied
    from {{ ref('int_payment_applications') }}
    group by 1

)

select
    payments.erp_payment_id,
    payments.payment_reference                                  as document_number,
    payments.erp_customer_id,
    payments.currency_code,
    abs(payments.amount)                                        as amount,
    coalesce(applied.amount_applied, 0)                         as amount_applied,
    abs(payments.amount) - coalesce(applied.amount_applied, 0)  as amount_unapplied,
    payments.payment_date,
    payments.erp_system
from {{ ref('int_erp_payments') }} as payments
left join applied on applied.erp_payment_id = payments.erp_payment_id
