with source as (

    select * from {{ source('dynamics', 'fiscalperiods') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_period_id,
        {{ json_text('dataAreaId') }}                              as legal_entity_code,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('Calendar') }}                                as fiscal_calendar,
        {{ json_text('FiscalYear') }}                              as fiscal_year,
        {{ json_text('PeriodName') }}                              as period_name,
        {{ json_text('PeriodStatus') }}                            as period_status,

        -- booleans
        {{ json_text('PeriodStatus') }} is distinct from 'Open'    as is_closed,

        -- dates
        nullif({{ json_date('StartDate') }}, date '1900-01-01')    as start_date,
        nullif({{ json_date('EndDate') }}, date '1900-01-01')      as end_date,

        -- timestamps
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
