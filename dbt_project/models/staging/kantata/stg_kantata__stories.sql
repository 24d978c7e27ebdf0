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
        (data ->> 'time_estimate_in_minutes')::numeric::bigint     as time_estimate_minutes,
        {{ cents('budget_estimate_in_cents') }}                    as budget_estimate_amount,
        (data ->> 'percentage_complete')::numeric::bigint          as percentage_complete,

        -- booleans
        (data ->> 'billable')::boolean                             as is_billable,
        (data ->> 'fixed_fee')::boolean                            as is_fixed_fee,
        (data ->> 'archived')::boolean                             as is_archived,

        -- dates
        (data ->> 'start_date')::date                              as start_date,
        (data ->> 'due_date')::date                                as due_date,

        -- timestamps
        (data ->> 'created_at')::timestamptz                       as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted
      and nullif(data ->> 'deleted_at', '') is null

)

select * from renamed
