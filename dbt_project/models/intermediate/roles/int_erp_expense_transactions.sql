-- ERP role: expenses posted to each ERP (NetSuite expense reports, Dynamics 365 Finance project expense lines).
select
    'netsuite'                          as erp_system,
    e.erp_expense_report_id             as erp_expense_id,
    e.erp_subsidiary_id                 as erp_company,
    e.erp_project_id,
    e.erp_employee_id,
    e.external_id,
    e.expense_date,
    e.category,
    e.amount,
    cur.currency_code,
    e.is_billable,
    e.is_billed,
    e.erp_invoice_id
from {{ ref('stg_netsuite__expense_reports') }} as e
left join {{ ref('stg_netsuite__currencies') }} as cur on cur.erp_currency_id = e.erp_currency_id

union all

select
    'dynamics'                          as erp_system,
    erp_expense_line_id,
    legal_entity_code                   as erp_company,
    legal_entity_code || '|' || project_code as erp_project_id,
    -- the firm's employee number of the worker (macro d365_worker_employee: the personnel number's convention)
    {{ d365_worker_employee('worker_number') }} as erp_employee_id,
    external_id,
    expense_date,
    category,
    amount,
    currency_code,
    is_billable,
    is_billed,
    legal_entity_code || '|' || invoice_identifier as erp_invoice_id
from {{ ref('stg_dynamics__expense_journal_lines') }}
