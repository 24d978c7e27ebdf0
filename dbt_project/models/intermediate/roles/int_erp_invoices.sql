-- ERP role: invoices and credit memos of each ERP, amounts positive, with what was paid and what is open. NetSuite says
-- both; for Dynamics 365 Finance the total is the sum of the lines (a credit note's are negative) and the paid amount
-- the payments marked against the invoice's number.
with dynamics_totals as (

    select legal_entity_code, invoice_identifier, sum(line_amount) as total
    from {{ ref('stg_dynamics__invoice_lines') }}
    group by 1, 2

),

dynamics_paid as (

    select legal_entity_code, marked_invoice_number, sum(amount) as paid
    from {{ ref('stg_dynamics__payment_journal_lines') }}
    where marked_invoice_number is not null
    group by 1, 2

)

select
    'netsuite'                                  as erp_system,
    t.erp_transaction_id                        as erp_invoice_id,
    t.erp_subsidiary_id                         as erp_company,
    t.erp_entity_id                             as erp_customer_id,
    case t.transaction_type when 'CustCred' then 'credit_memo' else 'invoice' end as document_type,
    t.document_number,
    t.transaction_date                          as invoice_date,
    t.due_date,
    cur.currency_code,
    t.total_amount,
    coalesce(t.amount_paid, 0)                  as amount_paid,
    coalesce(t.amount_unpaid, t.total_amount - coalesce(t.amount_paid, 0)) as amount_open
from {{ ref('stg_netsuite__transactions') }} as t
left join {{ ref('stg_netsuite__currencies') }} as cur on cur.erp_currency_id = t.erp_currency_id
where t.transaction_type in ('CustInvc', 'CustCred')

union all

select
    'dynamics'                                  as erp_system,
    i.erp_invoice_id,
    i.legal_entity_code                         as erp_company,
    i.legal_entity_code || '|' || i.customer_account as erp_customer_id,
    case when tot.total < 0 then 'credit_memo' else 'invoice' end as document_type,
    i.invoice_number,
    i.invoice_date,
    i.due_date,
    i.currency_code,
    abs(coalesce(tot.total, 0))                 as total_amount,
    coalesce(p.paid, 0)                         as amount_paid,
    abs(coalesce(tot.total, 0)) - coalesce(p.paid, 0) as amount_open
from {{ ref('stg_dynamics__invoices') }} as i
left join dynamics_totals as tot
    on tot.legal_entity_code = i.legal_entity_code and tot.invoice_identifier = i.invoice_identifier
left join dynamics_paid as p
    on p.legal_entity_code = i.legal_entity_code and p.marked_invoice_number = i.invoice_number
where i.is_posted
