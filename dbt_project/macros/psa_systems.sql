{#- The PSAs the role models fill (int_psa_*: Kantata, Certinia): `source_system in {{ psa_systems() }}` picks the PSA
    projects among int_project_keys' projects (the ERPs' are the others). -#}
{% macro psa_systems() -%}
    ('kantata', 'certinia')
{%- endmacro %}

{#- The PSA this installation delivers in (the setting PSHUB_PSA, as the ingest lands it), as a SQL literal: for the
    marts' rows that sum a PSA's records beyond one record (a month of an engagement's time). -#}
{% macro installed_psa() -%}
    '{{ env_var("PSHUB_PSA", "kantata") }}'
{%- endmacro %}

{#- The PSA's object holding a kind of record, by the PSA's name (an SQL expression or literal): time entries, expenses,
    milestones, projects, as each PSA names them. -#}
{% macro psa_object(system, kind) -%}
    {%- set certinia = {'time_entries': 'pse__Timecard__c', 'expenses': 'pse__Expense__c', 'stories': 'pse__Milestone__c',
                        'workspaces': 'pse__Proj__c'} -%}
    case {{ system }} when 'certinia' then '{{ certinia[kind] }}' else '{{ kind }}' end
{%- endmacro %}

{#- The CRM this installation sells in (the setting PSHUB_CRM, as the ingest lands it), as a SQL literal. -#}
{% macro installed_crm() -%}
    '{{ env_var("PSHUB_CRM", "salesforce") }}'
{%- endmacro %}
