{#- Dynamics 365 Finance outbound helpers: where the hub finds the records of an ERP routed to Dynamics, in the records
    landed from it and in what its own syncs created (ledger: the landed id is the natural key joined by '|',
    dataAreaId first, connectors/dynamics.py KEY_SEPARATOR). -#}

{% macro d365_customer_accounts() %}
{#- (crm_account_id, data_area_id, customer_account): the Dynamics customer of a CRM account in each company. -#}
(select crm_account_id, data_area_id, min(customer_account) as customer_account from (
    select crm_account_id, legal_entity_code as data_area_id, customer_account
    from {{ ref('stg_dynamics__customers') }}
    where crm_account_id is not null
    union all
    select record_key, split_part(destination_id, '|', 1), split_part(destination_id, '|', 2)
    from {{ ref('int_sync_created_ids') }}
    where sync_name = 'd365_customers'
      and not exists (select 1 from {{ ref('stg_dynamics__customers') }} as landed
                      where landed.legal_entity_code || '|' || landed.customer_account = destination_id)
) as accounts (crm_account_id, data_area_id, customer_account) group by 1, 2)
{%- endmacro %}

{% macro d365_project_codes() %}
{#- (engagement_id, data_area_id, project_code): the Dynamics project of an engagement (CRM opportunity) in each
    company. -#}
(select engagement_id, data_area_id, min(project_code) as project_code from (
    select crm_opportunity_id as engagement_id, legal_entity_code as data_area_id, project_code
    from {{ ref('stg_dynamics__projects') }}
    where crm_opportunity_id is not null
    union all
    select record_key, split_part(destination_id, '|', 1), split_part(destination_id, '|', 2)
    from {{ ref('int_sync_created_ids') }}
    where sync_name = 'd365_projects'
      and not exists (select 1 from {{ ref('stg_dynamics__projects') }} as landed
                      where landed.legal_entity_code || '|' || landed.project_code = destination_id)
) as projects (engagement_id, data_area_id, project_code) group by 1, 2)
{%- endmacro %}

{% macro d365_worker(erp_employee_id) -%}
{#- A person's Dynamics worker (personnel number): the firm numbers personnel E + the 6-digit employee number it
    has in NetSuite (the HR master both ERPs share). -#}
case when {{ erp_employee_id }} is not null then 'E' || lpad({{ erp_employee_id }}::text, 6, '0') end
{%- endmacro %}

{% macro d365_closed_period(data_area_id, day) -%}
{#- true when the day falls in a period of the company that is not open (FiscalPeriods.PeriodStatus). -#}
exists (select 1 from {{ ref('stg_dynamics__fiscal_periods') }} as periods
        where periods.legal_entity_code = {{ data_area_id }} and periods.is_closed
          and {{ day }} between periods.start_date and periods.end_date)
{%- endmacro %}

{% macro d365_line_number(external_id) -%}
{#- the journal line number of a PSA record: its id when numeric, else a stable number drawn from it -#}
case when {{ external_id }} ~ '^[0-9]{1,15}$' then {{ external_id }}::bigint
     else abs(hashtextextended({{ external_id }}, 0)) % 1000000000000000 end
{%- endmacro %}

{% macro d365_block_reason(reason, project_code, employee, category, data_area_id, day, source_reasons) -%}
{#- The hold of a record routed to Dynamics: the source's own reasons (the PSA's, listed first in the NetSuite chain)
    stand; the ERP's (project, worker, category, period) are judged against Dynamics, not NetSuite; the later
    reasons of the chain (on hold, credit hold, data quality) stand as the NetSuite candidate gives them. -#}
case
    when {{ reason }} in ({{ source_reasons }}) then {{ reason }}
    when {{ project_code }} is null then 'engagement_not_in_erp'
    when {{ employee }} is null then 'employee_not_in_erp'
    when {{ category }} is null then 'no_service_item_for_role'
    when {{ d365_closed_period(data_area_id, day) }} then 'closed_period'
    when {{ reason }} not in ('engagement_not_in_erp', 'employee_not_in_erp', 'no_service_item_for_role', 'closed_period')
        then {{ reason }}
end
{%- endmacro %}
