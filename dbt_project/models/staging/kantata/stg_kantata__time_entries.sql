with source as (

    select * from {{ source('kantata', 'time_entries') }}

),

renamed as (

    select
        -- ids
        id                                                         as psa_time_entry_id,
        nullif(data ->> 'workspace_id', '')                        as psa_project_id,
        nullif(data ->> 'story_id', '')                            as psa_story_id,
        nullif(data ->> 'user_id', '')                             as psa_user_id,
        nullif(data ->> 'role_id', '')                             as psa_role_id,
        nullif(data ->> 'invoice_id', '')                          as psa_invoice_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('notes') }}                                   as notes,
        {{ json_text('currency') }}                                as currency_code,

        -- numerics
        (data ->> 'time_in_minutes')::numeric::bigint              as minutes,
        {{ cents('rate_in_cents') }}                               as bill_rate,
        {{ cents('cost_rate_in_cents') }}                          as cost_rate,

        -- booleans
        (data ->> 'billable')::boolean                             as is_billable,
        (data ->> 'approved')::boolean                             as is_approved,
        (data ->> 'is_invoiced')::boolean                          as is_invoiced,

        -- dates
        (data ->> 'date_performed')::date                          as work_date,

        -- timestamps
        (data ->> 'created_at')::timestamptz                       as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
