{#- The CTEs an incremental sum of time entries by a group (int_time_engagement_months by engagement and month,
    int_time_resource_weeks by person and week) recomputes from: `changed`, the groups to recompute, and
    `changed_entries`, their entries. A group is recomputed when one of its entries was rewritten since this
    table's last build (every entry int_time_entries writes carries its build's load watermark: new, changed,
    moved into the group), or when it holds fewer entries than the count kept here (an entry deleted or moved out;
    a group that lost and gained one also has a rewritten entry). That count is compared only in a build after an
    entry moved out of its group (int_time_entries._moved) or was deleted. Groups with a null first key are not
    kept, nor (time with no date) groups with a null second key. Emits the CTEs followed by a comma, for the
    model's own to follow. -#}
{% macro changed_time_groups(first_key, second_key) %}
{%- set time_entries = ref('int_time_entries') -%}
{%- set watermark = "(select coalesce(max(_load_watermark), -1) from " ~ this ~ ")" -%}
current_counts as (

    select {{ first_key }}, {{ second_key }}, count(*) as entry_count
    from {{ time_entries }}
    where {{ first_key }} is not null and {{ second_key }} is not null
    group by 1, 2

),

entries_lost as (

    select exists (select 1 from {{ time_entries }} where _moved and _load_watermark > {{ watermark }})
        or exists (select 1 from {{ ref('stg_kantata__deleted_time_entries') }} where load_id > {{ watermark }}) as lost

),

changed as (

    select {{ first_key }}, {{ second_key }} from {{ time_entries }}
    where {{ first_key }} is not null and {{ second_key }} is not null and _load_watermark > {{ watermark }}
    union
    -- groups that lost an entry: counted only when an entry moved or was deleted since this table's last build
    select coalesce(now.{{ first_key }}, before.{{ first_key }}), coalesce(now.{{ second_key }}, before.{{ second_key }})
    from current_counts as now
    full join {{ this }} as before using ({{ first_key }}, {{ second_key }})
    where (select lost from entries_lost) and now.entry_count is distinct from before.entry_count

),

changed_entries as (

    -- each changed group's entries through int_time_entries' index on the two keys: a lookup per group
    select time_entries.*
    from changed
    cross join lateral (
        select * from {{ time_entries }} as entries_of_group
        where entries_of_group.{{ first_key }} = changed.{{ first_key }}
          and entries_of_group.{{ second_key }} = changed.{{ second_key }}
        offset 0  -- kept a lookup: not flattened into a join the planner may turn into a scan of every entry
    ) as time_entries

),
{% endmacro %}
