{#- Dynamics 365 Finance outbound helpers: where the hub finds the records of an ERP routed to Dynamics, in the ERP
    role models (what was landed from it) and in what its own syncs created (ledger: the landed id is the natural key joined by '|',
    dataAreaId first, connectors/dynamics.py KEY_SEPARATOR). -#}

{% macro d365_customer_accounts() %}
{#- (crm_account_id, data_area_id, customer_account): the Dynamics customer of a CRM account in each company. -#}
(select crm_account_id, data_area_id, min(customer_account) as customer_account from (
    select crm_account_id, erp_company, split_part(erp_customer_id, '|', 2)
    from {{ ref('int_erp_customers') }}
    where erp_system = 'dynamics' and crm_account_id is not null
    union all
    select record_key, split_part(destination_id, '|', 1), split_part(destination_id, '|', 2)
    from {{ ref('int_sync_created_ids') }}
    where sync_name = 'd365_customers'
      and not exists (select 1 from {{ ref('int_erp_customers') }} as landed
                      where landed.erp_system = 'dynamics' and landed.erp_customer_id = destination_id)
) as accounts (crm_account_id, data_area_id, customer_account) group by 1, 2)
{%- endmacro %}

{% macro d365_project_codes() %}
{#- (engagement_id, data_area_id, project_code): the Dynamics project of an engagement (CRM opportunity) in each
    company. -#}
(select engagement_id, data_area_id, min(project_code) as project_code from (
    select crm_opportunity_id, erp_company, split_part(erp_project_id, '|', 2)
    from {{ ref('int_erp_projects') }}
    where erp_system = 'dynamics' and crm_opportunity_id is not null
    union all
    select record_key, split_part(destination_id, '|', 1), split_part(destination_id, '|', 2)
    from {{ ref('int_sync_created_ids') }}
    where sync_name = 'd365_projects'
      and not exists (select 1 from {{ ref('int_erp_projects') }} as landed
                      where landed.erp_system = 'dynamics' and landed.erp_project_id = destination_id)
) as projects (engagement_id, data_area_id, project_code) group by 1, 2)
{%- endmacro %}

{% macro d365_worker(erp_employee_id) -%}
{#- A person's Dynamics worker (personnel number): the firm numbers personnel E + the employee number it has in
    NetSuite (the HR master both ERPs share), padded to at least 6 digits. Never cut: lpad alone truncates a longer
    number to its first 6 digits (two people would share a worker). -#}
case when {{ erp_employee_id }} is not null
     then 'E' || case when length({{ erp_employee_id }}::text) >= 6 then {{ erp_employee_id }}::text
                      else lpad({{ erp_employee_id }}::text, 6, '0') end end
{%- endmacro %}

{% macro d365_worker_employee(worker) -%}
{#- The firm's employee number (its NetSuite employee id) of a Dynamics worker: the inverse of d365_worker, for the
    ERP role models; null for a personnel number not of that form (a worker the hub cannot place). -#}
case when {{ worker }} ~ '^E[0-9]{1,18}$' then (substr({{ worker }}, 2)::bigint)::text end
{%- endmacro %}

{% macro d365_closed_period(data_area_id, day) -%}
{#- true when the day falls in a period of the company that is not open (FiscalPeriods.PeriodStatus): a period on hold
    or permanently closed takes no posting (asserted in tests/contracts/test_dynamics_contract.py, with its sources). -#}
exists (select 1 from {{ ref('int_erp_periods') }} as periods
        where periods.erp_system = 'dynamics' and periods.erp_company = {{ data_area_id }} and periods.is_closed
          and {{ day }} between periods.start_date and periods.end_date)
{%- endmacro %}

{% macro d365_line_number(external_id) -%}
{#- the journal line number of a PSA record: its id when numeric, else a stable number drawn from it -#}
case when {{ external_id }} ~ '^[0-9]{1,15}$' then {{ external_id }}::bigint
     else abs(hashtextextended({{ external_id }}, 0)) % 1000000000000000 end
{%- endmacro %}

{% macro d365_block_reason(reason, hold_reason, project_code, employee, category, data_area_id, day, source_reasons) -%}
{#- The hold of a record routed to Dynamics: the source's own reasons (the PSA's, listed first in the NetSuite chain)
    stand; the ERP's (project, worker, category, period) are judged against Dynamics, not NetSuite; then the later
    reasons of the chain (on hold, credit hold, data quality: the candidate's hold_reason, which no NetSuite-only
    reason hides). -#}
case
    when {{ reason }} in ({{ source_reasons }}) then {{ reason }}
    when {{ project_code }} is null then 'engagement_not_in_erp'
    when {{ employee }} is null then 'employee_not_in_erp'
    when {{ category }} is null then 'no_service_item_for_role'
    when {{ d365_closed_period(data_area_id, day) }} then 'closed_period'
    else {{ hold_reason }}
end
{%- endmacro %}

{% macro d365_held_by_netsuite(sync_name, role_model, external_id, netsuite_id) -%}
{#- A PSA record NetSuite already holds (posted by the hub, matched by rule, or landed with the hub's external id)
    stays there: a cut-over moves what is dated after it and not yet posted, never a posted record. -#}
({{ netsuite_id }} is not null
 or exists (select 1 from {{ ref('int_sync_created_ids') }} as created
            where created.sync_name = '{{ sync_name }}' and created.record_key = {{ external_id }})
 or exists (select 1 from {{ ref(role_model) }} as posted
            where posted.erp_system = 'netsuite' and posted.external_id = {{ external_id }}))
{%- endmacro %}
