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
        {{ json_integer('minutes') }}                              as allocated_minutes,

        -- booleans
        {{ json_bool('hard') }}                                    as is_hard,

        -- dates
        {{ json_date('start_date') }}                              as start_date,
        {{ json_date('end_date') }}                                as end_date,

        -- timestamps
        {{ json_timestamp('created_at') }}                         as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
