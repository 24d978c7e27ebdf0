-- The change set of the time models: one row per key an input touched since the last successful build (ops.dbt_builds,
-- macro last_good_build_watermark: every load above its load watermark landed since, or was still running then).
-- int_time_bill_matches, int_time_entries and, through int_time_groups_changed, the time sums recompute exactly the
-- groups these keys name, and nothing else. Everything is measured against that one watermark, so a build that
-- failed part-way is simply covered again by the next one.
--
-- Adding an input to a time model = adding its branch here (one `union all` per input, each read through the raw
-- table's load-id index), saying which key it touches:
--   entry      a PSA time entry landed (new, changed) or deleted: its person and day (for a deleted one, as last landed)
--   time_bill  an ERP time bill landed or deleted: its employee and day (the employee's PSA user)
--   project    a PSA project whose workspace, custom fields, resources or rate card landed, or whose engagement
--              (or its engagement's ERP project) changed (project_keys_snapshot; not its key status alone)
--   erp_project an ERP project whose engagement (or its engagement's ERP project) changed (project_keys_snapshot)
--   person     a PSA user or its ERP employee landed
--   period     an ERP accounting period landed (closing or reopening it): NetSuite's, or a Dynamics company's
-- What a key means for each model (which of its rows it recomputes) is said in that model.
-- depends_on: {{ ref('int_psa_deleted_time_entries') }}
-- depends_on: {{ ref('stg_netsuite__deleted_time_bills') }}
-- depends_on: {{ ref('stg_dynamics__deleted_hour_journal_lines') }}
-- Analyzed after each build: kept in place (macros/materializations.sql), a table keeps the statistics of its first
-- build, and this one holds nothing after a full refresh and tens of thousands of keys after a catch-up; planned as
-- empty, the time models' change-set joins ran as nested loops (45 s instead of 0.7 s in int_time_bill_matches).
{{ config(materialized='table', post_hook="analyze {{ this }}") }}

{% set since = last_good_build_watermark() %}
{% set keys_changed_since = last_good_build_finished_at() %}

with key_versions as (

    -- the snapshot's rows opened or closed since that build (a scan of its few rows per project): the version current
    -- then (opened before, closed since) and the one current now (opened since); a project added has no version then,
    -- one gone has none now
    select source_system, project_id, engagement_id, engagement_erp_project_id,
           dbt_valid_from <= {{ keys_changed_since }} as is_then, dbt_valid_to is null as is_now
    from {{ ref('project_keys_snapshot') }}
    where dbt_valid_from > {{ keys_changed_since }} or dbt_valid_to > {{ keys_changed_since }}

),

project_keys_changed as (

    select
        source_system,
        project_id,
        then_.engagement_id is distinct from now_.engagement_id                         as engagement_changed,
        then_.engagement_erp_project_id is distinct from now_.engagement_erp_project_id
            or then_.project_id is null or now_.project_id is null                      as project_changed
    from (select * from key_versions where is_then) as then_
    full join (select * from key_versions where is_now) as now_ using (source_system, project_id)

),

changes as (

    select 'entry' as change_kind, psa_system || '.time_entries' as changed_input,
           psa_time_entry_id, null as erp_time_bill_id, psa_user_id, null as erp_employee_id, work_date,
           psa_project_id, null as erp_project_id, null::date as period_start_date, null::date as period_end_date
    from {{ ref('int_psa_time_entries') }}
    where load_id > {{ since }}

    union all
    select 'entry', psa_system || '.time_entries (deleted)',
           psa_time_entry_id, null, psa_user_id, null, work_date, psa_project_id, null, null, null
    from {{ ref('int_psa_deleted_time_entries') }}
    where load_id > {{ since }}

    union all
    select 'time_bill',
           case time_bills.erp_system when 'netsuite' then 'netsuite.timebill' else 'dynamics.journaltrans' end,
           null, time_bills.erp_time_bill_id, resources.psa_user_id, time_bills.erp_employee_id,
           time_bills.work_date, null, time_bills.erp_project_id, null, null
    from {{ ref('int_time_bills') }} as time_bills
    left join {{ ref('int_resources_matched') }} as resources using (erp_employee_id)
    where time_bills.load_id > {{ since }}

    union all
    select 'time_bill', 'netsuite.timebill (deleted)',
           null, erp_time_bill_id, null, null, null, null, null, null, null
    from {{ ref('stg_netsuite__deleted_time_bills') }}
    where load_id > {{ since }}

    union all
    select 'time_bill', 'dynamics.journaltrans (deleted)',
           null, erp_hour_line_id, null, null, null, null, null, null, null
    from {{ ref('stg_dynamics__deleted_hour_journal_lines') }}
    where load_id > {{ since }}

    union all
    select 'project', 'kantata.workspaces', null, null, null, null, null, psa_project_id, null, null, null
    from {{ ref('stg_kantata__workspaces') }}
    where load_id > {{ since }}

    union all
    select 'project', 'kantata.custom_field_values', null, null, null, null, null, subject_id, null, null, null
    from {{ ref('stg_kantata__custom_field_values') }}
    where load_id > {{ since }}

    union all
    select 'project', psa_system || '.project_resources', null, null, null, null, null, psa_project_id, null, null, null
    from {{ ref('int_psa_project_resources') }}
    where load_id > {{ since }}

    union all
    select 'project', 'certinia.pse__proj__c', null, null, null, null, null, psa_project_id, null, null, null
    from {{ ref('stg_certinia__projects') }}
    where load_id > {{ since }}

    union all
    select 'project', 'kantata.rate_card_roles', null, null, null, null, null, projects.psa_project_id, null, null, null
    from {{ ref('int_psa_projects') }} as projects
    join {{ ref('int_psa_rate_card_roles') }} as rates using (psa_rate_card_id)
    where rates.load_id > {{ since }}

    union all
    -- a key that changed, was added or went away since, in what the time models read of it: its engagement (both
    -- models: 'int_project_keys'), or a PSA project's engagement's ERP project, or the PSA project itself came or went
    -- (int_time_entries alone: int_time_bill_matches pairs only time with an engagement, so for it a project without
    -- one and no project are the same). A version whose key status alone changed (a project the hub stamped with the
    -- deal's id keeps its engagement) changes no row of the time models, and names nothing.
    select case when source_system in {{ psa_systems() }} then 'project' else 'erp_project' end,
           case when engagement_changed then 'int_project_keys' else 'int_project_keys (not its engagement)' end,
           null, null, null, null, null,
           case when source_system in {{ psa_systems() }} then project_id end,
           case when source_system not in {{ psa_systems() }} then project_id end,
           null, null
    from project_keys_changed
    where engagement_changed or (project_changed and source_system in {{ psa_systems() }})

    union all
    select 'person', psa_system || '.users', null, null, psa_user_id, null, null, null, null, null, null
    from {{ ref('int_psa_users') }}
    where load_id > {{ since }}

    union all
    select 'person', 'netsuite.employee', null, null, resources.psa_user_id, employees.erp_employee_id, null, null, null, null, null
    from {{ ref('stg_netsuite__employees') }} as employees
    left join {{ ref('int_resources_matched') }} as resources using (erp_employee_id)
    where employees.load_id > {{ since }}

    union all
    select 'period', 'netsuite.accountingperiod', null, null, null, null, null, null, null, start_date, end_date
    from {{ ref('stg_netsuite__accounting_periods') }}
    where load_id > {{ since }}

    union all
    -- a Dynamics 365 Finance ledger's period (its status changed) or a calendar period (its dates): the days it
    -- holds, whatever the company
    select 'period', 'dynamics.ledgerfiscalperiods', null, null, null, null, null, null, null, calendar.start_date,
           calendar.end_date
    from {{ ref('stg_dynamics__ledger_fiscal_periods') }} as ledger
    join {{ ref('stg_dynamics__fiscal_periods') }} as calendar
        on calendar.fiscal_calendar = ledger.fiscal_calendar and calendar.fiscal_year = ledger.fiscal_year
       and calendar.period_name = ledger.period_name
    where ledger.load_id > {{ since }} or calendar.load_id > {{ since }}

)

select distinct * from changes
-- a full refresh recomputes everything: it names nothing (with no successful build on record, every row would be new)
{% if flags.FULL_REFRESH %}where false{% endif %}
