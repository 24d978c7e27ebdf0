{#- Data tests on the big staging views (time entries, time bills) check, in an incremental build, only the rows
    landed since the last build: their config says `where: "__landed_since_last_build__"`. A full refresh checks
    every row. The last build is the load-id watermark of int_time_entries, which these views' tests always run
    before (it is downstream of them); with no such table yet, every row is checked. Their ids are the raw
    tables' primary keys, so a duplicate cannot span old and new rows.
    Overrides dbt's get_where_subquery, as dbt documents for placeholders in `where`. -#}
{#- Data tests on the big incremental models (int_time_entries, int_time_bill_matches) check, in an incremental build,
    only the rows this build wrote: `where: "__written_by_this_build__"` (the rows stamped with the newest load
    watermark). The other rows were checked by the build that wrote them. Their unique columns have unique indexes
    as well, so a duplicate of an older row cannot be written at all. A full refresh checks every row. -#}
{% macro get_where_subquery(relation) -%}
    {% set where = config.get('where') %}
    {% if where and '__landed_since_last_build__' in where %}
        {% set where = where | replace('__landed_since_last_build__', landed_since_last_build()) %}
    {% endif %}
    {% if where and '__written_by_this_build__' in where %}
        {% set where = where | replace('__written_by_this_build__', written_by_this_build(relation)) %}
    {% endif %}
    {% if where %}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {% do return(filtered) %}
    {%- else -%}
        {% do return(relation) %}
    {%- endif -%}
{%- endmacro %}

{% macro landed_since_last_build() -%}
    {%- set last_build = adapter.get_relation(database=target.database, schema='intermediate',
                                              identifier='int_time_entries') if execute else none -%}
    {%- if flags.FULL_REFRESH or last_build is none -%}
        true
    {%- else -%}
        load_id > (select coalesce(max(_load_watermark), -1) from {{ last_build }})
    {%- endif -%}
{%- endmacro %}

{% macro written_by_this_build(relation) -%}
    {%- if flags.FULL_REFRESH -%}
        true
    {%- else -%}
        _load_watermark >= (select max(_load_watermark) from {{ relation }})
    {%- endif -%}
{%- endmacro %}
