with source as (

    select * from {{ source('kantata', 'workspace_allocations') }}

),

renamed as (

    select
        -- ids
        id                                                         as psa_allocation_id,
        nullif(data ->> 'workspace_resource_id', '')               as psa_project_resource_id,
        nullif(data ->> 'workspace_id', '')                        as psa_project_id,
        nullif(data ->> 'user_id', '')                             as psa_user_id,
        _load_id                                                   as load_id,

        -- numerics
        (data ->> 'minutes')::numeric::bigint                      as allocated_minutes,

        -- booleans
        (data ->> 'hard')::boolean                                 as is_hard,

        -- dates
        (data ->> 'start_date')::date                              as start_date,
        (data ->> 'end_date')::date                                as end_date,

        -- timestamps
        (data ->> 'created_at')::timestamptz                       as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
