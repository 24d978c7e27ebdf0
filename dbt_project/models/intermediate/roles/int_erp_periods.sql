-- ERP role: accounting periods (months). NetSuite's are one calendar for every subsidiary (erp_company null); Dynamics
-- 365 Finance's are one shared calendar (FiscalPeriods) with a status per legal entity's ledger (LedgerFiscalPeriods):
-- one row a company and period. closed_on_date: the day the period closed; NetSuite says it
-- (closedondate), Dynamics does not: the day its status last changed (ModifiedDateTime, UTC) stands for it.
select
    'netsuite'                  as erp_system,
    erp_accounting_period_id    as erp_period_id,
    null::text                  as erp_company,
    period_name,
    start_date,
    end_date,
    coalesce(is_closed, false)  as is_closed,
    closed_on_date,
    updated_at
from {{ ref('stg_netsuite__accounting_periods') }}
where not coalesce(is_quarter, false) and not coalesce(is_year, false) and not coalesce(is_adjustment, false)

union all

select
    'dynamics'                  as erp_system,
    ledger.erp_period_id,
    ledger.legal_entity_code    as erp_company,
    ledger.period_name,
    calendar.start_date,
    calendar.end_date,
    ledger.is_closed,
    case when ledger.is_closed then (ledger.updated_at at time zone 'UTC')::date end as closed_on_date,
    ledger.updated_at
-- a ledger's status of a period of the shared fiscal calendar (LedgerFiscalPeriods' YearName is FiscalPeriods'
-- FiscalYear); the calendar gives its dates
from {{ ref('stg_dynamics__ledger_fiscal_periods') }} as ledger
join {{ ref('stg_dynamics__fiscal_periods') }} as calendar
    on calendar.fiscal_calendar = ledger.fiscal_calendar and calendar.fiscal_year = ledger.fiscal_year
   and calendar.period_name = ledger.period_name
