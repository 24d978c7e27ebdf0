with source as (

    select * from {{ source('kantata', 'expenses') }}

),

renamed as (

    select
        -- ids
        id                                                         as psa_expense_id,
        nullif(data ->> 'workspace_id', '')                        as psa_project_id,
        nullif(data ->> 'user_id', '')                             as psa_user_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('category') }}                                as category,
        {{ json_text('notes') }}                                   as notes,
        {{ json_text('currency') }}                                as currency_code,

        -- numerics
        {{ cents('amount_in_cents') }}                             as amount,

        -- booleans
        (data ->> 'is_billable')::boolean                          as is_billable,
        (data ->> 'is_invoiced')::boolean                          as is_invoiced,
        (data ->> 'reimbursable')::boolean                         as is_reimbursable,
        (data ->> 'approved')::boolean                             as is_approved,

        -- dates
        (data ->> 'date')::date                                    as expense_date,

        -- timestamps
        (data ->> 'created_at')::timestamptz                       as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
