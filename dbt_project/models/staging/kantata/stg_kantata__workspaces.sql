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
        {{ json_integer('status_key') }}                           as status_key,
        {{ json_integer('percentage_complete') }}                  as percentage_complete,
        {{ cents('price_in_cents') }}                              as contract_amount,
        {{ cents('budget_used_in_cents') }}                        as budget_used_amount,

        -- booleans
        {{ json_bool('archived') }}                                as is_archived,
        {{ json_bool('budgeted') }}                                as is_budgeted,

        -- dates
        {{ json_date('start_date') }}                              as start_date,
        {{ json_date('due_date') }}                                as due_date,

        -- timestamps
        {{ json_timestamp('created_at') }}                         as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
