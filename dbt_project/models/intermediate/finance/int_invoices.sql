-- One row per ERP invoice or credit memo, of every ERP (from the ERP role). amount is signed: credit memos subtract
-- (negative). The project is the one the ERP names (NetSuite: the entity's job, else the single job its lines name),
-- else the single project of the time it invoiced (none or several: null).
with invoices as (

    select * from {{ ref('int_erp_invoices') }}

),

time_bill_projects as (

    select erp_invoice_id, projects, erp_project_id
    from {{ ref('int_invoice_time_bill_projects') }}

),

keyed as (

    select
        invoices.*,
        coalesce(invoices.erp_project_id,
                 case when time_bill_projects.projects = 1 then time_bill_projects.erp_project_id end)
                                                                as keyed_erp_project_id,
        coalesce(invoices.project_source,
                 case when time_bill_projects.projects = 1 then 'time_bills' end) as keyed_project_source,
        case when invoices.document_type = 'credit_memo' then -1 else 1 end as sign
    from invoices
    left join time_bill_projects using (erp_invoice_id)

)

select
    keyed.erp_invoice_id,
    keyed.document_number,
    keyed.document_type                                         as invoice_type,
    keyed.erp_customer_id,
    keyed.keyed_erp_project_id                                  as erp_project_id,
    keyed.keyed_project_source                                  as project_source,
    keyed.item_lines,
    project_keys.engagement_id,
    keyed.erp_company                                           as erp_subsidiary_id,
    keyed.legal_entity,
    keyed.currency_code,
    keyed.customer_currency_code,
    keyed.status_code,
    keyed.erp_period_id                                         as erp_accounting_period_id,
    keyed.erp_terms_id,
    keyed.sign * keyed.total_amount                             as amount,
    keyed.sign * keyed.amount_paid                              as amount_applied,
    keyed.sign * keyed.amount_open                              as amount_open,
    rates.rate_to_reporting,
    keyed.invoice_date,
    keyed.due_date,
    keyed.close_date,
    keyed.created_at,
    keyed.updated_at,
    keyed.erp_system
from keyed
left join {{ ref('int_project_keys') }} as project_keys
    on project_keys.source_system = keyed.erp_system and project_keys.project_id = keyed.keyed_erp_project_id
left join {{ ref('int_exchange_rates_daily') }} as rates
    on rates.currency_code = keyed.currency_code and rates.calendar_date = keyed.invoice_date
