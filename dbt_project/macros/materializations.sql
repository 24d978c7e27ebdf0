{#- Tables and views kept in place in the hub's pruned incremental build (flows/transform.plan_build sets
    PSHUB_DBT_KEEP_RELATIONS=1 for it, through pshub.dbt.run_dbt, only when the project is the one the last successful
    build built, so every relation already has the columns, comments and grants this build would give it).

    dbt's own table materialization builds a new table and swaps it in; dropping the old one drops every view over it
    (`drop ... cascade`), so each view downstream of a rebuilt table had to be created again, with its comments and
    grants: in a cycle, half of dbt's statements. Here instead:
      table  its rows are replaced in the same relation (truncate, then insert the model's rows, in one transaction:
             a reader sees the old rows or the new ones), so the views over it stay;
      view   a view that exists is left as it is: its query is the same, and it reads its inputs when queried.
    Any other build (a full refresh, a --select of the operator, a relation that is missing) is dbt's own. -#}
{% macro keeps_relations() -%}
    {{ return(env_var('PSHUB_DBT_KEEP_RELATIONS', '') == '1' and not should_full_refresh()) }}
{%- endmacro %}

{% materialization table, adapter='postgres' %}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- if keeps_relations() and existing_relation is not none and existing_relation.is_table -%}
        {%- set columns = adapter.get_columns_in_relation(existing_relation) | map(attribute='quoted') | join(', ') -%}
        {{ run_hooks(pre_hooks, inside_transaction=False) }}
        {{ run_hooks(pre_hooks, inside_transaction=True) }}
        {% call statement('main') -%}
            truncate {{ existing_relation }};
            insert into {{ existing_relation }} ({{ columns }})
            select {{ columns }} from (
                {{ sql }}
            ) as model_rows
        {%- endcall %}
        {{ run_hooks(post_hooks, inside_transaction=True) }}
        {{ adapter.commit() }}
        {{ run_hooks(post_hooks, inside_transaction=False) }}
        {{ return({'relations': [existing_relation]}) }}
    {%- else -%}
        {{ return(dbt.materialization_table_default()) }}
    {%- endif -%}
{% endmaterialization %}

{% materialization view, adapter='postgres' %}
    {%- if keeps_relations() -%}
        {#- a real look-up, not dbt's cache: a table rebuilt by dbt's own materialization drops the views over it -#}
        {% call statement('main', fetch_result=True) -%}
            select to_regclass({{ dbt.string_literal(this.render()) }}) is not null
        {%- endcall %}
    {%- endif -%}
    {%- if keeps_relations() and load_result('main')['data'][0][0] -%}
        {{ run_hooks(pre_hooks, inside_transaction=False) }}
        {{ run_hooks(pre_hooks, inside_transaction=True) }}
        {{ run_hooks(post_hooks, inside_transaction=True) }}
        {{ adapter.commit() }}
        {{ run_hooks(post_hooks, inside_transaction=False) }}
        {{ return({'relations': [this.incorporate(type='view')]}) }}
    {%- else -%}
        {{ return(dbt.materialization_view_default()) }}
    {%- endif -%}
{% endmaterialization %}

{#- A post-hook of every model (dbt_project.yml): `analyze` a table this build created (a full refresh, a first build,
    a table model that dbt's own materialization rebuilt), in the transaction that created it. PostgreSQL gathers a
    table's planner statistics only when autovacuum gets to it, a minute or more later (autovacuum_naptime, sooner
    never), so the models and tests that read the table in the same build were planned blind: in a medium firm's first
    cycle not_null_erp_projects_parent took 32 s, and 0.3 s once its tables had statistics. A table kept in place (rows
    replaced, or an incremental merge) keeps the statistics it has; autovacuum updates them as its rows change.
    https://www.postgresql.org/docs/current/routine-vacuuming.html#VACUUM-FOR-STATISTICS -#}
{% macro analyze_if_rebuilt() -%}
    {%- set materialized = config.get('materialized') -%}
    {%- if execute and (
            (materialized == 'table' and not keeps_relations())
            or (materialized == 'incremental' and not is_incremental())) -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
