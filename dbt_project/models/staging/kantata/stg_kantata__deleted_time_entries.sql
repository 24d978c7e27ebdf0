with source as (

    select * from {{ source('kantata', 'time_entries') }}

),

renamed as (

    select
        -- ids
        id                                                         as psa_time_entry_id,

        -- timestamps
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at,
        _load_id                                                   as load_id

    from source
    where is_deleted

)

select * from renamed
