with source as (

    select * from {{ source('kantata', 'workspaces') }}

),

renamed as (

    select
        -- ids
        id                                                         as psa_project_id,
        nullif(data ->> 'rate_card_id', '')                        as psa_rate_card_id,
        nullif(data ->> 'account_id', '')                          as psa_account_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('title') }}                                   as project_name,
        {{ json_text('description') }}                             as description,
        {{ json_text('currency') }}                                as currency_code,
        {{ json_text('status_message') }}                          as status_name,
        {{ json_text('status_color') }}                            as status_color,
        {{ json_text('creator_role') }}                            as creator_role,

        -- numerics
        (data ->> 'status_key')::numeric::bigint                   as status_key,
        (data ->> 'percentage_complete')::numeric::bigint          as percentage_complete,
        {{ cents('price_in_cents') }}                              as contract_amount,
        {{ cents('budget_used_in_cents') }}                        as budget_used_amount,

        -- booleans
        (data ->> 'archived')::boolean                             as is_archived,
        (data ->> 'budgeted')::boolean                             as is_budgeted,

        -- dates
        (data ->> 'start_date')::date                              as start_date,
        (data ->> 'due_date')::date                                as due_date,

        -- timestamps
        (data ->> 'created_at')::timestamptz                       as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
