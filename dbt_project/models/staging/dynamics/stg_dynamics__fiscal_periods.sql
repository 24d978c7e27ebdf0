-- FiscalPeriods: the fiscal calendar, shared by every legal entity (no company, no status: each ledger's status of a
-- period is LedgerFiscalPeriods, stg_dynamics__ledger_fiscal_periods).
with source as (

    select * from {{ source('dynamics', 'fiscalperiods') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_calendar_period_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('Calendar') }}                                as fiscal_calendar,
        {{ json_text('FiscalYear') }}                              as fiscal_year,
        {{ json_text('PeriodName') }}                              as period_name,

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
