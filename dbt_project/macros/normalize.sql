{#- A company or project name reduced for matching across systems: lower case, punctuation dropped, spaces
    collapsed. "Contoso Health, Inc." and "CONTOSO HEALTH INC" give the same key; legal forms are kept, because
    "Contoso Health Inc." and "Contoso Health Corp." can be two different customers. -#}
{% macro normalized_name(expr) -%}
    btrim(regexp_replace(regexp_replace(lower({{ expr }}), '[^a-z0-9 ]+', ' ', 'g'), '\s+', ' ', 'g'))
{%- endmacro %}

{#- The reporting currency: the hub's setting PSHUB_REPORTING_CURRENCY (pshub/settings.py, default USD), which
    pshub passes to every dbt it runs (pshub.dbt.dbt_env; `eval "$(pshub dbt --env)"` for a plain dbt). -#}
{% macro reporting_currency() -%}
    '{{ env_var("PSHUB_REPORTING_CURRENCY") }}'
{%- endmacro %}

{#- The collection stage (seed collection_stages) that `days_overdue` falls in: the stage with the highest
    min_days_overdue at or below it; null below the first. One rule for an invoice's stage (int_invoices_aged) and a
    customer's (int_customer_collections: its most overdue open invoice's). -#}
{% macro collection_stage(days_overdue) -%}
    (select stages.collection_stage from {{ ref('collection_stages') }} as stages
     where stages.min_days_overdue <= {{ days_overdue }}
     order by stages.min_days_overdue desc
     limit 1)
{%- endmacro %}
