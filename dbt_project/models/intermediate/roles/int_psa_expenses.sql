-- PSA role: expenses logged on projects (Kantata expenses, Certinia expenses), with the PSA's id.
select
    'kantata'                           as psa_system,
    psa_expense_id,
    psa_project_id,
    psa_user_id,
    load_id,
    category,
    notes,
    currency_code,
    amount,
    is_billable,
    is_invoiced,
    is_reimbursable,
    is_approved,
    expense_date,
    created_at,
    updated_at,
    landed_at
from {{ ref('stg_kantata__expenses') }}

union all

select
    'certinia'                          as psa_system,
    psa_expense_id,
    psa_project_id,
    psa_user_id,
    load_id,
    category,
    notes,
    currency_code,
    amount,
    is_billable,
    is_invoiced,
    is_reimbursable,
    is_approved,
    expense_date,
    created_at,
    updated_at,
    landed_at
from {{ ref('stg_certinia__expenses') }}
