{#- Dynamics 365 Finance outbound helpers: where the hub finds the records of an ERP routed to Dynamics, in the ERP
    role models (what was landed from it) and in what its own syncs created (ledger: the landed id is the natural key joined by '|',
    dataAreaId first, connectors/dynamics.py KEY_SEPARATOR). -#}

{% macro d365_customer_accounts() %}
{#- (crm_account_id, data_area_id, customer_account): the Dynamics customer of a CRM account in each company. -#}
(select crm_account_id, data_area_id, min(customer_account) as customer_account from (
    -- landed: the account's Dynamics customer as matched (its CRM id stamped, or a customer migrated to Dynamics
    -- before the hub, by name and legal entity: updated and stamped, never doubled)
    select erp_matches.crm_account_id, customers.erp_company, split_part(customers.erp_customer_id, '|', 2)
    from {{ ref('int_customer_erp_matches') }} as erp_matches
    join {{ ref('int_erp_customers') }} as customers using (erp_system, erp_customer_id)
    where erp_matches.erp_system = 'dynamics' and erp_matches.crm_account_id is not null
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
    -- a project migrated to Dynamics before the hub, keyed to the engagement by the matching (int_project_keys): updated
    -- and stamped with the opportunity id, never doubled
    select keys.engagement_id, split_part(keys.project_id, '|', 1), split_part(keys.project_id, '|', 2)
    from {{ ref('int_project_keys') }} as keys
    where keys.source_system = 'dynamics' and keys.engagement_id is not null
      and keys.key_status not in ('internal', 'none', 'several', 'several_engagements')
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
{#- true when the day falls in a period the company's ledger has not open (LedgerFiscalPeriods.PeriodStatus): on hold
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

{% macro d365_journal_lines(sync_name, candidates_model, role_model, role_id, netsuite_id, journal_prefix, category,
                            value_columns, category_check, source_reasons, names, joins='', watermark=false) -%}
{#- The candidates of a Dynamics project journal line sync (hour or expense lines): the NetSuite sync's candidates
    (candidates_model) routed to Dynamics and not held by NetSuite, keyed by (dataAreaId, journal, LineNumber):
    one hub journal a company and month (journal_prefix-YYYY-MM), the line numbered by the PSA record's id, so that a
    retry meets the line it made; a line already in Dynamics with the record's id (PshExternalId, in role_model, its
    landed id role_id = dataAreaId|journal|LineNumber) keeps its journal and line number: updated, not doubled.
    names: the entity's own field names (the hour lines' JournalTrans and the expense lines' ExpenseJournalLines name
    them differently; sandbox/dynamics.py gives the sources): journal, project, resource, category, date, currency,
    line_property, text. category: the line's category; value_columns: the line's own figures (hours and price, or
    amount); category_check: what d365_block_reason checks for a category; joins: what those need. watermark: the
    candidates carry _load_watermark (the build that wrote their record), kept so that a cycle's tests read only the
    lines of the records it wrote (macros/test_where.sql, __written_since_last_build__). -#}
with candidates as (

    select * from {{ ref(candidates_model) }} as source_rows
    where source_rows.erp_system = 'dynamics'
      and not {{ d365_held_by_netsuite(sync_name, role_model, 'source_rows.external_id', 'source_rows.' ~ netsuite_id) }}

),

landed as (

    -- the line the record already is in Dynamics (its landed id is dataAreaId|journal|LineNumber)
    select distinct on (external_id, erp_company)
        external_id, erp_company, split_part({{ role_id }}, '|', 2) as journal_number, split_part({{ role_id }}, '|', 3)::bigint as line_number
    from {{ ref(role_model) }}
    where erp_system = 'dynamics' and external_id is not null
    order by external_id, erp_company, {{ role_id }}

)

select
    candidates.external_id,
    candidates.erp_company                                      as "dataAreaId",
    coalesce(landed.journal_number, '{{ journal_prefix }}-' || to_char(candidates."tranDate", 'YYYY-MM')) as "{{ names.journal }}",
    coalesce(landed.line_number, {{ d365_line_number('candidates.external_id') }}) as "LineNumber",
    projects.project_code                                       as "{{ names.project }}",
    {{ d365_worker('candidates.employee') }}                    as "{{ names.resource }}",
    {{ category }}                                              as "{{ names.category }}",
    candidates."tranDate"                                       as "{{ names.date }}",
    {{ value_columns }},
    candidates._currency                                        as "{{ names.currency }}",
    'Chargeable'                                                as "{{ names.line_property }}",
    candidates.memo                                             as "{{ names.text }}",
    candidates.external_id                                      as "PshExternalId",
    landed.journal_number is not null                           as _in_erp,
    candidates._customer,
    candidates._engagement,
    candidates._amount_at_stake,
    candidates._currency,
    {% if watermark %}candidates._load_watermark,{% endif %}
    {{ d365_block_reason('candidates.block_reason_code', 'candidates._hold_reason_code', 'projects.project_code',
                         'candidates.employee', category_check, 'candidates.erp_company', 'candidates."tranDate"',
                         source_reasons) }}
                                                                as block_reason_code
from candidates
left join landed on landed.external_id = candidates.external_id and landed.erp_company = candidates.erp_company
left join {{ d365_project_codes() }} as projects
    on projects.engagement_id = candidates._engagement and projects.data_area_id = candidates.erp_company
{{ joins }}
{%- endmacro %}
