{% macro erp_routing() %}
{#- The routing of legal entities to ERPs: the seed erp_routing, and on top of it the hub's setting PSHUB_ERP_ROUTING
    (pshub/settings.py; for a trial or `pshub demo --dynamics`; a firm's routing belongs in the seed), which pshub
    passes to every dbt it runs: "ENTITY=ERP:COMPANY[@YYYY-MM-DD],...". An entry with a date adds a period to the
    entity's (a cut-over); one without replaces the entity's periods (the entity posts there from the start). -#}
{%- set text = env_var('PSHUB_ERP_ROUTING', '') | trim -%}
{#- a unit test gives the seed's rows itself: the setting does not reach it -#}
{%- if not text or model.resource_type == 'unit_test' -%}
{{ ref('erp_routing') }}
{%- else -%}
{%- set rows = [] -%}
{%- set replaced = [] -%}
{%- for item in text.split(',') if item | trim -%}
    {%- set entity, _, rest = (item | trim).partition('=') -%}
    {%- set target, _, day = rest.partition('@') -%}
    {%- set erp, _, company = target.partition(':') -%}
    {%- if not entity or erp not in ('netsuite', 'dynamics') or not company -%}
        {{ exceptions.raise_compiler_error("PSHUB_ERP_ROUTING: '" ~ item ~ "' is not ENTITY=netsuite|dynamics:COMPANY[@YYYY-MM-DD]") }}
    {%- endif -%}
    {%- if not day -%}{%- do replaced.append(entity) -%}{%- endif -%}
    {%- do rows.append("('" ~ entity ~ "', '" ~ erp ~ "', '" ~ company ~ "', " ~ ("date '" ~ day ~ "'" if day else "null::date") ~ ")") -%}
{%- endfor -%}
(
    select legal_entity, erp_system, erp_company, posts_from from {{ ref('erp_routing') }}
    {%- if replaced %}
    where legal_entity not in ('{{ replaced | join("', '") }}')
    {%- endif %}
    union all
    select * from (values {{ rows | join(', ') }}) as overrides (legal_entity, erp_system, erp_company, posts_from)
)
{%- endif -%}
{% endmacro %}
