-- One row per ERP invoice or credit memo. amount is signed: credit memos subtract (negative). The project is
-- the transaction's entity when it is a job, else the single job its lines name, else the single job of the time
-- bills it invoiced (none or several: null).
with transactions as (

    select * from {{ ref('stg_netsuite__transactions') }}
    where transaction_type in ('CustInvc', 'CustCred')

),

jobs as (

    select erp_project_id, coalesce(erp_customer_id, erp_parent_id) as erp_customer_id
    from {{ ref('stg_netsuite__jobs') }}

),

line_projects as (

    select
        lines.erp_transaction_id,
        count(*)                                                as item_lines,
        count(distinct jobs.erp_project_id)                     as projects,
        min(jobs.erp_project_id)                                as erp_project_id
    from {{ ref('stg_netsuite__transaction_lines') }} as lines
    left join jobs on jobs.erp_project_id = lines.erp_entity_id
    where not coalesce(lines.is_main_line, false)
    group by 1

),

time_bill_projects as (

    select erp_invoice_id as erp_transaction_id, projects, erp_project_id
    from {{ ref('int_invoice_time_bill_projects') }}

),

keyed as (

    select
        transactions.*,
        coalesce(entity_job.erp_project_id,
                 case when line_projects.projects = 1 then line_projects.erp_project_id end,
                 case when time_bill_projects.projects = 1 then time_bill_projects.erp_project_id end)
                                                                as erp_project_id,
        coalesce(entity_job.erp_customer_id, transactions.erp_entity_id) as erp_customer_id,
        case
            when entity_job.erp_project_id is not null then 'entity'
            when line_projects.projects = 1 then 'lines'
            when time_bill_projects.projects = 1 then 'time_bills'
        end                                                     as project_source,
        coalesce(line_projects.item_lines, 0)                   as item_lines
    from transactions
    left join jobs as entity_job on entity_job.erp_project_id = transactions.erp_entity_id
    left join line_projects using (erp_transaction_id)
    left join time_bill_projects using (erp_transaction_id)

)

select
    keyed.erp_transaction_id                                    as erp_invoice_id,
    keyed.document_number,
    case keyed.transaction_type when 'CustCred' then 'credit_memo' else 'invoice' end as invoice_type,
    keyed.erp_customer_id,
    keyed.erp_project_id,
    keyed.project_source,
    keyed.item_lines,
    project_keys.engagement_id,
    keyed.erp_subsidiary_id,
    legal_entities.legal_entity,
    currencies.currency_code,
    customer_currencies.currency_code                           as customer_currency_code,
    keyed.status_code,
    keyed.erp_accounting_period_id,
    keyed.erp_terms_id,
    -- sign by type: NetSuite may return a credit memo's total with either sign
    case when keyed.transaction_type = 'CustCred' then -abs(keyed.total_amount) else abs(keyed.total_amount) end
                                                                as amount,
    case when keyed.transaction_type = 'CustCred' then -abs(coalesce(keyed.amount_paid, 0)) else abs(coalesce(keyed.amount_paid, 0)) end
                                                                as amount_applied,
    case when keyed.transaction_type = 'CustCred' then -abs(coalesce(keyed.amount_unpaid, 0)) else abs(coalesce(keyed.amount_unpaid, 0)) end
                                                                as amount_open,
    rates.rate_to_reporting,
    keyed.transaction_date                                      as invoice_date,
    keyed.due_date,
    keyed.close_date,
    keyed.created_at,
    keyed.updated_at
from keyed
left join {{ ref('int_project_keys') }} as project_keys
    on project_keys.source_system = 'netsuite' and project_keys.project_id = keyed.erp_project_id
left join {{ ref('legal_entities') }} as legal_entities on legal_entities.erp_subsidiary_id = keyed.erp_subsidiary_id
left join {{ ref('stg_netsuite__currencies') }} as currencies on currencies.erp_currency_id = keyed.erp_currency_id
left join {{ ref('stg_netsuite__customers') }} as customers on customers.erp_customer_id = keyed.erp_customer_id
left join {{ ref('stg_netsuite__currencies') }} as customer_currencies on customer_currencies.erp_currency_id = customers.erp_currency_id
left join {{ ref('int_exchange_rates_daily') }} as rates
    on rates.currency_code = currencies.currency_code and rates.calendar_date = keyed.transaction_date
