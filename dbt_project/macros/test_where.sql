{#- Data tests on the big staging views (time entries, time bills) check, in an incremental build, only the rows
    landed since the last build: their config says `where: "__landed_since_last_build__"`. A full refresh checks
    every row. The last build is the load-id watermark of int_time_entries, which these views' tests always run
    before (it is downstream of them); with no such table yet, every row is checked. Their ids are the raw
    tables' primary keys, so a duplicate cannot span old and new rows.
    Overrides dbt's get_where_subquery, as dbt documents for placeholders in `where`. -#}
{% macro get_where_subquery(relation) -%}
    {% set where = config.get('where') %}
    {% if where and '__landed_since_last_build__' in where %}
        {% set where = where | replace('__landed_since_last_build__', landed_since_last_build()) %}
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
