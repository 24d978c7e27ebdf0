with source as (

    select * from {{ source('kantata', 'stories') }}

),

renamed as (

    select
        -- ids
        id                                                         as psa_story_id,
        nullif(data ->> 'workspace_id', '')                        as psa_project_id,
        nullif(data ->> 'parent_id', '')                           as psa_parent_story_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('title') }}                                   as story_title,
        {{ json_text('story_type') }}                              as story_type,
        {{ json_text('state') }}                                   as state,

        -- numerics
        {{ json_integer('time_estimate_in_minutes') }}             as time_estimate_minutes,
        {{ cents('budget_estimate_in_cents') }}                    as budget_estimate_amount,
        {{ json_integer('percentage_complete') }}                  as percentage_complete,

        -- booleans
        {{ json_bool('billable') }}                                as is_billable,
        {{ json_bool('fixed_fee') }}                               as is_fixed_fee,
        {{ json_bool('archived') }}                                as is_archived,

        -- dates
        {{ json_date('start_date') }}                              as start_date,
        {{ json_date('due_date') }}                                as due_date,

        -- timestamps
        {{ json_timestamp('created_at') }}                         as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted
      and nullif(data ->> 'deleted_at', '') is null

)

select * from renamed
