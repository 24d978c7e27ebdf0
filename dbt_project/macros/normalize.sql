{#- A company or project name reduced for matching across systems: lower case, punctuation and legal-form
    suffixes removed, spaces collapsed. "Contoso Health Inc." and "CONTOSO HEALTH, INC" give the same key. -#}
{% macro normalized_name(expr) -%}
    btrim(regexp_replace(regexp_replace(
        regexp_replace(lower({{ expr }}), '[^a-z0-9 ]+', ' ', 'g'),
        '\m(inc|corp|llc|ltd|plc|group|gmbh|ag|se|co|company|limited)\M', ' ', 'g'),
        '\s+', ' ', 'g'))
{%- endmacro %}

{#- The reporting currency, a project variable (default USD). -#}
{% macro reporting_currency() -%}
    '{{ var("reporting_currency", "USD") }}'
{%- endmacro %}
