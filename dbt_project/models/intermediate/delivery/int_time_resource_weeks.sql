-- One row per person and ISO week (Monday start) with PSA time: approved, approved client-billable and logged hours,
-- what resource_utilization_weekly divides by capacity, so that it does not re-read every time entry.
--
-- Incremental (delete+insert by person and week), kept the way int_time_engagement_months is: a group is
-- recomputed from its entries when one of them was reprocessed since this table's last build, or when it holds
-- fewer entries than the count kept here (deleted or moved out); a group left empty is removed by the post-hook.
-- depends_on: {{ ref('stg_kantata__deleted_time_entries') }}
{{ config(
    materialized='incremental',
    unique_key=['psa_user_id', 'work_week'],
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    indexes=[{'columns': ['psa_user_id', 'work_week'], 'unique': True}, {'columns': ['_load_watermark']}],
    post_hook="delete from {{ this }} where entry_count = 0"
) }}

{% set time_entries = ref('int_time_entries') %}

{% if is_incremental() %}
with current_counts as (

    select psa_user_id, work_week, count(*) as entry_count
    from {{ time_entries }}
    where psa_user_id is not null
    group by 1, 2

),

entries_lost as (

    select exists (select 1 from {{ time_entries }}
                   where _moved and _load_watermark > (select coalesce(max(_load_watermark), -1) from {{ this }}))
        or exists (select 1 from {{ ref('stg_kantata__deleted_time_entries') }}
                   where load_id > (select coalesce(max(_load_watermark), -1) from {{ this }})) as lost

),

changed as (

    select psa_user_id, work_week from {{ time_entries }}
    where psa_user_id is not null
      and _load_watermark > (select coalesce(max(_load_watermark), -1) from {{ this }})
    union
    -- groups that lost an entry: counted only when an entry moved or was deleted since this table's last build
    select coalesce(now.psa_user_id, before.psa_user_id), coalesce(now.work_week, before.work_week)
    from current_counts as now
    full join {{ this }} as before using (psa_user_id, work_week)
    where (select lost from entries_lost) and now.entry_count is distinct from before.entry_count

),

entries as (

    -- each changed group's entries through the (person, week) index: a lookup per group, not a join over them all
    select time_entries.*
    from changed
    cross join lateral (
        select * from {{ time_entries }} as entries_of_group
        where entries_of_group.psa_user_id = changed.psa_user_id and entries_of_group.work_week = changed.work_week
        offset 0  -- kept a lookup: not flattened into a join the planner may turn into a scan of every entry
    ) as time_entries

),

aggregated as (
{% else %}
with aggregated as (
{% endif %}

    select
        psa_user_id,
        work_week,
        count(*)                                                                    as entry_count,
        sum(hours) filter (where is_approved)                                       as approved_hours,
        sum(hours) filter (where is_approved and is_billable and not is_internal)   as approved_billable_hours,
        sum(hours)                                                                  as logged_hours
    {% if is_incremental() %}
    from entries
    {% else %}
    from {{ time_entries }}
    where psa_user_id is not null
    {% endif %}
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
