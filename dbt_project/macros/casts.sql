{#- Casts from the raw layer's jsonb. Each macro returns one SQL expression; column lists stay in the models.
    The sources' JSON is inconsistent by design of their APIs: NetSuite SuiteQL returns every value as a string
    (booleans 'T'/'F', dates in the account's M/D/YYYY format unless TO_CHAR was used), Salesforce and Kantata
    return typed JSON. These helpers accept every form seen, so a change in the ingest does not break staging.
    Landing accepts exactly what these casts accept (flows/landing.py, by the catalog's field types) and
    quarantines the rest, so none of them can fail on landed data, and none turns a value it cannot read into
    null: change the two together (tests/test_typed_landing.py runs the landing's checks against these macros). -#}

{% macro json_text(field) -%}
    nullif(btrim(data ->> '{{ field }}'), '')
{%- endmacro %}

{% macro json_id(field) -%}
    {#- ids are text everywhere; a numeric id that arrived as 12.0 is normalised to 12 -#}
    regexp_replace(nullif(btrim(data ->> '{{ field }}'), ''), '\.0+$', '')
{%- endmacro %}

{% macro json_numeric(field, scale=none) -%}
    {%- if scale is none -%}
    (nullif(btrim(data ->> '{{ field }}'), ''))::numeric
    {%- else -%}
    (nullif(btrim(data ->> '{{ field }}'), ''))::numeric(20, {{ scale }})
    {%- endif -%}
{%- endmacro %}

{% macro json_integer(field) -%}
    (nullif(btrim(data ->> '{{ field }}'), ''))::numeric::bigint
{%- endmacro %}

{% macro json_bool(field) -%}
    {#- true/false, 1/0, 'T'/'F', yes/no: PostgreSQL's boolean input accepts them all -#}
    (nullif(btrim(data ->> '{{ field }}'), ''))::boolean
{%- endmacro %}

{% macro json_date(field) -%}
    {{ text_to_date("nullif(btrim(data ->> '" ~ field ~ "'), '')") }}
{%- endmacro %}

{% macro text_to_date(expr) -%}
    (case
        when {{ expr }} ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}' then left({{ expr }}, 10)::date
        when {{ expr }} ~ '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}' then to_date(split_part({{ expr }}, ' ', 1), 'MM/DD/YYYY')
    end)
{%- endmacro %}

{% macro json_timestamp(field) -%}
    {#- ISO 8601 with or without offset (+0000, +00:00, Z); a naive value is UTC, as the sources send it -#}
    {{ text_to_timestamp("nullif(btrim(data ->> '" ~ field ~ "'), '')") }}
{%- endmacro %}

{% macro text_to_timestamp(expr) -%}
    (case
        when {{ expr }} ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?(\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})$'
            then ({{ expr }})::timestamptz
        when {{ expr }} ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?(\.[0-9]+)?)?$'
            then ({{ expr }})::timestamp at time zone 'UTC'
        when {{ expr }} ~ '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}'
            then to_timestamp({{ expr }}, 'MM/DD/YYYY HH24:MI:SS') at time zone 'UTC'
    end)
{%- endmacro %}

{% macro cents(field) -%}
    ((nullif(btrim(data ->> '{{ field }}'), ''))::numeric / 100.0)::numeric(20, 2)
{%- endmacro %}
