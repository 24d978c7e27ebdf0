{#- Data tests on the big models check, in an incremental build, only what changed since the last successful build
    (the hub records each one in ops.dbt_builds); a full refresh, or a build with none on record, checks every row:
      where: "__landed_since_last_build__"   staging views (time entries and time bills; the parents of ERP
                                             projects and transaction lines): the rows landed since. Their ids are
                                             the raw tables' primary keys: a duplicate cannot span old and new rows.
      where: "__written_since_last_build__"  incremental models (int_time_entries, int_time_bill_matches) and the
                                             sync views over them (the time bills, NetSuite's and Dynamics' hour
                                             journal lines; the expenses, by the load that landed each): the rows
                                             written since (load watermark above that build's, up to this build's).
                                             Their unique columns have unique indexes as well, so a duplicate of an
                                             older row cannot be written.
      where: "__rewritten_since_last_build__" incremental marts that rewrite groups whole whatever landed (time
                                             passing changes rows with nothing landed): the rows they wrote since the
                                             last successful build finished (_written_at, the time of the build's
                                             statement). delete+insert removes every row of a group it writes, and a
                                             row's key is made of its group's, so a duplicate is among the rows
                                             written; and the model itself drops the rows of a parent that is gone.
    The other rows were checked by the build that landed or wrote them.
    Overrides dbt's get_where_subquery, as dbt documents for placeholders in `where`. -#}
{% macro get_where_subquery(relation) -%}
    {% set where = config.get('where') %}
    {% if where and '__landed_since_last_build__' in where %}
        {% set where = where | replace('__landed_since_last_build__', landed_since_last_build()) %}
    {% endif %}
    {% if where and '__rewritten_since_last_build__' in where %}
        {% set where = where | replace('__rewritten_since_last_build__', rewritten_since_last_build()) %}
    {% endif %}
    {% if where and '__written_since_last_build__' in where %}
        {% set where = where | replace('__written_since_last_build__', written_since_last_build(relation)) %}
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

{#- The load watermark of the last build the hub recorded as successful (ops.dbt_builds, see
    flows/transform.record_build); -1 (every row) when none is on record. -#}
{% macro last_good_build_watermark() -%}
    (select coalesce(max(load_watermark), -1) from {{ api.Relation.create(database=target.database, schema='ops', identifier='dbt_builds') }})
{%- endmacro %}

{% macro landed_since_last_build() -%}
    {%- if flags.FULL_REFRESH -%}
        true
    {%- else -%}
        load_id > {{ last_good_build_watermark() }}
    {%- endif -%}
{%- endmacro %}

{#- Both bounds, though no row is written above this build's load watermark (load_watermark): PostgreSQL cannot know
    a bound that a subquery computes when it plans the query, and estimates a third of the rows for one such bound,
    enough to read a sync view's tables whole; for a range with both (`x > a and x <= b`) it estimates half a percent,
    and then reads only the rows written since (through the index on _load_watermark of the incremental models) and
    joins them to the rest by their keys (the sync views carry it from int_sync_erp_record_routes). -#}
{% macro written_since_last_build(relation) -%}
    {%- if flags.FULL_REFRESH -%}
        true
    {%- else -%}
        (_load_watermark > {{ last_good_build_watermark() }}
         and _load_watermark <= {{ load_watermark(api.Relation.create(database=target.database, schema='ops', identifier='loads')) }})
    {%- endif -%}
{%- endmacro %}

{#- Both bounds, as above: with the upper one (no row is written after the statement reading it) PostgreSQL estimates
    a few rows and reads them through the model's index on _written_at. -#}
{% macro rewritten_since_last_build() -%}
    {%- if flags.FULL_REFRESH -%}
        true
    {%- else -%}
        (_written_at > {{ last_good_build_finished_at() }} and _written_at <= localtimestamp)
    {%- endif -%}
{%- endmacro %}

{#- When the last build the hub recorded as successful finished (ops.dbt_builds): the same watermark as
    last_good_build_watermark, for what dbt itself stamps with a time (a snapshot's dbt_valid_from and dbt_valid_to,
    in the session's time zone as dbt writes them). Before any: the beginning of time. -#}
{% macro last_good_build_finished_at() -%}
    (select coalesce((select finished_at from {{ api.Relation.create(database=target.database, schema='ops', identifier='dbt_builds') }}
                      order by build_id desc limit 1), '-infinity')::timestamp)
{%- endmacro %}
