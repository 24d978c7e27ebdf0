with source as (

    select * from {{ source('netsuite', 'employee') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_employee_id,
        {{ json_id('externalid') }}                                as external_id,
        {{ json_id('subsidiary') }}                                as erp_subsidiary_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('entityid') }}                                as employee_name,
        {{ json_text('firstname') }}                               as first_name,
        {{ json_text('lastname') }}                                as last_name,
        {{ json_text('email') }}                                   as email,
        {{ json_text('title') }}                                   as title,

        -- numerics
        {{ json_numeric('laborcost', 2) }}                         as labor_cost_rate,

        -- booleans
        {{ json_bool('isinactive') }}                              as is_inactive,

        -- timestamps
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
