-- One row per hold reason (seed hold_reasons): who must act, where and what to fix, naming the systems of this
-- installation: the seed's {crm}, {psa} and {erp} become the CRM it sells in (PSHUB_CRM), the PSA it delivers in
-- (PSHUB_PSA) and the ERPs its legal entities post to (int_erp_routes: the seed erp_routing and PSHUB_ERP_ROUTING).
-- `pshub exceptions`, `pshub status` and the report read this, never the seed.
with system_names (system, system_name, sort_order) as (

    values ('salesforce', 'Salesforce', 1), ('hubspot', 'HubSpot', 2), ('kantata', 'Kantata', 3),
           ('certinia', 'Certinia', 4), ('netsuite', 'NetSuite', 5), ('dynamics', 'Dynamics 365 Finance', 6)

),

installation as (

    select
        (select coalesce(max(system_name), {{ installed_crm() }}) from system_names
          where system = {{ installed_crm() }})                                         as crm_name,
        (select coalesce(max(system_name), {{ installed_psa() }}) from system_names
          where system = {{ installed_psa() }})                                         as psa_name,
        -- an entity posts to one ERP at a time; with entities (or periods) in both, the record's entity decides
        (select coalesce(string_agg(coalesce(names.system_name, erps.erp_system), ' or '
                                    order by names.sort_order, erps.erp_system), 'the ERP')
           from (select distinct erp_system from {{ ref('int_erp_routes') }}) as erps
           left join system_names as names on names.system = erps.erp_system)          as erp_name

)

select
    reasons.reason_code,
    {% for column in ['who_acts', 'where_to_fix', 'what_to_fix'] %}
    replace(replace(replace(reasons.{{ column }}, '{crm}', installation.crm_name), '{psa}', installation.psa_name),
            '{erp}', installation.erp_name)                                             as {{ column }}{{ ',' if not loop.last }}
    {% endfor %}
from {{ ref('hold_reasons') }} as reasons
cross join installation
