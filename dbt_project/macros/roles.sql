{% macro dynamics_companies() %}
{#- The legal entity of each Dynamics company (dataAreaId), from the erp_routing seed: the one place the ERP role
    models of Dynamics records read it. -#}
(select distinct legal_entity, erp_company from {{ erp_routing() }} as routing where erp_system = 'dynamics')
{%- endmacro %}


{% macro erp_route_join(alias, legal_entity, on_date=none) %}
{#- Left-joins, as `alias`, the period of int_erp_routes a record of `legal_entity` dated `on_date` posts to: the
    period holding the date, else (no date, or `on_date` none: master records) the current one (is_current). An
    entity's periods do not overlap, so at most one row joins. -#}
left join {{ ref('int_erp_routes') }} as {{ alias }}
    on {{ alias }}.legal_entity = {{ legal_entity }}
    {%- if on_date %}
    and case
        when ({{ on_date }}) is null then {{ alias }}.is_current
        else coalesce({{ alias }}.posts_from <= ({{ on_date }}), true) and coalesce(({{ on_date }}) < {{ alias }}.posts_until, true)
    end
    {%- else %}
    and {{ alias }}.is_current
    {%- endif %}
{%- endmacro %}


{% macro erp_route_columns(alias, netsuite_company, held_system='null::text', held_company='null::text') %}
{#- erp_system, erp_company of a sync candidate. erp_system: the ERP that already holds the record (held_system: a
    record posted before its entity's cut-over stays there), else the route joined by erp_route_join as `alias`, else
    NetSuite, the hub's first ERP (a record of no or an unknown legal entity, which its sync blocks). erp_company: in
    NetSuite the subsidiary the sync pushes (netsuite_company, seed legal_entities); in Dynamics 365 Finance the
    company (dataAreaId) holding the record, else the route's. -#}
    coalesce({{ held_system }}, {{ alias }}.erp_system, 'netsuite')    as erp_system,
    case
        when coalesce({{ held_system }}, {{ alias }}.erp_system, 'netsuite') = 'netsuite' then ({{ netsuite_company }})::text
        when {{ held_system }} is not null
            then coalesce({{ held_company }}, case when {{ alias }}.erp_system = {{ held_system }} then {{ alias }}.erp_company end)
        else {{ alias }}.erp_company
    end                                                         as erp_company
{%- endmacro %}


{% macro role_union(system_column, columns, parts) %}
{#- A role model's rows: each system's staging model under the system's name (`system_column`), the role's columns
    named once (`columns`, in order). parts: [system, staging model] pairs, in the order the rows are unioned. -#}
{%- for system, model in parts %}
{% if not loop.first %}union all
{% endif %}select '{{ system }}' as {{ system_column }}, {{ columns | join(', ') }}
from {{ ref(model) }}
{%- endfor %}
{%- endmacro %}
