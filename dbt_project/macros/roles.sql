{% macro dynamics_companies() %}
{#- The legal entity of each Dynamics company (dataAreaId), from the erp_routing seed: the one place the ERP role
    models of Dynamics records read it. -#}
(select distinct legal_entity, erp_company from {{ erp_routing() }} as routing where erp_system = 'dynamics')
{%- endmacro %}
