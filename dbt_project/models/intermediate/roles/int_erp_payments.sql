-- ERP role: customer payments received in each ERP.
select
    'netsuite'                                  as erp_system,
    t.erp_transaction_id                        as erp_payment_id,
    t.erp_subsidiary_id                         as erp_company,
    t.erp_entity_id                             as erp_customer_id,
    t.document_number                           as payment_reference,
    t.transaction_date                          as payment_date,
    t.total_amount                              as amount,
    cur.currency_code
from {{ ref('stg_netsuite__transactions') }} as t
left join {{ ref('stg_netsuite__currencies') }} as cur on cur.erp_currency_id = t.erp_currency_id
where t.transaction_type = 'CustPymt'

union all

select
    'dynamics'                                  as erp_system,
    erp_payment_id,
    legal_entity_code                           as erp_company,
    legal_entity_code || '|' || customer_account as erp_customer_id,
    payment_reference,
    payment_date,
    amount,
    currency_code
from {{ ref('stg_dynamics__payment_journal_lines') }}
