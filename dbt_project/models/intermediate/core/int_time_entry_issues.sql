-- One row per (data-quality rule broken, PSA time entry): rules 1-6 and 10 of docs/kpis.md on the entries of
-- int_time_entries, whose flags say which rules each entry breaks. int_data_quality_issues adds them to the issues of
-- the other records (and the engagement's customer); they are kept apart because they are the bulk of them and the
-- only ones worth keeping incrementally.
--
-- Incremental (delete+insert by entry): a build recomputes exactly the entries int_time_entries wrote since the last
-- successful build (_load_watermark above that build's: every entry whose flags can have changed, since a flag is
-- only set there) and those the change set (int_time_changes) names, deleted ones included. Each such entry also gets
-- one row with no reason code, so that delete+insert drops the issues it had even when it now breaks no rule or is
-- gone; the post-hook removes those rows. So a full refresh and an incremental build give the same rows (tested in
-- tests/dbt).
-- depends_on: {{ ref('int_time_changes') }}
{{ config(
    materialized='incremental',
    unique_key='source_record_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    indexes=[{'columns': ['source_record_id']}],
    post_hook="delete from {{ this }} where reason_code is null"
) }}

{% set since = last_good_build_watermark() %}

with {% if is_incremental() %}recomputed as (

    -- the entries to recompute: those int_time_entries wrote since the last successful build (through its index on
    -- _load_watermark) and those the change set names (landed or deleted since)
    select psa_time_entry_id from {{ ref('int_time_entries') }} where _load_watermark > {{ since }}
    union
    select psa_time_entry_id from {{ ref('int_time_changes') }} where change_kind = 'entry'

),

{% endif %}time_entries as (

    -- the entries of which a rule applies (the flag is set, and indexed, in int_time_entries)
    {% if is_incremental() -%}
    select entries.* from recomputed
    join {{ ref('int_time_entries') }} as entries using (psa_time_entry_id)
    where entries.breaks_a_data_quality_rule
    {%- else -%}
    select * from {{ ref('int_time_entries') }}
    where breaks_a_data_quality_rule
    {%- endif %}

),

issues as (

    select psa_time_entry_id as source_record_id, reason_code, rule_number, psa_system as source_system,
           {{ psa_object('psa_system', 'time_entries') }} as source_object, engagement_id, amount_at_stake,
           -- numeric, as the rows with no reason code make it: the same column type in a full and incremental build
           currency_code, rate_to_reporting::numeric as rate_to_reporting, since_date, detail
    from time_entries
    cross join lateral (values
        ('time_in_closed_period', 1,
         (is_approved and is_billable and not is_internal and is_period_closed and not is_posted_to_erp)
         or is_entered_after_period_close,
         case when is_billable then hours * bill_rate else 0 end, period_end_date,
         case when is_entered_after_period_close then 'entered after its ERP period closed'
              else 'approved billable time in a closed ERP period, never posted' end),
        ('time_on_inactive_project', 2, is_on_inactive_project,
         case when is_billable then hours * bill_rate else 0 end, work_date, 'time after the end of a ' || project_status || ' project'),
        ('time_after_assignment_end', 2, is_after_assignment_end,
         case when is_billable then hours * bill_rate else 0 end, work_date, 'time after the person''s assignment ended'),
        ('duplicate_time_entry', 3, is_duplicate,
         case when is_billable then hours * bill_rate else 0 end, work_date, 'same person, project, task, day, hours and notes as an earlier entry'),
        ('over_24_hours_in_a_day', 3, is_over_24_hours_day,
         case when is_billable then hours * bill_rate else 0 end, work_date, 'the person''s entries exceed 24 hours that day'),
        ('non_positive_hours', 3, is_non_positive, 0, work_date, 'zero or negative hours'),
        ('zero_rate_on_billable_time', 4, is_zero_rate_billable,
         hours * coalesce(nullif(bill_rate, 0), rate_card_rate, 0), work_date, 'billable time with a zero bill or cost rate'),
        ('bill_rate_differs_from_rate_card', 5, is_rate_off_card,
         abs(hours * (rate_card_rate - bill_rate)), work_date,
         'bill rate ' || bill_rate || ' vs rate card ' || rate_card_rate),
        ('unapproved_time_marked_billed', 6, is_unapproved_marked_billed,
         case when is_billable then hours * bill_rate else 0 end, work_date, 'time marked invoiced before approval'),
        ('time_without_project', 10, is_without_project, hours * coalesce(bill_rate, 0), work_date, 'time on a project that does not exist'),
        ('billable_time_on_non_billable_project', 5, is_billable and is_internal,
         hours * coalesce(bill_rate, 0), work_date, 'billable time on an internal (non-billable) project')
    ) as rules (reason_code, rule_number, applies, amount_at_stake, since_date, detail)
    where applies

)

select * from issues
{% if is_incremental() %}
union all
-- every entry recomputed, with no reason code: delete+insert drops the issues it had (the post-hook, this row)
select psa_time_entry_id, null, null, null, null, null, null, null, null, null, null from recomputed
{% endif %}
