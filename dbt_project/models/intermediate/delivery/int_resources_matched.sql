-- One row per person (PSA user), matched to the ERP employee and CRM user.
-- ERP employee: externalid = PSA user id, else the same email (case-insensitive). CRM user: same email.
with users as (

    select * from {{ ref('int_psa_users') }}

),

employees as (

    select employees.*, legal_entities.legal_entity, currencies.currency_code
    from {{ ref('stg_netsuite__employees') }} as employees
    left join {{ ref('legal_entities') }} as legal_entities on legal_entities.erp_subsidiary_id = employees.erp_subsidiary_id
    left join {{ ref('stg_netsuite__subsidiaries') }} as subsidiaries on subsidiaries.erp_subsidiary_id = employees.erp_subsidiary_id
    left join {{ ref('stg_netsuite__currencies') }} as currencies on currencies.erp_currency_id = subsidiaries.erp_currency_id

),

employee_match as (

    select distinct on (users.psa_user_id)
        users.psa_user_id,
        employees.erp_employee_id,
        case when employees.external_id = users.psa_user_id then 'external_id' else 'email' end as erp_match_method
    from users
    join employees
        on employees.external_id = users.psa_user_id
        or lower(employees.email) = lower(users.email)
    order by users.psa_user_id, (employees.external_id = users.psa_user_id) desc nulls last, employees.erp_employee_id

)

select
    users.psa_user_id                                           as resource_id,
    users.psa_user_id,
    employee_match.erp_employee_id,
    coalesce(employee_match.erp_match_method, 'unmatched')      as erp_match_method,
    crm_users.crm_user_id,
    users.user_name                                             as resource_name,
    users.email,
    users.headline                                              as role_name,
    employees.legal_entity,
    employees.currency_code                                     as cost_currency_code,
    employees.labor_cost_rate,
    coalesce(users.is_disabled, false)                          as is_disabled
from users
left join employee_match using (psa_user_id)
left join employees using (erp_employee_id)
left join {{ ref('int_crm_users') }} as crm_users on lower(crm_users.email) = lower(users.email)
