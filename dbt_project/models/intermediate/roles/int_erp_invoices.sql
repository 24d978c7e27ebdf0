-- ERP role: invoices and credit memos of each ERP, amounts positive (document_type says which), with what was paid
-- and what is open, the customer, and the project when the ERP names one. NetSuite: an invoice's entity is its
-- customer or one of its jobs; else the project is the single job its item lines name (project_source says which).
-- Dynamics 365 Finance: the total is the sum of the lines (a credit note's are negative), the paid amount the payments
-- marked against the invoice's number, the project the one stamped on the header.
with netsuite_jobs as (

    select erp_project_id, erp_customer_id
    from {{ ref('int_erp_projects') }}
    where erp_system = 'netsuite'

),

netsuite_line_projects as (

    select
        lines.erp_transaction_id,
        count(*)                                                as item_lines,
        count(distinct jobs.erp_project_id)                     as projects,
        min(jobs.erp_project_id)                                as erp_project_id
    from {{ ref('stg_netsuite__transaction_lines') }} as lines
    left join netsuite_jobs as jobs on jobs.erp_project_id = lines.erp_entity_id
    where not coalesce(lines.is_main_line, false)
    group by 1

),

dynamics_totals as (

    select legal_entity_code, invoice_identifier, sum(line_amount) as total, count(*) as item_lines
    from {{ ref('stg_dynamics__invoice_lines') }}
    group by 1, 2

),

dynamics_paid as (

    select legal_entity_code, marked_invoice_number, sum(amount) as paid, max(payment_date) as last_paid_on
    from {{ ref('stg_dynamics__payment_journal_lines') }}
    where marked_invoice_number is not null
    group by 1, 2

),

invoices as (

    select
        'netsuite'                                  as erp_system,
        t.erp_transaction_id                        as erp_invoice_id,
        t.erp_subsidiary_id                         as erp_company,
        le.legal_entity,
        coalesce(entity_job.erp_customer_id, t.erp_entity_id) as erp_customer_id,
        coalesce(entity_job.erp_project_id,
                 case when line_projects.projects = 1 then line_projects.erp_project_id end) as erp_project_id,
        case
            when entity_job.erp_project_id is not null then 'entity'
            when line_projects.projects = 1 then 'lines'
        end                                         as project_source,
        coalesce(line_projects.item_lines, 0)       as item_lines,
        case t.transaction_type when 'CustCred' then 'credit_memo' else 'invoice' end as document_type,
        t.document_number,
        t.memo,
        t.status_code,
        t.erp_accounting_period_id                  as erp_period_id,
        t.erp_terms_id,
        t.transaction_date                          as invoice_date,
        t.due_date,
        t.close_date,
        cur.currency_code,
        -- NetSuite may return a credit memo's amounts with either sign
        abs(t.total_amount)                         as total_amount,
        abs(coalesce(t.amount_paid, 0))             as amount_paid,
        abs(coalesce(t.amount_unpaid, 0))           as amount_open,
        t.created_at,
        t.updated_at
    from {{ ref('stg_netsuite__transactions') }} as t
    left join {{ ref('stg_netsuite__currencies') }} as cur on cur.erp_currency_id = t.erp_currency_id
    left join {{ ref('legal_entities') }} as le on le.erp_subsidiary_id = t.erp_subsidiary_id
    left join netsuite_jobs as entity_job on entity_job.erp_project_id = t.erp_entity_id
    left join netsuite_line_projects as line_projects on line_projects.erp_transaction_id = t.erp_transaction_id
    where t.transaction_type in ('CustInvc', 'CustCred')

    union all

    select
        'dynamics'                                  as erp_system,
        i.erp_invoice_id,
        i.legal_entity_code                         as erp_company,
        r.legal_entity,
        i.legal_entity_code || '|' || i.customer_account as erp_customer_id,
        i.legal_entity_code || '|' || i.project_code as erp_project_id,
        case when i.project_code is not null then 'entity' end as project_source,
        coalesce(tot.item_lines, 0)                 as item_lines,
        case when tot.total < 0 then 'credit_memo' else 'invoice' end as document_type,
        i.invoice_number,
        i.memo,
        null::text                                  as status_code,
        null::text                                  as erp_period_id,
        null::text                                  as erp_terms_id,
        i.invoice_date,
        i.due_date,
        -- paid in full: the day of the payment that closed it (NetSuite's closedate)
        case when p.paid >= abs(coalesce(tot.total, 0)) and p.paid > 0 then p.last_paid_on end as close_date,
        i.currency_code,
        abs(coalesce(tot.total, 0))                 as total_amount,
        coalesce(p.paid, 0)                         as amount_paid,
        abs(coalesce(tot.total, 0)) - coalesce(p.paid, 0) as amount_open,
        null::timestamptz                           as created_at,
        i.updated_at
    from {{ ref('stg_dynamics__invoices') }} as i
    left join dynamics_totals as tot
        on tot.legal_entity_code = i.legal_entity_code and tot.invoice_identifier = i.invoice_identifier
    left join dynamics_paid as p
        on p.legal_entity_code = i.legal_entity_code and p.marked_invoice_number = i.invoice_number
    left join {{ dynamics_companies() }} as r
        on r.erp_company = i.legal_entity_code
    where i.is_posted

)

select
    invoices.*,
    customers.currency_code                         as customer_currency_code
from invoices
left join {{ ref('int_erp_customers') }} as customers
    on customers.erp_system = invoices.erp_system and customers.erp_customer_id = invoices.erp_customer_id
