with source as (

    select * from {{ source('kantata', 'workspace_resources') }}

),

renamed as (

    select
        -- ids
        id                                                         as psa_project_resource_id,
        nullif(data ->> 'workspace_id', '')                        as psa_project_id,
        nullif(data ->> 'user_id', '')                             as psa_user_id,
        nullif(data ->> 'role_id', '')                             as psa_role_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('role_name') }}                               as role_name,
        {{ json_text('currency') }}                                as currency_code,

        -- numerics
        {{ json_numeric('bill_rate', 2) }}                         as bill_rate,
        {{ json_numeric('cost_rate', 2) }}                         as cost_rate,

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
