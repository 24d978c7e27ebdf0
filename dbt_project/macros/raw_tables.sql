{#- on-run-start: every raw table a source names exists, empty when the ingest has not landed it yet, so that
    staging views build before the first landing of a new object. Same DDL as flows/landing.ensure_raw_table
    (the ingest owns these tables; this only fills gaps and never alters an existing table). -#}
{% macro create_missing_raw_tables() %}
    {% if execute %}
        {% set statements = [] %}
        {% for node in graph.sources.values() if node.schema.startswith('raw_') %}
            {% do statements.append(
                "create schema if not exists " ~ adapter.quote(node.schema) ~ ";\n" ~
                "create table if not exists " ~ adapter.quote(node.schema) ~ "." ~ adapter.quote(node.identifier) ~ " (" ~
                " id text primary key, data jsonb not null, source_updated_at timestamptz not null," ~
                " is_deleted boolean not null default false, _load_id bigint not null," ~
                " _landed_at timestamptz not null default now());\n" ~
                "create index if not exists " ~ adapter.quote(node.identifier ~ "__load_id") ~ " on " ~
                adapter.quote(node.schema) ~ "." ~ adapter.quote(node.identifier) ~
                " using brin (_load_id) with (autosummarize = on);"
            ) %}
        {% endfor %}
        {{ return(statements | join("\n")) }}
    {% endif %}
{% endmacro %}

{#- The load id an incremental model's rows are current up to: every load up to it had finished when the build
    started, so the next build starts above it (a load still running then is read again). loads: ops.loads as a
    relation, for a caller that runs when the node is executed (a test's where, macros/test_where.sql), where dbt's
    source() would not be a dependency the node declared. -#}
{% macro load_watermark(loads=none) -%}
    (select coalesce(min(load_id) filter (where status = 'running') - 1, max(load_id), 0)
     from {{ loads or source('ops', 'loads') }})
{%- endmacro %}

