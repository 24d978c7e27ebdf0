with source as (

    select * from {{ source('netsuite', 'accountingperiod') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_accounting_period_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('periodname') }}                              as period_name,

        -- booleans
        {{ json_bool('closed') }}                                  as is_closed,
        {{ json_bool('isquarter') }}                               as is_quarter,
        {{ json_bool('isyear') }}                                  as is_year,
        {{ json_bool('isadjust') }}                                as is_adjustment,

        -- dates
        {{ json_date('startdate') }}                               as start_date,
        {{ json_date('enddate') }}                                 as end_date,
        {{ json_date('closedondate') }}                            as closed_on_date,

        -- timestamps
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
