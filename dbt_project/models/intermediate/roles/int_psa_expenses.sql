-- PSA role: expenses logged on projects (Kantata expenses, Certinia expenses), with the PSA's id.
{{ role_union('psa_system', [
    'psa_expense_id', 'psa_project_id', 'psa_user_id', 'load_id', 'category', 'notes',
    'currency_code', 'amount', 'is_billable', 'is_invoiced', 'is_reimbursable', 'is_approved',
    'expense_date', 'created_at', 'updated_at', 'landed_at',
], [['kantata', 'stg_kantata__expenses'], ['certinia', 'stg_certinia__expenses']]) }}
