-- LedgerFiscalPeriods: a legal entity's ledger's status of one period of the fiscal calendar (Calendar, YearName =
-- the calendar's FiscalYear, PeriodName name the period of stg_dynamics__fiscal_periods).
with source as (

    select * from {{ source('dynamics', 'ledgerfiscalperiods') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_period_id,
        {{ json_text('LegalEntityId') }}                           as legal_entity_code,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('LedgerName') }}                              as ledger_name,
        {{ json_text('Calendar') }}                                as fiscal_calendar,
        {{ json_text('YearName') }}                                as fiscal_year,
        {{ json_text('PeriodName') }}                              as period_name,
        {{ json_text('PeriodStatus') }}                            as period_status,

        -- booleans
        {{ json_text('PeriodStatus') }} is distinct from 'Open'    as is_closed,

        -- timestamps
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
