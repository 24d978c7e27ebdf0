-- ERP role: time posted to each ERP for billing (NetSuite time bills, Dynamics 365 Finance hour journal lines), in
-- the currency of its project, with the person (the firm's employee number: NetSuite's employee id, which a Dynamics
-- worker's personnel number carries) and the load that landed it.
select
    'netsuite'                          as erp_system,
    t.erp_time_bill_id                  as erp_time_id,
    coalesce(t.erp_subsidiary_id, j.erp_subsidiary_id) as erp_company,
    t.erp_project_id,
    t.external_id,
    t.erp_employee_id,
    t.erp_item_id,
    t.work_date,
    t.hours,
    t.bill_rate,
    cur.currency_code,
    t.is_billable,
    t.is_billed,
    t.erp_invoice_id,
    t.memo,
    t.created_at,
    t.updated_at,
    t.load_id,
    t.landed_at
from {{ ref('stg_netsuite__time_bills') }} as t
left join {{ ref('stg_netsuite__jobs') }} as j on j.erp_project_id = t.erp_project_id
left join {{ ref('stg_netsuite__currencies') }} as cur on cur.erp_currency_id = j.erp_currency_id

union all

select
    'dynamics'                          as erp_system,
    erp_hour_line_id,
    legal_entity_code                   as erp_company,
    legal_entity_code || '|' || project_code as erp_project_id,
    external_id,
    -- the firm's employee number of the worker (macro d365_worker_employee: the personnel number's convention)
    {{ d365_worker_employee('worker_number') }} as erp_employee_id,
    category                            as erp_item_id,
    work_date,
    hours,
    bill_rate,
    currency_code,
    is_billable,
    is_billed,
    legal_entity_code || '|' || invoice_identifier as erp_invoice_id,
    memo,
    null::timestamptz                   as created_at,
    updated_at,
    load_id,
    landed_at
from {{ ref('stg_dynamics__hour_journal_lines') }}
