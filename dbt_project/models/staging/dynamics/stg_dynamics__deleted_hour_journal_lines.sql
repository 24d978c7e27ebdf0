with source as (

    select * from {{ source('dynamics', 'journaltrans') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_hour_line_id,
        _load_id                                                   as load_id,

        -- timestamps
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where is_deleted

)

select * from renamed
