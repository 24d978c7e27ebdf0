-- One row per person and ISO week (Monday start) with PSA time: approved, approved client-billable and logged hours,
-- what resource_utilization_weekly divides by capacity, so that it does not re-read every time entry.
--
-- Incremental (delete+insert by person and week), like int_time_engagement_months: a build recomputes exactly the
-- groups int_time_groups_changed names; a group left empty is removed by the post-hook.
{{ config(
    materialized='incremental',
    unique_key=['psa_user_id', 'work_week'],
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    indexes=[{'columns': ['psa_user_id', 'work_week'], 'unique': True}, {'columns': ['_load_watermark']}],
    post_hook="delete from {{ this }} where entry_count = 0"
) }}

{% set time_entries = ref('int_time_entries') %}

with changed as (

    -- the groups to recompute (an incremental build): macros/changed_time_groups.sql
    {{ changed_time_groups('resource_week') }}

),

entries as (

    -- the entries of those groups (every entry, in a full refresh)
    {{ time_group_entries('resource_week') }}

),

aggregated as (

    select
        psa_user_id,
        work_week,
        count(*)                                                                    as entry_count,
        sum(hours) filter (where is_approved)                                       as approved_hours,
        sum(approved_billable_hours)                                                as approved_billable_hours,
        sum(hours)                                                                  as logged_hours
    from entries
    group by 1, 2

)

select
    {% if is_incremental() %}
    changed.psa_user_id,
    changed.work_week,
    coalesce(aggregated.entry_count, 0)                                 as entry_count,
    aggregated.approved_hours,
    aggregated.approved_billable_hours,
    aggregated.logged_hours,
    {% else %}
    aggregated.*,
    {% endif %}
    (select coalesce(max(_load_watermark), 0) from {{ time_entries }})  as _load_watermark
{% if is_incremental() %}
from changed
left join aggregated using (psa_user_id, work_week)
{% else %}
from aggregated
{% endif %}
