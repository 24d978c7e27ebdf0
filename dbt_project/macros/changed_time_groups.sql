{#- How the time sums (int_time_engagement_months, int_time_resource_weeks) find what to recompute: one lookup for
    both. A kind of group and its keys are named here once; which groups changed is decided in
    int_time_groups_changed (from the change set, int_time_changes), never in the sums themselves. -#}

{% macro time_group_keys(group_kind) -%}
    {%- set keys = {'engagement_month': ['engagement_id', 'work_month'],
                    'resource_week': ['psa_user_id', 'work_week']} -%}
    {%- if group_kind not in keys -%}
        {{ exceptions.raise_compiler_error("unknown kind of time group: " ~ group_kind) }}
    {%- endif -%}
    {{ return(keys[group_kind]) }}
{%- endmacro %}

{#- The groups of this kind to recompute: int_time_groups_changed's rows of that kind (none in a full refresh). -#}
{% macro changed_time_groups(group_kind) -%}
    select {{ time_group_keys(group_kind) | join(', ') }} from {{ ref('int_time_groups_changed') }}
    where group_kind = '{{ group_kind }}'
{%- endmacro %}

{#- The time entries (int_time_entries' rows) a sum of this kind aggregates: in an incremental build those of the
    changed groups, each group's through int_time_entries' index on its keys (a lookup per group); in a full refresh
    every entry whose keys are set (a sum has no group with a null key). -#}
{% macro time_group_entries(group_kind) -%}
    {%- set keys = time_group_keys(group_kind) -%}
    {%- if is_incremental() %}
    select time_entries.*
    from ({{ changed_time_groups(group_kind) }}) as changed
    cross join lateral (
        select * from {{ ref('int_time_entries') }} as entries_of_group
        where {% for key in keys %}entries_of_group.{{ key }} = changed.{{ key }}{% if not loop.last %} and {% endif %}{% endfor %}
        offset 0  -- kept a lookup: not flattened into a join the planner may turn into a scan of every entry
    ) as time_entries
    {%- else %}
    select * from {{ ref('int_time_entries') }}
    where {% for key in keys %}{{ key }} is not null{% if not loop.last %} and {% endif %}{% endfor %}
    {%- endif %}
{%- endmacro %}
