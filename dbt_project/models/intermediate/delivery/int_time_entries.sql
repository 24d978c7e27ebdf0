-- One row per PSA time entry: hours, values at bill and cost rate (contract and reporting currency), the
-- engagement, whether and how it reached the ERP, and the data-quality rules (docs/kpis.md 1-6) it breaks.
--
-- Incremental (delete+insert by entry id): a build recomputes the (person, day) groups the change set
-- (int_time_changes: every input landed since the last successful build) reaches, whole, because day totals,
-- duplicates and time-bill matching look at the whole day:
--   entry      its day now and the day it had here
--   time_bill  the day of each entry whose pair in int_time_bill_matches (built before this model) is not the one it
--              has here: paired by a bill that model rewrote since, or paired here with a bill landed, deleted or
--              rewritten since that pairs with it no more. A bill landed again as it was (billed now) names no day
--   project    every day of the project's entries here (for custom field values alone: when they make it internal or
--              not)
--   person     every day of the person's entries here (for an ERP employee, of the person it was matched to here too)
--   period     every day here inside the period (of any ERP or company: a NetSuite period or a Dynamics company's)
-- Entries deleted since that build are removed (post-hook; found through the raw table's load-id index). Each
-- rewritten row keeps the groups it had at that build (_*_before), so that the time sums (int_time_groups_changed)
-- recount the groups an entry left. The table is vacuumed after each build (it only visits the pages the build
-- changed): the models that count its rows by group then read its indexes alone. So a full refresh and an
-- incremental build give the same rows (tested in tests/dbt, for every kind of input).
-- depends_on: {{ ref('int_time_changes') }}
{{ config(
    materialized='incremental',
    unique_key='psa_time_entry_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    indexes=[{'columns': ['psa_time_entry_id'], 'unique': True}, {'columns': ['engagement_id', 'work_month']},
             {'columns': ['psa_user_id', 'work_week']}, {'columns': ['psa_project_id', 'engagement_id', 'erp_project_id']},
             {'columns': ['erp_time_bill_id']}, {'columns': ['breaks_a_data_quality_rule']}, {'columns': ['_load_watermark']}],
    post_hook=[
        "delete from {{ this }} where psa_time_entry_id in (select psa_time_entry_id from {{ ref('int_psa_deleted_time_entries') }} where {{ landed_since_last_build() }})",
        after_commit("vacuum {{ this }}")
    ]
) }}

with all_entries as (

    select * from {{ ref('int_psa_time_entries') }}

),

{% if is_incremental() %}
changes as (

    select * from {{ ref('int_time_changes') }}

),

days as (

    -- one branch per kind of key, each through an index of this table (by entry, time bill, project, person)
    select psa_user_id, work_date from changes where change_kind = 'entry'
    union
    select psa_user_id, work_date from {{ this }}
    where psa_time_entry_id = any(array(select psa_time_entry_id from changes where change_kind = 'entry'))
    union
    -- time bills: an entry reads of them only its pair in int_time_bill_matches (built before this model, in this
    -- build), which rewrites every bill whose pair can have changed. So the entries whose pair is not the one held
    -- here: paired by a bill it rewrote since the last successful build (its index on _load_watermark) otherwise
    -- than here...
    select held.psa_user_id, held.work_date
    from {{ ref('int_time_bill_matches') }} as matches
    join {{ this }} as held on held.psa_time_entry_id = matches.psa_time_entry_id
    where matches._load_watermark > {{ last_good_build_watermark() }} and matches._load_watermark <= {{ load_watermark() }}
      and (held.erp_time_bill_id, held.erp_posting_match, held.erp_posting_system, held.erp_posting_company,
           held.posted_at)
          is distinct from (matches.erp_time_bill_id, matches.match_method, matches.erp_system, matches.erp_company,
                            matches.created_at)
    union
    -- ... and paired here with a bill landed, deleted or rewritten since that pairs with them no more. A bill landed
    -- again as it was (a billing run marks thousands billed) names no day
    select held.psa_user_id, held.work_date
    from {{ this }} as held
    left join {{ ref('int_time_bill_matches') }} as matches on matches.erp_time_bill_id = held.erp_time_bill_id
    where held.erp_time_bill_id = any(array(
            select erp_time_bill_id from changes where change_kind = 'time_bill'
            union all
            select erp_time_bill_id from {{ ref('int_time_bill_matches') }}
            where _load_watermark > {{ last_good_build_watermark() }} and _load_watermark <= {{ load_watermark() }}))
      and matches.psa_time_entry_id is distinct from held.psa_time_entry_id
    union
    select psa_user_id, work_date from {{ this }}
    where psa_project_id = any(array(select psa_project_id from changes
                                     where change_kind = 'project' and changed_input <> 'kantata.custom_field_values'))
    union
    -- a project whose custom field values landed: of those, this model reads only what makes a project internal (the
    -- Client; the deal id reaches it as a key change, from the snapshot), so only a project whose entries here are not
    -- as internal as it is now. Its entries here all say the same (every change of it recomputed them all): one is
    -- looked up (the index by project). The hub writes its projects' custom fields (credit holds, the deal's fields):
    -- thousands of values come back after a first cycle, and change nothing here
    select psa_user_id, work_date from {{ this }}
    where psa_project_id = any(array(
        select changes.psa_project_id
        from changes
        left join {{ ref('int_psa_projects') }} as projects using (psa_project_id)
        where changes.change_kind = 'project' and changes.changed_input = 'kantata.custom_field_values'
          and (select previous.is_internal from {{ this }} as previous
               where previous.psa_project_id = changes.psa_project_id limit 1)
              is distinct from coalesce(projects.is_internal, false)))
    union
    select psa_user_id, work_date from {{ this }}
    where psa_user_id = any(array(select psa_user_id from changes where change_kind = 'person'))
    union
    -- ... and the person an ERP employee that landed was matched to here: one that no longer matches anyone names no
    -- person in the change set (a scan of this table, only when an ERP employee landed)
    select psa_user_id, work_date from {{ this }}
    where erp_employee_id = any(array(select erp_employee_id from changes where change_kind = 'person'))
      and exists (select 1 from changes where change_kind = 'person' and erp_employee_id is not null)
    union
    -- every day inside a changed period: one scan of this table joined to the few periods, and none without a
    -- changed period (the `exists` is evaluated once). Not a correlated `exists` per row: that re-read the whole
    -- change set once per entry here (a billion rows read when a period closed)
    select previous.psa_user_id, previous.work_date
    from {{ this }} as previous
    join (select period_start_date, period_end_date from changes where change_kind = 'period') as periods
        on previous.work_date between periods.period_start_date and periods.period_end_date
    where exists (select 1 from changes where change_kind = 'period')

),

