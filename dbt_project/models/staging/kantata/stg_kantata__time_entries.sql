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
        {{ json_integer('time_in_minutes') }}                      as minutes,
        {{ cents('rate_in_cents') }}                               as bill_rate,
        {{ cents('cost_rate_in_cents') }}                          as cost_rate,

        -- booleans
        {{ json_bool('billable') }}                                as is_billable,
        {{ json_bool('approved') }}                                as is_approved,
        {{ json_bool('is_invoiced') }}                             as is_invoiced,

        -- dates
        {{ json_date('date_performed') }}                          as work_date,

        -- timestamps
        {{ json_timestamp('created_at') }}                         as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
