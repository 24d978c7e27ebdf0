with source as (

    select * from {{ source('kantata', 'time_entries') }}

),

renamed as (

    select
        -- ids
        id                                                         as psa_time_entry_id,
        nullif(data ->> 'workspace_id', '')                        as psa_project_id,
        nullif(data ->> 'user_id', '')                             as psa_user_id,

        -- dates (as last landed, before the deletion)
        {{ json_date('date_performed') }}                          as work_date,

        -- timestamps
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at,
        _load_id                                                   as load_id

    from source
    where is_deleted

)

select * from renamed