entries as (

    -- whole (person, day) groups. Each of their entries is in this table or landed since: they are read by id (an
    -- index scan of the raw table's primary key), not found by parsing every entry.
    select all_entries.*
    from {{ ref('int_psa_time_entries') }} as all_entries
    join days using (psa_user_id, work_date)
    where all_entries.psa_time_entry_id = any(array(
        select previous.psa_time_entry_id from {{ this }} as previous
        where (previous.psa_user_id, previous.work_date) in (select psa_user_id, work_date from days)
        union all
        select psa_time_entry_id from changes where change_kind = 'entry'))
    union all
    -- an entry with no date or no person is in no (person, day) group: read when it lands (a sync holds it)
    select landed.*
    from {{ ref('int_psa_time_entries') }} as landed
    where landed.psa_time_entry_id = any(array(
        select psa_time_entry_id from changes where change_kind = 'entry' and (work_date is null or psa_user_id is null)))
      and (landed.work_date is null or landed.psa_user_id is null)

),
{% else %}
entries as (

    select * from all_entries

),
{% endif %}

projects as (

    select * from {{ ref('int_psa_projects') }}

),

assignments as (

    select psa_project_id, psa_user_id, min(start_date) as assignment_start, max(end_date) as assignment_end
    from {{ ref('int_psa_project_resources') }}
    group by 1, 2

),

rate_cards as (

    select psa_rate_card_id, psa_role_id, bill_rate as rate_card_rate
    from {{ ref('int_psa_rate_card_roles') }}

),

posted as (

    -- at most one time bill per entry (tested unique on int_time_bill_matches); an index lookup per entry
    select psa_time_entry_id, erp_time_bill_id, erp_system, erp_company, match_method, erp_project_id, created_at
    from {{ ref('int_time_bill_matches') }}
    where psa_time_entry_id is not null

),

day_periods as (

    -- the accounting periods of each day worked, one per ERP and company (NetSuite's calendar, each Dynamics
    -- company's): the range join on the few distinct days (hundreds), then an equi-join by day. Joined by range to
    -- every entry, it compared each entry with every period (55 million comparisons at medium scale, several seconds
    -- of a full build)
    select days.work_date, periods.erp_system, periods.erp_company, periods.erp_accounting_period_id, periods.is_closed,
           periods.end_date, periods.closed_on_date
    from (select distinct work_date from entries) as days
    join {{ ref('int_accounting_periods') }} as periods
        on days.work_date between periods.start_date and periods.end_date

),

day_totals as (

    select psa_user_id, work_date, sum(minutes) as day_minutes
    from entries
    group by 1, 2

),

duplicates as (

    select
        psa_time_entry_id,
        row_number() over (
            partition by psa_user_id, psa_project_id, psa_story_id, work_date, minutes, is_billable, bill_rate, notes
            order by length(psa_time_entry_id), psa_time_entry_id
        ) > 1                                                   as is_duplicate  -- the later id is the copy
    from entries

),

enriched as (

    select
        entries.psa_time_entry_id,
        entries.psa_system,
        entries.psa_project_id,
        project_keys.engagement_id,
        engagements.erp_project_id,
        entries.psa_user_id,
        resources.erp_employee_id,
        entries.psa_role_id,
        roles.role_name,
        entries.notes,
        entries.work_date,
        date_trunc('week', entries.work_date)::date             as work_week,
        date_trunc('month', entries.work_date)::date            as work_month,
        entries.minutes,
        round(entries.minutes / 60.0, 2)                        as hours,
        entries.bill_rate,
        entries.cost_rate,
        rate_cards.rate_card_rate,
        entries.currency_code,
        coalesce(entries.is_billable, false)                    as is_billable,
        coalesce(entries.is_approved, false)                    as is_approved,
        coalesce(entries.is_invoiced, false)                    as is_invoiced,
        coalesce(projects.is_internal, false)                   as is_internal,
        projects.canonical_status                               as project_status,
        projects.psa_project_id is null                         as is_without_project,
        periods.erp_accounting_period_id,
        coalesce(periods.is_closed, false)                      as is_period_closed,
        periods.end_date                                        as period_end_date,
        -- entered after its period closed: it cannot be posted there any more (rule 1)
        (coalesce(periods.is_closed, false) and entries.created_at::date > periods.closed_on_date)
                                                                as is_entered_after_period_close,
        posted.erp_time_bill_id,
        posted.match_method                                     as erp_posting_match,
        posted.erp_system                                       as erp_posting_system,
        posted.erp_company                                      as erp_posting_company,
        posted.created_at                                       as posted_at,
        rates.rate_to_reporting,
        -- data-quality rules
        (projects.canonical_status in ('completed', 'closed') and entries.work_date > projects.due_date)
                                                                as is_on_inactive_project,
        (assignments.assignment_end is not null and entries.work_date > assignments.assignment_end)
                                                                as is_after_assignment_end,
        duplicates.is_duplicate,
        (day_totals.day_minutes > 24 * 60)                      as is_over_24_hours_day,
        (entries.minutes <= 0)                                  as is_non_positive,
        (coalesce(entries.is_billable, false) and (coalesce(entries.bill_rate, 0) = 0 or coalesce(entries.cost_rate, 0) = 0))
                                                                as is_zero_rate_billable,
        (coalesce(entries.is_billable, false) and entries.bill_rate > 0 and rate_cards.rate_card_rate is not null
            and entries.bill_rate <> rate_cards.rate_card_rate) as is_rate_off_card,
        (not coalesce(entries.is_approved, false) and coalesce(entries.is_invoiced, false))
                                                                as is_unapproved_marked_billed,
        entries.created_at,
        entries.updated_at,
        entries.landed_at,
        entries.load_id
    from entries
    left join projects using (psa_project_id)
    left join {{ ref('int_project_keys') }} as project_keys
        on project_keys.source_system in {{ psa_systems() }} and project_keys.project_id = entries.psa_project_id
    left join {{ ref('int_engagements_keyed') }} as engagements on engagements.engagement_id = project_keys.engagement_id
    left join {{ ref('int_resources_matched') }} as resources on resources.psa_user_id = entries.psa_user_id
    left join {{ ref('int_psa_roles') }} as roles on roles.psa_role_id = entries.psa_role_id
    left join rate_cards on rate_cards.psa_rate_card_id = projects.psa_rate_card_id and rate_cards.psa_role_id = entries.psa_role_id
    left join assignments on assignments.psa_project_id = entries.psa_project_id and assignments.psa_user_id = entries.psa_user_id
    left join posted using (psa_time_entry_id)
    -- the period of the ERP and company the entry is posted to, else of the one its entity posts to on its day (by day:
    -- day_periods)
    {{ posting_period_join('periods', 'project_keys.engagement_id', 'entries.work_date', 'posted.erp_system',
                           'posted.erp_company', day_periods='day_periods') }}
    left join day_totals on day_totals.psa_user_id = entries.psa_user_id and day_totals.work_date = entries.work_date
    left join duplicates using (psa_time_entry_id)
    left join {{ ref('int_exchange_rates_daily') }} as rates
        on rates.currency_code = entries.currency_code and rates.calendar_date = entries.work_date

),

before as (

    -- the groups each entry was in at the last successful build: its row here then, or, when a build since (one
    -- that then failed) rewrote it, what that build kept. The time sums recount them when it moved out.
    -- Read through the final left join by id (inlined: one index lookup per entry, or one hash join), never
    -- `where id in (select ... from entries)`: the planner cannot tell how many entries the change set names (a
    -- period close names a month of them) and, taking them for a few dozen, re-ran that semi-join over every entry
    -- once per entry (430 s for 53,586 entries in bench/transform.py).
    {% if is_incremental() %}
    select
        psa_time_entry_id,
        case when _load_watermark > {{ last_good_build_watermark() }} then _engagement_id_before else engagement_id end
                                                                as _engagement_id_before,
        case when _load_watermark > {{ last_good_build_watermark() }} then _work_month_before else work_month end
                                                                as _work_month_before,
        case when _load_watermark > {{ last_good_build_watermark() }} then _psa_user_id_before else psa_user_id end
                                                                as _psa_user_id_before,
        case when _load_watermark > {{ last_good_build_watermark() }} then _work_week_before else work_week end
                                                                as _work_week_before
    from {{ this }}
    {% else %}
    -- a full refresh: no entry was anywhere before
    select null::text as psa_time_entry_id, null::text as _engagement_id_before, null::date as _work_month_before,
           null::text as _psa_user_id_before, null::date as _work_week_before
    where false
    {% endif %}

)

select
    enriched.*,
    -- approved billable client work (internal projects are never billable work): its hours, and at the entry's bill
    -- rate what T&M revenue and "delivered" count. Every sum of approved billable hours sums this column.
    case when is_approved and is_billable and not is_internal then hours else 0 end as approved_billable_hours,
    case when is_approved and is_billable and not is_internal then hours * bill_rate else 0 end as approved_bill_value,
    case when is_approved then hours * cost_rate else 0 end as approved_cost_value,
    case when is_approved and is_billable and not is_internal then hours * coalesce(rate_card_rate, bill_rate) else 0 end
                                                                as approved_standard_value,
    erp_time_bill_id is not null                                as is_posted_to_erp,
    -- some rule of int_data_quality_issues applies (indexed: it reads these few entries, not all of them)
    coalesce(is_on_inactive_project or is_after_assignment_end or is_duplicate or is_over_24_hours_day
       or is_non_positive or is_zero_rate_billable or is_rate_off_card or is_unapproved_marked_billed
       or is_without_project
       or (is_approved and is_billable and not is_internal and is_period_closed and erp_time_bill_id is null)
       or is_entered_after_period_close
       or (is_billable and is_internal), false)                as breaks_a_data_quality_rule,
    before._engagement_id_before,
    before._work_month_before,
    before._psa_user_id_before,
    before._work_week_before,
    {{ load_watermark() }}                                      as _load_watermark
from enriched
left join before using (psa_time_entry_id)
