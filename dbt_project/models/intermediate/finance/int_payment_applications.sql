-- One row per payment (or credit memo) applied to an invoice: the ERP's transaction links from an invoice to
-- a later payment/credit. Amounts in the invoice's currency.
with links as (

    select * from {{ ref('stg_netsuite__transaction_links') }}

),

transactions as (

    select * from {{ ref('stg_netsuite__transactions') }}

)

select
    links.erp_transaction_link_id                               as payment_application_id,
    links.erp_previous_transaction_id                           as erp_invoice_id,
    links.erp_next_transaction_id                               as erp_payment_id,
    case payments.transaction_type when 'CustCred' then 'credit_memo' else 'payment' end as application_type,
    abs(links.amount)                                           as amount_applied,
    payments.transaction_date                                   as applied_date
from links
join transactions as invoices on invoices.erp_transaction_id = links.erp_previous_transaction_id
    and invoices.transaction_type = 'CustInvc'
join transactions as payments on payments.erp_transaction_id = links.erp_next_transaction_id
    and payments.transaction_type in ('CustPymt', 'CustCred')
