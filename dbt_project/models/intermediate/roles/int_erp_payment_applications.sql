-- ERP role: payments (and credit memos) applied to invoices, in the invoice's currency. NetSuite: the transaction
-- links from an invoice to a later payment or credit memo. Dynamics 365 Finance: a payment journal line marked
-- against an invoice's number (MarkedInvoice) settles that invoice of the same company.
with netsuite_transactions as (

    select * from {{ ref('stg_netsuite__transactions') }}

)

select
    'netsuite'                                                  as erp_system,
    links.erp_transaction_link_id                               as payment_application_id,
    links.erp_previous_transaction_id                           as erp_invoice_id,
    links.erp_next_transaction_id                               as erp_payment_id,
    case payments.transaction_type when 'CustCred' then 'credit_memo' else 'payment' end as application_type,
    abs(links.amount)                                           as amount_applied,
    payments.transaction_date                                   as applied_date
from {{ ref('stg_netsuite__transaction_links') }} as links
join netsuite_transactions as invoices on invoices.erp_transaction_id = links.erp_previous_transaction_id
    and invoices.transaction_type = 'CustInvc'
join netsuite_transactions as payments on payments.erp_transaction_id = links.erp_next_transaction_id
    and payments.transaction_type in ('CustPymt', 'CustCred')

union all

select
    'dynamics'                                                  as erp_system,
    payments.erp_payment_id                                     as payment_application_id,
    invoices.erp_invoice_id,
    payments.erp_payment_id,
    'payment'                                                   as application_type,
    abs(payments.amount)                                        as amount_applied,
    payments.payment_date                                       as applied_date
from {{ ref('stg_dynamics__payment_journal_lines') }} as payments
join {{ ref('stg_dynamics__invoices') }} as invoices
    on invoices.legal_entity_code = payments.legal_entity_code and invoices.invoice_number = payments.marked_invoice_number
    and invoices.is_posted
