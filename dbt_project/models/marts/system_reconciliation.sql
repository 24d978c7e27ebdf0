-- One row per measure compared across the three systems (what the report's reconciliation table shows): the CRM's,
-- the ERP's and the PSA's figure side by side (null where a system has none). The raw-to-mart reconciliations that
-- fail a build are tests (tests/reconciliation/); these are for a person to read, not a rule that fails.
-- erp_system 'all': the ERPs together (what the report shows); netsuite, dynamics: each ERP's figure of the measures
-- the ERPs hold (projects, customers, billable hours), the CRM's and the PSA's left empty there.
-- A view: read when the report is made, so that no cycle pays for counting every time entry and time bill.
{{ config(materialized='view') }}

with measures as (

    select 1 as measure_order, 'all'::text as erp_system, 'Engagements: won deals / ERP projects / PSA projects' as measure, 'count' as unit,
           (select count(*) from {{ ref('int_crm_opportunities') }} where is_won)::numeric as crm_value,
           (select count(*) from {{ ref('int_erp_projects') }} where not is_inactive)::numeric as erp_value,
           (select count(*) from {{ ref('int_psa_projects') }})::numeric as psa_value
    union all
    select 2, 'all', 'Engagements keyed in each system (marts.engagements)', 'count',
           count(*), count(erp_project_id), count(psa_project_id)
    from {{ ref('engagements') }}
    union all
    select 3, 'all', 'Customers: accounts with a won deal / ERP customers', 'count',
           (select count(distinct crm_account_id) from {{ ref('engagements') }}),
           (select count(*) from {{ ref('int_erp_customers') }} where not is_inactive),
           null
    union all
    select 4, 'all', 'Approved billable client hours: PSA time / ERP billable time bills', 'hours',
           null,
           (select round(sum(hours), 1) from {{ ref('int_time_bills') }} where is_billable),
           (select round(sum(approved_billable_hours), 1) from {{ ref('int_time_entries') }})
    union all
    select 5, 'all', 'Sold vs billed (reporting currency): CRM sold / ERP billed', 'money',
           round(sum(sold_amount_reporting), 0), round(sum(billed_amount_reporting), 0), null
    from {{ ref('engagements') }}

),

per_erp as (

    select 1 as measure_order, erp_system, count(*) filter (where not is_inactive)::numeric as erp_value
    from {{ ref('int_erp_projects') }} group by 2
    union all
    select 3, erp_system, count(*) filter (where not is_inactive) from {{ ref('int_erp_customers') }} group by 2
    union all
    select 4, erp_system, round(sum(hours) filter (where is_billable), 1) from {{ ref('int_time_bills') }} group by 2

)

select * from measures
union all
select per_erp.measure_order, per_erp.erp_system, measures.measure, measures.unit, null, per_erp.erp_value, null
from per_erp
join measures on measures.measure_order = per_erp.measure_order
