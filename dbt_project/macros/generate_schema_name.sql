{#- Custom schemas are used as named (staging, marts, outbound), not prefixed with the target schema. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
