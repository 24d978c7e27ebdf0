{#- A company or project name reduced for matching across systems: lower case, punctuation dropped, spaces
    collapsed. "Contoso Health, Inc." and "CONTOSO HEALTH INC" give the same key; legal forms are kept, because
    "Contoso Health Inc." and "Contoso Health Corp." can be two different customers. -#}
{% macro normalized_name(expr) -%}
    btrim(regexp_replace(regexp_replace(lower({{ expr }}), '[^a-z0-9 ]+', ' ', 'g'), '\s+', ' ', 'g'))
{%- endmacro %}

{#- The reporting currency, a project variable (default USD). -#}
{% macro reporting_currency() -%}
    '{{ var("reporting_currency", "USD") }}'
{%- endmacro %}
