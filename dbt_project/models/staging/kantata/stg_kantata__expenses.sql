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
        {{ json_bool('is_billable') }}                             as is_billable,
        {{ json_bool('is_invoiced') }}                             as is_invoiced,
        {{ json_bool('reimbursable') }}                            as is_reimbursable,
        {{ json_bool('approved') }}                                as is_approved,

        -- dates
        {{ json_date('date') }}                                    as expense_date,

        -- timestamps
        {{ json_timestamp('created_at') }}                         as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
